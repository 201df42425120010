"""Results of a job: counts, probabilities and per-shot memory per experiment (circuit).

Keys: the server speaks little-endian integers (qubit 0 is the least significant bit); the getters
here return bit strings with qubit 0 **rightmost**, as Qiskit prints them (``{"00": 51, "11": 49}``),
and the ``*_int`` attributes keep the integers. A Qiskit circuit's results are keyed by its own
classical bits instead, registers separated by spaces, exactly as ``qiskit.result.Result`` keys them
(``clbits.py``). Counts and memory come from the same shots, so ``Counter(get_memory()) == get_counts()``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qumulus.client.clbits import ClbitLayout
from qumulus.client.errors import QumulusClientError
from qumulus.client.programs import framework


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
    #: a Qiskit circuit's clbits (None: keys are the measured qubits, qubit 0 rightmost)
    layout: ClbitLayout | None = field(default=None, repr=False)

    @property
    def memory_int(self) -> list[int]:
        if self._memory is None:
            if self._memory_loader is None:
                raise ValueError("this result has no per-shot memory")
            self._memory = [int(v) for v in self._memory_loader()]
        return self._memory

    def key(self, outcome: int) -> str:
        """A server outcome as this experiment's bit string."""
        return self.layout.bits(outcome) if self.layout is not None else bits(outcome, self.qubits)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for outcome, n in sorted(self.counts_int.items()):
            key = self.key(outcome)
            out[key] = out.get(key, 0) + n
        return out

    def probabilities(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for outcome, p in sorted(self.probabilities_int.items()):
            key = self.key(outcome)
            out[key] = out.get(key, 0.0) + p
        return out

    def memory(self) -> list[str]:
        return [self.key(v) for v in self.memory_int]

    def data(self) -> dict[str, Any]:
        """Qiskit's raw form: counts (and memory, once read) keyed by hexadecimal clbit values."""
        value = self.layout.value if self.layout is not None else (lambda outcome: outcome)
        counts: dict[str, int] = {}
        for outcome, n in self.counts_int.items():
            key = hex(value(outcome))
            counts[key] = counts.get(key, 0) + n
        out: dict[str, Any] = {"counts": counts}
        if self._memory is not None:
            out["memory"] = [hex(value(v)) for v in self._memory]
        return out


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

    def experiment(self, key: Any = None) -> ExperimentResult:
        """By index, by circuit name, by Qiskit circuit (its name, as Qiskit's ``Result`` looks it
        up), or (``None``) the only experiment."""
        if key is None:
            if len(self.results) != 1:
                raise ValueError(f"this result has {len(self.results)} experiments: name one (index or name)")
            return self.results[0]
        if isinstance(key, bool):
            raise TypeError("experiment: an index, a circuit name or a circuit")
        if isinstance(key, int):
            return self.results[key]
        if framework(key) == "qiskit" and isinstance(getattr(key, "name", None), str):
            key = key.name
        if isinstance(key, str):
            found = [e for e in self.results if e.name == key]
            if not found:
                raise KeyError(f"no experiment named {key!r}")
            if len(found) > 1:
                warnings.warn(
                    f"{len(found)} experiments are named {key!r}; the first is returned (use an index)",
                    stacklevel=3,
                )
            return found[0]
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

    def data(self, experiment: Any = None) -> dict[str, Any]:
        """One experiment's raw data as Qiskit's ``Result.data`` gives it (hexadecimal keys)."""
        return self.experiment(experiment).data()

    def get_statevector(self, experiment: Any = None, decimals: int | None = None) -> Any:
        raise QumulusClientError(
            "Qumulus backends return measured shots, not a statevector: use get_probabilities() "
            "(exact on the simulator) or get_counts()"
        )

    def get_unitary(self, experiment: Any = None, decimals: int | None = None) -> Any:
        raise QumulusClientError(
            "Qumulus backends return measured shots, not a unitary: use qiskit.quantum_info.Operator "
            "on the circuit"
        )

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
