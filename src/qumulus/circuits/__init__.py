"""The pure circuits layer: the platform's circuit model, IonQ JSON parsing and gate matrices.

No I/O and no server imports live here, so the client SDK, the API, the compiler and the engines all
share one reading of a circuit. The matrix helpers of :mod:`qumulus.circuits.gates` are exported
lazily (module ``__getattr__``) so that parsing a body never pays for importing numpy.
"""

from typing import Any

from qumulus.circuits.errors import CircuitError
from qumulus.circuits.ionq_json import (
    CIRCUIT_V0_FORMAT,
    CIRCUIT_V1,
    MAX_CIRCUITS,
    MAX_GATES,
    MULTI_CIRCUIT_V1,
    QASM3_V1,
    batch_to_json,
    parse_input,
    to_native_json,
    to_qis_json,
)
from qumulus.circuits.model import Circuit, CircuitBatch, Operation

__all__ = [
    "CIRCUIT_V0_FORMAT",
    "CIRCUIT_V1",
    "MAX_CIRCUITS",
    "MAX_GATES",
    "MULTI_CIRCUIT_V1",
    "QASM3_V1",
    "Circuit",
    "CircuitBatch",
    "CircuitError",
    "Operation",
    "batch_to_json",
    "circuit_unitary",
    "controlled_matrix",
    "matrix",
    "parse_input",
    "to_native_json",
    "to_qis_json",
]

_LAZY_GATES = frozenset({"circuit_unitary", "controlled_matrix", "matrix"})


def __getattr__(name: str) -> Any:
    if name in _LAZY_GATES:
        from qumulus.circuits import gates

        return getattr(gates, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
