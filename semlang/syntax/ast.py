"""The syntax tree of a model: what the text says, with the span of every piece.

Input: nothing (these are the node types). Output of :mod:`semlang.syntax.transformer`, input of
:mod:`semlang.partable`. Nodes are frozen dataclasses; expressions of ``:=``, ``==``, ``<`` and
``>`` are small trees of :class:`Number`, :class:`Symbol`, :class:`Unary`, :class:`Binary` and
:class:`Call` that :func:`to_sympy` turns into sympy expressions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from enum import Enum
from typing import TYPE_CHECKING, TypeVar

from semlang.errors import Source, Span
from semlang.records import dataclass

if TYPE_CHECKING:
    import sympy

T = TypeVar("T")


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
    """A variable left of a relation; ``efa`` names its exploratory block
    (``efa("b1")*f1 =~ ...``), if any."""

    name: str
    span: Span
    efa: str | None = None


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

# the functions an expression may call, and the name of each in sympy (imported only by
# to_sympy, so that reading a model does not load sympy)
FUNCTIONS = {
    "exp": "exp",
    "log": "log",
    "sqrt": "sqrt",
    "abs": "Abs",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "tanh": "tanh",
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


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of an expression, parents before children, left to right (no recursion)."""
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(_children(node)))


def fold(expr: Expr, combine: Callable[[Expr, list[T]], T]) -> T:
    """Evaluate an expression bottom-up: ``combine(node, values of its children)``.

    Iterative (an explicit stack instead of recursion), so a long chain such as ``a+a+...+a``
    with thousands of terms is no problem.
    """
    values: list[T] = []
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, expanded = stack.pop()
        children = _children(node)
        if expanded or not children:
            n = len(children)
            args = values[len(values) - n :] if n else []
            del values[len(values) - n :]
            values.append(combine(node, args))
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children))
    return values[0]


def _children(node: Expr) -> tuple[Expr, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def symbols_of(expr: Expr) -> list[Symbol]:
    """Every :class:`Symbol` of an expression, left to right."""
    return [node for node in walk(expr) if isinstance(node, Symbol)]


def to_sympy(expr: Expr, symbols: dict[str, sympy.Symbol]) -> sympy.Expr:
    """The sympy expression of ``expr``; ``symbols`` maps each name to its sympy symbol."""
    import sympy

    def combine(node: Expr, args: list[sympy.Expr]) -> sympy.Expr:
        if isinstance(node, Number):
            value = node.value
            return sympy.Integer(int(value)) if float(value).is_integer() else sympy.Float(value)
        if isinstance(node, Symbol):
            return symbols[node.name]
        if isinstance(node, Unary):
            return -args[0] if node.op == "-" else args[0]
        if isinstance(node, Binary):
            return _SYMPY_BINARY[node.op](args[0], args[1])
        return getattr(sympy, FUNCTIONS[node.func])(*args)

    return fold(expr, combine)


_SYMPY_BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "^": lambda a, b: a**b,
}


def render(expr: Expr) -> str:
    """The expression as lavaan prints it in the rhs column (``a*b``, ``c+a*b``, ``a-(b+c)``)."""

    def combine(node: Expr, args: list[str]) -> str:
        if isinstance(node, Number):
            value = node.value
            return str(int(value)) if float(value).is_integer() else repr(value)
        if isinstance(node, Symbol):
            return node.name
        if isinstance(node, Unary):
            return f"{node.op}{_wrap(args[0], _precedence(node.operand) < _UNARY)}"
        if isinstance(node, Binary):
            own = _BINARY_PRECEDENCE[node.op]
            left_prec, right_prec = _precedence(node.left), _precedence(node.right)
            if node.op == "^":
                wrap_left, wrap_right = left_prec <= own, right_prec < _UNARY
            else:
                wrap_left = left_prec < own
                wrap_right = right_prec < own or (right_prec == own and node.op in "-/")
            return f"{_wrap(args[0], wrap_left)}{node.op}{_wrap(args[1], wrap_right)}"
        return f"{node.func}({','.join(args)})"

    return fold(expr, combine)


_BINARY_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 4}
_UNARY = 3


def _precedence(expr: Expr) -> int:
    if isinstance(expr, Binary):
        return _BINARY_PRECEDENCE[expr.op]
    if isinstance(expr, Unary):
        return _UNARY
    return 5


def _wrap(text: str, wrap: bool) -> str:
    return f"({text})" if wrap else text
