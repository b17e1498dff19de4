"""Lark parse tree -> syntax tree (:mod:`semlang.syntax.ast`).

Input: the Lark tree of ``grammar/semlang.lark`` and the :class:`~semlang.errors.Source`.
Output: a :class:`~semlang.syntax.ast.Model`. Checks what the grammar leaves open (plain names on
the left of relations, known modifiers, known functions) and reports typos and syntax that
semlang does not fit yet at their spot.
"""

from __future__ import annotations

from lark import Token, Transformer, Tree, v_args
from lark.tree import Meta

from semlang.errors import ModelError, ModelSyntaxError, NotSupportedError, Source, Span
from semlang.syntax import ast

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
    "<~": "formative (composite) indicators '<~' are not supported yet",
    "~*~": "scaling factors '~*~' (categorical data) are not supported yet",
    "|": "thresholds '|' (ordered categorical data) are not supported yet",
}

_MODIFIER_FUNCTIONS = {
    "label": ast.ModifierKind.LABEL,
    "start": ast.ModifierKind.START,
    "equal": ast.ModifierKind.EQUAL,
    "lower": ast.ModifierKind.LOWER,
    "upper": ast.ModifierKind.UPPER,
}
_UNSUPPORTED_MODIFIERS = {
    "efa": "exploratory factor blocks 'efa()' are not supported yet",
    "prior": "priors 'prior()' (Bayesian estimation) are not supported yet",
    "rv": "random slopes 'rv()' are not supported yet",
}


def _span(item: Meta | Token | Tree) -> Span:
    if isinstance(item, Token):
        return Span(item.start_pos, item.end_pos)
    meta = item.meta if isinstance(item, Tree) else item
    if getattr(meta, "empty", True):
        return Span(0, 0)
    return Span(meta.start_pos, meta.end_pos)


