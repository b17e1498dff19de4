"""Equalities among parameters and the ``:=`` / constraint rows.

Input: the table's rows before free indices are assigned. Output: the rows with ``free`` set so
that parameters sharing a label (in any group), named by ``equal("...")``, or made equal across
groups by ``group_equal`` have one free index; a parameter equal to a fixed one is fixed at the
same value. Then the ``:=``, ``==``, ``<`` and ``>`` rows, with every name they use checked.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import replace

from semlang.errors import ModelSpecificationError, Source, Span
from semlang.options import Options
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
    """The ``group_equal`` word that covers a row."""
    latent = set(block.latent)
    if row.op is Op.MEASURED:
        return "loadings"
    if row.op is Op.REGRESSION:
        return "regressions"
    if row.op is Op.INTERCEPT:
        return "means" if row.lhs in latent else "intercepts"
    if row.op is Op.COVARIANCE:
        both_latent = row.lhs in latent and row.rhs in latent
        if row.lhs == row.rhs:
            return "lv.variances" if both_latent else "residuals"
        if both_latent:
            return "lv.covariances"
        if row.lhs not in latent and row.rhs not in latent:
            return "residual.covariances"
    return None


def group_equal_links(
    rows: list[ParamRow], options: Options, blocks: list[BlockVariables], source: Source
) -> list[tuple[int, int]]:
    """Pairs (row in group g > 1, the same row in group 1) that ``group_equal`` makes equal."""
    if not options.group_equal:
        return []
    partial = {p.replace(" ", "") for p in options.group_partial}
    block_of = {b.index: b for b in blocks}
    first = {(r.lhs, r.op, r.rhs, r.level): i for i, r in enumerate(rows) if r.group == 1}
    links = []
    for i, row in enumerate(rows):
        if row.group == 1 or row.label or not row.is_free or row.exo:
            continue
        if _kind(row, block_of[row.block]) not in options.group_equal or row.name in partial:
            continue
        j = first.get((row.lhs, row.op, row.rhs, row.level))
        if j is not None and rows[j].is_free and not rows[j].label:
            links.append((i, j))
    return links


def assign_free(
    rows: list[ParamRow],
    links: list[tuple[int, int]],
    source: Source,
    equal_refs: list[tuple[int, str, Span]] = (),
) -> list[ParamRow]:
    """Set ``free`` (shared by equal parameters) and fix parameters equal to a fixed one."""
    sets = _UnionFind(len(rows))
    by_label: dict[str, int] = {}
    for i, row in enumerate(rows):
        if row.label:
            sets.union(by_label.setdefault(row.label, i), i)
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
    out, index = [], {}
    for i, row in enumerate(rows):
        root = sets.find(i)
        changes: dict = {}
        if i in linked and not row.label:
            changes["label"] = rows[root].plabel
        if root in fixed_value:
            changes.update(free=0, value=fixed_value[root])
        elif row.is_free:
            changes["free"] = index.setdefault(root, len(index) + 1)
        out.append(replace(row, **changes) if changes else row)
    return out


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
    known = {r.label for r in rows if r.label} | {r.plabel for r in rows}
    variables = {r.lhs for r in rows} | {r.rhs for r in rows}
    out: list[ParamRow] = []
    next_id = len(rows) + 1
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
        known.add(name)
        out.append(
            ParamRow(
                id=next_id,
                lhs=name,
                op=Op.DEFINED,
                rhs=ast.render(definition.expr),
                user=True,
                label=name,
                plabel=f".p{next_id}.",
                span=definition.span,
                statement=definition,
                block=0,
                group=0,
                level=0,
            )
        )
        next_id += 1
    for constraint in user.constraints:
        _check_names(constraint.left, known, source, f"'{constraint.op.value}'")
        _check_names(constraint.right, known, source, f"'{constraint.op.value}'")
        out.append(
            ParamRow(
                id=next_id,
                lhs=ast.render(constraint.left),
                op=constraint.op,
                rhs=ast.render(constraint.right),
                user=True,
                plabel=f".p{next_id}.",
                span=constraint.span,
                statement=constraint,
                block=0,
                group=0,
                level=0,
            )
        )
        next_id += 1
    return out


def _check_names(expr: ast.Expr, known: set[str], source: Source, where: str) -> None:
    for symbol in ast.symbols_of(expr):
        if symbol.name not in known:
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
