"""Parse tree -> syntax tree (:mod:`semlang.syntax.ast`).

Input: the parse tree of ``grammar/semlang.lark`` (made by :mod:`semlang.syntax.lalr`, or by Lark
when the prebuilt tables are stale: the same nodes; tokens are ``str`` with a ``type`` and their
positions, nodes have ``data``, ``children`` and ``meta``) and the
:class:`~semlang.errors.Source`.
Output: a :class:`~semlang.syntax.ast.Model`. Checks what the grammar leaves open (plain names on
the left of relations, known modifiers, known functions, finite numbers, expressions that are not
nested absurdly deep) and reports typos and syntax that semlang does not fit yet at their spot.

The transformer is non-recursive, and so are the helpers of :mod:`semlang.syntax.ast`, so a
pathological input (thousands of nested parentheses, a sum of thousands of terms) gives a located
error or a result, never a ``RecursionError``.
"""

from __future__ import annotations

import math
from typing import Any

from semlang.errors import ModelSyntaxError, NotSupportedError, Source, Span
from semlang.syntax import ast
from semlang.syntax.modifiers import UNSUPPORTED, StringLiteral, efa_block, to_modifier
from semlang.syntax.tree import Token, Transformer, Tree

# Deepest nesting of an expression (parentheses, functions, powers, signs); chains such as
# a+b+c+... do not count. sympy recurses on nested expressions, so there is a limit.
MAX_DEPTH = 50

# R's reserved words (see R's ?reserved), which lavaan refuses as variable names.
RESERVED_WORDS = (
    frozenset(
        ("if", "else", "repeat", "while", "function", "for", "in", "next", "break"),
    )
    | frozenset(
        ("TRUE", "FALSE", "NULL", "Inf", "NaN", "NA"),
    )
    | frozenset(("NA_integer_", "NA_real_", "NA_character_", "NA_complex_"))
)

_TYPO_HINTS = {
    "~=": "did you mean '=~' (is measured by)?",
    "=~~": "did you mean '=~' (is measured by) or '~~' (covaries with)?",
    "=": "did you mean '=~' (is measured by) or '==' (equality constraint)?",
    "=>": "semlang has no '=>'; did you mean '=~' or '~'?",
    "->": "write regressions as 'outcome ~ predictor'",
    "<-": "write regressions as 'outcome ~ predictor'",
    "~>": "write regressions as 'outcome ~ predictor'",
}

_UNSUPPORTED_OPS = {
    "|~": "instrumental variables '|~' are not supported yet",
    "%": "group weights '%' are not supported yet",
    ":~": "data-defined parameters ':~' are not supported yet",
}


def _span(item: Any) -> Span:
    """The span of a token, a tree node or a node's meta (the driver's or Lark's)."""
    if isinstance(item, str):  # a token
        token: Any = item
        return Span(token.start_pos or 0, token.end_pos or 0)
    meta = item.meta if hasattr(item, "children") else item
    if getattr(meta, "empty", True):
        return Span(0, 0)
    return Span(meta.start_pos, meta.end_pos)


def _nodes(children) -> list:
    return [c for c in children if not isinstance(c, str) and c is not None]


def _binary(op: str):
    """The transformer method of a binary operator ``op``."""

    def method(self: _ToAst, meta, children):
        left, _, right = children
        return self._node(ast.Binary(op, left, right, _span(meta)), (left, right))

    return method


