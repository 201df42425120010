"""Classical conditions of ``if`` and ``while``: a small expression tree over measured bits.

OpenQASM conditions read classical bits and registers (``c[0]``, ``c == 3``, ``!flag``,
``(a == 1) && (b != 2)``). They are kept as a tree of frozen nodes and evaluated per shot by
:func:`evaluate` against that shot's classical bits, an ``int`` whose bit ``c`` is clbit ``c``. Pure
Python: engines in any process evaluate them without importing anything.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bits:
    """The unsigned integer read from ``clbits`` (``clbits[0]`` is its least significant bit).

    One clbit is a ``bit``; a register is several.
    """

    clbits: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Const:
    value: int


@dataclass(frozen=True, slots=True)
class Unary:
    """``!`` (logical not) or ``~`` (bitwise not, over ``width`` bits)."""

    op: str
    operand: Expr
    width: int = 1


@dataclass(frozen=True, slots=True)
class Binary:
    """Comparison (``== != < <= > >=``), logic (``&& ||``), bitwise (``& | ^``) or shift (``<< >>``)."""

    op: str
    left: Expr
    right: Expr


Expr = Bits | Const | Unary | Binary

UNARY_OPS = frozenset({"!", "~"})
BINARY_OPS = frozenset({"==", "!=", "<", "<=", ">", ">=", "&&", "||", "&", "|", "^", "<<", ">>"})


def evaluate(expr: Expr, bits: int) -> int:
    """The value of ``expr`` when the classical bits are ``bits``; a condition holds when non-zero."""
    kind = type(expr)
    if kind is Bits:
        value = 0
        for i, c in enumerate(expr.clbits):  # type: ignore[union-attr]
            value |= ((bits >> c) & 1) << i
        return value
    if kind is Const:
        return expr.value  # type: ignore[union-attr]
    if kind is Unary:
        inner = evaluate(expr.operand, bits)  # type: ignore[union-attr]
        if expr.op == "!":  # type: ignore[union-attr]
            return int(not inner)
        return ~inner & ((1 << expr.width) - 1)  # type: ignore[union-attr]
    assert kind is Binary
    op = expr.op  # type: ignore[union-attr]
    left = evaluate(expr.left, bits)  # type: ignore[union-attr]
    if op == "&&" and not left:
        return 0
    if op == "||" and left:
        return 1
    right = evaluate(expr.right, bits)  # type: ignore[union-attr]
    return _BINARY[op](left, right)


_BINARY = {
    "==": lambda a, b: int(a == b),
    "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b),
    "<=": lambda a, b: int(a <= b),
    ">": lambda a, b: int(a > b),
    ">=": lambda a, b: int(a >= b),
    "&&": lambda a, b: int(bool(a) and bool(b)),
    "||": lambda a, b: int(bool(a) or bool(b)),
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "<<": lambda a, b: a << b,
    ">>": lambda a, b: a >> b,
}


def clbits_read(expr: Expr) -> frozenset[int]:
    """Every classical bit the expression reads."""
    kind = type(expr)
    if kind is Bits:
        return frozenset(expr.clbits)  # type: ignore[union-attr]
    if kind is Const:
        return frozenset()
    if kind is Unary:
        return clbits_read(expr.operand)  # type: ignore[union-attr]
    return clbits_read(expr.left) | clbits_read(expr.right)  # type: ignore[union-attr]
