"""Modifier expressions -> :class:`~semlang.syntax.ast.Modifier`.

Input: the expression written before a term's ``*`` (or ``?``), as parsed by the grammar: a number
(with ``/``, ``^``, unary minus, parentheses and the functions of :data:`ast.FUNCTIONS`, so that
``1/3*x`` and ``sqrt(2)*x`` work as in lavaan), ``NA``, a label, a quoted label, or a call —
``c(...)``, ``label()``, ``start()``, ``equal()``, ``lower()``, ``upper()``, ``fixed()``.
Output: one :class:`~semlang.syntax.ast.Modifier` (values: one entry, or one per group).
Anything else raises a located :class:`~semlang.errors.ModelSyntaxError` (or
:class:`~semlang.errors.NotSupportedError` for lavaan's ``prior()`` and ``rv()``); ``efa()``
belongs to the factors left of ``=~`` (:func:`efa_block`), never to a right-hand-side term.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from semlang.errors import ModelSyntaxError, NotSupportedError, Source, Span
from semlang.records import dataclass
from semlang.syntax import ast


@dataclass(frozen=True)
class StringLiteral:
    """A quoted string inside an expression (allowed only in modifiers)."""

    value: str
    span: Span


_TYPED = {
    "label": ast.ModifierKind.LABEL,
    "start": ast.ModifierKind.START,
    "equal": ast.ModifierKind.EQUAL,
    "lower": ast.ModifierKind.LOWER,
    "upper": ast.ModifierKind.UPPER,
    "fixed": ast.ModifierKind.VALUE,
}
_TEXT_KINDS = (ast.ModifierKind.LABEL, ast.ModifierKind.EQUAL)
UNSUPPORTED = {
    "prior": "priors 'prior()' (Bayesian estimation) are not supported yet",
    "rv": "random slopes 'rv()' are not supported yet",
}
_MATH: dict[str, Callable[[float], float]] = {
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "abs": abs,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "tanh": math.tanh,
}
_HINT = (
    'a modifier is a number, NA, a label, c(...), label("a"), start(0.5), equal("f=~x1"), '
    "lower(0), upper(1) or fixed(1)"
)


@dataclass(frozen=True)
class _Item:
    """One evaluated piece: kind is 'number', 'na', 'name', 'string', 'vector' or 'typed'."""

    kind: str
    value: Any  # by kind: float, None, str, tuple[_Item, ...] or (ModifierKind, str, entries)
    span: Span


def to_modifier(expr, span: Span, source: Source, start: bool = False) -> ast.Modifier:
    """The modifier an expression stands for (``start``: it was written before ``?``)."""
    item = _evaluate(expr, source)
    modifier = _as_modifier(item, span, source)
    if start:
        return _as_start(modifier, source)
    return modifier


def _error(message: str, span: Span, source: Source, hint: str | None = None) -> ModelSyntaxError:
    return ModelSyntaxError(message, source, span, hint)


def efa_block(call: ast.Call, source: Source) -> str:
    """The block name of ``efa("b1")`` (a quoted name, or a bare one as a label would be)."""
    if len(call.args) == 1:
        arg = call.args[0]
        if isinstance(arg, StringLiteral) and arg.value.strip():
            return arg.value
        if isinstance(arg, ast.Symbol) and arg.name != "NA":
            return arg.name
    raise _error("efa() needs one block name", call.span, source, hint='write e.g. efa("b1")*f1')


def _evaluate(expr, source: Source) -> _Item:
    """Evaluate bottom-up (iteratively, see :func:`ast.fold`)."""
    if isinstance(expr, StringLiteral):
        return _Item("string", expr.value, expr.span)

    def combine(node, args: list[_Item]) -> _Item:
        if isinstance(node, StringLiteral):
            return _Item("string", node.value, node.span)
        if isinstance(node, ast.Number):
            return _Item("number", node.value, node.span)
        if isinstance(node, ast.Symbol):
            if node.name == "NA":
                return _Item("na", None, node.span)
            return _Item("name", node.name, node.span)
        if isinstance(node, ast.Unary):
            value = _number(args[0], source, node.op)
            return _Item("number", -value if node.op == "-" else value, node.span)
        if isinstance(node, ast.Binary):
            return _binary(node, args, source)
        return _call(node, args, source)

    return ast.fold(expr, combine)


def _number(item: _Item, source: Source, where: str) -> float:
    if item.kind != "number":
        what = {"na": "NA", "name": f"the label {item.value!r}", "string": "a string"}.get(
            item.kind, "this value"
        )
        raise _error(
            f"{what} cannot be used with '{where}' in a modifier", item.span, source, hint=_HINT
        )
    return float(item.value)


def _binary(node: ast.Binary, args: list[_Item], source: Source) -> _Item:
    left = _number(args[0], source, node.op)
    right = _number(args[1], source, node.op)
    operations = {
        "+": lambda: left + right,
        "-": lambda: left - right,
        "*": lambda: left * right,
        "/": lambda: left / right,
        "^": lambda: left**right,
    }
    return _Item("number", _compute(operations[node.op], node.span, source), node.span)


def _compute(function, span: Span, source: Source) -> float:
    try:
        value = function()
    except (ArithmeticError, ValueError):
        value = math.nan
    if isinstance(value, complex) or not math.isfinite(value):
        raise _error(
            "this modifier does not give a finite number",
            span,
            source,
            hint="check the arithmetic (division by zero, log of a negative number)",
        )
    return float(value)


def _call(node: ast.Call, args: list[_Item], source: Source) -> _Item:
    func = node.func
    if func == "efa":
        raise _error(
            "efa() marks the factors left of '=~', not a term on the right-hand side",
            node.span,
            source,
            hint='write the block on the factors: efa("b1")*f1 + efa("b1")*f2 =~ x1 + x2 + ...',
        )
    if func in UNSUPPORTED:
        raise NotSupportedError(UNSUPPORTED[func], source, node.span)
    if func in _MATH:
        if len(args) != 1:
            raise _error(f"{func}() takes exactly one argument", node.span, source)
        value = _number(args[0], source, f"{func}()")
        return _Item("number", _compute(lambda: _MATH[func](value), node.span, source), node.span)
    if func == "c":
        return _Item("vector", _flatten(args, node, source), node.span)
    if func in _TYPED:
        items = _flatten(args, node, source)
        return _Item("typed", (_TYPED[func], func, items), node.span)
    raise _error(f"unknown modifier {func}()", node.span, source, hint=_HINT)


def _flatten(args: list[_Item], node: ast.Call, source: Source) -> tuple[_Item, ...]:
    """The entries of ``c(...)`` (or of ``start(...)`` etc.): vectors are spliced in, as in R."""
    if not args:
        raise _error(f"{node.func}() needs at least one value", node.span, source)
    out: list[_Item] = []
    for arg in args:
        if arg.kind == "vector":
            out.extend(arg.value)
        elif arg.kind == "typed":
            raise _error(f"{arg.value[1]}() cannot be used inside {node.func}()", arg.span, source)
        else:
            out.append(arg)
    return tuple(out)


def _as_modifier(item: _Item, span: Span, source: Source) -> ast.Modifier:
    kinds = ast.ModifierKind
    if item.kind == "typed":
        kind, func, entries = item.value
        return ast.Modifier(kind, _typed_values(kind, func, entries, source), span)
    entries = item.value if item.kind == "vector" else (item,)
    present = {e.kind for e in entries}
    if present <= {"number", "na"}:
        return ast.Modifier(kinds.VALUE, tuple(_entry(e, source) for e in entries), span)
    if present <= {"name", "string", "na"}:
        return ast.Modifier(kinds.LABEL, tuple(_label(e, source) for e in entries), span)
    raise _error(
        "c() mixes numbers and labels",
        span,
        source,
        hint="repeat the term: one c() with the fixed values, one with the labels, "
        "e.g. 'c(1, NA)*x + c(a, b)*x'",
    )


def _typed_values(kind, func: str, entries, source: Source) -> tuple:
    values: list[float | str | None] = []
    for entry in entries:
        if entry.kind == "na":
            values.append(None)
        elif kind in _TEXT_KINDS and entry.kind in ("name", "string"):
            values.append(_label(entry, source))
        elif kind not in _TEXT_KINDS and entry.kind == "number":
            values.append(entry.value)
        elif kind in _TEXT_KINDS:
            raise _error(
                f"{func}() needs a quoted name",
                entry.span,
                source,
                hint=f'write e.g. {func}("a")'
                if func == "label"
                else 'write the parameter as lavaan names it, e.g. equal("f=~x2")',
            )
        else:
            raise _error(
                f"{func}() needs a number", entry.span, source, hint=f"write e.g. {func}(0.5)"
            )
    return tuple(values)


def _entry(item: _Item, source: Source) -> float | None:
    return None if item.kind == "na" else float(item.value)


def _label(item: _Item, source: Source) -> str | None:
    if item.kind == "na":
        return None
    text = str(item.value)
    if not text.strip():
        raise _error(
            "a label cannot be empty", item.span, source, hint='write a name, e.g. label("a")'
        )
    return text


def _as_start(modifier: ast.Modifier, source: Source) -> ast.Modifier:
    """``0.5?x`` is lavaan's short form of ``start(0.5)*x``."""
    if modifier.kind in (ast.ModifierKind.VALUE, ast.ModifierKind.START):
        return ast.Modifier(ast.ModifierKind.START, modifier.values, modifier.span)
    raise _error(
        "'?' gives a starting value and needs a number",
        modifier.span,
        source,
        hint="write e.g. '0.5?x' (or 'start(0.5)*x'); labels go before '*'",
    )
