"""Exploratory blocks in model strings (ESEM): ``efa("b1")*f1 + efa("b1")*f2 =~ x1 + ... + x9``.

Input: the user rows of one level (their ``efa`` block names). Output: the :class:`EfaSet` of
each block (its factors and indicators, in lavaan's order) and, applied to a level's
:class:`~semlang.partable.defaults.Drafts`, lavaan's identification of the unrotated solution:
the block's factor variances fixed to 1, the covariances among its factors fixed to 0 and an
echelon pattern of zero loadings (the k-th factor's first k − 1 loadings). The fit rotates that
solution afterwards (:mod:`semlang.esem`); :func:`rotated_table` frees the rows these
constraints fixed, the table whose parameters the rotated estimates are. Blocks that cannot be
fitted as lavaan means them raise located errors: a factor in two blocks or also measured outside
its block, a factor that does not load on every indicator of its block, fixed values, labels or
bounds on a block's loadings (a rotation does not keep them), and more factors than the block's
indicators identify.
"""

from __future__ import annotations

import dataclasses
import math

from semlang.errors import ModelSpecificationError
from semlang.records import dataclass
from semlang.syntax import ast
from semlang.syntax.ast import ModifierKind, Op

_COV, _MEASURED = Op.COVARIANCE, Op.MEASURED
# modifiers a rotation would undo: the unrotated loadings are not the reported ones
_REFUSED = {
    ModifierKind.VALUE: "fixed",
    ModifierKind.LABEL: "labelled",
    ModifierKind.EQUAL: "equated",
    ModifierKind.LOWER: "bounded",
    ModifierKind.UPPER: "bounded",
}


@dataclass(frozen=True)
class EfaSet:
    """One exploratory block: its name, factors and indicators (order of appearance)."""

    name: str
    factors: tuple[str, ...]
    indicators: tuple[str, ...]
    level: int = 1


def efa_sets(rows, source) -> tuple[EfaSet, ...]:
    """The exploratory blocks of one level's user rows, checked (see the module docstring)."""
    names = list(dict.fromkeys(r.efa for r in rows if r.efa))
    if not names:
        return ()
    _check_factors(rows, source)
    out = []
    for name in names:
        mine = [r for r in rows if r.efa == name]
        factors = tuple(dict.fromkeys(r.lhs for r in mine))
        indicators = tuple(dict.fromkeys(r.rhs for r in mine))
        _check_loadings(name, mine, factors, indicators, source)
        _check_identified(name, mine, factors, indicators, source)
        out.append(EfaSet(name, factors, indicators, mine[0].level))
    _check_labels(rows, names, source)
    return tuple(out)


def _check_factors(rows, source) -> None:
    block_of: dict[str, str] = {}
    for row in rows:
        if row.op is _MEASURED and row.efa:
            other = block_of.setdefault(row.lhs, row.efa)
            if other != row.efa:
                raise ModelSpecificationError(
                    f"the factor '{row.lhs}' is in two efa blocks, {other!r} and {row.efa!r}",
                    source,
                    row.span,
                    hint="give each factor one block",
                )
    for row in rows:
        if row.op is _MEASURED and not row.efa and row.lhs in block_of:
            raise ModelSpecificationError(
                f"'{row.lhs}' is a factor of the efa block {block_of[row.lhs]!r}; it cannot "
                f"also load on '{row.rhs}' outside the block",
                source,
                row.span,
                hint="add the indicator to the block's statement (every factor of a block "
                "loads on every indicator of the block), or use another factor",
            )


def _check_loadings(name, mine, factors, indicators, source) -> None:
    have = {(r.lhs, r.rhs) for r in mine}
    for factor in factors:
        for indicator in indicators:
            if (factor, indicator) not in have:
                where = next(r for r in mine if r.lhs == factor)
                raise ModelSpecificationError(
                    f"in the efa block {name!r} every factor loads on every indicator, but "
                    f"'{factor}' does not load on '{indicator}'",
                    source,
                    where.span,
                    hint=f'write the block in one statement: efa("{name}")*f1 + '
                    f'efa("{name}")*f2 =~ x1 + x2 + ...',
                )
    for row in mine:
        for kind, modifier in row.modifiers.items():
            if kind in _REFUSED:
                label = modifier.values[0] if kind is ModifierKind.LABEL else None
                same = f" (and {label!r} is the block's name)" if label == name else ""
                raise ModelSpecificationError(
                    f"the loading '{row.lhs} =~ {row.rhs}' of the efa block {name!r} cannot be "
                    f"{_REFUSED[kind]}{same}: the block's loadings are rotated after the fit, "
                    "which does not keep such a constraint",
                    source,
                    modifier.span,
                    hint="leave the block's loadings free (start values are fine), or make "
                    "the factor a confirmatory one outside the block",
                )


