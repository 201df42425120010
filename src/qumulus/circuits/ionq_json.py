"""IonQ JSON circuits (``ionq.circuit.v1``, ``ionq.multi-circuit.v1``, v0.3 ``ionq.circuit.v0``).

This is the one place where client quirks are absorbed (wire spec §3.2, §10, §11): ``target`` vs
``targets``, ``control`` vs ``controls``, ``not``/``cnot``, ``z`` + ``rotation`` (the phase gate),
native ``zz`` in ``angle`` or ``phase``, indices sent as ``2.0``, missing ``qubits``. Everything above
this module sees only :mod:`qumulus.circuits.model` objects.

Only :class:`CircuitError` ever escapes :func:`parse_input`, whatever JSON-shaped value it is given,
so the API can turn every bad body into one 4xx naming the offending key (``CircuitError.path``).

The parser is hand-written (no pydantic) because it sits on the submit path of every job: a Bell
circuit parses in about 5–10 µs, the largest allowed job (150 000 gates) in well under a second.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from numbers import Integral, Real
from typing import Any

from qumulus.circuits import pauli
from qumulus.circuits.errors import CircuitError, TooManyGates
from qumulus.circuits.model import Circuit, CircuitBatch, Operation

CIRCUIT_V1 = "ionq.circuit.v1"
MULTI_CIRCUIT_V1 = "ionq.multi-circuit.v1"
QASM3_V1 = "ionq.qasm3.v1"
#: ``input.format`` of the legacy v0.3 body (no job ``type``).
CIRCUIT_V0_FORMAT = "ionq.circuit.v0"
#: ``input.format`` of a v0.3 OpenQASM body (``input.data`` holds the program).
OPENQASM_FORMAT = "openqasm"

#: Per-job limits from the v0.4 API (wire spec §3.2).
MAX_CIRCUITS = 5_000
#: IonQ's documented gates per job; Qumulus's own bound is the ``max_gates`` given to parse_input.
MAX_GATES = 150_000
#: Sanity bound on qubit indices when the backend limit is not known: nothing simulates or runs
#: 2**65536 amplitudes, and it keeps a stray ``1e300`` from becoming a "valid" circuit width.
QUBIT_INDEX_CEILING = 1 << 16

GATESETS = ("qis", "native")
#: Native phases (turns) are accepted in this range ([D3]); MS angles in ``MS_ANGLE_RANGE``.
NATIVE_PHASE_RANGE = (-1.0, 1.0)
#: IonQ documents 0..0.25; qiskit-ionq's FuseConsecutiveMS pass emits angles in (-0.5, 0.5].
MS_ANGLE_RANGE = (-0.5, 0.5)
MS_DEFAULT_ANGLE = 0.25
PAULI_LETTERS = frozenset("IXYZ")

# Gate kinds: how a wire gate object is read.
_FIXED1 = 0  # one target, no parameter
_ROT1 = 1  # one target, ``rotation`` (radians)
_Z = 2  # ``z``; with a ``rotation`` it is the phase gate P(θ)
_CNOT = 3  # ``x`` that needs at least one control
_SWAP = 4  # two targets, no parameter
_ISING = 5  # two targets, ``rotation``
_PAULIEXP = 6
_GPI = 7  # native one-qubit, ``phase`` (turns)
_MS = 8
_NATIVE_ZZ = 9  # ``angle`` (or cirq's ``phase``) in turns
_SKIP = 10  # no-ops: dropped
_MEASURE = 11  # rejected: measurements are implicit

_COMMON: dict[str, tuple[str, int]] = {
    "i": ("", _SKIP),
    "id": ("", _SKIP),
    "barrier": ("", _SKIP),
    "nop": ("", _SKIP),
    "measure": ("", _MEASURE),
}
_QIS: dict[str, tuple[str, int]] = {
    **{name: (name, _FIXED1) for name in ("x", "y", "h", "s", "si", "t", "ti", "v", "vi")},
    "not": ("x", _FIXED1),
    "z": ("z", _Z),
    "rx": ("rx", _ROT1),
    "ry": ("ry", _ROT1),
    "rz": ("rz", _ROT1),
    "cnot": ("x", _CNOT),
    "swap": ("swap", _SWAP),
    "xx": ("xx", _ISING),
    "yy": ("yy", _ISING),
    "zz": ("zz", _ISING),
    "pauliexp": ("pauliexp", _PAULIEXP),
    **_COMMON,
}
_NATIVE: dict[str, tuple[str, int]] = {
    "gpi": ("gpi", _GPI),
    "gpi2": ("gpi2", _GPI),
    "ms": ("ms", _MS),
    "zz": ("zz", _NATIVE_ZZ),
    **_COMMON,
}
_TABLES = {"qis": _QIS, "native": _NATIVE}
_TARGET_COUNT = {_FIXED1: 1, _ROT1: 1, _Z: 1, _CNOT: 1, _SWAP: 2, _ISING: 2, _GPI: 1, _MS: 2, _NATIVE_ZZ: 2}
_NATIVE_NAMES = frozenset({"gpi", "gpi2", "ms"})


def parse_input(
    job_type: str | None, payload: Any, *, max_qubits: int | None = None, max_gates: int | None = None
) -> CircuitBatch:
    """Validate a job's ``input`` and return the circuits it asks to run.

    ``job_type`` is the job's ``type`` (``ionq.circuit.v1`` or ``ionq.multi-circuit.v1``), or
    ``None`` for the legacy v0.3 body (``input.format == "ionq.circuit.v0"`` with ``circuit`` or
    ``circuits``). ``max_qubits`` is the backend's width; wider circuits are rejected here so the
    error names the circuit.

    ``qubits`` may be omitted: a circuit then takes its own ``qubits``, else the top-level
    ``qubits``, else its highest index + 1.

    ``max_gates`` bounds the gates of the whole job (the platform's ``QUMULUS_MAX_GATES``; None: no
    bound, for a worker re-reading an input already accepted); past it :class:`TooManyGates`.

    Raises :class:`CircuitError` (and nothing else) for any invalid value.
    """
    budget = max_gates if max_gates is not None else sys.maxsize
    if job_type == CIRCUIT_V1:
        multi = False
    elif job_type == MULTI_CIRCUIT_V1:
        multi = True
    elif job_type is None:
        if isinstance(payload, dict) and payload.get("format") == OPENQASM_FORMAT:
            return _parse_openqasm(payload, max_qubits)
        multi = isinstance(payload, dict) and payload.get("circuits") is not None
    elif job_type == QASM3_V1:
        return _parse_openqasm(payload, max_qubits)
    else:
        raise CircuitError(
            f"unsupported job type {_show(job_type)}; expected {CIRCUIT_V1!r} or {MULTI_CIRCUIT_V1!r}",
            field="type",
            prefix="",
        )
    if not isinstance(payload, dict):
        raise _err(f"input must be a JSON object, got {_kind(payload)}")
    if job_type is None:
        fmt = payload.get("format")
        if fmt is not None and fmt != CIRCUIT_V0_FORMAT:
            raise _err(
                f"unsupported input format {_show(fmt)}; a body without a job type must use "
                f"{CIRCUIT_V0_FORMAT!r} or {OPENQASM_FORMAT!r}",
                "format",
            )

    has_circuit = payload.get("circuit") is not None
    has_circuits = payload.get("circuits") is not None
    if has_circuit and has_circuits:
        raise _err("send either circuit or circuits, not both", "circuits")
    gateset = _gateset(payload.get("gateset"), "qis", None)
    top_qubits = _declared_qubits(payload.get("qubits"), None)
    if top_qubits is not None and max_qubits is not None and top_qubits > max_qubits:
        raise _err(_too_wide(top_qubits, max_qubits), "qubits")

    if not multi:
        if not has_circuit:
            hint = f" (use {MULTI_CIRCUIT_V1} to send input.circuits)" if has_circuits else ""
            raise _err(f"missing: the gate list goes in input.circuit{hint}", "circuit")
        circuit = _parse_circuit(
            payload.get("circuit"),
            ci=None,
            gateset=gateset,
            declared=top_qubits,
            name=payload.get("name"),
            registers=payload.get("registers"),
            max_qubits=max_qubits,
            budget=budget,
        )
        return CircuitBatch(circuits=(circuit,), multi=False)

    items = payload.get("circuits")
    if items is None:
        raise _err(
            "missing: a multi-circuit job lists its circuits in input.circuits"
            + (" (input.circuit is for ionq.circuit.v1)" if has_circuit else ""),
            "circuits",
        )
    if not isinstance(items, (list, tuple)):
        raise _err(f"must be a list of circuit objects, got {_kind(items)}", "circuits")
    if not items:
        raise _err("must contain at least one circuit", "circuits")
    if len(items) > MAX_CIRCUITS:
        raise _err(f"{len(items)} circuits; a job may hold at most {MAX_CIRCUITS}", "circuits")
    circuits: list[Circuit] = []
    for ci, item in enumerate(items):
        if not isinstance(item, dict):
            raise _err(f"each circuit must be a JSON object, got {_kind(item)}", None, ci)
        own_qubits = _declared_qubits(item.get("qubits"), ci)
        if own_qubits is not None and max_qubits is not None and own_qubits > max_qubits:
            raise _err(_too_wide(own_qubits, max_qubits), "qubits", ci)
        circuit = _parse_circuit(
            item.get("circuit"),
            ci=ci,
            gateset=_gateset(item.get("gateset"), gateset, ci),
            declared=own_qubits if own_qubits is not None else top_qubits,
            name=item.get("name"),
            registers=item.get("registers"),
            max_qubits=max_qubits,
            budget=budget,
        )
        budget -= len(item.get("circuit"))
        circuits.append(circuit)
    return CircuitBatch(circuits=tuple(circuits), multi=True)


def _parse_openqasm(payload: Any, max_qubits: int | None) -> CircuitBatch:
    """``{"data": "<OpenQASM 2 or 3>", "qubits"?: n}`` (``ionq.qasm3.v1``, v0.3 ``format: openqasm``).

    ``qubits`` (qiskit-ionq sends the circuit's width) may widen the program; it may not narrow it.
    The parser is imported here, on first use: it needs the server install (qiskit).
    """
    from qumulus.circuits.openqasm import parse_openqasm

    if not isinstance(payload, dict):
        raise _err(f"input must be a JSON object, got {_kind(payload)}")
    if payload.get("data") is None:
        raise _err("missing: the OpenQASM program goes in input.data (a string)", "data")
    declared = _declared_qubits(payload.get("qubits"), None)
    name = payload.get("name")
    circuit = parse_openqasm(payload.get("data"), name=name if isinstance(name, str) else None)
    if declared is not None:
        if declared < circuit.qubits:
            raise _err(f"{declared} is fewer than the {circuit.qubits} qubits the program declares", "qubits")
        if declared > circuit.qubits:
            circuit = dataclasses.replace(circuit, qubits=declared)
    if circuit.qubits < 1:
        raise _err("the program declares no qubits (qubit[n] q; or qreg q[n];)", "data")
    if max_qubits is not None and circuit.qubits > max_qubits:
        raise _err(_too_wide(circuit.qubits, max_qubits), "qubits" if declared is not None else "data")
    return CircuitBatch(circuits=(circuit,), multi=False)


def _parse_circuit(
    gates: Any,
    *,
    ci: int | None,
    gateset: str,
    declared: int | None,
    name: Any,
    registers: Any,
    max_qubits: int | None,
    budget: int,
) -> Circuit:
    """One circuit: its gate list checked against ``declared`` qubits (or inferred from it)."""
    if gates is None:
        raise _err("missing: the circuit's gate list", "circuit", ci)
    if not isinstance(gates, (list, tuple)):
        raise _err(f"must be a list of gate objects, got {_kind(gates)}", "circuit", ci)
    if len(gates) > budget:
        raise TooManyGates(
            "too many gates: this job holds more than its limit of gates in total (QUMULUS_MAX_GATES)",
            field="circuit",
            circuit_index=ci,
        )
    if name is not None and not isinstance(name, str):
        raise _err(f"must be a string, got {_kind(name)}", "name", ci)
    if registers is not None and not isinstance(registers, dict):
        raise _err(f"must be an object, got {_kind(registers)}", "registers", ci)

    table = _TABLES[gateset]
    limit = declared if declared is not None else QUBIT_INDEX_CEILING
    ops: list[Operation] = []
    highest = -1
    for gi, raw in enumerate(gates):
        op = _parse_gate(raw, table, gateset, limit, ci, gi)
        if op is None:
            continue
        ops.append(op)
        for q in op.targets:
            if q > highest:
                highest = q
        for q in op.controls:
            if q > highest:
                highest = q

    qubits = declared if declared is not None else highest + 1
    if qubits < 1:
        raise _err("a circuit needs at least one qubit: declare qubits or add gates", "qubits", ci)
    if max_qubits is not None and qubits > max_qubits:
        raise _err(_too_wide(qubits, max_qubits), "qubits", ci)
    return Circuit(
        qubits=qubits,
        operations=tuple(ops),
        gateset=gateset,
        name=name,
        registers=dict(registers) if registers is not None else None,
    )


def _parse_gate(
    raw: Any, table: dict[str, tuple[str, int]], gateset: str, limit: int, ci: int | None, gi: int
) -> Operation | None:
    """One wire gate object → an :class:`Operation` (``None`` for the no-ops we drop)."""
    if not isinstance(raw, dict):
        raise _err(f"each gate must be a JSON object, got {_kind(raw)}", None, ci, gi)
    wire_name = raw.get("gate")
    if not isinstance(wire_name, str):
        reason = (
            "missing gate name"
            if wire_name is None
            else f"gate name must be a string, got {_kind(wire_name)}"
        )
        raise _err(reason, "gate", ci, gi)
    key = wire_name.lower()
    entry = table.get(key)
    if entry is None:
        raise _err(_unknown_gate(wire_name, key, gateset), "gate", ci, gi)
    name, kind = entry
    if kind == _SKIP:
        return None
    if kind == _MEASURE:
        raise _err(
            "measure is not a gate: every qubit is measured at the end of the circuit; remove it",
            "gate",
            ci,
            gi,
        )

    targets = _qubit_list(raw, "targets", "target", limit, ci, gi)
    if not targets:
        raise _err(f"{key} needs a target qubit", "targets", ci, gi)
    controls = _qubit_list(raw, "controls", "control", limit, ci, gi)
    want = _TARGET_COUNT.get(kind)
    if want is not None and len(targets) != want:
        raise _err(
            f"{key} takes {want} target{'s' if want > 1 else ''}, got {len(targets)}",
            _present(raw, "targets", "target"),
            ci,
            gi,
        )
    if len(targets) > 1 and len(set(targets)) != len(targets):
        raise _err(
            f"{key} names a qubit twice in its targets {list(targets)}",
            _present(raw, "targets", "target"),
            ci,
            gi,
        )
    if controls:
        if gateset == "native":
            raise _err(
                f"native gate {key} cannot have controls", _present(raw, "controls", "control"), ci, gi
            )
        if len(set(controls + targets)) != len(controls) + len(targets):
            raise _err(
                f"{key}: a qubit appears twice among controls {list(controls)} and targets {list(targets)}",
                _present(raw, "controls", "control"),
                ci,
                gi,
            )
    elif kind == _CNOT:
        raise _err(f"{key} needs a control qubit", "controls", ci, gi)
    else:
        controls = ()

    if kind in (_FIXED1, _CNOT, _SWAP):
        return Operation(name, targets, controls)
    if kind in (_ROT1, _ISING):
        return Operation(name, targets, controls, (_number(raw, "rotation", ci, gi),))
    if kind == _Z:
        if raw.get("rotation") is None:
            return Operation("z", targets, controls)
        return Operation("phase", targets, controls, (_number(raw, "rotation", ci, gi),))
    if kind == _GPI:
        return Operation(name, targets, (), (_turns(raw, "phase", NATIVE_PHASE_RANGE, ci, gi),))
    if kind == _MS:
        return Operation(name, targets, (), (*_ms_phases(raw, ci, gi), _ms_angle(raw, ci, gi)))
    if kind == _NATIVE_ZZ:
        field = "angle" if raw.get("angle") is not None or raw.get("phase") is None else "phase"
        return Operation("zz", targets, (), (math.tau * _turns(raw, field, NATIVE_PHASE_RANGE, ci, gi),))
    return _pauliexp(raw, targets, controls, ci, gi)


def _pauliexp(
    raw: dict[str, Any], targets: tuple[int, ...], controls: tuple[int, ...], ci: int | None, gi: int
) -> Operation:
    """``exp(-i·time·Σ c_k P_k)``; each term has one letter per target, rightmost on ``targets[0]``."""
    terms = raw.get("terms")
    if not isinstance(terms, (list, tuple)) or not terms:
        raise _err("must be a non-empty list of Pauli strings", "terms", ci, gi)
    if len(terms) > pauli.MAX_TERMS:
        raise _err(f"{len(terms)} terms; a pauliexp has at most {pauli.MAX_TERMS}", "terms", ci, gi)
    clean: list[str] = []
    for k, term in enumerate(terms):
        if not isinstance(term, str):
            raise _err(f"terms[{k}] must be a string, got {_kind(term)}", "terms", ci, gi)
        upper = term.upper()
        if len(upper) != len(targets) or not PAULI_LETTERS.issuperset(upper):
            raise _err(
                f"terms[{k}] = {_show(term)} must be {len(targets)} letters from I, X, Y, Z (one per target)",
                "terms",
                ci,
                gi,
            )
        clean.append(upper)
    coefficients = raw.get("coefficients")
    if not isinstance(coefficients, (list, tuple)) or len(coefficients) != len(clean):
        raise _err(f"must be a list of {len(clean)} real numbers, one per term", "coefficients", ci, gi)
    values = [_real(c, f"coefficients[{k}]", "coefficients", ci, gi) for k, c in enumerate(coefficients)]
    time = _number(raw, "time", ci, gi)
    if time < 0:
        raise _err(f"must be ≥ 0, got {time}", "time", ci, gi)
    for k, value in enumerate(values):  # each term's angle: 1e200 × 1e200 is no angle at all
        if not math.isfinite(time * value):
            raise _err(
                f"time × coefficients[{k}] = {time:g} × {value:g} is not a finite number", "time", ci, gi
            )
    op = Operation("pauliexp", targets, controls, (time, *values), tuple(clean))
    if op.arity > pauli.MAX_DENSE_TARGETS and pauli.dense(op):
        why = "has controls" if controls else "has terms that do not commute"
        raise _err(
            f"a pauliexp on {op.arity} qubits that {why} needs a dense 2^{op.arity} × 2^{op.arity} "
            f"unitary; at most {pauli.MAX_DENSE_TARGETS} qubits unless its terms commute and it has "
            "no controls (it then runs as one rotation per term)",
            "targets",
            ci,
            gi,
        )
    return op


def _ms_phases(raw: dict[str, Any], ci: int | None, gi: int) -> tuple[float, float]:
    phases = raw.get("phases")
    if not isinstance(phases, (list, tuple)) or len(phases) != 2:
        raise _err("ms needs phases: a list of two numbers [φ0, φ1] in turns", "phases", ci, gi)
    lo, hi = NATIVE_PHASE_RANGE
    out = []
    for k, value in enumerate(phases):
        x = _real(value, f"phases[{k}]", "phases", ci, gi)
        if not lo <= x <= hi:
            raise _err(f"phases[{k}] = {x} is outside {lo}..{hi} turns", "phases", ci, gi)
        out.append(x)
    return out[0], out[1]


def _ms_angle(raw: dict[str, Any], ci: int | None, gi: int) -> float:
    if raw.get("angle") is None:
        return MS_DEFAULT_ANGLE
    return _turns(raw, "angle", MS_ANGLE_RANGE, ci, gi)


def _turns(raw: dict[str, Any], field: str, bounds: tuple[float, float], ci: int | None, gi: int) -> float:
    x = _number(raw, field, ci, gi)
    lo, hi = bounds
    if not lo <= x <= hi:
        raise _err(f"{x} is outside {lo}..{hi} turns", field, ci, gi)
    return x


def _number(raw: dict[str, Any], field: str, ci: int | None, gi: int) -> float:
    value = raw.get(field)
    if value is None:
        raise _err(f"missing {field}", field, ci, gi)
    return _real(value, field, field, ci, gi)


def _real(value: Any, label: str, field: str, ci: int | None, gi: int) -> float:
    """A finite real number as float; bools, strings, NaN and ±inf are refused."""
    if type(value) is float:
        x = value
    elif isinstance(value, Real) and not isinstance(value, bool):
        try:
            x = float(value)
        except (OverflowError, TypeError, ValueError):
            x = math.inf
    else:
        raise _err(f"{label} must be a number, got {_kind(value)}", field, ci, gi)
    if not math.isfinite(x):
        raise _err(f"{label} must be a finite number, got {_show(value)}", field, ci, gi)
    return x


def _qubit_list(
    raw: dict[str, Any], plural: str, singular: str, limit: int, ci: int | None, gi: int
) -> tuple[int, ...]:
    """Read ``targets``/``target`` (or ``controls``/``control``); ``()`` when neither is present."""
    many = raw.get(plural)
    one = raw.get(singular)
    if many is None:
        if one is None:
            return ()
        if type(one) is int and 0 <= one < limit:  # fast path: the common, valid case
            return (one,)
        return (_index(one, singular, limit, ci, gi),)
    if type(many) is list and one is None:
        for q in many:  # fast path: plain in-range ints
            if type(q) is not int or q < 0 or q >= limit:
                break
        else:
            return tuple(many)
    if not isinstance(many, (list, tuple)):
        raise _err(f"must be a list of qubit indices, got {_kind(many)}", plural, ci, gi)
    qubits = tuple([_index(q, plural, limit, ci, gi) for q in many])
    if one is not None and qubits != (_index(one, singular, limit, ci, gi),):
        raise _err(f"{singular} and {plural} disagree; send one of them", plural, ci, gi)
    return qubits


def _index(value: Any, field: str, limit: int, ci: int | None, gi: int) -> int:
    """A qubit index: a non-negative integer (``2.0`` is accepted: [D4] types indices as numbers)."""
    q = value if type(value) is int else _as_int(value)
    if q is None:
        raise _err(f"qubit index must be a non-negative integer, got {_show(value)}", field, ci, gi)
    if q < 0:
        raise _err(f"qubit index must be a non-negative integer, got {q}", field, ci, gi)
    if q >= limit:
        reason = (
            f"qubit {q} is out of range: the circuit has {limit} qubits (0..{limit - 1})"
            if limit < QUBIT_INDEX_CEILING
            else f"qubit index {q} is too large (at most {QUBIT_INDEX_CEILING - 1})"
        )
        raise _err(reason, field, ci, gi)
    return q


def _as_int(value: Any) -> int | None:
    """An integer-valued JSON number (``2`` or ``2.0``) as int; ``None`` for anything else (bools too)."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, Integral) and not isinstance(value, bool):
        return int(value)
    return None


def _declared_qubits(value: Any, ci: int | None) -> int | None:
    """``qubits`` as sent: a positive integer, or ``None`` when omitted (then inferred)."""
    if value is None:
        return None
    n = value if type(value) is int else _as_int(value)
    if n is None:
        raise _err(f"must be a positive integer, got {_show(value)}", "qubits", ci)
    if n < 1:
        raise _err(f"must be a positive integer (a circuit needs ≥ 1 qubit), got {n}", "qubits", ci)
    if n > QUBIT_INDEX_CEILING:
        raise _err(f"{n} qubits is too many (at most {QUBIT_INDEX_CEILING})", "qubits", ci)
    return n


def _gateset(value: Any, default: str, ci: int | None) -> str:
    if value is None:
        return default
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in _TABLES:
            return lowered
    raise _err(f"must be 'qis' or 'native', got {_show(value)}", "gateset", ci)


def _unknown_gate(wire_name: str, key: str, gateset: str) -> str:
    if gateset == "qis" and key in _NATIVE_NAMES:
        return (
            f"native gate {key} in a qis circuit: native and QIS gates cannot be mixed; "
            "send native gates with gateset 'native'"
        )
    if gateset == "native" and key in _QIS:
        return (
            f"QIS gate {key} in a native circuit: native and QIS gates cannot be mixed; "
            "a native circuit uses only gpi, gpi2, ms and zz"
        )
    return f"unknown gate {_show(wire_name)} for gateset {gateset!r}"


def _err(reason: str, field: str | None = None, ci: int | None = None, gi: int | None = None) -> CircuitError:
    """A :class:`CircuitError` located in the job's ``input`` (positional for brevity at call sites)."""
    return CircuitError(reason, field=field, circuit_index=ci, gate_index=gi)


def _present(raw: dict[str, Any], plural: str, singular: str) -> str:
    """The key the client actually used, so the error path points at it."""
    return plural if raw.get(plural) is not None else singular


def _too_wide(qubits: int, max_qubits: int) -> str:
    return f"circuit uses {qubits} qubits but this backend has {max_qubits}"


def _kind(value: Any) -> str:
    """JSON-ish type name for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _show(value: Any, limit: int = 60) -> str:
    """A short ``repr`` for messages: a megabyte of garbage must not end up in an error body."""
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not mask the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------------------
# Serialization (v1 wire form, plural keys): used for dry-run artifacts and by the client SDK.


def to_qis_json(circuit: Circuit) -> dict[str, Any]:
    """``{"gateset": "qis", "qubits", "circuit": [...]}``; ``parse_input`` of it gives ``circuit`` back.

    ``phase`` is written as ``z`` with a ``rotation`` (the only way the wire spells P(θ)).
    Raises :class:`CircuitError` if the circuit holds native gates.
    """
    return _to_json(circuit, "qis")


def to_native_json(circuit: Circuit) -> dict[str, Any]:
    """``{"gateset": "native", "qubits", "circuit": [...]}`` with phases and angles in turns.

    Raises :class:`CircuitError` if the circuit holds a gate that is not gpi, gpi2, ms or zz, or
    any controlled gate.
    """
    return _to_json(circuit, "native")


def _to_json(circuit: Circuit, gateset: str) -> dict[str, Any]:
    if circuit.has_control_flow:
        raise CircuitError("classical control (if/while) has no IonQ JSON form", field="circuit", prefix="")
    gates = [_gate_json(op, gateset, gi) for gi, op in enumerate(circuit.operations)]  # type: ignore[arg-type]
    body: dict[str, Any] = {"gateset": gateset, "qubits": circuit.qubits, "circuit": gates}
    if circuit.name is not None:
        body["name"] = circuit.name
    if circuit.registers is not None:
        body["registers"] = dict(circuit.registers)
    return body


def _gate_json(op: Operation, gateset: str, gi: int) -> dict[str, Any]:
    name = op.name
    if name == "measure":  # programs that measure (OpenQASM): kept in compiled artifacts, in place
        return {"gate": "measure", "targets": list(op.targets), "clbits": list(op.clbits)}
    if name == "reset":
        return {"gate": "reset", "targets": list(op.targets)}
    if gateset == "native":
        if op.controls or name not in ("gpi", "gpi2", "ms", "zz"):
            raise CircuitError(
                f"{name}{' with controls' if op.controls else ''} is not a native gate",
                field="gate",
                gate_index=gi,
                prefix="",
            )
        if name == "ms":
            return {
                "gate": "ms",
                "targets": list(op.targets),
                "phases": list(op.params[:2]),
                "angle": op.params[2],
            }
        if name == "zz":
            return {"gate": "zz", "targets": list(op.targets), "angle": _turns_of(op.params[0])}
        return {"gate": name, "targets": list(op.targets), "phase": op.params[0]}

    if name in _NATIVE_NAMES:
        raise CircuitError(f"native gate {name} has no QIS form", field="gate", gate_index=gi, prefix="")
    gate: dict[str, Any] = {"gate": "z" if name == "phase" else name, "targets": list(op.targets)}
    if op.controls:
        gate["controls"] = list(op.controls)
    if name == "pauliexp":
        gate["terms"] = list(op.terms)
        gate["coefficients"] = list(op.params[1:])
        gate["time"] = op.params[0]
    elif op.params:
        gate["rotation"] = op.params[0]
    return gate


def _turns_of(radians: float) -> float:
    """``radians / 2π``, nudged so that ``2π · result`` is exactly ``radians`` when possible.

    Parsing stores a native ``zz`` as ``2π·angle``; picking the neighbouring float that maps back
    bit-for-bit keeps ``parse(serialize(c)) == c`` exact for every parsed circuit.
    """
    turns = radians / math.tau
    if math.tau * turns == radians:
        return turns
    for direction in (math.inf, -math.inf):
        candidate = turns
        for _ in range(4):
            candidate = math.nextafter(candidate, direction)
            if math.tau * candidate == radians:
                return candidate
    return turns


def batch_to_json(batch: CircuitBatch) -> dict[str, Any]:
    """A batch as an ``ionq.multi-circuit.v1`` input, each circuit in its own gateset.

    ``parse_input("ionq.multi-circuit.v1", batch_to_json(b)) == b`` for every parsed batch ``b``.
    """
    circuits = [to_native_json(c) if c.gateset == "native" else to_qis_json(c) for c in batch.circuits]
    gatesets = {c["gateset"] for c in circuits}
    return {
        "gateset": gatesets.pop() if len(gatesets) == 1 else "qis",
        "qubits": batch.qubits,
        "circuits": circuits,
    }
