"""Factor scores of a categorical measurement model: lavaan's EBM (empirical Bayes modal) and ML.

Input: a categorical fit whose observed variables are indicators only (y* = ν + Λη + ε with
uncorrelated residuals, no covariates) and the rows it was fitted to. Output: per row the mode
of the posterior of η: the maximum over η of

    log N(η; E[η], Ψ) + Σ_j log P(y_j | η),

with, for an ordered y_j in category k, P = Φ((τ_k − ν_j − λ_jη)/√θ_jj) − Φ((τ_(k−1) − ...)/√θ_jj)
(τ_0 = −∞, τ_K = ∞; the thresholds of y* before the scale factor, which leaves P unchanged) and
for a numeric y_j its normal density. Each term is log-concave in η, so Newton's method (all rows
at once, with step halving) finds the mode; a missing value leaves its term out.

ML (lavaan's ``method = "ML"``) maximizes Σ_j log P(y_j | η) alone. Where that likelihood keeps
rising as a factor goes to ±∞ (all its ordered indicators in their lowest or highest category)
there is no estimate: the score is NaN (lavaan's optimizer stops at some large value there, or
gives NA).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import log_ndtr, ndtr

from semlang.errors import NotSupportedError
from semlang.estimate import categorical_moments as cm

_SQRT_2PI = np.sqrt(2.0 * np.pi)


_ML_BOUND = 40.0  # a factor score this far out (in the factor's units) has no finite ML estimate


def ebm_scores(fit, ml: bool = False) -> pd.DataFrame:
    """lavaan's ``lavPredict(fit)`` for a categorical fit, or with ``ml`` its
    ``lavPredict(fit, method = "ML")`` (see the module docstring)."""
    frames = []
    discrepancies = fit.estimation.objective.discrepancies
    for layout, d, moments, group in zip(fit.model.layouts, discrepancies, fit.implied,
                                         fit.sample.groups, strict=True):  # fmt: skip
        parts = _measurement(layout, d.cat, moments, fit.theta)
        raw = np.asarray(group.raw, dtype=float)
        values = raw[:, [list(group.names).index(name) for name in layout.observed]]
        scores = _modes(values, *parts, ml=ml)
        frame = pd.DataFrame(scores, index=pd.Index(group.rows), columns=list(layout.latent))
        if len(fit.model.layouts) > 1:
            frame.insert(0, fit.table.options.group, fit.table.group_labels[layout.group - 1])
        frames.append(frame)
    return pd.concat(frames).sort_index()


def _measurement(layout, cat, moments, theta):
    """(ν, Λ, θ diagonal, thresholds per variable, E[η], Ψ) of one group's measurement part."""
    p = layout.n_observed
    A, S = moments.A, moments.S
    if len(cat.x) or np.any(A[:p, :p]) or np.any(A[p:, :p]):
        raise _refused("with observed covariates or paths from observed variables")
    if cat.theta_parameterization or np.any(cm.scales(cat, theta, moments.sigma) != 1.0):
        # (lavaan's EBM scores then differ from these posterior modes; not matched yet)
        raise _refused("with scale factors other than 1 (the theta parameterization, free scales)")
    residual = S[:p, :p]
    if np.any(residual - np.diag(np.diag(residual))):
        raise _refused("with correlated residuals")
    loadings = A[:p, p:]
    latent = np.arange(p, layout.n)
    psi = moments.total_cov[np.ix_(latent, latent)]
    mean = moments.total_mean[latent]
    intercepts = moments.m[:p]
    tau = cm.thresholds(cat, theta)
    cuts = []
    for j in range(p):
        own = np.flatnonzero((cat.th_var == j) & cat.ordered[j])
        cuts.append(np.concatenate([[-np.inf], tau[own], [np.inf]]) if cat.ordered[j] else None)
    return intercepts, loadings, np.diag(residual).copy(), cuts, mean, psi


def _refused(why: str) -> NotSupportedError:
    return NotSupportedError(
        f"factor scores of models with ordered-categorical variables {why} are not available "
        "yet", None, None,
        hint="EBM scores are computed for measurement models of ordered (and numeric) items",
    )  # fmt: skip


