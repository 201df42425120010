"""OpenQASM 2 and 3 programs in the platform's circuit model, through maintained parsers.

* **OpenQASM 3**: the ``openqasm3`` reference parser (ANTLR) builds the AST; ``qiskit_qasm3_import``
  (maintained by the Qiskit team) resolves it to a qiskit circuit; :mod:`.from_qiskit` walks that.
* **OpenQASM 2**: ``qiskit.qasm2.loads`` (Rust; ``qelib1.inc``, ``opaque``, ``if (c == n)``).

Why these (measured, docs/simulation.md "OpenQASM"): qiskit's Rust OpenQASM 3 importer
(``qasm3.loads_experimental``) is 30× faster but refuses ``if``, ``while``, ``for``, gate definitions,
and even ``rz(pi/3)`` as written by ``qiskit.qasm3.dumps``, i.e. what qiskit-ionq sends; the reference
parser takes every construct the platform runs. Its cost is ANTLR's Python runtime: 1.5 ms for a Bell
program, 37 ms for 160 gates, 2.8 s for 9 000 gates. OpenQASM 2 takes 0.07 / 0.7 / 38 ms.

Errors: every failure is a :class:`~qumulus.circuits.errors.CircuitError` at ``input.data`` whose
reason names the line (``line 4``) and the construct (the offending token, gate or statement).

The parsers import qiskit (0.4 s, once per process): this module imports nothing heavy at import
time, so ``qumulus.circuits`` stays importable without numpy, and the client install (no qiskit) is
never asked to parse OpenQASM: the server does.
"""

from __future__ import annotations

import re
from typing import Any

from qumulus.circuits.errors import CircuitError
from qumulus.circuits.model import Circuit

#: The ``input.format`` of a v0.3 OpenQASM body, and the v0.4 OpenQASM 3 job type.
OPENQASM_FORMAT = "openqasm"
FIELD = "data"


def parse_openqasm(source: Any, *, field: str = FIELD, name: str | None = None) -> Circuit:
    """An OpenQASM 2 or 3 program (told apart by its ``OPENQASM`` header; 3 when it has none)."""
    if not isinstance(source, str):
        raise _error(f"must be a string holding an OpenQASM program, got {_kind(source)}", field)
    if not source.strip():
        raise _error("is empty: it must hold an OpenQASM program", field)
    version = _version(source)
    if version == 2:
        return parse_qasm2(source, field=field, name=name)
    return parse_qasm3(source, field=field, name=name)


def parse_qasm3(source: str, *, field: str = FIELD, name: str | None = None) -> Circuit:
    """An OpenQASM 3 program as a :class:`Circuit` (``CircuitError`` naming line and construct)."""
    import warnings

    import openqasm3
    from qiskit_qasm3_import import ConversionError, convert

    from qumulus.circuits.from_qiskit import Unsupported, from_qiskit

    try:
        program = openqasm3.parse(source)
    except openqasm3.parser.QASM3ParsingError as exc:
        raise _error(_syntax_reason(exc, source), field) from None
    except RecursionError:
        raise _error("the program nests too deeply to parse", field) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            qc = convert(program)
    except ConversionError as exc:
        raise _error(_conversion_reason(exc, source), field) from None
    except Exception as exc:  # qiskit's own checks (arity, indices) say what, not where
        raise _error(_located(_semantic_reason(exc), program), field) from None
    try:
        return from_qiskit(qc, name=name)
    except Unsupported as exc:
        raise _error(f"{_line_of(source, exc.construct)}'{exc.construct}': {exc}", field) from None


def parse_qasm2(source: str, *, field: str = FIELD, name: str | None = None) -> Circuit:
    """An OpenQASM 2 program as a :class:`Circuit` (``qelib1.inc`` gates; ``if (c == n)``)."""
    from qiskit import qasm2

    from qumulus.circuits.from_qiskit import Unsupported, from_qiskit

    try:
        qc = qasm2.loads(
            source,
            include_path=(),
            custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS,
            custom_classical=qasm2.LEGACY_CUSTOM_CLASSICAL,
        )
    except qasm2.QASM2ParseError as exc:
        raise _error(_qasm2_reason(str(exc)), field) from None
    except Exception as exc:
        raise _error(_semantic_reason(exc), field) from None
    try:
        return from_qiskit(qc, name=name)
    except Unsupported as exc:
        raise _error(f"{_line_of(source, exc.construct)}'{exc.construct}': {exc}", field) from None


