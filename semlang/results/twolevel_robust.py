"""Fit of a two-level model -> robust (Huber-White) standard errors and the Yuan-Bentler (Mplus
variant) scaled test from the clusters' scores: lavaan's ``estimator = "MLR"`` for two-level
models (``se = "robust.huber.white"``, ``test = "yuan.bentler.mplus"``).

Input: a :class:`~semlang.results.fit.Fit` of a model with ``level:`` blocks. Output:
:func:`robust_vcov_phi` (the covariance matrix of φ̂) and :func:`scaled_test` (the scaled χ²,
its scaling factor and the scaled and robust fit measures, as
:func:`semlang.results.robust.scaled_test` names them).

Everything is per level-1 observation (N rows, J clusters); s_j is cluster j's score of the
two-level log-likelihood (:mod:`semlang.estimate.twolevel_scores`), B = Σ_j s_j s_jᵀ / N:

* bread E: the model's information of the options (lavaan's default: observed), inverted on the
  null space of the active constraints; meat B0 = B in φ at the estimates;
  vcov(φ̂) = E⁻¹ B0 E⁻¹ / N;
* tr(UΓ) = tr(A1⁻¹ B1) − tr(E⁻¹ B0): A1 and B1 the information (of the options' kind) and the
  first-order information of the unrestricted model at its (EM) estimates, in its free moments
  (μ_W of the level-1-only variables, Σ_W, μ_B, Σ_B), the fixed covariates' own moments left
  out; c = tr(UΓ)/df. The baseline (independence) model gets its own factor from tr(A1⁻¹ B1)
  and its E0, B0 in its free moments at its estimates.

The covariates are fixed (fixed.x, lavaan's default): with fixed_x=False lavaan's robust
numbers differ from these, and the options refuse the combination.
"""

from __future__ import annotations

import numpy as np

from semlang.estimate.twolevel import twolevel_information
from semlang.estimate.twolevel_scores import first_order_information
from semlang.options import Information


def _model_parts(fit):
    """The implied moments and their derivatives in θ."""
    within, between = fit.implied
    n_theta = fit.model.n_theta
    d_w, dm_w = within.dsigma_dtheta(n_theta)
    d_b, dm_b = between.dsigma_dtheta(n_theta)
    return (within.sigma, between.sigma, within.mu, between.mu), (d_w, d_b, dm_w, dm_b)


def _meat(fit) -> np.ndarray:
    """B0 in φ: the clusters' score cross-product per observation at the estimates."""
    moments, derivatives = _model_parts(fit)
    data = fit.estimation.objective.data
    J = fit.model.space.jacobian(fit.estimation.phi)
    return J.T @ first_order_information(data, moments, derivatives) @ J


def robust_vcov_phi(fit) -> np.ndarray:
    """E⁻¹ B0 E⁻¹ / N: lavaan's robust.huber.white standard errors of a two-level model."""
    e_inv = fit.sandwich_bread
    return e_inv @ _meat(fit) @ e_inv / fit.inference_nobs


# --------------------------------------------------------------------------- moments as parameters


def _moment_derivatives(data, free_w, free_b, mean_w, mean_b):
    """Derivatives of (Σ_W, Σ_B, μ_W, μ_B) with respect to the listed free moments.

    ``free_w`` / ``free_b``: (i, j) pairs (i ≥ j) of free covariance entries; ``mean_w`` /
    ``mean_b``: positions of free means."""
    p_w, p_b = len(data.within), len(data.between)
    n = len(free_w) + len(free_b) + len(mean_w) + len(mean_b)
    d_w, d_b = np.zeros((n, p_w, p_w)), np.zeros((n, p_b, p_b))
    dm_w, dm_b = np.zeros((n, p_w)), np.zeros((n, p_b))
    a = 0
    for target, pairs in ((d_w, free_w), (d_b, free_b)):
        for i, j in pairs:
            target[a, i, j] = target[a, j, i] = 1.0
            a += 1
    for means, positions in ((dm_w, mean_w), (dm_b, mean_b)):
        for i in positions:
            means[a, i] = 1.0
            a += 1
    return d_w, d_b, dm_w, dm_b


def _is_x(data) -> tuple[np.ndarray, np.ndarray]:
    fixed = set(data.fixed_x)
    return (
        np.array([v in fixed for v in data.within], dtype=bool),
        np.array([v in fixed for v in data.between], dtype=bool),
    )


def _saturated_free(data):
    """The unrestricted model's free moments, the fixed covariates' own ones left out."""
    x_w, x_b = _is_x(data)
    p_w, p_b = len(data.within), len(data.between)
    free_w = [(i, j) for i in range(p_w) for j in range(i + 1) if not (x_w[i] and x_w[j])]
    free_b = [(i, j) for i in range(p_b) for j in range(i + 1) if not (x_b[i] and x_b[j])]
    within_only = set(data.within_only)
    mean_w = [i for i, v in enumerate(data.within) if v in within_only and not x_w[i]]
    mean_b = [i for i in range(p_b) if not x_b[i]]
    return free_w, free_b, mean_w, mean_b


def _baseline_free(data):
    """The independence model's free moments: the variances and means (of a variable of both
    levels its level-2 mean) of the variables that are not fixed covariates."""
    x_w, x_b = _is_x(data)
    within_only = set(data.within_only)
    free_w = [(i, i) for i in range(len(data.within)) if not x_w[i]]
    free_b = [(i, i) for i in range(len(data.between)) if not x_b[i]]
    mean_w = [i for i, v in enumerate(data.within) if v in within_only and not x_w[i]]
    mean_b = [i for i in range(len(data.between)) if not x_b[i]]
    return free_w, free_b, mean_w, mean_b


def _trace(data, moments, free, kind: Information) -> tuple[float, int]:
    """tr(A⁻¹ B) of a model whose parameters are the ``free`` moments, at ``moments``."""
    derivatives = _moment_derivatives(data, *free)
    observed = kind is Information.OBSERVED
    a = twolevel_information(data, moments, derivatives, observed=observed)
    b = first_order_information(data, moments, derivatives)
    return float(np.trace(np.linalg.solve(a, b))), a.shape[0]


def traces(fit):
    """(tr_h1, ndat_h1, tr_h0, tr_h0 of the baseline) of the scaled test."""
    from semlang.results.robust import Traces

    sample = fit.estimation.objective.sample
    data, kind = sample.data, fit.options.information
    h1, base = sample.h1, sample.baseline
    trace_h1, ndat = _trace(
        data, (h1.sigma_w, h1.sigma_b, h1.mu_w, h1.mu_b), _saturated_free(data), kind
    )
    trace_base, _ = _trace(
        data,
        (base.sigma_w, base.sigma_b, base.mu_w, base.mu_b),
        _baseline_free(data),
        kind,
    )
    trace_h0 = float(np.sum(fit.sandwich_bread * _meat(fit).T))
    return Traces(h1=trace_h1, h1_ndat=ndat, h0=trace_h0, h0_baseline=trace_base)


def scaled_test(fit, unscaled: dict | None = None) -> dict[str, float]:
    """The Yuan-Bentler (Mplus variant) scaled test of a two-level model and the measures built
    on it (keys as :func:`semlang.results.robust.scaled_test`)."""
    from semlang.results.robust import scaled_from_traces

    base = unscaled if unscaled is not None else fit.fit_measures()
    return scaled_from_traces(fit, base, traces(fit))


__all__ = ["robust_vcov_phi", "scaled_test", "traces"]