def _check_identified(name, mine, factors, indicators, source) -> None:
    """An exploratory model of m factors on p indicators has (p − m)² − (p + m) over 2
    degrees of freedom; below zero its loadings are not identified."""
    p, m = len(indicators), len(factors)
    if (p - m) ** 2 < p + m:
        least = next(q for q in range(m + 1, 10 * m + 10) if (q - m) ** 2 >= q + m)
        raise ModelSpecificationError(
            f"the efa block {name!r} has {m} factor{'s' if m > 1 else ''} but only {p} "
            f"indicator{'s' if p > 1 else ''}: {m} exploratory factors need at least {least} "
            "indicators to be identified",
            source,
            mine[0].span,
            hint="use fewer factors in the block, or more indicators",
        )


def _check_labels(rows, names, source) -> None:
    """(Labels of a block's loadings are refused above; this names the likely mix-up.)"""
    blocks = set(names)
    for row in rows:
        label = row.modifiers.get(ModifierKind.LABEL)
        if label is not None and any(v in blocks for v in label.values):
            value = next(v for v in label.values if v in blocks)
            raise ModelSpecificationError(
                f"the label {value!r} is also the name of an efa block",
                source,
                label.span,
                hint="block names and labels are different things; give the parameter "
                "another label",
            )


def check_rotated_parameters(user, sets_by_level: dict, source) -> None:
    """Parameters that the rotation transforms besides the loadings — regressions on or of a
    block's factors, their covariances and means — cannot be fixed, bounded or equated (by a
    shared label or an ``==``, ``<``, ``>`` constraint): the constraint would hold for the
    unrotated solution only. (``:=`` definitions are computed from the rotated values.)"""
    names = {s.name for sets in sets_by_level.values() for s in sets}
    if not names:
        return
    in_constraints = {
        node.name
        for constraint in user.constraints
        for side in (constraint.left, constraint.right)
        for node in ast.walk(side)
        if isinstance(node, ast.Symbol)
    }
    for level, rows in user.rows_by_level.items():
        factors = efa_factors(sets_by_level.get(level, ()))
        labels: dict[str, int] = {}
        for row in rows:
            label = row.modifiers.get(ModifierKind.LABEL)
            for value in label.values if label is not None else ():
                labels[value] = labels.get(value, 0) + 1
        for row in rows:
            if row.efa or not (row.lhs in factors or row.rhs in factors):
                continue
            if row.op is _MEASURED or (row.op is _COV and row.lhs == row.rhs):
                continue  # (a block factor measured elsewhere is refused above; variances: 1)
            _check_rotated_row(row, labels, in_constraints, source)


def _check_rotated_row(row, labels, in_constraints, source) -> None:
    what = f"'{row.lhs} ~1'" if row.op is Op.INTERCEPT else f"'{row.lhs} {row.op} {row.rhs}'"
    for kind, modifier in row.modifiers.items():
        label = kind is ModifierKind.LABEL
        shared = label and any(
            v is not None and (labels.get(v, 0) > 1 or v in in_constraints) for v in modifier.values
        )
        if kind in _REFUSED and (not label or shared):
            how = "equated" if label else _REFUSED[kind]
            raise ModelSpecificationError(
                f"{what} involves a factor of an efa block and cannot be {how}: the rotation "
                "transforms it, which does not keep such a constraint",
                source,
                modifier.span,
                hint="leave it free (a label used only in ':=' definitions is fine)",
            )


def efa_factors(sets: tuple[EfaSet, ...]) -> frozenset[str]:
    return frozenset(f for s in sets for f in s.factors)


