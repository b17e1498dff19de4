"""The rotated solution of a model with efa blocks and ordered-categorical indicators.

Input: the unrotated :class:`~semlang.estimate.categorical_fit.CategoricalFit` and the rotated
compiled model. Output: the objective of the rotated model on the same sample statistics
(thresholds, polychoric correlations and Γ are not computed again), the residual variances the
rotation's std.ov variances take (in the delta parameterization the derived ones, 1/Δ² less the
explained variance, as lavaan's parameters carry them), and :class:`RotatedCategoricalFit`,
whose robust.sem standard errors are lavaan's for a rotated solution: the sandwich
E⁻¹ΔᵀWΓWΔE⁻¹ with E⁻¹ the information bordered by the rotation's conditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from semlang.compile.ram import ImpliedMoments, fill_matrices
from semlang.esem.fit import RotatedFit
from semlang.estimate import categorical_moments as cm
from semlang.estimate.categorical_fit import CategoricalFit
from semlang.options import StandardErrors


def is_categorical(fit) -> bool:
    return isinstance(fit, CategoricalFit)


def rotated_objective(fit, rotated):
    """The categorical objective of the ``rotated`` model with ``fit``'s sample statistics."""
    stats = [d.stats for d in fit.estimation.objective.discrepancies]
    return fit.estimation.family.objective(rotated, fit.sample, fit.options, stats=stats)


def residual_matrices(model, objective) -> Residuals:
    """``residuals(k, θ)``: layout k's S with the derived residual variances of its ordered
    variables (delta parameterization; theta: S as filled); ``residuals.stack(k, θs)`` the same
    at every row of a stack."""
    return Residuals(model, objective)


@dataclass(frozen=True)
class Residuals:
    """See :func:`residual_matrices`."""

    model: Any
    objective: Any

    def __call__(self, k: int, theta: np.ndarray) -> np.ndarray:
        layout, cat = self.model.layouts[k], self.objective.discrepancies[k].cat
        A, S, m = fill_matrices(layout, theta, self.objective.exo[k])
        if cat.theta_parameterization:
            return S
        first = ImpliedMoments(layout, A, S, m)
        p = layout.n_observed
        out = S.copy()
        new = cm.derived_residuals(cat, theta, first.sigma, first.mu, np.diag(S)[:p].copy())
        out[np.arange(p), np.arange(p)] = new
        return out

    def stack(self, k: int, thetas: np.ndarray) -> np.ndarray:
        return residual_stack(self.model, self.objective, k, thetas)


def residual_stack(model, objective, k: int, thetas: np.ndarray) -> np.ndarray:
    """``residuals(k, θ)`` of :func:`residual_matrices` at every row of ``thetas`` (a stack of
    S matrices), the implied moments of all the rows computed together."""
    layout, cat = model.layouts[k], objective.discrepancies[k].cat
    filled = [fill_matrices(layout, theta, objective.exo[k]) for theta in thetas]
    S = np.stack([s for _, s, _ in filled])
    if cat.theta_parameterization:
        return S
    A = np.stack([a for a, _, _ in filled])
    B = _total_effects(layout, A)
    p = layout.n_observed
    total = (B @ S @ np.swapaxes(B, -1, -2))[:, :p, :p]
    sigma = (total + np.swapaxes(total, -1, -2)) / 2
    y, x = cat.y, cat.x
    cond = sigma[:, y][:, :, y]
    if len(x):
        pi = np.swapaxes(np.linalg.solve(sigma[:, x][:, :, x], sigma[:, x][:, :, y]), -1, -2)
        cond = cond - pi @ sigma[:, x][:, :, y]
    delta = np.repeat(cat.scale_value[None, :], len(thetas), axis=0)
    free = cat.scale_theta >= 0
    delta[:, free] = thetas[:, cat.scale_theta[free]]
    o = y[cat.ordered]
    S_diag = np.diagonal(S, axis1=1, axis2=2)[:, :p]
    diag = np.diagonal(cond, axis1=1, axis2=2)
    out = S.copy()
    out[:, o, o] = 1.0 / delta[:, cat.ordered] ** 2 - (diag[:, cat.ordered] - S_diag[:, o])
    return out


def _total_effects(layout, A: np.ndarray) -> np.ndarray:
    """(I − A)⁻¹ of a stack, as :class:`~semlang.compile.ram.ImpliedMoments` computes it."""
    n = A.shape[-1]
    if layout.path_length < 0:
        return np.linalg.inv(np.eye(n) - A)
    out = np.broadcast_to(np.eye(n), A.shape).copy()
    power = out
    for _ in range(layout.path_length):
        power = power @ A
        out = out + power
    return out


def reflect_to_start(fit):
    """``rotation="none"``: the unrotated solution with lavaan's signs. lavaan starts each efa
    block from the ML factor extraction of its indicators' sample correlations (polychoric for
    ordered ones) in the echelon form, and its optimizer keeps each factor's orientation, even
    where the first free loading crosses zero: each factor is reflected to agree with that
    start (a positive sum of products with the start's loadings)."""
    import dataclasses

    from semlang.efa.extraction import extract
    from semlang.esem.rotate import _carry, _sets_of

    objective = fit.estimation.objective
    theta = np.array(fit.theta, dtype=float)
    changed = False
    for k, layout in enumerate(fit.model.layouts):
        cat = objective.discrepancies[k].cat
        A, S, m = fill_matrices(layout, fit.theta, objective.exo[k])
        position = {int(j): i for i, j in enumerate(cat.y)}  # RAM index -> statistics' index
        K = np.eye(layout.n)
        for _, rows, cols in _sets_of(fit.model, k):
            index = [position[int(r)] for r in rows]
            cov = objective.discrepancies[k].stats.cov[np.ix_(index, index)]
            sd = np.sqrt(np.diag(cov))
            start = extract(cov / np.outer(sd, sd), len(cols), "ML").loadings
            agree = np.sum(A[np.ix_(rows, cols)] * start, axis=0)
            signs = np.where(agree < 0, -1.0, 1.0)
            K[cols, cols] = signs
            changed = changed or bool(np.any(signs < 0))
        _carry(K, A, S, m, layout, theta)
    if not changed:
        return fit
    phi = fit.model.space.phi_from_theta(theta)
    estimation = dataclasses.replace(fit.estimation, theta=theta, phi=phi)
    return dataclasses.replace(fit, estimation=estimation)


@dataclass(frozen=True, eq=False)
class RotatedCategoricalFit(RotatedFit, CategoricalFit):
    """A rotated solution of ordered-categorical data (see the module docstring)."""

    @cached_property
    def rotation_residuals(self):  # type: ignore[override]
        return residual_matrices(self.model, self.estimation.objective)

    @cached_property
    def vcov_phi(self) -> np.ndarray:
        if self.options.se is StandardErrors.ROBUST_SEM:
            from semlang.estimate.categorical_inference import robust_sem_vcov

            return robust_sem_vcov(self, e_inv=self.sandwich_bread)
        return super().vcov_phi
