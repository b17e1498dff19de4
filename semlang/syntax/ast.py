"""The syntax tree of a model: what the text says, with the span of every piece.

Input: nothing (these are the node types). Output of :mod:`semlang.syntax.transformer`, input of
:mod:`semlang.partable`. Nodes are frozen dataclasses; expressions of ``:=``, ``==``, ``<`` and
``>`` are small trees of :class:`Number`, :class:`Symbol`, :class:`Unary`, :class:`Binary` and
:class:`Call` that :func:`to_sympy` turns into sympy expressions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import sympy

from semlang.errors import Source, Span


class Op(str, Enum):
    """Operators of the model language, with lavaan's spelling as value."""

    MEASURED = "=~"
    REGRESSION = "~"
    COVARIANCE = "~~"
    INTERCEPT = "~1"
    DEFINED = ":="
    EQUAL = "=="
    LESS = "<"
    GREATER = ">"
    FORMATIVE = "<~"
    THRESHOLD = "|"
    SCALING = "~*~"

    def __str__(self) -> str:
        return self.value


class ModifierKind(Enum):
    VALUE = "value"  # a fixed number, or NA (None) to free the parameter
    LABEL = "label"  # a label; parameters sharing a label are one parameter
    START = "start"  # a starting value
    EQUAL = "equal"  # equal("f=~x2"): the same parameter as another row
    LOWER = "lower"  # a lower bound
    UPPER = "upper"  # an upper bound


@dataclass(frozen=True)
class Modifier:
    """One modifier of a term. ``values`` holds one entry per group (a single entry: all groups)."""

    kind: ModifierKind
    values: tuple[float | str | None, ...]
    span: Span

    def for_group(self, group: int) -> float | str | None:
        """The entry for a 1-based group (a single entry applies to every group)."""
        if len(self.values) == 1:
            return self.values[0]
        return self.values[group - 1]


@dataclass(frozen=True)
class Term:
    """A right-hand-side term: a variable name (or ``1`` for an intercept) with its modifiers."""

    name: str
    modifiers: tuple[Modifier, ...]
    span: Span
    name_span: Span


@dataclass(frozen=True)
class Name:
    name: str
    span: Span


@dataclass(frozen=True)
class Relation:
    """``lhs op rhs``: ``=~``, ``~``, ``~~`` or ``~1`` with one or more variables on the left."""

    lhs: tuple[Name, ...]
    op: Op
    rhs: tuple[Term, ...]
    span: Span
    op_span: Span


@dataclass(frozen=True)
class Number:
    value: float
    span: Span


@dataclass(frozen=True)
class Symbol:
    name: str
    span: Span


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "+"
    operand: Expr
    span: Span


@dataclass(frozen=True)
class Binary:
    op: str  # "+", "-", "*", "/", "^"
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Expr, ...]
    span: Span


Expr = Number | Symbol | Unary | Binary | Call

FUNCTIONS = {
    "exp": sympy.exp,
    "log": sympy.log,
    "sqrt": sympy.sqrt,
    "abs": sympy.Abs,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "tanh": sympy.tanh,
}


@dataclass(frozen=True)
class Definition:
    """``name := expression``: a defined parameter."""

    name: Name
    expr: Expr
    span: Span


@dataclass(frozen=True)
class Constraint:
    """``left == right``, ``left < right`` or ``left > right``."""

    left: Expr
    op: Op
    right: Expr
    span: Span
    op_span: Span


@dataclass(frozen=True)
class BlockHeader:
    """``level: 1`` or ``group: 2``: the statements that follow belong to that block."""

    kind: str
    value: str
    span: Span


Statement = Relation | Definition | Constraint | BlockHeader


@dataclass(frozen=True)
class Model:
    """A parsed model: its statements in order, and the source they came from."""

    statements: tuple[Statement, ...]
    source: Source


def symbols_of(expr: Expr) -> list[Symbol]:
    """Every :class:`Symbol` of an expression, left to right."""
    if isinstance(expr, Symbol):
        return [expr]
    if isinstance(expr, Unary):
        return symbols_of(expr.operand)
    if isinstance(expr, Binary):
        return symbols_of(expr.left) + symbols_of(expr.right)
    if isinstance(expr, Call):
        return [s for arg in expr.args for s in symbols_of(arg)]
    return []


def to_sympy(expr: Expr, symbols: dict[str, sympy.Symbol]) -> sympy.Expr:
    """The sympy expression of ``expr``; ``symbols`` maps each name to its sympy symbol."""
    if isinstance(expr, Number):
        value = expr.value
        return sympy.Integer(int(value)) if float(value).is_integer() else sympy.Float(value)
    if isinstance(expr, Symbol):
        return symbols[expr.name]
    if isinstance(expr, Unary):
        inner = to_sympy(expr.operand, symbols)
        return -inner if expr.op == "-" else inner
    if isinstance(expr, Binary):
        left, right = to_sympy(expr.left, symbols), to_sympy(expr.right, symbols)
        if expr.op == "+":
            return left + right
        if expr.op == "-":
            return left - right
        if expr.op == "*":
            return left * right
        if expr.op == "/":
            return left / right
        return left**right
    args = [to_sympy(a, symbols) for a in expr.args]
    return FUNCTIONS[expr.func](*args)


def render(expr: Expr) -> str:
    """The expression as lavaan prints it in the rhs column (``a*b``, ``c+a*b``)."""
    if isinstance(expr, Number):
        value = expr.value
        return str(int(value)) if float(value).is_integer() else repr(value)
    if isinstance(expr, Symbol):
        return expr.name
    if isinstance(expr, Unary):
        return f"{expr.op}{render(expr.operand)}"
    if isinstance(expr, Binary):
        left, right = render(expr.left), render(expr.right)
        if expr.op in "*/^":
            left = _wrap(expr.left, left)
            right = _wrap(expr.right, right)
        return f"{left}{expr.op}{right}"
    return f"{expr.func}({','.join(render(a) for a in expr.args)})"


def _wrap(expr: Expr, text: str) -> str:
    if isinstance(expr, Binary) and expr.op in "+-":
        return f"({text})"
    return text
