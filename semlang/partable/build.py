"""Syntax tree + options -> :class:`~semlang.partable.table.ParameterTable`.

Input: a parsed model, the options and the number of groups. Output: the parameter table with
lavaan's defaults (see :mod:`semlang.partable.defaults`), the user's modifiers applied per group
(``c(...)`` vectors give one entry per group), group equality constraints (``group_equal``),
shared labels merged into one free parameter, and the ``:=`` and constraint rows.
"""

from __future__ import annotations

import gc
import math
from contextlib import contextmanager

from semlang.errors import ModelSpecificationError, Span
from semlang.options import ModelOptions, ModelType
from semlang.partable.composites import warn_unscaled
from semlang.partable.defaults import Drafts, level_drafts
from semlang.partable.efa_blocks import check_rotated_parameters, efa_sets, later_group_efa
from semlang.partable.equality import assign_free, constraint_rows, group_equal_links
from semlang.partable.table import BlockVariables, ParameterTable, ParamRow
from semlang.partable.user_rows import UserModel, UserRow, collect
from semlang.partable.vnames import VariableRoles, classify
from semlang.syntax import ast
from semlang.syntax.ast import ModifierKind, Op

MAX_ROWS = 1_000_000  # a model with 1000 factors (its latent covariances included) has 0.5 M


def build_partable(
    model: ast.Model,
    options: ModelOptions,
    ngroups: int = 1,
    group_labels: tuple[str, ...] | None = None,
) -> ParameterTable:
    """The parameter table of ``model`` for ``ngroups`` groups."""
    with _collector_paused():  # its scans of every row made so far cost a quarter of the time
        return _build(model, options, ngroups, group_labels)


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off (the rows hold no cycles), restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(model, options, ngroups, group_labels) -> ParameterTable:
    user = collect(model)
    _check_not_empty(user, model)
    _check_vector_lengths(user, ngroups, model)
    meanstructure = _meanstructure(user, options, ngroups)
    roles = _roles(user)
    between = frozenset(roles[2].observed) if user.nlevels == 2 else frozenset()
    efa = {level: efa_sets(lr, model.source) for level, lr in user.rows_by_level.items()}
    check_rotated_parameters(user, efa, model.source)
    for level_rows in user.rows_by_level.values():
        warn_unscaled(level_rows, options)
    try:
        drafts_by_level = {
            level: level_drafts(
                user_rows, roles[level], options, meanstructure, level, between, efa[level]
            )
            for level, user_rows in user.rows_by_level.items()
        }
    except ModelSpecificationError as error:  # (thresholds of a variable that is not ordered)
        raise error.located(model.source) from None
    _check_size(sum(len(drafts) for drafts in drafts_by_level.values()), ngroups, model)
    rows: list[ParamRow] = []
    blocks: list[BlockVariables] = []
    equal_refs: list[tuple[int, str, Span]] = []
    for group in range(1, ngroups + 1):
        for level, drafts in drafts_by_level.items():
            block = (group - 1) * user.nlevels + level
            blocks.append(block_variables(block, group, level, roles[level]))
            start = len(rows)
            rows += _block_rows(drafts, start + 1, block, group, options, roles[level])
            for i, draft_user in enumerate(drafts.users):
                equal = draft_user.modifiers.get(ModifierKind.EQUAL)
                target = None if equal is None else equal.for_group(group)
                if equal is not None and isinstance(target, str):  # equal("...") holds names
                    equal_refs.append((start + i, target, equal.span))
    links = group_equal_links(rows, options, blocks, model.source)
    rows = assign_free(rows, links, model.source, equal_refs)
    rows += constraint_rows(user, rows, model.source)
    return ParameterTable(
        rows=tuple(rows),
        blocks=tuple(blocks),
        ngroups=ngroups,
        nlevels=user.nlevels,
        group_labels=tuple(group_labels or [str(g) for g in range(1, ngroups + 1)]),
        meanstructure=meanstructure,
        options=options,
        source=model.source,
        variable_spans=user.variable_spans,
        efa_sets=tuple(s for sets in efa.values() for s in sets),
    )


def _meanstructure(user: UserModel, options: ModelOptions, ngroups: int) -> bool:
    if options.cluster is not None:
        return True  # lavaan: clustered data always get a mean structure
    if options.meanstructure is not None:
        return options.meanstructure
    has_intercepts = any(r.op is Op.INTERCEPT for rows in user.rows_by_level.values() for r in rows)
    return (
        has_intercepts
        or ngroups > 1
        or user.nlevels > 1
        or options.missing.is_fiml
        or bool(options.thresholds)
        or options.model_type is ModelType.GROWTH
    )


def _roles(user: UserModel) -> dict[int, VariableRoles]:
    outcomes = {
        r.lhs for rows in user.rows_by_level.values() for r in rows if r.op is Op.REGRESSION
    }
    return {
        level: classify(rows, outcomes if level > 1 else ())
        for level, rows in user.rows_by_level.items()
    }


