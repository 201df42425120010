"""How long a job will use its backend, estimated before it runs (pure).

The estimate sizes the budget hold at submission (estimate × contract rate) and the allocation
check; the actual charge is always the *measured* usage (runtime/completion.py). An estimate that is
too high only holds money a little longer; one that is too low lets a project overspend by the
difference for jobs in flight, so the model errs high.

Model (one function, so the QPU timing model can replace it wholesale):

* **simulator**: ``SIMULATOR_SECONDS_PER_CIRCUIT`` per circuit up to 20 qubits, doubling with every
  qubit beyond (a state vector doubles per qubit); shots do not matter (exact probabilities).
* **qpu**: per circuit, ``shots × (Σ gates × gate time + readout + reset)``. A k-qubit gate with
  k ≥ 3 counts as ``2k`` two-qubit gates (a Toffoli is six CNOTs). Gate times come from the
  backend's characterization; without one, IonQ Aria's published figures (1q 135 µs, 2q 600 µs,
  readout 300 µs, reset 20 µs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SIMULATOR_SECONDS_PER_CIRCUIT = 0.005
SIMULATOR_FREE_QUBITS = 20


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds per operation on a QPU."""

    one_qubit: float = 135e-6
    two_qubit: float = 600e-6
    readout: float = 300e-6
    reset: float = 20e-6

    @classmethod
    def from_characterization(cls, timing: Mapping[str, float] | None) -> Timing:
        """From a characterization's ``timing`` block (``1q``, ``2q``, ``readout``, ``reset``)."""
        if not timing:
            return cls()
        default = cls()
        return cls(
            one_qubit=float(timing.get("1q", default.one_qubit)),
            two_qubit=float(timing.get("2q", default.two_qubit)),
            readout=float(timing.get("readout", default.readout)),
            reset=float(timing.get("reset", default.reset)),
        )


ARIA = Timing()


def _arity(key: str) -> int:
    try:
        return int(key.rstrip("q"))
    except ValueError:
        return 1


def estimate_usage_seconds(
    backend_kind: str,
    qubits: int,
    gate_counts: Mapping[str, int],
    shots: int,
    circuits: int = 1,
    timing: Timing | None = None,
) -> float:
    """Estimated usage seconds of ``circuits`` circuits with these summed ``gate_counts``."""
    circuits = max(1, circuits)
    if backend_kind != "qpu":
        return circuits * SIMULATOR_SECONDS_PER_CIRCUIT * 2.0 ** max(0, qubits - SIMULATOR_FREE_QUBITS)
    timing = timing or ARIA
    gate_time = 0.0
    for key, count in gate_counts.items():
        arity = _arity(key)
        if arity <= 1:
            gate_time += count * timing.one_qubit
        elif arity == 2:
            gate_time += count * timing.two_qubit
        else:
            gate_time += count * 2 * arity * timing.two_qubit
    return max(1, shots) * (gate_time + circuits * (timing.readout + timing.reset))
