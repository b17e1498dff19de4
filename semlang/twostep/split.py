"""One model's parameter table -> its measurement blocks and its structural part.

Input: the :class:`~semlang.partable.ParameterTable` of the full model
(``semlang.parameter_table``).
Output: a :class:`ModelSplit` — the measurement blocks (latent variables fitted together, each
with its rows: loadings, the (co)variances among its indicators and among its latent variables,
their intercepts), the structural rows (regressions among latent and observed variables, their
(co)variances and intercepts), and the structural part's least-squares start values. The rules
are lavaan's (``lav_partable_subset_measurement_model`` / ``..._structural_model``).

The blocks: given (``mm_list``, as lavaan's ``sam(mm.list=)``: a list of latent variable names or
lists of names, one entry per block; lavaan's default is one block per latent variable), a
residual covariance between indicators of two blocks belongs to no fit: it is left out of the
measurement fits and not estimated (``ModelSplit.dropped``; its Θ entry is 0), as lavaan; a
label equating parameters of two blocks is kept in the split (``labels_across_blocks``: sam()
then frees the parameters from each other with :func:`unshare_labels`, as lavaan's block-by-block
fits do), and so is an indicator of two blocks (``shared_indicators``: in the rows of each).
Without ``mm_list`` (factor-score regression), each latent variable is its own block, except
that latent variables sharing an indicator, linked by a residual covariance of their indicators
or by a label equating their measurement parameters are put in one block. Labels the parts
cannot honour when estimated one after the other (a structural parameter equal to a
measurement one, a ``:=`` row of measurement parameters) are errors.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from semlang.errors import IdentificationError, NotSupportedError, OptionError
from semlang.syntax.ast import Op


@dataclass(frozen=True)
class MeasurementBlock:
    """Latent variables fitted together, their indicators and their rows of the table."""

    latent: tuple[str, ...]
    indicators: tuple[str, ...]
    rows: tuple[Any, ...]


@dataclass(frozen=True)
class ModelSplit:
    table: Any
    blocks: tuple[MeasurementBlock, ...]
    structural_rows: tuple[Any, ...]
    structural_variables: tuple[str, ...]  # latent variables first, then observed ones
    latent: tuple[str, ...]
    observed_structural: tuple[str, ...]
    predictors: tuple[str, ...]  # right of some '~'
    outcomes: tuple[str, ...]  # left of some '~'
    dropped: tuple[Any, ...] = ()  # residual covariances across given blocks: not estimated

    @property
    def labels_across_blocks(self) -> dict[str, tuple[int, ...]]:
        """Labels of measurement rows in several blocks: {label: the blocks' indices}."""
        where: dict[str, list[int]] = {}
        for k, block in enumerate(self.blocks):
            for label in dict.fromkeys(r.label for r in block.rows if r.label):
                where.setdefault(label, []).append(k)
        return {label: tuple(ks) for label, ks in where.items() if len(ks) > 1}

    @property
    def indicators(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for block in self.blocks for name in block.indicators))

    @property
    def shared_indicators(self) -> dict[str, tuple[int, ...]]:
        """Indicators of several blocks (given blocks only): {name: the blocks' indices}."""
        where: dict[str, list[int]] = {}
        for k, block in enumerate(self.blocks):
            for name in block.indicators:
                where.setdefault(name, []).append(k)
        return {name: tuple(ks) for name, ks in where.items() if len(ks) > 1}

    def block_of(self, latent: str) -> MeasurementBlock:
        return next(block for block in self.blocks if latent in block.latent)


