"""Results of a job: counts, probabilities and per-shot memory per experiment (circuit).

Keys: the server speaks little-endian integers (qubit 0 is the least significant bit); the getters
here return bit strings with qubit 0 **rightmost**, as Qiskit prints them (``{"00": 51, "11": 49}``),
and the ``*_int`` attributes keep the integers. Counts and memory come from the same shots, so
``Counter(get_memory()) == get_counts()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def bits(value: int, width: int) -> str:
    return format(value, f"0{max(width, 1)}b")


@dataclass
class ExperimentResult:
    """One circuit's outcome. ``memory_int`` is fetched on first use (it can be large)."""

    index: int
    job_id: str
    name: str | None
    qubits: int
    shots: int
    probabilities_int: dict[int, float]
    counts_int: dict[int, int]
    _memory_loader: Callable[[], list[int]] | None = field(default=None, repr=False)
    _memory: list[int] | None = field(default=None, repr=False)

    @property
    def memory_int(self) -> list[int]:
        if self._memory is None:
            if self._memory_loader is None:
                raise ValueError("this result has no per-shot memory")
            self._memory = [int(v) for v in self._memory_loader()]
        return self._memory

    def counts(self) -> dict[str, int]:
        return {bits(k, self.qubits): v for k, v in sorted(self.counts_int.items())}

    def probabilities(self) -> dict[str, float]:
        return {bits(k, self.qubits): v for k, v in sorted(self.probabilities_int.items())}

    def memory(self) -> list[str]:
        return [bits(v, self.qubits) for v in self.memory_int]


class Result:
    """The results of one job (or, for a job set, of all its members: see ``ManagedResults``)."""

    def __init__(
        self, job_id: str, backend_name: str, experiments: list[ExperimentResult], **extra: Any
    ) -> None:
        self.job_id = job_id
        self.backend_name = backend_name
        self.results = experiments
        self.success = True
        self.status = "COMPLETED"
        self.extra = extra

    def __len__(self) -> int:
        return len(self.results)

    def __repr__(self) -> str:
        return (
            f"Result(job_id={self.job_id!r}, backend={self.backend_name!r}, experiments={len(self.results)})"
        )

    def experiment(self, key: int | str | dict[str, Any] | None = None) -> ExperimentResult:
        """By index, by circuit name, or (``None``) the only experiment."""
        if key is None:
            if len(self.results) != 1:
                raise ValueError(f"this result has {len(self.results)} experiments: name one (index or name)")
            return self.results[0]
        if isinstance(key, bool):
            raise TypeError("experiment: an index, a circuit name or a circuit")
        if isinstance(key, int):
            return self.results[key]
        if isinstance(key, str):
            for experiment in self.results:
                if experiment.name == key:
                    return experiment
            raise KeyError(f"no experiment named {key!r}")
        raise TypeError("experiment: an index, a circuit name or a circuit")

    def get_counts(self, experiment: int | str | dict[str, Any] | None = None) -> Any:
        """Bit-string counts of one experiment; of every experiment (a list) when there are several and
        none is named."""
        if experiment is None and len(self.results) > 1:
            return [e.counts() for e in self.results]
        return self.experiment(experiment).counts()

    def get_probabilities(self, experiment: int | str | dict[str, Any] | None = None) -> Any:
        if experiment is None and len(self.results) > 1:
            return [e.probabilities() for e in self.results]
        return self.experiment(experiment).probabilities()

    def get_memory(self, experiment: int | str | dict[str, Any] | None = None) -> Any:
        """The outcome of every shot, in the order they ran."""
        if experiment is None and len(self.results) > 1:
            return [e.memory() for e in self.results]
        return self.experiment(experiment).memory()

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "backend_name": self.backend_name,
            "success": self.success,
            "results": [
                {
                    "index": e.index,
                    "job_id": e.job_id,
                    "name": e.name,
                    "qubits": e.qubits,
                    "shots": e.shots,
                    "counts": e.counts(),
                    "probabilities": e.probabilities(),
                }
                for e in self.results
            ],
        }