def constrain(drafts, sets: tuple[EfaSet, ...]) -> None:
    """lavaan's identification of each block's unrotated solution, in place on the drafts:
    factor variances 1, the default covariances among the block's factors 0, and the k-th
    factor's first k − 1 loadings 0 (lavaan's echelon pattern)."""
    factors = efa_factors(sets)
    lhs, op, rhs = drafts.lhs, drafts.op, drafts.rhs
    for i in range(len(drafts)):
        if op[i] is _COV and lhs[i] == rhs[i] and lhs[i] in factors:
            drafts.fix(i, 1.0)
    for block in sets:
        if len(block.factors) < 2:
            continue
        mine = set(block.factors)
        for i in range(drafts.n_user, len(drafts)):
            if op[i] is _COV and lhs[i] != rhs[i] and lhs[i] in mine and rhs[i] in mine:
                drafts.fix(i, 0.0)
        for k, factor in enumerate(block.factors):
            rows = [i for i in range(drafts.n_user) if op[i] is _MEASURED and lhs[i] == factor]
            for i in rows[:k]:
                drafts.fix(i, 0.0)


def later_group_efa(lhs, op, rhs, options, sets, free, value):
    """A default row of group 2, 3, ... with ``group_equal`` (lavaan): when the loadings are
    equal, the blocks' factor variances (unless "lv.variances" is equal too) and the
    covariances among a block's factors are free — the echelon zeros of group 1, which the
    equal loadings carry over, identify the rotation."""
    if "loadings" not in options.group_equal or op is not _COV:
        return free, value
    for block in sets:
        if lhs in block.factors and rhs in block.factors:
            if lhs == rhs and "lv.variances" in options.group_equal:
                return free, value
            return True, math.nan
    return free, value


def equal_loadings(table) -> bool:
    return table.ngroups > 1 and "loadings" in table.options.group_equal


def identification_rows(table, orthogonal: bool) -> list[int]:
    """Indices of the rows :func:`constrain` fixed that the rotation frees (lavaan's user 7
    and 77 rows): the echelon zeros and, for an oblique rotation, the factor covariances."""
    out = []
    for block in table.efa_sets:
        if len(block.factors) < 2:
            continue
        mine = set(block.factors)
        indicators = set(block.indicators)
        for k, row in enumerate(table.rows):
            if row.is_free or row.level != block.level:
                continue
            loading = row.op is _MEASURED and row.lhs in mine and row.rhs in indicators
            cov = row.op is _COV and row.lhs != row.rhs and row.lhs in mine and row.rhs in mine
            if (loading and row.value == 0.0) or (cov and not orthogonal and not row.user):
                out.append(k)
    return out


def rotated_table(table, orthogonal: bool):
    """The table whose free parameters are the rotated solution's, and the pairs of its θ
    indices (0-based) that are equal. The identification rows are freed; when the table has no
    ``:=`` or constraint rows, every free row gets a θ of its own (as lavaan's parameters before
    its equality constraints), rows that shared one are listed as equal — in several groups each
    group's solution is rotated on its own, so equal loadings need not stay equal — and with
    equal loadings a freed echelon row of a later group is equal to group 1's."""
    freed = set(identification_rows(table, orthogonal))
    rows = list(table.rows)
    own = not any(row.op in (Op.DEFINED, Op.EQUAL, Op.LESS, Op.GREATER) for row in rows)
    first: dict = {}  # old free index (or, for freed loadings, the row's key) -> first new index
    pairs: list[tuple[int, int]] = []
    n = 0 if own else table.n_free
    for k, row in enumerate(rows):
        if k in freed:
            n += 1
            rows[k] = dataclasses.replace(row, free=n, value=math.nan)
            if row.op is _MEASURED and equal_loadings(table):
                key = (row.lhs, row.rhs, row.level)
                if key in first:
                    pairs.append((first[key] - 1, n - 1))
                first.setdefault(key, n)
        elif own and row.is_free:
            n += 1
            rows[k] = dataclasses.replace(row, free=n)
            if row.free in first:
                pairs.append((first[row.free] - 1, n - 1))
            first.setdefault(row.free, n)
    return dataclasses.replace(table, rows=tuple(rows)), pairs
