"""The standard errors of the standardized solution of a rotated model, as lavaan 0.6.14.

Input: a :class:`~semlang.esem.fit.RotatedFit` and the standardization type. Output: the
Jacobian of every row's standardized value with respect to the *unrotated* parameters x and the
covariance matrix of x (the unrotated fit's, of its standard-error type), whose product
J V Jᵀ the delta method of :mod:`semlang.results.standardized_frame` takes.

lavaan's ``standardizedSolution()`` of a model with efa blocks differentiates "rotate, then
standardize" numerically in x (numDeriv's "simple" forward differences, step 0.001): every
evaluation fills the unrotated matrices at x + 0.001·e_j (lavaan's x: its factors have the
signs of :func:`~semlang.esem.rotate.reflect_model`, so the step is −0.001 where ours are the
other way), rotates each block again from its
final rotation matrix (one start, GPA to the same tolerance, then reflected and ordered:
:func:`semlang.efa.rotation.rerotate`), carries the whole model along as
:func:`semlang.esem.rotate.rotate_model` does, and standardizes (the derived residual variances
and scales of ordered indicators recomputed at each point).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from semlang.compile.ram import ImpliedMoments, fill_matrices
from semlang.esem.rotate import (
    _carry,
    _copy_unrotated,
    _corner_signs,
    _residual_stack,
    _sets_of,
    reflect_model,
)
from semlang.syntax.ast import Op

STEP = 1e-3  # numDeriv's eps of lavaan's call


def standardized_delta(fit, kind: str, eps: float = STEP) -> tuple[np.ndarray, np.ndarray]:
    """(J, V): d(standardized value)/dx of every row of the rotated table (rows × x) and the
    covariance matrix of x (see the module docstring)."""
    unrotated = fit.unrotated
    x = np.asarray(unrotated.theta, dtype=float)
    V = np.asarray(unrotated.vcov, dtype=float)
    n_rows = len(fit.table.rows)
    if fit.rotation is not None and fit.rotation.method == "promax":
        return np.full((n_rows, x.size), np.nan), V  # (no standard errors for promax)
    steps = eps * lavaan_signs(unrotated)
    points = np.vstack([x, x + np.diag(steps)])
    thetas = rotated_thetas(fit, points)
    plan = _row_plan(fit)
    implied = _implied_stack(fit, thetas) or [None] * len(thetas)
    pairs = zip(thetas, implied, strict=True)
    values = np.array([_values(fit, theta, kind, plan, moments) for theta, moments in pairs])
    return ((values[1:] - values[0]) / steps[:, None]).T, V


def lavaan_signs(unrotated) -> np.ndarray:
    """±1 per unrotated parameter: −1 where lavaan's unrotated solution has the opposite sign
    (a factor whose first free loading is negative here is reflected in lavaan's, see
    :func:`~semlang.esem.rotate.reflect_model`), so that the forward steps are lavaan's."""
    theta = np.asarray(unrotated.theta, dtype=float)
    reflected = reflect_model(unrotated.model, theta, unrotated.estimation.objective.exo)
    if reflected is None:
        return np.ones(theta.size)
    return np.where(reflected * theta < 0, -1.0, 1.0)


def rotated_thetas(fit, points: np.ndarray) -> np.ndarray:
    """θ of the rotated table for each row of ``points`` (unrotated θs), every block rotated
    again from its final rotation."""
    from semlang.efa.rotation import rerotate

    unrotated, settings = fit.unrotated, fit.rotation
    model, rotated = unrotated.model, fit.model
    objective = unrotated.estimation.objective
    residuals = _residuals(unrotated)
    out = np.full((points.shape[0], rotated.n_theta), np.nan)
    blocks = iter(fit.block_rotations)
    for k, layout in enumerate(model.layouts):
        exo = objective.exo[k] if objective.exo is not None else None
        filled = [fill_matrices(layout, x, exo) for x in points]
        K = np.broadcast_to(np.eye(layout.n), (points.shape[0], layout.n, layout.n)).copy()
        S_var = None
        for _, rows, cols in _sets_of(model, k):
            block = next(blocks)
            A = np.stack([f[0][np.ix_(rows, cols)] for f in filled])
            signs = _corner_signs(A[0])
            ov_var = None
            if settings.std_ov:
                if S_var is None:
                    S_var = (np.stack([f[1] for f in filled]) if residuals is None
                             else _residual_stack(residuals, k, points))  # fmt: skip
                ov_var = np.sum(A * A, axis=2) + S_var[:, rows, rows]  # (as _ov_var)
            L, _ = rerotate(A * signs, block.rotation, ov_var, settings.rotate_kwargs())
            for n in range(points.shape[0]):  # L = A K⁻¹ on the block: K = (A⁺L)⁻¹
                K[n][np.ix_(cols, cols)] = np.linalg.inv(np.linalg.lstsq(A[n], L[n], rcond=None)[0])
        for n, (A_n, S_n, m_n) in enumerate(filled):
            _carry(K[n], A_n, S_n, m_n, rotated.layouts[k], out[n])
    # the parameters a rotation leaves as they are (thresholds, scales): the same rows each time
    marker = np.arange(points.shape[1], dtype=float)
    source = np.full(rotated.n_theta, np.nan)
    source[~np.isnan(out[0])] = -1.0
    _copy_unrotated(model.table, rotated.table, marker, source)
    new, old = np.flatnonzero(source >= 0), source[source >= 0].astype(np.intp)
    out[:, new] = points[:, old]
    return out


