"""Fit -> standardized values and their delta-method covariance (lavaan's
``standardizedSolution()`` for ``type="std.all"``, ``"std.lv"`` and ``"std.nox"``).

Input: a :class:`~semlang.results.fit.Fit`. Output: per parameter-table row the standardized
value and its analytic gradient with respect to θ, so that se = sqrt(diag(J V Jᵀ)) with V the
fit's covariance matrix of θ̂ (any standard-error type: information, sandwich, bootstrap).

Every model row's standardized value is its estimate times a product of powers of scale
quantities, as lavaan defines them: the implied total variances of the block's variables (latent
standard deviations for ``std.lv``, observed ones too for ``std.all``; ``std.nox`` leaves observed
exogenous covariates in their units) and, for covariances, the square roots of the absolute
values of the two variance parameters (so a negative residual variance still gives a finite
correlation). A variance row of an observed variable is divided by its total variance itself,
which stays finite when that variance is negative; a standard deviation of a negative variance
is undefined (NaN). ``:=`` and constraint rows are their expressions at the standardized values
of the free parameters; their gradients follow by the chain rule.
"""

from __future__ import annotations

import numpy as np

from semlang.records import dataclass
from semlang.syntax.ast import Op

TYPES = ("std.all", "std.lv", "std.nox")
CONSTRAINT_OPS = (Op.EQUAL, Op.LESS, Op.GREATER)


@dataclass(frozen=True)
class Scales:
    """The scale quantities q (total variances of every block's variables, then the variance
    parameters) with dq/dθ, and each variable's / variance row's position in q."""

    q: np.ndarray
    dq: np.ndarray | None  # (n_q, n_theta); None when not asked for
    total: dict  # (block, name) -> index into q
    residual: dict  # (block, name) -> index into q


def scales(fit, est: np.ndarray, gradient: bool = True) -> Scales:
    """The scale quantities at ``est``; their derivatives only with ``gradient`` (else dq is
    None)."""
    n_theta = fit.model.n_theta
    values, grads, total = [], [], {}
    offset = 0
    for layout, moments in zip(fit.model.layouts, fit.implied, strict=True):
        for i, name in enumerate(layout.variables):
            total[(layout.block, name)] = offset + i
        offset += layout.n
        values.append(np.diag(moments.total_cov))
        if gradient:
            grads.append(_dvariance(moments, n_theta))
    residual, positions, frees = _variance_rows(fit.table, offset)
    extra_q = np.abs(est[positions])
    # a last NaN entry stands for a variance lavaan cannot find (no such variance row)
    q = np.concatenate([*values, extra_q, [np.nan]])
    dq = None
    if gradient:
        extra_dq = np.zeros((len(positions), n_theta))
        for j, (k, free) in enumerate(zip(positions, frees, strict=True)):
            if free >= 0:
                extra_dq[j, free] = 1.0 if est[k] >= 0 else -1.0
        dq = np.vstack([*grads, extra_dq, np.zeros((1, n_theta))])
    return Scales(q, dq, total, residual)


_VARIANCE_ROWS: dict = {}  # (id of the table, offset) -> (table, variance rows)


def _variance_rows(table, offset: int) -> tuple[dict, list[int], list[int]]:
    """The variance rows: (block, name) -> position in q (after ``offset`` total variances),
    their rows and their θ indices (-1 if fixed); made once a table."""
    key = (id(table), offset)
    hit = _VARIANCE_ROWS.get(key)
    if hit is not None and hit[0] is table:
        return hit[1]
    residual = {}
    positions: list[int] = []
    frees: list[int] = []
    for k, row in enumerate(table.rows):
        if row.op is Op.COVARIANCE and row.lhs == row.rhs and row.is_model_parameter:
            residual[(row.block, row.lhs)] = offset + len(positions)
            positions.append(k)
            frees.append(row.free - 1 if row.is_free else -1)
    if len(_VARIANCE_ROWS) >= 48:
        _VARIANCE_ROWS.clear()
    _VARIANCE_ROWS[key] = (table, (residual, positions, frees))
    return residual, positions, frees


