"""Rows of the full model's parameter table -> the parameter table of one of its parts.

Input: the full model's :class:`~semlang.partable.ParameterTable`, rows of a part (from a
:class:`~semlang.twostep.split.ModelSplit`) and the options of the part's fit. Output: the part's
``ParameterTable`` — the table ``semlang.sem`` builds from the part written out row by row with
lavaan's automatic parameters switched off: the rows in the given order, renumbered, one free
parameter per free row (rows sharing a label share one), the ``:=`` rows after them, and the
variables' roles (observed order, exogenous, indicators) by lavaan's rules. Nothing is written
or parsed, so a part costs microseconds, and an error in a part points into the user's text.

- :func:`measurement_table`: measurement blocks fitted in one model, their latent variables
  correlated within each group of blocks and uncorrelated across groups;
- :func:`structural_table`: the structural rows fitted to moments of the latent variables,
  with free intercepts (those the user did not fix), the exogenous covariates' moments free
  (``fixed_x = FALSE``) and start values.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from semlang.options import ModelOptions
from semlang.partable.build import block_variables
from semlang.partable.table import ParameterTable, ParamRow
from semlang.partable.vnames import classify
from semlang.syntax.ast import Op
from semlang.twostep.split import ModelSplit, structural_definitions


def measurement_table(
    split: ModelSplit, groups: list[tuple[str, ...]], options: ModelOptions
) -> ParameterTable:
    """The blocks of the latent variables ``groups`` (a tuple of latent variables each) in one
    model: latent variables correlated within a group, covariances across groups fixed at 0."""
    rows: list[ParamRow] = []
    for latent in groups:
        rows += [r for b in split.blocks if set(b.latent) & set(latent) for r in b.rows]
    have = {frozenset((r.lhs, r.rhs)) for r in rows if r.op is Op.COVARIANCE}
    extra = []
    for g, latent in enumerate(groups):
        for i, a in enumerate(latent):
            extra += [_covariance(a, b, free=True) for b in latent[i + 1 :]
                      if frozenset((a, b)) not in have]  # fmt: skip
            for other in groups[g + 1 :]:
                extra += [_covariance(a, b, free=False) for b in other
                          if frozenset((a, b)) not in have]  # fmt: skip
    return part_table(split.table, rows + extra, options)


def structural_table(split: ModelSplit, options: ModelOptions, starts: dict) -> ParameterTable:
    """The structural part as a model of the structural variables' moments.

    Intercepts the user did not write become free (lavaan fits the structural model to the
    latent means), ``exo`` rows (the covariates' moments under ``fixed_x``) become free
    parameters, and ``starts`` (by (lhs, op, rhs)) are the free rows' start values.
    """
    rows = []
    for r in split.structural_rows:
        free = r.is_free or r.exo or (r.op is Op.INTERCEPT and not r.user)
        start = starts.get((r.lhs, r.op.value, r.rhs), r.start) if free else r.start
        rows.append(
            replace(r, free=1 if free else 0, value=math.nan if free else r.value, exo=False,
                    start=float(start) if math.isfinite(start) else r.start)
        )  # fmt: skip
    return part_table(split.table, rows, options, structural_definitions(split))


def part_table(
    full: ParameterTable, rows: list[ParamRow], options: ModelOptions, definitions: tuple = ()
) -> ParameterTable:
    """``rows`` (``free`` > 0: a free row) and the ``:=`` rows ``definitions`` as the table of a
    single-group, single-level model; ``options`` as ``semlang.sem`` would take them."""
    numbered: list[ParamRow] = []
    free_of: dict[Any, int] = {}
    for k, row in enumerate(rows, start=1):
        # a label shares a parameter among the rows that share it in the full table too
        ident = (row.label, row.free) if row.label else k
        free = free_of.setdefault(ident, len(free_of) + 1) if row.is_free else 0
        numbered.append(_user_row(row, k, free))
    for row in definitions:
        k = len(numbered) + 1
        numbered.append(replace(row, id=k, plabel=f".p{k}."))
    roles = classify([r for r in numbered if r.is_model_parameter])
    block = block_variables(1, 1, 1, roles)
    meanstructure = options.meanstructure
    if meanstructure is None:  # as semlang.sem decides for a single-group, single-level model
        has_intercepts = any(r.op is Op.INTERCEPT for r in numbered)
        meanstructure = has_intercepts or options.missing.is_fiml
    return ParameterTable(
        rows=tuple(numbered),
        blocks=(block,),
        ngroups=1,
        nlevels=1,
        group_labels=("1",),
        meanstructure=meanstructure,
        options=options,
        source=full.source,
        variable_spans=full.variable_spans,
    )


def _covariance(a: str, b: str, free: bool) -> ParamRow:
    return ParamRow(id=0, lhs=a, op=Op.COVARIANCE, rhs=b, user=True, free=1 if free else 0,
                    value=math.nan if free else 0.0)  # fmt: skip


def _user_row(row: ParamRow, k: int, free: int) -> ParamRow:
    """``row`` as the k-th user row of a single-block table (θ index ``free``; 0: fixed)."""
    return ParamRow(
        id=k, lhs=row.lhs, op=row.op, rhs=row.rhs, user=True, free=free, value=row.value,
        start=row.start, label=row.label, plabel=f".p{k}.", exo=row.exo, lower=row.lower,
        upper=row.upper, span=row.span,
    )  # fmt: skip
