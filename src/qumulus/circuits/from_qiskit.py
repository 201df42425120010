"""A qiskit ``QuantumCircuit`` (what qiskit's OpenQASM importers build) in the platform's model.

Why through qiskit: its importers (``qiskit.qasm2`` in Rust, ``qiskit_qasm3_import`` over the
``openqasm3`` reference parser) resolve everything a program may say: gate definitions, the standard
libraries (``qelib1.inc``, ``stdgates.inc``), parameter expressions, register broadcasting,
``measure``/``reset``, ``if``/``while``/``for``. What is left here is a walk over the result:

* standard gates map one to one onto :mod:`qumulus.circuits.model` names, with exact semantics (the
  same table as ``compile.to_qiskit`` and the Aer adapter);
* a controlled gate whose base gate is one of ours keeps its controls (our model has exact controlled
  semantics for every gate), provided every control is on |1⟩;
* any other gate is replaced by its definition (recursively). A definition's global phase is a global
  phase of the whole (uncontrolled) operation, so dropping it changes nothing measurable;
* ``for`` loops are unrolled (their bounds are constants), ``if``/``while`` become
  :class:`~qumulus.circuits.model.IfElse`/:class:`~qumulus.circuits.model.WhileLoop` with conditions
  from :mod:`qumulus.circuits.classical`; ``switch``, ``break``, ``continue`` and classical variables
  are refused with an :class:`Unsupported` naming the construct.

qiskit is imported by the caller (the OpenQASM front end); nothing here imports it at module level.
"""

from __future__ import annotations

import math
from typing import Any

from qumulus.circuits import classical
from qumulus.circuits.model import Circuit, IfElse, Instruction, Operation, WhileLoop

#: qiskit gate name -> (our name, fixed params or None to take the gate's own).
_DIRECT: dict[str, tuple[str, tuple[float, ...] | None]] = {
    "x": ("x", ()), "y": ("y", ()), "z": ("z", ()), "h": ("h", ()), "s": ("s", ()),
    "sdg": ("si", ()), "t": ("t", ()), "tdg": ("ti", ()), "sx": ("v", ()), "sxdg": ("vi", ()),
    "rx": ("rx", None), "ry": ("ry", None), "rz": ("rz", None), "p": ("phase", None),
    "u1": ("phase", None), "rxx": ("xx", None), "ryy": ("yy", None), "rzz": ("zz", None),
    "swap": ("swap", ()),
}  # fmt: skip
#: Instructions with no effect on outcomes.
_SKIP = frozenset({"barrier", "id", "delay", "global_phase"})


class Unsupported(ValueError):
    """A construct the platform's model cannot hold; ``construct`` names it (``switch``, ``break``)."""

    def __init__(self, construct: str, reason: str) -> None:
        self.construct = construct
        super().__init__(reason)


#: Unrolling a ``for`` loop stops past this many instructions (the job limit is 150 000 gates).
MAX_UNROLLED = 150_000


def from_qiskit(qc: Any, *, name: str | None = None) -> Circuit:
    """The :class:`Circuit` of ``qc``: clbits and registers as declared, outcome = classical bits."""
    qubit_index = {bit: i for i, bit in enumerate(qc.qubits)}
    clbit_index = {bit: i for i, bit in enumerate(qc.clbits)}
    walker = _Walker(clbit_index)
    ops = walker.walk(qc, [qubit_index[q] for q in qc.qubits], [clbit_index[c] for c in qc.clbits])
    cregs = tuple((reg.name, tuple(clbit_index[bit] for bit in reg)) for reg in qc.cregs)
    return Circuit(
        qubits=qc.num_qubits,
        operations=tuple(ops),
        name=name,
        clbits=qc.num_clbits,
        cregs=cregs,
    )