def _dvariance(moments, n_theta: int) -> np.ndarray:
    """d diag(B S Bᵀ)/dθ (n_variables, n_theta): 2 B[v,i] M[j,v] for A[i,j]; B[v,i] B[v,j]
    (twice off the diagonal) for S[i,j]."""
    B, M, layout = moments.B, moments.total_cov, moments.layout
    out = np.zeros((layout.n, n_theta))
    a, s = layout.A_free, layout.S_free
    if len(a.theta):
        contrib = 2.0 * B[:, a.rows] * M[a.cols, :].T
        np.add.at(out.T, a.theta, contrib.T)
    if len(s.theta):
        weight = np.where(s.rows == s.cols, 1.0, 2.0)
        contrib = B[:, s.rows] * B[:, s.cols] * weight
        np.add.at(out.T, s.theta, contrib.T)
    return out


def row_factors(table, kind: str) -> list[list[tuple[tuple, float, str]]]:
    """Per row, the factors ((block, name), power, "total"|"residual") lavaan applies."""
    out = []
    for row in table.rows:
        factors: list = []
        if row.is_model_parameter:
            block = table.blocks[row.block - 1]
            factors = _lv_factors(row, set(block.latent))
            if kind != "std.lv":
                exogenous = set(block.observed_exogenous) if kind == "std.nox" else set()
                factors += _ov_factors(row, set(block.latent), exogenous)
            factors = [((row.block, name), p, where) for name, p, where in factors]
        out.append(factors)
    return out


def _lv_factors(row, latent: set) -> list:
    lhs_lv, rhs_lv = row.lhs in latent, row.rhs in latent
    if row.op is Op.MEASURED:
        return [(row.lhs, 0.5, "total")] + ([(row.rhs, -0.5, "total")] if rhs_lv else [])
    if row.op is Op.REGRESSION or row.op is Op.FORMATIVE:
        return ([(row.lhs, -0.5, "total")] if lhs_lv else []) + (
            [(row.rhs, 0.5, "total")] if rhs_lv else []
        )
    if row.op is Op.INTERCEPT:
        return [(row.lhs, -0.5, "total")] if lhs_lv else []
    if row.op is not Op.COVARIANCE:
        return []
    if row.lhs == row.rhs:
        return [(row.lhs, -0.5, "total"), (row.lhs, -0.5, "total")] if lhs_lv else []
    return ([(row.lhs, -0.5, "residual")] if lhs_lv else []) + (
        [(row.rhs, -0.5, "residual")] if rhs_lv else []
    )


def _ov_factors(row, latent: set, exogenous: set) -> list:
    observed = lambda name: name not in latent  # noqa: E731
    kept = lambda name: observed(name) and name not in exogenous  # noqa: E731
    if row.op is Op.MEASURED:
        return [(row.rhs, -0.5, "total")] if observed(row.rhs) else []
    if row.op is Op.REGRESSION or row.op is Op.FORMATIVE:
        return ([(row.lhs, -0.5, "total")] if observed(row.lhs) else []) + (
            [(row.rhs, 0.5, "total")] if kept(row.rhs) else []
        )
    if row.op is Op.INTERCEPT:
        return [(row.lhs, -0.5, "total")] if kept(row.lhs) else []
    if row.op is Op.THRESHOLD:  # thresholds of y*, in its standard deviations
        return [(row.lhs, -0.5, "total")]
    if row.op is not Op.COVARIANCE:
        return []
    if row.lhs == row.rhs:
        return [(row.lhs, -1.0, "total")] if kept(row.lhs) else []
    return ([(row.lhs, -0.5, "residual")] if kept(row.lhs) else []) + (
        [(row.rhs, -0.5, "residual")] if kept(row.rhs) else []
    )