def _log_posterior(eta, values, nu, lam, theta, cuts, mean, psi_inv):
    """(log posterior, gradient, Hessian) per row at η (rows x m)."""
    n, m = eta.shape
    diff = eta - mean
    value = -0.5 * np.einsum("ij,jk,ik->i", diff, psi_inv, diff)
    grad = -diff @ psi_inv
    hess = np.broadcast_to(-psi_inv, (n, m, m)).copy()
    for j in range(len(nu)):
        y = values[:, j]
        seen = ~np.isnan(y)
        u = nu[j] + eta[seen] @ lam[j]
        sd = np.sqrt(theta[j])
        if cuts[j] is None:  # numeric: normal density
            r = (y[seen] - u) / sd
            f = -0.5 * r**2 - np.log(sd * _SQRT_2PI)
            d1, d2 = r / sd, np.full(len(r), -1.0 / theta[j])
        else:
            k = y[seen].astype(int)  # categories 1..K
            a, b = (cuts[j][k - 1] - u) / sd, (cuts[j][k] - u) / sd
            f, d1, d2 = _probit_terms(a, b, sd)
        value[seen] += f
        grad[seen] += d1[:, None] * lam[j]
        hess[seen] += d2[:, None, None] * np.outer(lam[j], lam[j])
    return value, grad, hess


def _probit_terms(a, b, sd):
    """log(Φ(b) − Φ(a)) and its first two derivatives in u (a, b = (cut − u)/sd)."""
    prob = np.maximum(ndtr(b) - ndtr(a), 1e-300)
    log_p = np.where(a > 0, np.log(np.maximum(ndtr(-a) - ndtr(-b), 1e-300)), np.log(prob))
    log_p = np.where(np.isneginf(a), log_ndtr(b), log_p)
    pdf_a = np.where(np.isfinite(a), np.exp(-0.5 * np.where(np.isfinite(a), a, 0) ** 2), 0.0)
    pdf_b = np.where(np.isfinite(b), np.exp(-0.5 * np.where(np.isfinite(b), b, 0) ** 2), 0.0)
    pdf_a, pdf_b = pdf_a / _SQRT_2PI, pdf_b / _SQRT_2PI
    ratio = (pdf_b - pdf_a) / prob
    moments = np.where(np.isfinite(b), b, 0) * pdf_b - np.where(np.isfinite(a), a, 0) * pdf_a
    d1 = -ratio / sd
    d2 = -(moments / prob) / sd**2 - ratio**2 / sd**2
    return log_p, d1, d2


def _modes(values, nu, lam, theta, cuts, mean, psi, *, iterations: int = 100, ml: bool = False):
    """The posterior modes (``ml``: the likelihood's maxima) of every row by damped Newton
    steps; with ``ml`` the factors kept within ±_ML_BOUND, and NaN where they reach it or the
    likelihood has (all but) no curvature left along them: no finite maximum."""
    psi_inv = np.zeros_like(psi) if ml else np.linalg.inv(psi)
    bound = _ML_BOUND if ml else np.inf
    eta = np.tile(mean, (len(values), 1))
    args = (values, nu, lam, theta, cuts, mean, psi_inv)
    with np.errstate(over="ignore", under="ignore"):
        value, grad, hess = _log_posterior(eta, *args)
        for _ in range(iterations):
            step = _newton_step(hess, grad)
            scale = np.ones(len(eta))
            for _ in range(30):
                trial = np.clip(eta + scale[:, None] * step, -bound, bound)
                new_value = _log_posterior(trial, *args)[0]
                worse = new_value < value - 1e-12
                if not worse.any():
                    break
                scale[worse] /= 2.0
            eta = np.clip(eta + scale[:, None] * step, -bound, bound)
            value, grad, hess = _log_posterior(eta, *args)
            inside = np.abs(eta) < bound
            if np.max(np.abs(np.where(inside, grad, 0.0)), initial=0.0) < 1e-10:
                break
    if ml:
        # no finite maximum: the likelihood flattens out (no curvature left) along the factor
        curvature = -np.diagonal(hess, axis1=1, axis2=2)
        full = (lam**2 / theta[:, None]).sum(axis=0)
        eta[(curvature < 1e-6 * full) | (np.abs(eta) >= bound)] = np.nan
    return eta


def _newton_step(hess, grad):
    """−H⁻¹g per row; a row whose Hessian is (numerically) singular moves along its gradient
    (the ML likelihood flattens out where a factor has no finite estimate)."""
    try:
        return np.linalg.solve(-hess, grad[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        step = np.empty_like(grad)
        for i in range(len(grad)):
            try:
                step[i] = np.linalg.solve(-hess[i], grad[i])
            except np.linalg.LinAlgError:
                step[i] = grad[i] * _ML_BOUND
        return step