def _residuals(unrotated):
    from semlang.esem import categorical

    if not categorical.is_categorical(unrotated):
        return None
    return categorical.residual_matrices(unrotated.model, unrotated.estimation.objective)


def _implied_stack(fit, thetas: np.ndarray) -> list | None:
    """The rotated fit's implied moments at every row of ``thetas`` (ordered indicators, delta
    parameterization: the derived residual variances in S), B and B S Bᵀ computed together;
    None for the other fits (each point's own ``implied`` then)."""
    from semlang.esem import categorical

    if not categorical.is_categorical(fit):
        return None
    model, objective = fit.model, fit.estimation.objective
    if any(d.cat.theta_parameterization for d in objective.discrepancies):
        return None
    out: list[list] = [[] for _ in thetas]
    for k, layout in enumerate(model.layouts):
        S = categorical.residual_stack(model, objective, k, thetas)
        filled = [fill_matrices(layout, theta, objective.exo[k]) for theta in thetas]
        B = categorical._total_effects(layout, np.stack([A for A, _, _ in filled]))
        total = B @ S @ np.swapaxes(B, -1, -2)
        for n, (A, _, m) in enumerate(filled):
            moments = ImpliedMoments(layout, A, S[n], m)
            moments.__dict__.update(B=B[n], total_cov=total[n])  # (its cached properties)
            out[n].append(moments)
    return [tuple(moments) for moments in out]


def _values(fit, theta: np.ndarray, kind: str, plan=None, implied=None) -> np.ndarray:
    """The standardized values of the rotated fit moved to θ (``plan``: :func:`_row_plan`;
    ``implied``: its implied moments at θ when :func:`_implied_stack` has them)."""
    from semlang.results.standardized_solution import standardized_values

    free, moving, est = plan if plan is not None else _row_plan(fit)
    moved = dataclasses.replace(fit, estimation=dataclasses.replace(fit.estimation, theta=theta))
    if implied is not None:
        moved.__dict__["implied"] = implied
    est = est.copy()
    est[free[0]] = theta[free[1]]
    rows = fit.table.rows
    for k in moving:  # exo values and derived residual variances and scales move with θ
        est[k] = moved.row_estimate(rows[k])
    definitions = [k for k, row in enumerate(rows) if row.op is Op.DEFINED]
    if definitions:
        est[definitions] = fit.model.space.definitions.value(theta)
    return standardized_values(moved, est, kind)[0]


def _row_plan(fit):
    """Where the row estimates come from: (rows, θ indices) of the free rows, the rows whose
    value moves with θ (exo ones; the fixed residual variances and scales a categorical fit
    derives), and the estimates of the rest (fixed values; NaN for ``:=`` and constraints)."""
    est = np.full(len(fit.table.rows), np.nan)
    positions, indices, moving = [], [], []
    for k, row in enumerate(fit.table.rows):
        if not row.is_model_parameter:
            continue
        if row.is_free:
            positions.append(k)
            indices.append(row.free - 1)
        elif row.exo or (row.op in (Op.COVARIANCE, Op.SCALING) and row.lhs == row.rhs):
            moving.append(k)
        else:
            est[k] = row.value
    free = (np.array(positions, dtype=np.intp), np.array(indices, dtype=np.intp))
    return free, moving, est
