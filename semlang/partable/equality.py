"""Equalities among parameters and the ``:=`` / constraint rows.

Input: the table's rows before free indices are assigned. Output: the rows with ``free`` set so
that parameters sharing a label (in any group), named by ``equal("...")``, or made equal across
groups by ``group_equal`` have one free index; a parameter equal to a fixed one is fixed at the
same value. Then the ``:=``, ``==``, ``<`` and ``>`` rows, with every name they use checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from semlang.errors import ModelSpecificationError, OptionError, Source, Span
from semlang.options import ModelOptions
from semlang.partable.table import BlockVariables, ParamRow
from semlang.partable.user_rows import UserModel
from semlang.syntax import ast
from semlang.syntax.ast import Op


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def _kind(row: ParamRow, block: BlockVariables) -> str | None:
    """The ``group_equal`` word that covers a row, by its lhs as lavaan decides: intercepts,
    residuals and residual.covariances of observed variables that are not exogenous covariates
    (lavaan's ov.nox, whatever fixed.x), means and (co)variances of latent variables."""
    if row.op is Op.MEASURED:
        return "loadings"
    if row.op is Op.REGRESSION:
        return "regressions"
    if row.op is Op.THRESHOLD:
        return "thresholds"
    latent = row.lhs in block.latent
    observed_nox = row.lhs in block.observed and row.lhs not in block.observed_exogenous
    if row.op is Op.INTERCEPT:
        return "means" if latent else "intercepts" if observed_nox else None
    if row.op is Op.COVARIANCE:
        same = row.lhs == row.rhs
        if latent:
            return "lv.variances" if same else "lv.covariances"
        if observed_nox:
            return "residuals" if same else "residual.covariances"
    return None


def group_equal_links(
    rows: list[ParamRow], options: ModelOptions, blocks: list[BlockVariables], source: Source
) -> list[tuple[int, int]]:
    """Pairs of rows that ``group_equal`` makes equal, as lavaan labels them.

    A row of group 1 that a ``group_equal`` word covers (and ``group_partial`` does not release)
    is equal to the rows of groups 2, 3, ... with the same lhs, op and rhs that carry no label of
    their own; when the group-1 row has a user label, those later rows are equal among
    themselves. A fixed row takes part: a parameter equal to a fixed one is fixed at its value
    (lavaan); two fixed rows are not linked, so each keeps the value the model gives it.
    """
    if not options.group_equal:
        return []
    partial = {p.replace(" ", "") for p in options.group_partial}
    _check_partial(partial, rows)
    block_of = {b.index: b for b in blocks}
    anchors: dict[tuple, int | None] = {}
    for i, row in enumerate(rows):
        if row.group != 1 or row.exo or row.name in partial:
            continue
        if _kind(row, block_of[row.block]) in options.group_equal:
            anchors[(row.lhs, row.op, row.rhs, row.level)] = None if row.label else i
    links = []
    for i, row in enumerate(rows):
        key = (row.lhs, row.op, row.rhs, row.level)
        if row.group == 1 or row.label or row.exo or key not in anchors:
            continue
        j = anchors[key]
        if j is None:
            anchors[key] = i
        elif row.is_free or rows[j].is_free:
            links.append((i, j))
    return links


def _check_partial(partial: set[str], rows: list[ParamRow]) -> None:
    """Every ``group_partial`` entry must name a parameter of the model."""
    names = sorted({row.name for row in rows if row.is_model_parameter})
    for name in sorted(partial - set(names)):
        import difflib

        close = difflib.get_close_matches(name, names, n=1)
        raise OptionError(
            f"group_partial names {name!r}, which is not a parameter of the model",
            hint=f"did you mean {close[0]!r}?" if close
            else "name parameters as lavaan does, e.g. 'f=~x2', 'x1~~x1' or 'x1~1'",
        )  # fmt: skip


def assign_free(
    rows: list[ParamRow],
    links: list[tuple[int, int]],
    source: Source,
    equal_refs: Sequence[tuple[int, str, Span]] = (),
) -> list[ParamRow]:
    """Set ``free`` (shared by equal parameters) and fix parameters equal to a fixed one.

    ``rows`` are rows just built (``free`` 1 or 0), owned by the caller: they are updated in
    place (a table can have hundreds of thousands of rows) and returned."""
    labelled = [i for i, row in enumerate(rows) if row.label]
    if not labelled and not links and not equal_refs:
        set_free = ParamRow.__dict__["free"].__set__  # (the slot, as set_while_building sets it)
        count = 0
        for row in rows:
            if row.free:
                count += 1
                set_free(row, count)
        return rows
    sets = _UnionFind(len(rows))
    by_label: dict[str, int] = {}
    for i in labelled:
        sets.union(by_label.setdefault(rows[i].label, i), i)
    for i, target, span in equal_refs:
        j = _find_named(rows, target, rows[i].group)
        if j is None:
            raise ModelSpecificationError(
                f"equal({target!r}) names no parameter of this model", source, span,
                hint="write the parameter as lavaan names it, e.g. equal(\"f=~x2\")",
            )  # fmt: skip
        sets.union(i, j)
    for i, j in links:
        sets.union(i, j)
    linked = {i for pair in links for i in pair}
    fixed_value = _fixed_values(rows, sets, source)
    index: dict[int, int] = {}  # the root of a set of equal parameters -> its free index
    for i, row in enumerate(rows):
        root = sets.find(i)
        changes: dict = {}
        if i in linked and not row.label and root not in fixed_value:
            changes["label"] = rows[root].plabel
        if root in fixed_value:
            changes.update(free=0, value=fixed_value[root])
        elif row.is_free:
            changes["free"] = index.setdefault(root, len(index) + 1)
        if changes:
            row.set_while_building(**changes)
    return rows


def _find_named(rows: list[ParamRow], target: str, group: int) -> int | None:
    name = target.replace(" ", "")
    for i, row in enumerate(rows):
        if row.group == group and row.name == name:
            return i
    return None


def _fixed_values(rows: list[ParamRow], sets: _UnionFind, source: Source) -> dict[int, float]:
    """Roots of equality sets that hold a fixed row, with its value (conflicts raise)."""
    values: dict[int, tuple[float, ParamRow]] = {}
    sizes = Counter(sets.find(i) for i in range(len(rows)))
    for i, row in enumerate(rows):
        if row.is_free or row.exo:
            continue
        root = sets.find(i)
        if sizes[root] == 1:
            continue
        if root in values and values[root][0] != row.value:
            first = values[root][1]
            raise ModelSpecificationError(
                f"label {row.label!r} is fixed to two different values: "
                f"{first.value:g} ({first.name}) and {row.value:g} ({row.name})",
                source,
                row.span,
                hint="parameters sharing a label are one parameter; give them one value",
            )
        values.setdefault(root, (row.value, row))
    return {root: value for root, (value, _) in values.items()}


def constraint_rows(user: UserModel, rows: list[ParamRow], source: Source) -> list[ParamRow]:
    """The ``:=``, ``==``, ``<``, ``>`` rows, after checking the names they use."""
    if not user.definitions and not user.constraints:
        return []  # (nothing to check: the name sets below cost a scan of every row)
    known = {r.label for r in rows if r.label} | {r.plabel for r in rows}
    variables = {r.lhs for r in rows} | {r.rhs for r in rows}
    out: list[ParamRow] = []
    for definition in user.definitions:
        name = definition.name.name
        if name in known:
            raise ModelSpecificationError(
                f"{name!r} is already a parameter label", source, definition.name.span,
                hint="give the defined parameter a new name",
            )  # fmt: skip
        if name in variables:
            raise ModelSpecificationError(
                f"{name!r} is a variable of the model", source, definition.name.span,
                hint="give the defined parameter a name that is not a variable",
            )  # fmt: skip
        _check_names(definition.expr, known, source, "':='")
        _check_finite(definition.expr, source)
        known.add(name)
        rhs = ast.render(definition.expr)
        out.append(_model_row(len(rows) + len(out) + 1, name, Op.DEFINED, rhs, definition, name))
    for constraint in user.constraints:
        _check_names(constraint.left, known, source, f"'{constraint.op.value}'")
        _check_names(constraint.right, known, source, f"'{constraint.op.value}'")
        _check_finite(constraint.left, source)
        _check_finite(constraint.right, source)
        lhs, rhs = ast.render(constraint.left), ast.render(constraint.right)
        out.append(_model_row(len(rows) + len(out) + 1, lhs, constraint.op, rhs, constraint))
    return out


def _model_row(k: int, lhs: str, op: Op, rhs: str, statement, label: str = "") -> ParamRow:
    """The k-th row of the table for a ``:=`` or constraint statement (of no block or group)."""
    return ParamRow(
        id=k, lhs=lhs, op=op, rhs=rhs, user=True, label=label, plabel=f".p{k}.",
        span=statement.span, statement=statement, block=0, group=0, level=0,
    )  # fmt: skip


def _check_names(expr: ast.Expr, known: set[str], source: Source, where: str) -> None:
    for symbol in ast.symbols_of(expr):
        if symbol.name not in known:
            import difflib

            close = difflib.get_close_matches(symbol.name, sorted(known), n=1)
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else ("label a parameter first, e.g. 'y ~ a*x', then use 'a' here")
            )
            raise ModelSpecificationError(
                f"{where} uses {symbol.name!r}, which is not a label of this model",
                source,
                symbol.span,
                hint=hint,
            )


def _check_finite(expr: ast.Expr, source: Source) -> None:
    """A located error for a part of an expression that is infinite or undefined whatever the
    parameters' values (``a/0``, ``1/(a-a)``, ``log(0)``), innermost part first."""
    nodes = [
        node
        for node in ast.walk(expr)
        if isinstance(node, ast.Call) or (isinstance(node, ast.Binary) and node.op in "/^")
    ]
    if not nodes:
        return
    import sympy

    symbols = {s.name: sympy.Symbol(s.name) for s in ast.symbols_of(expr)}
    for node in reversed(nodes):  # children before their parents
        value = ast.to_sympy(node, symbols)
        if value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            denominator = node.right if isinstance(node, ast.Binary) and node.op == "/" else None
            division = denominator is not None
            raise ModelSpecificationError(
                "division by zero: this denominator is 0 whatever the parameters' values"
                if division
                else "this expression is infinite or undefined whatever the parameters' values",
                source,
                denominator.span if denominator is not None else node.span,
                hint="correct the expression",
            )