def split_model(table: Any, mm_list: Any = None) -> ModelSplit:
    """The measurement blocks and the structural part of a single-group, single-level model
    (``mm_list``: the blocks as lavaan's ``mm.list``; None joins linked latent variables)."""
    _check_supported(table)
    rows = [r for r in table.rows if r.is_model_parameter]
    latent = tuple(dict.fromkeys(r.lhs for r in rows if r.op is Op.MEASURED))
    if not latent:
        raise NotSupportedError(
            "the model has no latent variables to score",
            table.source,
            hint="fit a model without latent variables with semlang.sem()",
        )
    indicators = {f: [r.rhs for r in rows if r.op is Op.MEASURED and r.lhs == f] for f in latent}
    _check_indicators(table, rows, latent, indicators)
    dropped: tuple[Any, ...] = ()  # residual covariances across given blocks
    if mm_list is None:
        blocks = _blocks(rows, latent, indicators)
    else:
        groups = given_blocks(table, mm_list, latent)
        blocks = tuple(_block(rows, g, indicators) for g in groups)
        dropped = _check_given_blocks(table, rows, blocks)
    structural, eqs = _structural_rows(rows, latent)
    used = {id(r) for block in blocks for r in block.rows} | {id(r) for r in structural}
    used |= {id(r) for r in dropped}
    _check_covered(table, rows, used)
    _check_labels(table, blocks, structural)
    regressions = [r for r in rows if r.op is Op.REGRESSION]
    observed = tuple(n for n in eqs if n not in latent)
    _check_identified(table, structural, len(latent + observed))
    for name in observed:
        if any(name in block.indicators for block in blocks):
            raise NotSupportedError(
                f"{name!r} is an indicator of a latent variable and a variable of the structural "
                "part",
                table.source,
                table.variable_spans.get(name),
                hint="factor-score methods need indicators that only measure their factor",
            )
    return ModelSplit(
        table=table,
        blocks=blocks,
        structural_rows=tuple(structural),
        structural_variables=latent + observed,
        latent=latent,
        observed_structural=observed,
        predictors=tuple(dict.fromkeys(r.rhs for r in regressions)),
        outcomes=tuple(dict.fromkeys(r.lhs for r in regressions)),
        dropped=dropped,
    )


def given_blocks(table: Any, mm_list: Any, latent: tuple[str, ...]) -> list[tuple[str, ...]]:
    """``mm_list`` (a list of names or lists of names) checked: known latent variables, each in
    exactly one block."""
    if isinstance(mm_list, str) or not hasattr(mm_list, "__iter__"):
        raise OptionError(
            f"mm_list must be a list of blocks, got {mm_list!r}",
            hint="e.g. mm_list=['ind60', ['dem60', 'dem65']]",
        )
    groups = [(b,) if isinstance(b, str) else tuple(b) for b in mm_list]
    named = [n for g in groups for n in g]
    unknown = [n for n in named if n not in latent]
    if unknown or any(not g for g in groups):
        raise OptionError(
            f"mm_list names unknown latent variables: {', '.join(map(repr, unknown))}"
            if unknown else "mm_list has an empty block",
            hint=f"the latent variables are {', '.join(latent)}",
        )  # fmt: skip
    twice = sorted(n for n, c in Counter(named).items() if c > 1)
    missing = [n for n in latent if n not in named]
    if twice or missing:
        what = f"in several blocks: {', '.join(twice)}" if twice else ", ".join(missing)
        raise OptionError(
            f"mm_list must put each latent variable in one block ({what})",
            hint="list every latent variable once, e.g. mm_list=['ind60', ['dem60', 'dem65']]",
        )
    return groups


def _check_given_blocks(table, rows, blocks) -> tuple[Any, ...]:
    """The residual covariances between indicators that no given block holds both of (they
    are dropped)."""
    within = [set(block.indicators) for block in blocks]
    indicators = set().union(*within) if within else set()
    return tuple(
        r for r in rows
        if r.op is Op.COVARIANCE and r.lhs in indicators and r.rhs in indicators
        and not any(r.lhs in names and r.rhs in names for names in within)
    )  # fmt: skip


def _check_supported(table: Any) -> None:
    if table.ngroups > 1 or table.nlevels > 1:
        raise NotSupportedError(
            "factor-score regression and sam() fit single-group, single-level models",
            table.source,
            hint="fit each group separately",
        )
    for row in table.rows:
        if row.op in (Op.EQUAL, Op.LESS, Op.GREATER):
            raise NotSupportedError(
                f"constraint '{row.lhs} {row.op.value} {row.rhs}' in a factor-score model",
                table.source,
                row.span,
                hint="drop the constraint, or fit the model with semlang.sem()",
            )


