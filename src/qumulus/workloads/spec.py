"""The two workload job types on the wire, read into typed specs (400 naming the field otherwise).

* ``quantum-function``: ``input = {"data": {"type": "hamiltonian-energy", "data": {"hamiltonian":
  [{"pauli_string", "coefficient"}], "ansatz": {"format": "qasm", "data", "num_qubits"},
  "linear_constraints"?, "quadratic_constraints"?, "penalty"?}}, "params": [...]}``;
* ``optimization``: ``input = {"quantum_function": <the "data" object above>, "method",
  "initial_params"?, "maxiter"?, "log_interval"?, "options"?}``.

These are the shapes of ``ionq.schemas.job`` (``QuantumFunctionInput``, ``OptimizationWorkload``)
and ``ionq.problems.quadratic`` (``QCQPHamiltonianData``), as the ``ionq`` package sends them with
``exclude_none``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from qumulus.errors import InvalidCircuit, InvalidRequest
from qumulus.workloads import optimizers
from qumulus.workloads.ansatz import Ansatz, AnsatzError, finite, parse_ansatz
from qumulus.workloads.function import HamiltonianEnergy
from qumulus.workloads.hamiltonian import PAULIS, Hamiltonian, PauliTerm
from qumulus.workloads.penalty import DEFAULT_PENALTY, LinearConstraint, Penalty, QuadraticConstraint

QUANTUM_FUNCTION = "quantum-function"
OPTIMIZATION = "optimization"
TYPES = (QUANTUM_FUNCTION, OPTIMIZATION)
FUNCTION_TYPES = ("hamiltonian-energy",)
#: Most evaluations one optimization may ask for (``maxiter``); the runner also caps evaluations.
MAX_ITERATIONS = 1000
DEFAULT_MAXITER = 100
MAX_TERMS = 5000


@dataclass
class QuantumFunctionSpec:
    function: HamiltonianEnergy
    params: list[float]


@dataclass
class OptimizationSpec:
    function: HamiltonianEnergy
    method: str
    initial_params: list[float]
    maxiter: int
    log_interval: int = 1
    options: dict[str, Any] = field(default_factory=dict)


def parse(job_type: str, payload: Any) -> QuantumFunctionSpec | OptimizationSpec:
    """The job's ``input`` as a spec; :class:`InvalidRequest` (400) or, for an ansatz that does not
    parse, :class:`InvalidCircuit` (422), each naming the field."""
    if not isinstance(payload, dict):
        raise InvalidRequest("input: must be a JSON object", field="input")
    if job_type == QUANTUM_FUNCTION:
        function = _function(payload.get("data"), "input.data")
        params = _params(payload.get("params"), function.ansatz, "input.params")
        return QuantumFunctionSpec(function, params)
    if job_type == OPTIMIZATION:
        function = _function(payload.get("quantum_function"), "input.quantum_function")
        method = payload.get("method")
        if method not in optimizers.METHODS:
            raise InvalidRequest(
                f"input.method: unknown method {str(method)[:40]!r}; one of {', '.join(optimizers.METHODS)}",
                field="input.method",
            )
        initial = _params(payload.get("initial_params"), function.ansatz, "input.initial_params", zeros=True)
        options = payload.get("options") or {}
        if not isinstance(options, dict):
            raise InvalidRequest("input.options: must be a JSON object", field="input.options")
        for key, value in options.items():
            if isinstance(value, dict | list):
                raise InvalidRequest(
                    f"input.options.{key}: must be a number, string or boolean", field=f"input.options.{key}"
                )
        if method == "SPSA":
            unknown = set(options) - optimizers.SPSA_OPTIONS
            if unknown:
                name = sorted(unknown)[0]
                raise InvalidRequest(
                    f"input.options.{name}: unknown SPSA option; SPSA takes "
                    f"{', '.join(sorted(optimizers.SPSA_OPTIONS))}",
                    field=f"input.options.{name}",
                )
        maxiter = payload.get("maxiter")
        if maxiter is None:
            maxiter = options.pop("maxiter", DEFAULT_MAXITER)
        else:
            options.pop("maxiter", None)
        maxiter = _positive(maxiter, "input.maxiter", MAX_ITERATIONS)
        log_interval = payload.get("log_interval")
        log_interval = 1 if log_interval is None else _positive(log_interval, "input.log_interval", 10**6)
        return OptimizationSpec(function, method, initial, maxiter, log_interval, dict(options))
    raise InvalidRequest(f"type: {job_type!r} is not a workload type", field="type")


def _positive(value: Any, name: str, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InvalidRequest(f"{name}: must be a positive integer", field=name)
    if not 1 <= int(value) <= limit:
        raise InvalidRequest(f"{name}: must be from 1 to {limit}, got {int(value)}", field=name)
    return int(value)


def _params(value: Any, ansatz: Ansatz, name: str, *, zeros: bool = False) -> list[float]:
    if value is None:
        if zeros or not ansatz.names:
            return [0.0] * len(ansatz.names)
        raise InvalidRequest(
            f"{name}: required: the ansatz has {len(ansatz.names)} input parameter(s) "
            f"({', '.join(ansatz.names)})",
            field=name,
        )
    try:
        values = finite(value, name)
    except AnsatzError as exc:
        raise InvalidRequest(str(exc), field=exc.field) from None
    if len(values) != len(ansatz.names):
        raise InvalidRequest(
            f"{name}: the ansatz has {len(ansatz.names)} input parameter(s) "
            f"({', '.join(ansatz.names) or 'none'}), got {len(values)} value(s)",
            field=name,
        )
    return values


def _function(value: Any, base: str) -> HamiltonianEnergy:
    if not isinstance(value, dict):
        raise InvalidRequest(
            f'{base}: required, an object {{"type": "hamiltonian-energy", "data": ...}}', field=base
        )
    kind = value.get("type", "hamiltonian-energy")
    if kind not in FUNCTION_TYPES:
        raise InvalidRequest(
            f"{base}.type: unknown quantum function {str(kind)[:40]!r}; one of {', '.join(FUNCTION_TYPES)}",
            field=f"{base}.type",
        )
    data = value.get("data")
    if not isinstance(data, dict):
        raise InvalidRequest(
            f"{base}.data: required, an object with hamiltonian and ansatz", field=f"{base}.data"
        )
    where = f"{base}.data"
    ansatz_json = data.get("ansatz")
    if not isinstance(ansatz_json, dict):
        raise InvalidRequest(
            f"{where}.ansatz: required, an object with format and data", field=f"{where}.ansatz"
        )
    fmt = ansatz_json.get("format", "qasm")
    if fmt != "qasm":
        raise InvalidRequest(
            f"{where}.ansatz.format: unsupported format {str(fmt)[:40]!r}; only 'qasm' (OpenQASM 3)",
            field=f"{where}.ansatz.format",
        )
    try:
        ansatz = parse_ansatz(ansatz_json.get("data"), field=f"{where}.ansatz.data")
    except AnsatzError as exc:
        raise InvalidCircuit(str(exc), field=exc.field) from None
    declared = ansatz_json.get("num_qubits")
    if declared is not None and (isinstance(declared, bool) or declared != ansatz.qubits):
        raise InvalidRequest(
            f"{where}.ansatz.num_qubits: {declared!r} but the program declares {ansatz.qubits} qubits",
            field=f"{where}.ansatz.num_qubits",
        )
    hamiltonian = _hamiltonian(data.get("hamiltonian"), ansatz.qubits, f"{where}.hamiltonian")
    penalty = _penalty(data, ansatz.qubits, where)
    return HamiltonianEnergy(hamiltonian, ansatz, penalty)


def _hamiltonian(value: Any, qubits: int, name: str) -> Hamiltonian:
    if not isinstance(value, list) or not value:
        raise InvalidRequest(
            f"{name}: required, a non-empty list of {{pauli_string, coefficient}}", field=name
        )
    if len(value) > MAX_TERMS:
        raise InvalidRequest(f"{name}: at most {MAX_TERMS} terms, got {len(value)}", field=name)
    terms = []
    for i, raw in enumerate(value):
        at = f"{name}[{i}]"
        if not isinstance(raw, dict):
            raise InvalidRequest(f"{at}: must be an object {{pauli_string, coefficient}}", field=at)
        pauli = raw.get("pauli_string")
        if not isinstance(pauli, str) or not pauli or set(pauli) - PAULIS:
            raise InvalidRequest(
                f"{at}.pauli_string: must be a string of I, X, Y, Z, got {str(pauli)[:40]!r}",
                field=f"{at}.pauli_string",
            )
        if len(pauli) != qubits:
            raise InvalidRequest(
                f"{at}.pauli_string: {len(pauli)} characters but the ansatz has {qubits} qubits",
                field=f"{at}.pauli_string",
            )
        coefficient = raw.get("coefficient")
        if (
            isinstance(coefficient, bool)
            or not isinstance(coefficient, int | float)
            or not math.isfinite(coefficient)
        ):
            raise InvalidRequest(f"{at}.coefficient: must be a finite real number", field=f"{at}.coefficient")
        terms.append(PauliTerm(pauli, float(coefficient)))
    return Hamiltonian(tuple(terms), qubits)


def _numbers(value: Any, name: str, length: int) -> tuple[float, ...]:
    if not isinstance(value, list) or len(value) != length:
        raise InvalidRequest(f"{name}: must be a list of {length} numbers (one per variable)", field=name)
    try:
        return tuple(finite(value, name))
    except AnsatzError as exc:
        raise InvalidRequest(str(exc), field=exc.field) from None


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidRequest(f"{name}: must be a finite number", field=name)
    return float(value)


def _penalty(data: dict[str, Any], n: int, where: str) -> Penalty | None:
    linear_raw = data.get("linear_constraints") or []
    quadratic_raw = data.get("quadratic_constraints") or []
    weight = data.get("penalty")
    if not isinstance(linear_raw, list):
        raise InvalidRequest(
            f"{where}.linear_constraints: must be a list", field=f"{where}.linear_constraints"
        )
    if not isinstance(quadratic_raw, list):
        raise InvalidRequest(
            f"{where}.quadratic_constraints: must be a list", field=f"{where}.quadratic_constraints"
        )
    if not linear_raw and not quadratic_raw:
        if weight is not None:
            raise InvalidRequest(
                f"{where}.penalty: given without linear_constraints or quadratic_constraints",
                field=f"{where}.penalty",
            )
        return None
    weight = DEFAULT_PENALTY if weight is None else _number(weight, f"{where}.penalty")
    if weight < 0:
        raise InvalidRequest(f"{where}.penalty: must not be negative", field=f"{where}.penalty")
    linear = []
    for i, raw in enumerate(linear_raw):
        at = f"{where}.linear_constraints[{i}]"
        if not isinstance(raw, dict):
            raise InvalidRequest(f"{at}: must be an object {{coeffs, rhs}}", field=at)
        linear.append(
            LinearConstraint(
                _numbers(raw.get("coeffs"), f"{at}.coeffs", n), _number(raw.get("rhs"), f"{at}.rhs")
            )
        )
    quadratic = []
    for i, raw in enumerate(quadratic_raw):
        at = f"{where}.quadratic_constraints[{i}]"
        if not isinstance(raw, dict):
            raise InvalidRequest(f"{at}: must be an object {{quadratic_coeff, linear_coeff, rhs}}", field=at)
        rows = raw.get("quadratic_coeff")
        if not isinstance(rows, list) or len(rows) != n:
            raise InvalidRequest(
                f"{at}.quadratic_coeff: must be a {n}×{n} matrix", field=f"{at}.quadratic_coeff"
            )
        matrix = tuple(_numbers(r, f"{at}.quadratic_coeff[{j}]", n) for j, r in enumerate(rows))
        quadratic.append(
            QuadraticConstraint(
                matrix,
                _numbers(raw.get("linear_coeff"), f"{at}.linear_coeff", n),
                _number(raw.get("rhs"), f"{at}.rhs"),
            )
        )
    return Penalty(weight, tuple(linear), tuple(quadratic))