class _Walker:
    def __init__(self, clbit_index: dict[Any, int]) -> None:
        self.clbit_index = clbit_index

    def walk(self, qc: Any, qmap: list[int], cmap: list[int]) -> list[Instruction]:
        """``qc``'s instructions with its qubit ``i`` renamed ``qmap[i]`` (clbits ``cmap[i]``)."""
        local_q = {bit: qmap[i] for i, bit in enumerate(qc.qubits)}
        local_c = {bit: cmap[i] for i, bit in enumerate(qc.clbits)}
        out: list[Instruction] = []
        for instruction in qc.data:
            op = instruction.operation
            qs = [local_q[q] for q in instruction.qubits]
            cs = [local_c[c] for c in instruction.clbits]
            out.extend(self.instruction(op, qs, cs, local_c))
        return out

    def instruction(
        self, op: Any, qs: list[int], cs: list[int], local_c: dict[Any, int]
    ) -> list[Instruction]:
        name = op.name
        if name in _SKIP:
            return []
        if name == "measure":
            return [Operation("measure", (qs[0],), clbits=(cs[0],))]
        if name == "reset":
            return [Operation("reset", (qs[0],))]
        if name == "if_else":
            condition = self.condition(op.condition, local_c)
            then = self.walk(op.params[0], qs, cs)
            orelse = self.walk(op.params[1], qs, cs) if op.params[1] is not None else []
            return [IfElse(condition, tuple(then), tuple(orelse))]
        if name == "while_loop":
            return [WhileLoop(self.condition(op.condition, local_c), tuple(self.walk(op.params[0], qs, cs)))]
        if name == "for_loop":
            return self.unroll(op, qs, cs)
        if name in ("switch_case", "break_loop", "continue_loop", "box"):
            construct = {"switch_case": "switch", "break_loop": "break", "continue_loop": "continue"}.get(
                name, name
            )
            raise Unsupported(construct, f"'{construct}' is not supported; use if/else and while")
        if name == "store":
            raise Unsupported("assignment", "assignments to classical variables are not supported")
        if getattr(op, "condition", None) is not None and not hasattr(op, "blocks"):
            # A qiskit 1.x ``c_if`` (OpenQASM 2 ``if (c == n) gate``).
            inner = op.to_mutable()
            inner.condition = None
            body = self.instruction(inner, qs, cs, local_c)
            return [IfElse(self.condition(op.condition, local_c), tuple(body))]
        return self.gate(op, qs)

    def gate(self, op: Any, qs: list[int]) -> list[Instruction]:
        name = op.name
        params = tuple(_number(p, name) for p in op.params) if _is_gate(op) else ()
        direct = _DIRECT.get(name)
        if direct is not None:
            ours, fixed = direct
            return [Operation(ours, tuple(qs), params=params if fixed is None else fixed)]
        if name in ("u", "u3", "U"):
            theta, phi, lam = params
            # U(θ,φ,λ) = e^{i(φ+λ)/2}·RZ(φ)·RY(θ)·RZ(λ); the global phase does not matter uncontrolled.
            q = (qs[0],)
            return [Operation("rz", q, params=(lam,)), Operation("ry", q, params=(theta,)),
                    Operation("rz", q, params=(phi,))]  # fmt: skip
        controlled = self.controlled(op, qs)
        if controlled is not None:
            return controlled
        definition = getattr(op, "definition", None)
        if definition is None:
            raise Unsupported(name, f"gate '{name}' has no definition (an opaque gate cannot be simulated)")
        # A definition's own (qubit) order is positional: its qubit i is our qs[i].
        return self.walk(definition, qs, [])

    def controlled(self, op: Any, qs: list[int]) -> list[Instruction] | None:
        """A qiskit ``ControlledGate`` on one of our base gates, all controls on |1⟩: kept controlled."""
        base = getattr(op, "base_gate", None)
        if base is None or not hasattr(op, "num_ctrl_qubits"):
            return None
        n = op.num_ctrl_qubits
        if op.ctrl_state != (1 << n) - 1:
            return None
        inner = _DIRECT.get(base.name)
        if inner is None:
            return None
        ours, fixed = inner
        params = tuple(_number(p, base.name) for p in base.params)
        return [Operation(ours, tuple(qs[n:]), tuple(qs[:n]), params if fixed is None else fixed)]

    def unroll(self, op: Any, qs: list[int], cs: list[int]) -> list[Instruction]:
        indexset, parameter, body = op.params
        out: list[Instruction] = []
        for value in indexset:
            bound = body.assign_parameters({parameter: value}) if parameter is not None else body
            out.extend(self.walk(bound, qs, cs))
            if len(out) > MAX_UNROLLED:
                raise Unsupported("for", f"the for loop unrolls to more than {MAX_UNROLLED} operations")
        return out

    def condition(self, cond: Any, local_c: dict[Any, int]) -> classical.Expr:
        """A qiskit condition (``(clbit|register, value)`` or an ``expr.Expr``) as our expression."""
        if isinstance(cond, tuple):
            target, value = cond
            return classical.Binary("==", self.bits(target, local_c), classical.Const(int(value)))
        return self.expr(cond, local_c)

    def bits(self, target: Any, local_c: dict[Any, int]) -> classical.Bits:
        if target in local_c:  # a Clbit
            return classical.Bits((local_c[target],))
        try:
            return classical.Bits(tuple(local_c[bit] for bit in target))  # a ClassicalRegister
        except (TypeError, KeyError):
            raise Unsupported("variable", f"conditions on {target!r} are not supported") from None

    def expr(self, node: Any, local_c: dict[Any, int]) -> classical.Expr:
        from qiskit.circuit.classical import expr

        if isinstance(node, expr.Var):
            if isinstance(node.var, str) or getattr(node, "standalone", False) or node.var is None:
                raise Unsupported("variable", f"classical variable {node.name!r} is not supported")
            return self.bits(node.var, local_c)
        if isinstance(node, expr.Value):
            value = node.value
            if isinstance(value, float):
                raise Unsupported("float", "floating-point conditions are not supported")
            return classical.Const(int(value))
        if isinstance(node, expr.Cast):
            return self.expr(node.operand, local_c)
        if isinstance(node, expr.Index):
            target = self.expr(node.target, local_c)
            index = node.index
            if not isinstance(target, classical.Bits) or not isinstance(index, expr.Value):
                raise Unsupported("index", "only constant indices into registers are supported")
            return classical.Bits((target.clbits[int(index.value)],))
        if isinstance(node, expr.Unary):
            op = _UNARY.get(node.op.name)
            if op is None:
                raise Unsupported(node.op.name.lower(), f"operator {node.op.name} is not supported")
            width = getattr(node.type, "width", 1) or 1
            return classical.Unary(op, self.expr(node.operand, local_c), width)
        if isinstance(node, expr.Binary):
            op = _BINARY.get(node.op.name)
            if op is None:
                raise Unsupported(node.op.name.lower(), f"operator {node.op.name} is not supported")
            return classical.Binary(op, self.expr(node.left, local_c), self.expr(node.right, local_c))
        raise Unsupported(type(node).__name__.lower(), f"condition {node!r} is not supported")


_UNARY = {"LOGIC_NOT": "!", "BIT_NOT": "~"}
_BINARY = {
    "EQUAL": "==", "NOT_EQUAL": "!=", "LESS": "<", "LESS_EQUAL": "<=", "GREATER": ">",
    "GREATER_EQUAL": ">=", "LOGIC_AND": "&&", "LOGIC_OR": "||", "BIT_AND": "&", "BIT_OR": "|",
    "BIT_XOR": "^", "SHIFT_LEFT": "<<", "SHIFT_RIGHT": ">>",
}  # fmt: skip


def _is_gate(op: Any) -> bool:
    return op.name not in ("measure", "reset") and not hasattr(op, "blocks")


def _number(value: Any, gate: str) -> float:
    """A bound gate parameter as a finite float; unbound parameters are refused."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise Unsupported("parameter", f"gate '{gate}' has an unbound parameter {value}") from None
    if not math.isfinite(x):
        raise Unsupported("parameter", f"gate '{gate}' has a non-finite parameter {value}")
    return x