def _check_indicators(table, rows, latent, indicators) -> None:
    for f, names in indicators.items():
        for name in names:
            if name in latent:
                raise NotSupportedError(
                    f"latent variable {name!r} is an indicator of {f!r} (a higher-order model)",
                    table.source,
                    table.variable_spans.get(name),
                    hint="factor-score methods need observed indicators; use semlang.sem()",
                )


def _blocks(rows, latent, indicators) -> tuple[MeasurementBlock, ...]:
    """One block per latent variable, merged where indicators are shared, residuals linked or
    parameters made equal by a label."""
    owner = {f: f for f in latent}

    def find(f: str) -> str:
        while owner[f] != f:
            f = owner[f]
        return f

    def join(a: str, b: str) -> None:
        owner[find(a)] = find(b)

    loads_on: dict[str, list[str]] = {}
    for f in latent:
        for name in indicators[f]:
            loads_on.setdefault(name, []).append(f)
    for factors in loads_on.values():
        for f in factors[1:]:
            join(factors[0], f)
    labelled: dict[str, str] = {}  # a label of a measurement row -> a latent variable it is in
    for r in rows:
        if r.op is Op.COVARIANCE and r.lhs in loads_on and r.rhs in loads_on:
            join(loads_on[r.lhs][0], loads_on[r.rhs][0])
        owner_of_row = r.lhs if r.op is Op.MEASURED else loads_on.get(r.lhs, [None])[0]
        if r.label and owner_of_row is not None:
            join(labelled.setdefault(r.label, owner_of_row), owner_of_row)
    groups: dict[str, list[str]] = {}
    for f in latent:
        groups.setdefault(find(f), []).append(f)
    return tuple(_block(rows, tuple(fs), indicators) for fs in groups.values())


def _block(rows, latent: tuple[str, ...], indicators) -> MeasurementBlock:
    ind = tuple(dict.fromkeys(n for f in latent for n in indicators[f]))
    keep = [
        r
        for r in rows
        if (r.op is Op.MEASURED and r.lhs in latent)
        or (r.op is Op.COVARIANCE and r.lhs in ind and r.rhs in ind)
        or (r.op is Op.COVARIANCE and r.lhs in latent and r.rhs in latent)
        or (r.op is Op.INTERCEPT and (r.lhs in ind or r.lhs in latent))
    ]
    return MeasurementBlock(latent, ind, tuple(keep))


def _check_identified(table, structural, k: int) -> None:
    """An error when the structural part, fitted to the moments of its k variables, has more
    free parameters than they give (its intercepts and the exogenous moments free)."""
    meanstructure = bool(table.meanstructure)
    estimated = [
        r for r in structural
        if r.is_free or r.exo or (r.op is Op.INTERCEPT and meanstructure and not r.user)
    ]  # fmt: skip
    free = {r.label or id(r) for r in estimated}
    moments = k * (k + 1) // 2 + (k if meanstructure else 0)
    if len(free) > moments:
        raise IdentificationError(
            f"the structural part has {len(free)} free parameters but the moments of its {k} "
            f"variables are only {moments} (df = {moments - len(free)} < 0): estimated after "
            "the measurement part, it is not identified",
            table.source,
            hint="fix or drop structural parameters (e.g. a residual covariance), or fit the "
            "model with semlang.sem()",
        )