class _ToAst(Transformer):
    """The syntax tree of a parse tree: a method per node name (see :class:`Transformer`)."""

    def __init__(self, source: Source):
        self.source = source
        # depth of each expression node by id(); the node is kept alive so ids are not reused
        self._depths: dict[int, tuple[int, object]] = {}

    def _error(self, cls, message: str, span: Span, hint: str | None = None):
        return cls(message, self.source, span, hint)

    # ---- statements ----
    def start(self, meta, children):
        statements: list[ast.Statement] = []
        for child in _nodes(children):
            statements.extend(child.statements if isinstance(child, _Several) else [child])
        return ast.Model(tuple(statements), self.source)

    def relation(self, meta, children):
        lhs_expr, op_token, terms = children
        op = op_token.value
        if op in _UNSUPPORTED_OPS:
            raise self._error(NotSupportedError, _UNSUPPORTED_OPS[op], _span(op_token))
        names = self._lhs_names(lhs_expr, op)
        terms = tuple(self._number_term(t, op) for t in terms)
        self._check_reserved(names, terms, op)
        if op == "~" and any(t.name == "1" for t in terms):
            return self._split_intercepts(names, terms, meta, op_token)
        return ast.Relation(names, ast.Op(op), terms, _span(meta), _span(op_token))

    def _check_reserved(self, names, terms, op: str) -> None:
        """R's reserved words are not variable names (lavaan refuses them too)."""
        found = [(n.name, n.span, "left") for n in names]
        found += [(t.name, t.name_span, "right") for t in terms]
        for name, span, side in found:
            if name in RESERVED_WORDS:
                raise self._error(
                    ModelSyntaxError,
                    f"'{name}' is a reserved word and cannot name a variable ({side}-hand side "
                    f"of '{op}')",
                    span,
                    hint=f"use another name, such as '{name}_'"
                    + (" ('NA*x1', as a modifier, frees a parameter)" if name == "NA" else ""),
                )

    def _number_term(self, term: ast.Term, op: str) -> ast.Term:
        """``y ~ 1`` is an intercept; ``y ~ 0`` (lavaan) an intercept fixed to zero."""
        if not isinstance(term, _NumberTerm):
            return term
        if term.value == 1.0:
            return ast.Term("1", term.modifiers, term.span, term.name_span)
        if term.value == 0.0 and op == "~" and not term.modifiers:
            fixed = ast.Modifier(ast.ModifierKind.VALUE, (0.0,), term.name_span)
            return ast.Term("1", (fixed,), term.span, term.name_span)
        if term.value == 0.0 and op == "=~" and not term.modifiers:
            raise self._error(
                NotSupportedError,
                "phantom latent variables 'f =~ 0' are not supported yet",
                term.name_span,
            )
        raise self._error(
            ModelSyntaxError,
            f"a number ({term.text}) cannot stand alone on the right-hand side",
            term.name_span,
            hint="write '1' for an intercept (y ~ 1), or 'value*variable' to fix a parameter",
        )

    def _split_intercepts(self, names, terms, meta, op_token):
        """``y ~ 1`` is an intercept; ``y ~ 1 + x`` is an intercept and a regression."""
        intercepts = tuple(t for t in terms if t.name == "1")
        others = tuple(t for t in terms if t.name != "1")
        out = [ast.Relation(names, ast.Op.INTERCEPT, intercepts, _span(meta), _span(op_token))]
        if others:
            out.append(ast.Relation(names, ast.Op.REGRESSION, others, _span(meta), _span(op_token)))
        return out[0] if len(out) == 1 else _Several(tuple(out))

    def typo_relation(self, meta, children):
        _, op_token, _ = children
        op = op_token.value
        raise self._error(
            ModelSyntaxError, f"unknown operator {op!r}", _span(op_token), _TYPO_HINTS.get(op)
        )

    def definition(self, meta, children):
        lhs, op_token, expr = children
        if op_token.value in _UNSUPPORTED_OPS:
            raise self._error(NotSupportedError, _UNSUPPORTED_OPS[op_token.value], _span(op_token))
        if not isinstance(lhs, ast.Symbol):
            raise self._error(
                ModelSyntaxError,
                "the left-hand side of ':=' must be a single new name",
                _expr_span(lhs),
                hint="write e.g. 'indirect := a*b'",
            )
        self._check_expression(expr)
        return ast.Definition(ast.Name(lhs.name, lhs.span), expr, _span(meta))

    def constraint(self, meta, children):
        left, op_token, right = children
        self._check_expression(left)
        self._check_expression(right)
        return ast.Constraint(left, ast.Op(op_token.value), right, _span(meta), _span(op_token))

    def block_header(self, meta, children):
        name_token, _, value = children
        kind = name_token.value
        if kind.lower() not in ("level", "group", "block", "class"):
            raise self._error(
                ModelSyntaxError,
                f"unknown block {kind!r}",
                _span(name_token),
                hint="blocks are written 'level: 1' / 'level: 2' (or 'group: name')",
            )
        return ast.BlockHeader(kind.lower(), value, _span(meta))

    def block_value(self, meta, children):
        token = children[0]
        return token.value[1:-1] if token.type == "STRING" else token.value

    # ---- right-hand side ----
    def rhs(self, meta, children):
        return [c for c in children if isinstance(c, ast.Term | _NumberTerm)]

    def term(self, meta, children):
        *pieces, operand = children
        modifiers = []
        for i in range(0, len(pieces), 2):
            expr, marker = pieces[i], pieces[i + 1]
            span = _expr_span(expr)
            modifiers.append(to_modifier(expr, span, self.source, start=marker.type == "QMARK"))
        name, name_span = operand
        if isinstance(name, float):
            return _NumberTerm(name, name_span, tuple(modifiers), _span(meta), self.source)
        return ast.Term(name, tuple(modifiers), _span(meta), name_span)

    def modifier(self, meta, children):
        return children[0]

    def variable(self, meta, children):
        return children[0].value, _span(children[0])

    def number_operand(self, meta, children):
        token = children[0]
        return self._finite(token), _span(token)

    def interaction(self, meta, children):
        raise self._error(
            NotSupportedError,
            "interaction terms 'x1:x2' are not supported yet",
            _span(meta),
            hint="compute the product as a column of the data and use that column",
        )

    # ---- expressions ----
    def _finite(self, token: Token) -> float:
        value = float(token.value)
        if not math.isfinite(value):
            raise self._error(
                ModelSyntaxError, f"the number {token.value} is too large", _span(token)
            )
        return value

    def _node(self, node, children=()):
        depth = 1
        for i, child in enumerate(children):
            child_depth = self._depths.get(id(child), (1, None))[0]
            chained = i == 0 and isinstance(node, ast.Binary) and node.op in "+-*/"
            depth = max(depth, child_depth if chained else child_depth + 1)
        if depth > MAX_DEPTH:
            raise self._error(
                ModelSyntaxError,
                f"this expression is nested too deeply (more than {MAX_DEPTH} levels)",
                node.span,
                hint="split it into several ':=' definitions",
            )
        self._depths[id(node)] = (depth, node)
        return node

    def number(self, meta, children):
        return self._node(ast.Number(self._finite(children[0]), _span(meta)))

    def symbol(self, meta, children):
        return self._node(ast.Symbol(children[0].value, _span(meta)))

    def string(self, meta, children):
        token = children[0]
        return self._node(StringLiteral(token.value[1:-1], _span(token)))

    def call(self, meta, children):
        name_token = children[0]
        args = tuple(_nodes(children[1:]))
        return self._node(ast.Call(name_token.value, args, _span(meta)), args)

    def parens(self, meta, children):
        return children[1]

    add = _binary("+")
    sub = _binary("-")
    mul = _binary("*")
    div = _binary("/")
    pow = _binary("^")

    def neg(self, meta, children):
        return self._node(ast.Unary("-", children[1], _span(meta)), (children[1],))

    def pos(self, meta, children):
        return self._node(ast.Unary("+", children[1], _span(meta)), (children[1],))

    # ---- checks ----
    def _lhs_names(self, expr, op) -> tuple[ast.Name, ...]:
        """The variables left of a relation: names joined by '+' (read without recursion)."""
        names: list[ast.Name] = []
        stack = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Symbol):
                names.append(ast.Name(node.name, node.span))
            elif isinstance(node, ast.Binary) and node.op == "+":
                stack += [node.right, node.left]
            elif self._is_efa(node):
                names.append(self._efa_name(node, op))
            else:
                self._bad_lhs(node, op)
        return tuple(names)

    @staticmethod
    def _is_efa(node) -> bool:
        return (
            isinstance(node, ast.Binary)
            and node.op == "*"
            and isinstance(node.left, ast.Call)
            and node.left.func == "efa"
            and isinstance(node.right, ast.Symbol)
        )

    def _efa_name(self, node: ast.Binary, op: str) -> ast.Name:
        """``efa("b1")*f1`` left of '=~': the factor f1 of the exploratory block b1."""
        if op != "=~":
            raise self._error(
                ModelSyntaxError,
                f"efa() marks factors left of '=~', not the left-hand side of '{op}'",
                node.left.span,
                hint='write the block on the factors: efa("b1")*f1 + efa("b1")*f2 =~ x1 + ...',
            )
        left, right = node.left, node.right
        assert isinstance(left, ast.Call) and isinstance(right, ast.Symbol)  # (_is_efa)
        block = efa_block(left, self.source)
        return ast.Name(right.name, right.span, efa=block)

    def _bad_lhs(self, node, op: str):
        if isinstance(node, ast.Binary) and node.op == "*":
            for part in ast.walk(node):
                if isinstance(part, ast.Call) and part.func in UNSUPPORTED:
                    raise self._error(NotSupportedError, UNSUPPORTED[part.func], part.span)
        raise self._error(
            ModelSyntaxError,
            f"the left-hand side of '{op}' must be variable names joined by '+'",
            _expr_span(node),
            hint="modifiers such as 'a*' or '1*' go on the right-hand side: 'f =~ 1*x1 + a*x2'",
        )

    def _check_expression(self, expr) -> None:
        if isinstance(expr, StringLiteral):
            raise self._error(
                ModelSyntaxError, "a string cannot be used in an expression", expr.span
            )
        for node in ast.walk(expr):
            if isinstance(node, StringLiteral):
                raise self._error(
                    ModelSyntaxError, "a string cannot be used in an expression", node.span
                )
            if isinstance(node, ast.Call):
                self._check_call(node)

    def _check_call(self, call: ast.Call) -> None:
        if call.func not in ast.FUNCTIONS:
            raise self._error(
                ModelSyntaxError,
                f"unknown function {call.func}()",
                call.span,
                hint="expressions may use " + ", ".join(sorted(ast.FUNCTIONS)),
            )
        if len(call.args) != 1:
            raise self._error(
                ModelSyntaxError, f"{call.func}() takes exactly one argument", call.span
            )


def _expr_span(expr) -> Span:
    return expr.span


class _NumberTerm:
    """A number standing where a variable would (``1``, or lavaan's ``y ~ 0``), until the
    relation's operator says what it means."""

    name = ""

    def __init__(self, value: float, name_span: Span, modifiers, span: Span, source: Source):
        self.value = value
        self.name_span = name_span
        self.modifiers = modifiers
        self.span = span
        self.text = source.text[name_span.start : name_span.end]


class _Several:
    """Several statements written as one (``y ~ 1 + x``)."""

    def __init__(self, statements):
        self.statements = statements


def to_ast(tree: Tree, source: Source) -> ast.Model:
    """Transform a parse tree into the syntax tree, raising located errors."""
    return _ToAst(source).transform(tree)
