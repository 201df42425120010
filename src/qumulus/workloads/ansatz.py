"""A parametrized OpenQASM 3 ansatz: parsed once, bound to parameter values per evaluation.

The ``ionq`` package sends ``qiskit.qasm3.dumps(circuit)``: each free parameter is an ``input float[64]
name;`` declaration, in the order of ``circuit.parameters`` (sorted by name, ParameterVector by
index). A parameter vector ``[p0, p1, ...]`` binds to the inputs **in declaration order**.

Parsing goes through the platform's OpenQASM reader (the ``openqasm3`` reference parser and
qiskit's importer, :mod:`qumulus.circuits.openqasm`): the program is parsed once (milliseconds of
ANTLR), kept as a qiskit circuit with parameters, and each evaluation binds it and converts it to
the platform's circuit model (0.1 ms for a small ansatz), to which the measurement basis changes
are appended. The circuits then travel as ordinary ``ionq.circuit.v1`` jobs (every qubit measured
at the end), so workers never parse OpenQASM for a workload.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qumulus.circuits.errors import CircuitError
from qumulus.circuits.model import Circuit, Operation
from qumulus.workloads.hamiltonian import MeasurementGroup


class AnsatzError(ValueError):
    """The ansatz cannot be used; ``field`` names where in the request."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Ansatz:
    """A parsed ansatz: ``qubits``, its input ``names`` in order, and the unbound qiskit circuit."""

    qubits: int
    names: tuple[str, ...]
    _circuit: Any
    _parameters: tuple[Any, ...]

    def bind(self, values: Sequence[float], *, field: str = "input.params") -> Circuit:
        """The ansatz with ``values`` bound (one per input, in declaration order)."""
        if len(values) != len(self.names):
            raise AnsatzError(
                f"{field}: the ansatz has {len(self.names)} input parameter"
                f"{'s' if len(self.names) != 1 else ''} ({', '.join(self.names) or 'none'}), "
                f"got {len(values)} value{'s' if len(values) != 1 else ''}",
                field,
            )
        from qumulus.circuits.from_qiskit import Unsupported, from_qiskit

        # A declared input the program never uses has no qiskit parameter: nothing to bind.
        by_name = {p.name: p for p in self._parameters}
        binding = {by_name[n]: v for n, v in zip(self.names, values, strict=True) if n in by_name}
        bound = self._circuit.assign_parameters(binding) if binding else self._circuit
        try:
            circuit = from_qiskit(bound)
        except Unsupported as exc:
            raise AnsatzError(f"input.data.data.ansatz.data: {exc}", "input.data.data.ansatz.data") from None
        if circuit.clbits:
            split = circuit.split_terminal_measurements()
            if split is None:
                raise AnsatzError(
                    "input.data.data.ansatz.data: the ansatz must be unitary (no mid-circuit measurement, "
                    "reset or control flow): the server measures it in each group's basis",
                    "input.data.data.ansatz.data",
                )
            circuit = Circuit(self.qubits, split[0].operations)
        return circuit


def parse_ansatz(source: Any, *, field: str = "input.data.data.ansatz.data") -> Ansatz:
    """Parse the program; 4xx-ready :class:`AnsatzError` naming ``field`` and the line."""
    if not isinstance(source, str) or not source.strip():
        raise AnsatzError(f"{field}: must be an OpenQASM 3 program (a non-empty string)", field)
    import warnings

    import openqasm3
    from openqasm3 import ast
    from qiskit_qasm3_import import ConversionError, convert

    try:
        program = openqasm3.parse(source)
    except Exception as exc:  # the reader below words it with the line; reuse it
        from qumulus.circuits.openqasm import parse_qasm3

        try:
            parse_qasm3(source, field=field)
        except CircuitError as err:
            raise AnsatzError(str(err) if str(err).startswith(field) else f"{field}: {err}", field) from None
        raise AnsatzError(f"{field}: {exc}", field) from None
    names: list[str] = []
    for statement in program.statements:
        if isinstance(statement, ast.IODeclaration):
            if statement.io_identifier != ast.IOKeyword.input:
                continue
            if not isinstance(statement.type, ast.FloatType | ast.AngleType):
                raise AnsatzError(
                    f"{field}: input {statement.identifier.name!r} must be a float or angle parameter",
                    field,
                )
            names.append(statement.identifier.name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            qc = convert(program)
    except ConversionError as exc:
        raise AnsatzError(f"{field}: {exc}", field) from None
    except Exception as exc:
        raise AnsatzError(f"{field}: {exc}", field) from None
    ansatz = Ansatz(qc.num_qubits, tuple(names), qc, tuple(qc.parameters))
    if ansatz.qubits < 1:
        raise AnsatzError(f"{field}: the ansatz declares no qubits", field)
    if names:
        # Bind once now: unsupported gates or measurements are refused at submission, not later.
        ansatz.bind([0.0] * len(names), field=field)
    return ansatz


#: The rotation taking each Pauli's eigenbasis to the computational one (measured as Z after it).
_TO_Z = {
    "Z": (),
    "X": (("h",),),
    "Y": (("si",), ("h",)),  # S† then H: |+i> -> |0>
}


class NativeTemplates:
    """Each group's circuit (ansatz + basis change) compiled to native gates **once**, with its
    parameters free; an evaluation binds them and maps the result to GPI/GPI2/MS|ZZ (0.2 ms instead
    of qiskit's transpiler per circuit, ~40 ms). Only for emulated QPUs and real devices' native
    gatesets: the ideal simulator takes the QIS circuit as it is."""

    def __init__(self, ansatz: Ansatz, groups: list[MeasurementGroup], native_2q: str) -> None:
        from qumulus.circuits.compile import transpile_template

        base = ansatz._circuit.remove_final_measurements(inplace=False)
        self.ansatz = ansatz
        self.templates = []
        for group in groups:
            qc = base.copy()
            for qubit, pauli in enumerate(group.basis):
                if pauli == "X":
                    qc.h(qubit)
                elif pauli == "Y":
                    qc.sdg(qubit)
                    qc.h(qubit)
            self.templates.append(transpile_template(qc, native_2q))

    def circuits(self, values: Sequence[float]) -> list[Circuit]:
        from qumulus.circuits.compile import native_of_bound

        self.ansatz.bind(values)  # checks the count (and the program) as the QIS path does
        out = []
        for template in self.templates:
            by_name = {p.name: p for p in template.parameters}
            binding = {by_name[n]: v for n, v in zip(self.ansatz.names, values, strict=True) if n in by_name}
            bound = template.assign_parameters(binding) if binding else template
            out.append(native_of_bound(bound, self.ansatz.qubits))
        return out


def measured_in(circuit: Circuit, group: MeasurementGroup) -> Circuit:
    """``circuit`` followed by the basis change of ``group`` (every qubit measured at the end)."""
    ops = list(circuit.operations)
    for qubit, pauli in enumerate(group.basis):
        for (name,) in _TO_Z[pauli]:
            ops.append(Operation(name, (qubit,)))
    return Circuit(circuit.qubits, tuple(ops), "qis")


def finite(values: Sequence[Any], field: str) -> list[float]:
    """A list of finite numbers (JSON numbers, not booleans), or an :class:`AnsatzError` at ``field``."""
    if not isinstance(values, list | tuple):
        raise AnsatzError(f"{field}: must be a list of numbers", field)
    out: list[float] = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(float(v)):
            raise AnsatzError(f"{field}[{i}]: must be a finite number, got {str(v)[:40]!r}", f"{field}[{i}]")
        out.append(float(v))
    return out
