"""Hybrid workloads, the pure part: no I/O, no database, no HTTP.

What a ``quantum-function`` or ``optimization`` job asks for (:mod:`.spec`: the wire read into typed
specs), the Hamiltonian and its measurement in qubit-wise commuting groups (:mod:`.hamiltonian`),
the parametrized OpenQASM 3 ansatz bound per evaluation (:mod:`.ansatz`), the energy from measured
distributions (:mod:`.function`), the QCQP penalty (:mod:`.penalty`) and the optimizers
(:mod:`.optimizers`). The runner that turns evaluations into queued circuit jobs is
``qumulus.services.workloads``; this package only imports ``qumulus.circuits`` and
``qumulus.errors`` (and numpy / SciPy / qiskit's OpenQASM importer, lazily).
"""

from qumulus.workloads.function import Evaluation, HamiltonianEnergy
from qumulus.workloads.spec import (
    OPTIMIZATION,
    QUANTUM_FUNCTION,
    TYPES,
    OptimizationSpec,
    QuantumFunctionSpec,
    parse,
)

__all__ = [
    "OPTIMIZATION",
    "QUANTUM_FUNCTION",
    "TYPES",
    "Evaluation",
    "HamiltonianEnergy",
    "OptimizationSpec",
    "QuantumFunctionSpec",
    "parse",
]