def standardized_values(fit, est: np.ndarray, kind: str, gradient: bool = False, sc=None):
    """The standardized value of every row (``:=`` and constraint rows included) and, with
    ``gradient``, its Jacobian with respect to θ (n_rows, n_theta). ``sc``: the scales at
    ``est`` when the caller has them (with dq if ``gradient``)."""
    table, n_theta = fit.table, fit.model.n_theta
    if sc is None or (gradient and sc.dq is None):
        sc = scales(fit, est, gradient)
    q = sc.q.copy()
    nz = np.abs(q) < np.finfo(float).eps  # as lavaan: a zero variance scales nothing
    q[nz] = np.nan
    n = len(table.rows)
    values = np.full(n, np.nan)
    plan = _plan(fit, sc, kind)
    with np.errstate(invalid="ignore", divide="ignore"):
        # padded factors have power 0 (q ** 0 is 1, NaN included): the product is unchanged
        factor_scales = np.prod(q[plan.idx] ** plan.powers, axis=1)
        values[plan.positions] = est[plan.positions] * factor_scales
    jac = None
    if gradient:
        jac = np.full((n, n_theta), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            for j, (k, row, idx, powers) in enumerate(plan.rows):
                scale = factor_scales[j]
                row_jac = np.zeros(n_theta)
                if row.is_free:
                    row_jac[row.free - 1] = scale
                if len(idx):
                    row_jac = row_jac + values[k] * ((powers / q[idx]) @ sc.dq[idx])
                jac[k] = row_jac
    if kind != "std.lv":  # lavaan: a scale factor's standardized value is 1
        for k, row in enumerate(table.rows):
            if row.op is Op.SCALING:
                values[k] = 1.0
                if jac is not None:
                    jac[k] = 0.0
    _expressions(fit, values, jac)
    return values, jac


@dataclass(frozen=True)
class _Plan:
    """The model-parameter rows' factors: per row (position, row, indices into q, powers), and
    the same as arrays padded with power 0 (positions, idx and powers (rows, most factors))."""

    rows: list
    positions: np.ndarray
    idx: np.ndarray
    powers: np.ndarray


_PLANS: dict = {}  # (id of the table, kind) -> (table, plan); a few tables at most


def _plan(fit, sc: Scales, kind: str) -> _Plan:
    """The plan of a table's rows (made once a table and kind)."""
    key = (id(fit.table), kind)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is fit.table:
        return hit[1]
    rows = fit.table.rows
    factors = row_factors(fit.table, kind)
    entries = [(k, row, *_positions(sc, factors[k])) for k, row in enumerate(rows)]
    entries = [entry for entry in entries if entry[1].is_model_parameter]
    width = max((len(entry[2]) for entry in entries), default=0)
    idx = np.zeros((len(entries), width), dtype=np.intp)
    powers = np.zeros((len(entries), width))
    for j, (_, _, index, power) in enumerate(entries):
        idx[j, : len(index)] = index
        powers[j, : len(power)] = power
    positions = np.array([entry[0] for entry in entries], dtype=np.intp)
    plan = _Plan(entries, positions, idx, powers)
    if len(_PLANS) >= 48:
        _PLANS.clear()
    _PLANS[key] = (fit.table, plan)
    return plan


def _positions(sc: Scales, factors) -> tuple[np.ndarray, np.ndarray]:
    idx, powers = [], []
    for key, power, where in factors:
        lookup = sc.total if where == "total" else sc.residual
        idx.append(lookup.get(key, len(sc.q) - 1))
        powers.append(power)
    return np.asarray(idx, dtype=np.intp), np.asarray(powers, dtype=float)


_EXPRESSION_ROWS: dict = {}  # id of the table -> (table, (θ first rows, := rows, constraint rows))


def _expression_rows(table, n_theta: int) -> tuple[list[int], list[int], list[int]]:
    """The first row of each θ (-1 if none), the ``:=`` rows and the constraint rows (made
    once a table)."""
    hit = _EXPRESSION_ROWS.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1]
    first: dict[int, int] = {}
    for k, row in enumerate(table.rows):
        if row.is_model_parameter and row.is_free and row.free - 1 not in first:
            first[row.free - 1] = k
    order = [first.get(t, -1) for t in range(n_theta)]
    defined = [k for k, row in enumerate(table.rows) if row.op is Op.DEFINED]
    constraints = [k for k, row in enumerate(table.rows) if row.op in CONSTRAINT_OPS]
    if len(_EXPRESSION_ROWS) >= 48:
        _EXPRESSION_ROWS.clear()
    _EXPRESSION_ROWS[id(table)] = (table, (order, defined, constraints))
    return order, defined, constraints


def _expressions(fit, values: np.ndarray, jac: np.ndarray | None) -> None:
    """``:=`` and constraint rows at the standardized free parameters (first row of each θ)."""
    space = fit.model.space
    order, defined, constraints = _expression_rows(fit.table, fit.model.n_theta)
    if (not defined and not constraints) or -1 in order:
        return
    theta = values[order]
    for rows, fn in ((defined, space.definitions), (constraints, space.constraint_values)):
        if not rows:
            continue
        values[rows] = fn.value(theta)
        if jac is not None:
            jac[rows] = fn.jacobian(theta) @ jac[order]