def _check_labels(table, blocks, structural) -> None:
    """Errors for what estimating the parts one after the other cannot honour: a label shared by
    a measurement and a structural parameter, and a ``:=`` row of measurement parameters."""
    in_structural = {id(r) for r in structural}
    measurement = {r.label for b in blocks for r in b.rows
                   if r.label and id(r) not in in_structural}  # fmt: skip
    for r in structural:
        if r.label in measurement:
            raise NotSupportedError(
                f"label {r.label!r} makes a structural parameter equal to a measurement "
                "parameter, but factor-score methods estimate the two parts one after the other",
                table.source,
                r.span,
                hint="use another label, or fit the model with semlang.sem()",
            )
    for r in table.rows:
        used = _names(r.rhs) & measurement if r.op is Op.DEFINED else set()
        if used:
            raise NotSupportedError(
                f"defined parameter {r.lhs!r} uses measurement parameters "
                f"({', '.join(sorted(used))}); factor-score methods define parameters of the "
                "structural part only",
                table.source,
                r.span,
                hint="fit the model with semlang.sem() for this defined parameter",
            )


def _structural_rows(rows, latent) -> tuple[list, tuple[str, ...]]:
    eqs = tuple(dict.fromkeys(n for r in rows if r.op is Op.REGRESSION for n in (r.lhs, r.rhs)))
    names = set(eqs) | set(latent)
    keep = [
        r
        for r in rows
        if (r.op is Op.REGRESSION and r.lhs in eqs and r.rhs in eqs)
        or (r.op is Op.COVARIANCE and r.lhs in names and r.rhs in names)
        or (r.op is Op.INTERCEPT and r.lhs in names)
    ]
    return keep, eqs


def _check_covered(table, rows, used) -> None:
    for r in rows:
        if id(r) not in used:
            raise NotSupportedError(
                f"'{r.lhs} {r.op.value} {r.rhs}' belongs neither to a measurement block nor to "
                "the structural part",
                table.source,
                r.span,
                hint="factor-score methods need each row in one part; use semlang.sem()",
            )


# ---- the structural part's start values and := rows -------------------------------------------
def structural_starts(split: ModelSplit, cov: np.ndarray, mean: np.ndarray) -> dict:
    """Start values of the structural part from the moments it is fitted to: each outcome's
    least-squares regression on its predictors, then the residuals' (co)variances and means.
    For a recursive model with uncorrelated disturbances these are the ML estimates."""
    names = split.structural_variables
    index = {name: k for k, name in enumerate(names)}
    coefficients = np.zeros((len(names), len(names)))
    for outcome in split.outcomes:
        predictors = [
            r.rhs for r in split.structural_rows if r.op is Op.REGRESSION and r.lhs == outcome
        ]
        i, cols = index[outcome], [index[n] for n in predictors]
        try:
            coefficients[i, cols] = np.linalg.solve(cov[np.ix_(cols, cols)], cov[cols, i])
        except np.linalg.LinAlgError:
            return {}
    residual = np.eye(len(names)) - coefficients
    residual_cov, intercepts = residual @ cov @ residual.T, residual @ mean
    out = {}
    for r in split.structural_rows:
        k = (r.lhs, r.op.value, r.rhs)
        if r.op is Op.REGRESSION:
            out[k] = coefficients[index[r.lhs], index[r.rhs]]
        elif r.op is Op.COVARIANCE:
            out[k] = residual_cov[index[r.lhs], index[r.rhs]]
        else:
            out[k] = intercepts[index[r.lhs]]
    return out