@v_args(meta=True)
class _ToAst(Transformer):
    def __init__(self, source: Source):
        super().__init__(visit_tokens=False)
        self.source = source

    def _error(self, cls, message: str, span: Span, hint: str | None = None):
        return cls(message, self.source, span, hint)

    # ---- statements ----
    def start(self, meta, children):
        statements = [c for c in children if not isinstance(c, Token)]
        return ast.Model(tuple(statements), self.source)

    def relation(self, meta, children):
        lhs_expr, op_token, rhs = children
        op = op_token.value
        if op in _UNSUPPORTED_OPS:
            raise self._error(NotSupportedError, _UNSUPPORTED_OPS[op], _span(op_token))
        names = self._lhs_names(lhs_expr, op)
        terms = tuple(rhs)
        if op == "~" and any(t.name == "1" for t in terms):
            return self._split_intercepts(names, terms, meta, op_token)
        return ast.Relation(names, ast.Op(op), terms, _span(meta), _span(op_token))

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
        lhs, _, expr = children
        if not isinstance(lhs, ast.Symbol):
            raise self._error(
                ModelSyntaxError,
                "the left-hand side of ':=' must be a single new name",
                lhs.span,
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
        if kind not in ("level", "group", "block", "class"):
            raise self._error(
                ModelSyntaxError,
                f"unknown block {kind!r}",
                _span(name_token),
                hint="blocks are written 'level: 1' / 'level: 2' (or 'group: name')",
            )
        return ast.BlockHeader(kind, value, _span(meta))

    def block_value(self, meta, children):
        return children[0].value

    # ---- right-hand side ----
    def rhs(self, meta, children):
        return [c for c in children if isinstance(c, ast.Term)]

    def term(self, meta, children):
        *modifiers, operand = [c for c in children if not isinstance(c, Token)]
        name, name_span = operand
        return ast.Term(name, tuple(modifiers), _span(meta), name_span)

    def variable(self, meta, children):
        return children[0].value, _span(children[0])

    def number_operand(self, meta, children):
        token = children[0]
        if float(token.value) != 1.0:
            raise self._error(
                ModelSyntaxError,
                f"a number ({token.value}) cannot stand alone on the right-hand side",
                _span(token),
                hint="write '1' for an intercept (y ~ 1), or 'value*variable' to fix a parameter",
            )
        return "1", _span(token)

    def interaction(self, meta, children):
        raise self._error(
            NotSupportedError, "interaction terms 'x1:x2' are not supported yet", _span(meta)
        )

    def fixed_modifier(self, meta, children):
        return ast.Modifier(ast.ModifierKind.VALUE, (children[0],), _span(meta))

    def label_modifier(self, meta, children):
        token = children[0]
        if token.value == "NA":
            return ast.Modifier(ast.ModifierKind.VALUE, (None,), _span(token))
        return ast.Modifier(ast.ModifierKind.LABEL, (token.value,), _span(token))

    def string_modifier(self, meta, children):
        token = children[0]
        return ast.Modifier(ast.ModifierKind.LABEL, (token.value[1:-1],), _span(token))

    def call_modifier(self, meta, children):
        name_token = children[0]
        args = [c for c in children[1:] if not isinstance(c, Token) and c is not None]
        func = name_token.value
        span = _span(meta)
        if func in _UNSUPPORTED_MODIFIERS:
            raise self._error(NotSupportedError, _UNSUPPORTED_MODIFIERS[func], span)
        if func == "c":
            return self._vector_modifier(args, span)
        if func not in _MODIFIER_FUNCTIONS:
            raise self._error(
                ModelSyntaxError,
                f"unknown modifier {func}()",
                _span(name_token),
                hint="modifiers are a number, NA, a label, label(), start(), equal(), "
                "lower(), upper() or c()",
            )
        kind = _MODIFIER_FUNCTIONS[func]
        values = self._modifier_values(kind, func, args, span)
        return ast.Modifier(kind, values, span)

    def _modifier_values(self, kind, func, args, span):
        items = args[0][1] if len(args) == 1 and args[0][0] == "vector" else args
        if len(items) == 0 or (len(args) != 1):
            raise self._error(
                ModelSyntaxError, f"{func}() takes exactly one value (or c(...))", span
            )
        values = []
        for item_kind, value, item_span in items:
            if kind in (ast.ModifierKind.LABEL, ast.ModifierKind.EQUAL):
                if item_kind == "na":
                    values.append(None)
                elif item_kind in ("string", "name"):
                    values.append(value)
                else:
                    raise self._error(
                        ModelSyntaxError, f"{func}() needs a quoted name", item_span,
                        hint=f'write e.g. {func}("a")' if func == "label" else None,
                    )  # fmt: skip
            else:
                if item_kind == "number":
                    values.append(value)
                elif item_kind == "na":
                    values.append(None)
                else:
                    raise self._error(ModelSyntaxError, f"{func}() needs a number", item_span)
        return tuple(values)

    def _vector_modifier(self, args, span):
        kinds = {kind for kind, _, _ in args}
        if not args:
            raise self._error(ModelSyntaxError, "c() needs at least one value", span)
        if kinds <= {"number", "na"}:
            return ast.Modifier(ast.ModifierKind.VALUE, tuple(v for _, v, _ in args), span)
        if kinds <= {"name", "string", "na"}:
            return ast.Modifier(ast.ModifierKind.LABEL, tuple(v for _, v, _ in args), span)
        raise self._error(
            ModelSyntaxError,
            "c() mixes numbers and labels",
            span,
            hint="use one c() for fixed values and repeat the term with another c() for labels",
        )

    def signed_number(self, meta, children):
        sign = -1.0 if children[0].type == "MINUS" else 1.0
        return sign * float(children[-1].value)

    def arg(self, meta, children):
        return ("number", children[0], _span(meta))

    def name_arg(self, meta, children):
        token = children[0]
        kind = "na" if token.value == "NA" else "name"
        return (kind, None if kind == "na" else token.value, _span(token))

    def string_arg(self, meta, children):
        token = children[0]
        return ("string", token.value[1:-1], _span(token))

    def call_arg(self, meta, children):
        name_token = children[0]
        args = [c for c in children[1:] if not isinstance(c, Token) and c is not None]
        if name_token.value != "c":
            raise self._error(
                ModelSyntaxError,
                f"{name_token.value}() cannot be used inside a modifier",
                _span(meta),
            )
        if any(kind == "vector" for kind, _, _ in args):
            raise self._error(ModelSyntaxError, "c() cannot be nested", _span(meta))
        return ("vector", args, _span(meta))

    # ---- expressions ----
    def number(self, meta, children):
        return ast.Number(float(children[0].value), _span(meta))

    def symbol(self, meta, children):
        return ast.Symbol(children[0].value, _span(meta))

    def string(self, meta, children):
        token = children[0]
        return _StringLiteral(token.value[1:-1], _span(token))

    def call(self, meta, children):
        name_token = children[0]
        args = tuple(c for c in children[1:] if not isinstance(c, Token) and c is not None)
        return ast.Call(name_token.value, args, _span(meta))

    def parens(self, meta, children):
        return children[1]

    def _binary(op):
        def method(self, meta, children):
            left, _, right = children
            return ast.Binary(op, left, right, _span(meta))

        return method

    add = _binary("+")
    sub = _binary("-")
    mul = _binary("*")
    div = _binary("/")
    pow = _binary("^")

    def neg(self, meta, children):
        return ast.Unary("-", children[1], _span(meta))

    def pos(self, meta, children):
        return ast.Unary("+", children[1], _span(meta))

    # ---- checks ----
    def _lhs_names(self, expr, op) -> tuple[ast.Name, ...]:
        """The variables left of a relation: names joined by '+'."""
        if isinstance(expr, ast.Symbol):
            return (ast.Name(expr.name, expr.span),)
        if isinstance(expr, ast.Binary) and expr.op == "+":
            return self._lhs_names(expr.left, op) + self._lhs_names(expr.right, op)
        if isinstance(expr, ast.Binary) and expr.op == "*":
            modifier = expr.left
            if isinstance(modifier, ast.Call) and modifier.func in _UNSUPPORTED_MODIFIERS:
                raise self._error(
                    NotSupportedError, _UNSUPPORTED_MODIFIERS[modifier.func], modifier.span
                )
        span = expr.span
        raise self._error(
            ModelSyntaxError,
            f"the left-hand side of '{op}' must be variable names joined by '+'",
            span,
            hint="modifiers such as 'a*' or '1*' go on the right-hand side: 'f =~ 1*x1 + a*x2'",
        )

    def _check_expression(self, expr) -> None:
        if isinstance(expr, _StringLiteral):
            raise self._error(
                ModelSyntaxError, "a string cannot be used in an expression", expr.span
            )
        if isinstance(expr, ast.Unary):
            self._check_expression(expr.operand)
        elif isinstance(expr, ast.Binary):
            self._check_expression(expr.left)
            self._check_expression(expr.right)
        elif isinstance(expr, ast.Call):
            if expr.func not in ast.FUNCTIONS:
                raise self._error(
                    ModelSyntaxError,
                    f"unknown function {expr.func}()",
                    expr.span,
                    hint="expressions may use " + ", ".join(sorted(ast.FUNCTIONS)),
                )
            if len(expr.args) != 1:
                raise self._error(
                    ModelSyntaxError, f"{expr.func}() takes exactly one argument", expr.span
                )
            for arg in expr.args:
                self._check_expression(arg)


class _StringLiteral:
    def __init__(self, value: str, span: Span):
        self.value = value
        self.span = span


class _Several:
    """Several statements written as one (``y ~ 1 + x``)."""

    def __init__(self, statements):
        self.statements = statements


def to_ast(tree: Tree, source: Source) -> ast.Model:
    """Transform a Lark tree into the syntax tree, raising located errors."""
    try:
        model = _ToAst(source).transform(tree)
    except Exception as error:  # lark wraps errors raised in callbacks
        inner = getattr(error, "orig_exc", None)
        if isinstance(inner, ModelError):
            raise inner from None
        raise
    statements = []
    for statement in model.statements:
        if isinstance(statement, _Several):
            statements.extend(statement.statements)
        else:
            statements.append(statement)
    return ast.Model(tuple(statements), source)
