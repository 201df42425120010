"""The backends a fresh Qumulus knows, with their published headline figures.

QPU names, qubit counts and native two-qubit gates follow IonQ's documentation. The median figures
are IonQ's published ones rounded; ``backends.device`` spreads them per qubit and per pair (seeded),
and the QPUs are *emulated*: circuits are compiled to the native gates, simulated with noise built
from the characterization and billed with the timing model (docs/simulation.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qumulus.backends.device import detailed_characterization

#: What the ideal simulator advertises, like IonQ's. docs/simulation.md gives this machine's real limit.
SIMULATOR_QUBITS = 29
#: cirq sends the bare ``qpu`` target; it means this backend.
DEFAULT_QPU = "qpu.aria-1"


@dataclass(frozen=True)
class BackendSpec:
    name: str
    kind: str
    qubits: int
    native_2q: str | None = None
    description: str = ""
    accepting_jobs: bool = True
    status: str = "operational"
    status_message: str = ""
    #: Median figures: fidelities as fractions, times in seconds.
    medians: dict[str, float] = field(default_factory=dict)

    def characterization(self) -> dict[str, Any]:
        """A characterization snapshot in the platform's own shape (api/ maps it per client):
        the published medians plus seeded per-qubit and per-pair figures (``backends.device``)."""
        return detailed_characterization(self.name, self.qubits, self.native_2q, self.medians)


_ARIA = {
    "spam": 0.9950,
    "1q": 0.9998,
    "2q": 0.9900,
    "t1": 100.0,
    "t2": 1.0,
    "t_1q": 135e-6,
    "t_2q": 600e-6,
    "t_readout": 300e-6,
    "t_reset": 20e-6,
}
_FORTE = {
    "spam": 0.9960,
    "1q": 0.9998,
    "2q": 0.9925,
    "t1": 188.0,
    "t2": 0.95,
    "t_1q": 110e-6,
    "t_2q": 900e-6,
    "t_readout": 150e-6,
    "t_reset": 50e-6,
}
_HARMONY = {
    "spam": 0.9918,
    "1q": 0.9972,
    "2q": 0.9613,
    "t1": 10.0,
    "t2": 0.2,
    "t_1q": 10e-6,
    "t_2q": 210e-6,
    "t_readout": 130e-6,
    "t_reset": 20e-6,
}

#: Every QPU here is an emulator, and says so.
_EMULATED = ": an emulator (compiled to native gates, noise and timing from its characterization)."

CATALOG: tuple[BackendSpec, ...] = (
    BackendSpec("simulator", "simulator", SIMULATOR_QUBITS, description="Ideal state-vector simulator."),
    *(
        BackendSpec(
            name,
            "qpu",
            qubits,
            native,
            description=desc + _EMULATED,
            medians=medians,
        )
        for name, qubits, native, medians, desc in (
            ("qpu.harmony", 11, "ms", _HARMONY, "Emulated IonQ Harmony (11 qubits, MS gate)"),
            ("qpu.aria-1", 25, "ms", _ARIA, "Emulated IonQ Aria (25 qubits, MS gate)"),
            ("qpu.aria-2", 25, "ms", _ARIA, "Emulated IonQ Aria (25 qubits, MS gate)"),
            ("qpu.forte-1", 36, "zz", _FORTE, "Emulated IonQ Forte (36 qubits, ZZ gate)"),
            (
                "qpu.forte-enterprise-1",
                36,
                "zz",
                _FORTE,
                "Emulated IonQ Forte Enterprise (36 qubits, ZZ gate)",
            ),
        )
    ),
)

BY_NAME = {spec.name: spec for spec in CATALOG}

#: Noise model names a simulator job may ask for, and the QPU each one emulates.
NOISE_MODELS = {
    "ideal": None,
    "harmony": "qpu.harmony",
    "harmony-1": "qpu.harmony",
    "harmony-2": "qpu.harmony",
    "aria-1": "qpu.aria-1",
    "aria-2": "qpu.aria-2",
    "forte-1": "qpu.forte-1",
    "forte-enterprise-1": "qpu.forte-enterprise-1",
}


def resolve_backend_name(name: str) -> str:
    """Map client aliases to a backend name (cirq's bare ``qpu``; ``ionq_simulator`` style names)."""
    lowered = name.strip().lower()
    if lowered == "qpu":
        return DEFAULT_QPU
    if lowered in {"ionq_simulator", "ionq.simulator"}:
        return "simulator"
    return lowered


def emulation_target(backend: str, noise: dict[str, Any] | None) -> str | None:
    """The QPU whose characterization a job runs with, or None for an ideal simulation.

    A job on a QPU runs that QPU's emulator; a ``simulator`` job with ``noise.model`` naming a QPU
    (``aria-1``...) runs that QPU's noise; anything else is ideal.
    """
    if backend.startswith("qpu."):
        return backend
    model = (noise or {}).get("model")
    return NOISE_MODELS.get(model) if isinstance(model, str) else None
