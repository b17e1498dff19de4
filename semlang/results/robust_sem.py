"""Fit (ML or least squares, complete data) -> the Satorra-Bentler family: robust.sem and
first-order standard errors and the traces tr(UΓ), tr((UΓ)²) behind lavaan's MLM, MLMV and MLMVS
tests and their least-squares kin (ULSM, ..., WLSMVS).

Input: a :class:`~semlang.results.fit.Fit`. Output: :func:`robust_sem_vcov` and
:func:`first_order_vcov` (covariance matrices of φ̂), :func:`model_traces` and
:func:`baseline_traces` (:class:`Traces` of the model and of its independence model).

What is computed, as lavaan 0.6 does it (moments m = (μ, vech Σ) per group, μ only with a mean
structure; Δ_g = dm_g/dφ; f_g = n_g/N; W_g the family's weight of the moments
(``fit.family.moment_weights``): for ML the information of the unrestricted model at the
model-implied moments, lavaan's "structured" h1 information, for least squares the estimator's
own weight matrix; Γ_g the sample covariance of the moments' contributions, divisor n_g, with
fixed.x covariates of their deviations from the covariates' regression):

* robust.sem: E⁻¹ (Σ_g f_g Δ_gᵀ W_g Γ_g W_g Δ_g) E⁻¹ / N, E the information of the options
  (for least squares Σ_g f_g Δ_gᵀ W_g Δ_g, and N − G: the family's ``inference_nobs``);
* first.order: (Σ_g f_g Δ_gᵀ B1_g Δ_g)⁻¹ / N, B1_g the cross-product of the casewise scores
  at the model-implied moments;
* U = V − V Δ E⁻¹ Δᵀ V with V = ⊕_g f_g W_g, Δ the groups' Δ_g stacked and Γ = ⊕_g Γ_g / f_g:
  tr(UΓ) and tr((UΓ)²). The independence model gets its own U from its free moments and its
  W at its estimates (one U per group: its groups share no parameter; least squares fit it
  with the same W).

Inverses are taken on the null space of the active constraints (as the standard errors).
Large complete-data ML models get the meat and the traces from their rows instead of W, Γ and U
(moments × moments): :mod:`semlang.results.robust_structured`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semlang.matrices import block_diagonal
from semlang.options import Information
from semlang.results import inference, robust_structured
from semlang.results.robust import (
    _baseline_parts,
    _bread_inverse,
    _first_order,
    _gamma,
    _groups,
)

__all__ = ["Traces", "baseline_traces", "first_order_vcov", "model_traces", "robust_sem_vcov"]


@dataclass(frozen=True)
class Traces:
    """tr(UΓ) and tr((UΓ)²) of one model."""

    trace: float
    trace2: float


def robust_sem_vcov(fit) -> np.ndarray:
    """lavaan's ``se = "robust.sem"``: E⁻¹ (Σ_g f_g Δ_gᵀ W_g Γ_g W_g Δ_g) E⁻¹ / N."""
    groups = _groups(fit)
    e_inv = _bread_inverse(fit)
    if robust_structured.sb_applies(fit, groups, fit.options.information):
        rows = sum(g.weight * robust_structured.gamma_meat(g) for g in groups)
        return e_inv @ rows @ e_inv / fit.inference_nobs
    meat = 0.0
    for group, w in zip(groups, fit.moment_weights, strict=True):
        wd = w @ group.delta
        meat = meat + group.weight * wd.T @ _gamma(group) @ wd
    return e_inv @ meat @ e_inv / fit.inference_nobs


def first_order_vcov(fit) -> np.ndarray:
    """lavaan's ``se = "first.order"``: the inverse of the scores' cross-product information."""
    groups = _groups(fit)
    info = sum(g.weight * g.delta.T @ _first_order(g, g.sigma, g.mu) @ g.delta for g in groups)
    active = inference.active_constraint_rows(fit.model.space, fit.estimation.phi)
    return inference.vcov_from_information(info, fit.inference_nobs, active)


def _u_gamma(u: np.ndarray, gamma: np.ndarray) -> Traces:
    product = u @ gamma
    return Traces(float(np.trace(product)), float(np.sum(product * product.T)))


def model_traces(fit, gammas: list[np.ndarray] | None = None) -> Traces:
    """tr(UΓ) and tr((UΓ)²) of the fitted model (Γ: the groups' ADF matrices by default)."""
    groups = _groups(fit)
    if gammas is None and robust_structured.sb_applies(fit, groups, fit.options.information):
        found = robust_structured.sb_model_traces(groups, _bread_inverse(fit))
        if found is not None:
            return Traces(*found)
    if gammas is None:
        gammas = [_gamma(g) for g in groups]
    weights = fit.moment_weights
    v = block_diagonal(*[g.weight * w for g, w in zip(groups, weights, strict=True)])
    delta = np.vstack([g.delta for g in groups])
    vd = v @ delta
    u = v - vd @ _bread_inverse(fit) @ vd.T
    gamma = block_diagonal(*[m / g.weight for g, m in zip(groups, gammas, strict=True)])
    return _u_gamma(u, gamma)


def baseline_traces(fit, gammas: list[np.ndarray] | None = None) -> Traces:
    """tr(UΓ) and tr((UΓ)²) of the independence model (summed over the groups)."""
    groups = _groups(fit)
    parts = _baseline_parts(fit, groups)
    if gammas is None and robust_structured.sb_applies(fit, groups, Information.EXPECTED):
        found = [robust_structured.sb_baseline_traces(g, free, sigma)
                 for g, (free, sigma, _) in zip(groups, parts, strict=True)]  # fmt: skip
        known = [f for f in found if f is not None]
        if len(known) == len(found):
            return Traces(sum(t for t, _ in known), sum(t2 for _, t2 in known))
    if gammas is None:
        gammas = [_gamma(g) for g in groups]
    trace = trace2 = 0.0
    weights = fit.family.moment_weights(fit, [(sigma, mu) for _, sigma, mu in parts],
                                        Information.EXPECTED)  # fmt: skip
    for (free, _, _), w, gamma in zip(parts, weights, gammas, strict=True):
        wd = w[:, free]
        u = w - wd @ np.linalg.solve(w[np.ix_(free, free)], wd.T)
        traces = _u_gamma(u, gamma)
        trace, trace2 = trace + traces.trace, trace2 + traces.trace2
    return Traces(trace, trace2)