def block_variables(block: int, group: int, level: int, roles: VariableRoles) -> BlockVariables:
    """The variables of one block, from the roles of its level."""
    return BlockVariables(
        index=block,
        group=group,
        level=level,
        observed=roles.observed,
        latent=roles.latent,
        observed_exogenous=roles.observed_x,
        latent_exogenous=roles.latent_x,
        endogenous=roles.observed_y + roles.latent_y,
        indicators=roles.indicators,
    )


def _block_rows(
    drafts: Drafts, first_id: int, block: int, group: int, options: ModelOptions, roles
) -> list[ParamRow]:
    """The rows of one block (``free`` is 1 for a free row until :func:`assign_free`)."""
    later = group > 1 and bool(options.group_equal)
    nan, n_user = math.nan, drafts.n_user
    out = []
    columns = zip(
        drafts.lhs, drafts.op, drafts.rhs, drafts.free, drafts.value, drafts.exo, strict=True
    )
    for i, (lhs, op, rhs, free, value, exo) in enumerate(columns):
        if later and i >= n_user:
            free, value = _later_group_defaults(lhs, op, rhs, options, roles, free, value)
            if drafts.efa:
                free, value = later_group_efa(lhs, op, rhs, options, drafts.efa, free, value)
        row_id = first_id + i
        row = ParamRow(
            id=row_id,
            lhs=lhs,
            op=op,
            rhs=rhs,
            block=block,
            group=group,
            level=drafts.level,
            user=i < n_user,
            free=1 if free else 0,
            value=nan if free else value,
            exo=exo,
            plabel=f".p{row_id}.",
        )
        if i < n_user:
            _apply_modifiers(row, drafts.users[i], group)
        out.append(row)
    return out


def _later_group_defaults(lhs, op, rhs, options, roles, free, value):
    """lavaan frees some defaults in groups 2, 3, ... when equalities identify them."""
    equal = options.group_equal
    latent = lhs in roles.latent
    free_means = "intercepts" in equal and "means" not in equal
    if op is Op.INTERCEPT and latent and not options.int_lv_free and free_means:
        return True, math.nan
    if options.thresholds:  # lavaan's rules for ordered-categorical variables
        from semlang.estimate.categorical_partable import later_group_default

        free, value = later_group_default(lhs, op, rhs, options, roles, free, value)
    free_variances = "loadings" in equal and "lv.variances" not in equal
    variance = op is Op.COVARIANCE and lhs == rhs
    if variance and latent and options.std_lv and free_variances:
        return True, math.nan
    return free, value


def _apply_modifiers(row: ParamRow, user: UserRow, group: int) -> None:
    """Apply the user's modifiers to ``row``, a row just made (so changed in place)."""
    changes: dict = {"span": user.span}
    for kind, modifier in user.modifiers.items():
        entry = modifier.for_group(group)
        if kind is ModifierKind.VALUE:
            if entry is None:
                changes.update(free=1, value=math.nan, exo=False)
            else:
                changes.update(free=0, value=float(entry), exo=False)
        elif kind is ModifierKind.LABEL and entry is not None:
            changes["label"] = str(entry)
        elif kind is ModifierKind.START and entry is not None:
            changes["start"] = float(entry)
        elif kind is ModifierKind.LOWER and entry is not None:
            changes["lower"] = float(entry)
        elif kind is ModifierKind.UPPER and entry is not None:
            changes["upper"] = float(entry)
    row.set_while_building(**changes)


def _check_size(rows_per_group: int, ngroups: int, model: ast.Model) -> None:
    """Refuse a table too large to build and fit in memory (before building it)."""
    total = rows_per_group * ngroups
    if total > MAX_ROWS:
        per = f"{ngroups} groups × {rows_per_group} rows" if ngroups > 1 else "one group"
        raise ModelSpecificationError(
            f"the parameter table would have {total:,} rows ({per}), more than semlang builds "
            f"({MAX_ROWS:,})",
            model.source,
            None,
            hint="check the number of groups (--ngroups, the group column) and the model's size; "
            "a model this large has far too many parameters to estimate",
        )


def _check_not_empty(user: UserModel, model: ast.Model) -> None:
    if any(user.rows_by_level.values()):
        return
    first = model.statements[0].span if model.statements else None
    raise ModelSpecificationError(
        "the model has no variables" if model.statements else "the model is empty",
        model.source,
        first,
        hint="write at least one relation, e.g. 'f =~ x1 + x2 + x3' or 'y ~ x'",
    )


def _check_vector_lengths(user: UserModel, ngroups: int, model: ast.Model) -> None:
    for rows in user.rows_by_level.values():
        for row in rows:
            for modifier in row.modifiers.values():
                n = len(modifier.values)
                if n != 1 and n != ngroups:
                    groups = "1 group" if ngroups == 1 else f"{ngroups} groups"
                    raise ModelSpecificationError(
                        f"c() has {n} entries but the model has {groups}",
                        model.source,
                        modifier.span,
                        hint="give one entry per group (or a single value for all groups)",
                    )