_HEADER = re.compile(r"^\s*(?://[^\n]*\n\s*|/\*.*?\*/\s*)*OPENQASM\s+(\d+)(?:\.(\d+))?\s*;", re.S)


def _version(source: str) -> int:
    match = _HEADER.match(source)
    return int(match.group(1)) if match else 3


def _syntax_reason(exc: Exception, source: str) -> str:
    """``line L, column C: syntax error at 'token'`` from ANTLR's exception chain."""
    message = str(exc)
    match = re.match(r"L(\d+):C(\d+): (.*)", message)
    if match:  # a lexer error carries its position in the message
        return f"line {match.group(1)}, column {int(match.group(2)) + 1}: syntax error: {match.group(3)}"
    cause: Any = exc.__cause__
    recognition = cause.args[0] if cause is not None and cause.args else None
    token = getattr(recognition, "offendingToken", None)
    if token is not None:
        text = token.text if token.text != "<EOF>" else "end of program"
        return f"line {token.line}, column {token.column + 1}: syntax error at '{_short(text)}'"
    return "syntax error (the parser gave no position)"


def _conversion_reason(exc: Exception, source: str) -> str:
    """qiskit_qasm3_import puts ``line,column: message`` (1-based line, 0-based column) first."""
    message = str(exc.args[0]) if exc.args else str(exc)
    match = re.match(r"(\d+),(\d+): (.*)", message, re.S)
    if match:
        return f"line {match.group(1)}, column {int(match.group(2)) + 1}: {match.group(3)}"
    node = getattr(exc, "node", None)
    span = getattr(node, "span", None)
    if span is not None:
        return f"line {span.start_line}: {message}"
    return message


def _semantic_reason(exc: Exception) -> str:
    text = str(exc).strip().strip("'\"") or type(exc).__name__
    return text


def _located(reason: str, program: Any) -> str:
    """qiskit's checks (``cx q[0];``: wrong number of qubits) carry no position: find the statement.

    The statement named is the first gate call whose qubit count disagrees with the standard
    library, or the first statement the message mentions; a position-less message stays as it is.
    """
    from openqasm3 import ast

    for statement in program.statements:
        if isinstance(statement, ast.QuantumGate):
            gate = statement.name.name
            want = _STD_ARITY.get(gate)
            if want is not None and want != len(statement.qubits):
                return (
                    f"line {statement.span.start_line}: gate '{gate}' takes {want} qubit"
                    f"{'s' if want > 1 else ''}, got {len(statement.qubits)}"
                )
            for qubit in statement.qubits:
                index = getattr(qubit, "indices", None)
                if index and "index" in reason.lower():
                    return f"line {statement.span.start_line}: gate '{gate}': {reason}"
    return reason


_STD_ARITY = {
    **{g: 1 for g in ("x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "rx", "ry", "rz", "p", "u",
                      "id", "u1", "u2", "u3", "phase")},
    **{g: 2 for g in ("cx", "cy", "cz", "ch", "cp", "crx", "cry", "crz", "cu", "swap", "CX", "cphase",
                      "cu1", "cu3")},
    **{g: 3 for g in ("ccx", "cswap")},
}  # fmt: skip


def _qasm2_reason(message: str) -> str:
    """``<input>:5,0: 'foo' is not defined in this scope`` → ``line 5, column 1: ...``."""
    match = re.match(r"<input>:(\d+),(\d+): (.*)", message.strip("'\""), re.S)
    if match:
        return f"line {match.group(1)}, column {int(match.group(2)) + 1}: {match.group(3)}"
    return message


def _line_of(source: str, construct: str) -> str:
    """``line N: `` of the first line that uses ``construct`` as a word, or nothing."""
    pattern = re.compile(rf"\b{re.escape(construct)}\b")
    for number, line in enumerate(source.splitlines(), start=1):
        if pattern.search(line.split("//", 1)[0]):
            return f"line {number}: "
    return ""


def _error(reason: str, field: str) -> CircuitError:
    return CircuitError(reason, field=field)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