def starts_are_estimates(split: ModelSplit) -> bool:
    """True when :func:`structural_starts` are the structural part's ML estimates: a recursive
    model whose free coefficients are all unlabelled (no equalities), with free (residual)
    variances and intercepts, free covariances among the exogenous variables, no bounds and no
    ``:=`` rows, whose disturbances are uncorrelated except among outcomes with the same
    predictors, and then all correlated (lavaan's default). Its likelihood is then the exogenous
    variables' (saturated) times, for each set of outcomes with the same predictors, a
    multivariate regression with a free disturbance covariance matrix or independent ones:
    maximized by least squares (Zellner's seemingly unrelated regressions with the same
    regressors)."""
    if structural_definitions(split):
        return False
    predictors: dict[str, set[str]] = {}
    for r in split.structural_rows:
        if r.op is Op.REGRESSION:
            predictors.setdefault(r.lhs, set()).add(r.rhs)
    exogenous = [n for n in split.structural_variables if n not in predictors]
    labels = Counter(r.label for r in split.table.rows if r.label and r.is_model_parameter)
    pairs, means, correlated = set(), set(), set()
    for r in split.structural_rows:
        free = r.is_free or r.exo or (r.op is Op.INTERCEPT and not r.user)
        if r.lower > -np.inf or r.upper < np.inf or (r.label and labels[r.label] > 1):
            return False
        disturbances = r.lhs != r.rhs and (r.lhs in predictors or r.rhs in predictors)
        if r.op is Op.COVARIANCE and disturbances:
            if not free and r.value != 0.0:
                return False
            if free:
                if predictors.get(r.lhs) != predictors.get(r.rhs):
                    return False
                correlated.add(frozenset((r.lhs, r.rhs)))
        elif not free:
            return False
        if r.op is Op.COVARIANCE:
            pairs.add(frozenset((r.lhs, r.rhs)))
        elif r.op is Op.INTERCEPT:
            means.add(r.lhs)
    covaried = all(frozenset((a, b)) in pairs for a in exogenous for b in exogenous)
    covaried = covaried and all(frozenset((n, n)) in pairs for n in predictors)
    means_free = not split.table.meanstructure or means >= set(split.structural_variables)
    return covaried and means_free and _saturated(correlated, predictors) and _recursive(split)


def _saturated(correlated: set, predictors: dict[str, set[str]]) -> bool:
    """Outcomes with correlated disturbances have every pair of them correlated, within each
    set of outcomes sharing their predictors."""
    involved = {n for pair in correlated for n in pair}
    return all(frozenset((a, b)) in correlated for a in involved for b in involved
               if a != b and predictors[a] == predictors[b])  # fmt: skip


def _recursive(split: ModelSplit) -> bool:
    """No variable of the structural part predicts itself, directly or through others."""
    predictors: dict[str, set[str]] = {}
    for r in split.structural_rows:
        if r.op is Op.REGRESSION:
            predictors.setdefault(r.lhs, set()).add(r.rhs)
    ordered = set(split.structural_variables) - predictors.keys()  # the exogenous variables
    while predictors.keys() - ordered:
        ready = {n for n in predictors.keys() - ordered if predictors[n] <= ordered}
        if not ready:
            return False
        ordered |= ready
    return True


def structural_definitions(split: ModelSplit) -> tuple[Any, ...]:
    """The ``:=`` rows whose labels all belong to the structural part."""
    labels = {r.label for r in split.structural_rows if r.label}
    return tuple(r for r in split.table.rows
                 if r.op is Op.DEFINED and _names(r.rhs) <= labels)  # fmt: skip


_FUNCTIONS = {"exp", "log", "sqrt", "abs", "sin", "cos", "tan", "pi", "pnorm", "qnorm"}


def _names(expression: str) -> set[str]:
    """The labels an expression uses (names that are neither numbers nor functions)."""
    tokens = set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", expression)) - _FUNCTIONS
    return {t for t in tokens if re.search(r"[A-Za-z_]", t)}


def unshare_labels(table: Any, split: ModelSplit) -> Any:
    """``table`` with the labels of ``split.labels_across_blocks`` no longer equating parameters
    of different measurement blocks (each block keeps its own free parameter; the label text
    stays), as lavaan's sam() fitting the blocks one by one."""
    from dataclasses import replace

    block_of = {(r.lhs, r.op, r.rhs): k for k, b in enumerate(split.blocks) for r in b.rows}
    across = split.labels_across_blocks
    numbers: dict[Any, int] = {}
    rows = []
    for row in table.rows:
        if row.is_free:
            if row.label in across:
                ident: Any = (row.label, block_of.get((row.lhs, row.op, row.rhs)))
            else:
                ident = row.label or ("row", row.id)
            row = replace(row, free=numbers.setdefault(ident, len(numbers) + 1))
        rows.append(row)
    return replace(table, rows=tuple(rows))
