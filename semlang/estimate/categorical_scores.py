"""Factor scores of a categorical model: lavaan's EBM (empirical Bayes modal) and ML scores.

Input: a categorical fit (ordered and numeric indicators y of latent variables η, regressions
among the latent variables, exogenous covariates x conditioned on) and the rows it was fitted
to. Output: per row the maximum over η of

    −½ (η − E[η|x])ᵀ V⁻¹ (η − E[η|x]) + Σ_j log P(y_j | η),

with V = (I − B)⁻¹ Ψ (I − B)⁻ᵀ and E[η|x] = (I − B)⁻¹ (α + Γx), as lavaan 0.6.14's
``lavPredict()`` computes it (lav_predict_eta_ebm_ml). Its P(y_j | η) is built from the model's
matrices the way lavaan builds it, which is the probability of y_j under the model only in the
delta parameterization with scale factors Δ = 1 and latent intercepts α = 0 (covariate effects
and regressions among the latent variables are taken into account): for an ordered y_j in
category k,

    P = Φ((t_jk − ŷ_j)/√θ_jj) − Φ((t_j(k−1) − ŷ_j)/√θ_jj),

with t_jk = Δ_j (τ_jk − ν_j − [Λ(I − B)⁻¹α]_j) the thresholds of the standardized y*
(t_0 = −∞, t_K = ∞), ŷ_j = Δ_j (ν_j + Λ_j η) and θ_jj the residual variance of y*_j. The
model's probability is Φ((τ_jk − ν_j − Λ_j η)/√θ_jj) − ...; lavaan's differs where Δ_j ≠ 1
(the theta parameterization, or free scale factors: the argument is multiplied by Δ_j as well
as divided by √θ_jj) and where α ≠ 0 (Λα is taken off the thresholds although η's mean is
already α); and in every group lavaan takes ŷ_j from the first group's Δ, ν and Λ (its
own t, θ, E[η|x] and V), which is warned about where they differ from the group's own. For a
numeric y_j P is its normal density around ν_j + Λ_j η with variance θ_jj.
Residual covariances are left out (lavaan
takes the residual standard deviations alone). Each term is log-concave in η, so Newton's
method (all rows at once, with step halving) finds the maximum; a missing value leaves its
term out.

ML (lavaan's ``method = "ML"``) maximizes Σ_j log P(y_j | η) alone. Where that likelihood keeps
rising as a factor goes to ±∞ (all its ordered indicators in their lowest or highest category)
there is no estimate: the score is NaN (lavaan's optimizer stops at some large value there, or
gives NA).

Refused, as lavaan cannot score them either: a residual variance that is zero or negative
(lavaan stops, or gives NA with a warning), and observed variables regressed on others or
predicting latent variables (lavaan then puts the raw category codes in place of latent
responses).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import log_ndtr, ndtr

from semlang.errors import NotSupportedError, SemlangWarning
from semlang.estimate import categorical_moments as cm

_SQRT_2PI = np.sqrt(2.0 * np.pi)


_ML_BOUND = 40.0  # a factor score this far out (in the factor's units) has no finite ML estimate


def ebm_scores(fit, ml: bool = False) -> pd.DataFrame:
    """lavaan's ``lavPredict(fit)`` for a categorical fit, or with ``ml`` its
    ``lavPredict(fit, method = "ML")`` (see the module docstring)."""
    frames = []
    discrepancies = fit.estimation.objective.discrepancies
    first = None
    for layout, d, moments, group in zip(fit.model.layouts, discrepancies, fit.implied,
                                         fit.sample.groups, strict=True):  # fmt: skip
        raw = np.asarray(group.raw, dtype=float)
        values = raw[:, [list(group.names).index(name) for name in layout.observed]]
        nu, lam, theta, cuts, mean, psi = _measurement(layout, d.cat, moments, fit.theta, values)
        if first is None:
            first = (nu, lam)
        elif not (np.allclose(first[0], nu, atol=1e-12) and np.allclose(first[1], lam, atol=1e-12)):
            _warn_first_group(fit.table.group_labels[layout.group - 1])
        scores = _modes(values[:, d.cat.y], *first, theta, cuts, mean, psi, ml=ml)
        scores[np.isnan(mean).any(axis=1)] = np.nan  # a missing covariate
        frame = pd.DataFrame(scores, index=pd.Index(group.rows), columns=list(layout.latent))
        if len(fit.model.layouts) > 1:
            frame.insert(0, fit.table.options.group, fit.table.group_labels[layout.group - 1])
        frames.append(frame)
    return pd.concat(frames).sort_index()


def _warn_first_group(label: str) -> None:
    warnings.warn(
        f"the factor scores of group {label!r} take the first group's loadings, intercepts and "
        "scale factors for the expected latent responses, as lavaan 0.6.14's lavPredict() "
        "does; this group's own differ, so these are not its posterior modes",
        SemlangWarning, stacklevel=4,
    )  # fmt: skip


def _measurement(layout, cat, moments, theta, values):
    """lavaan's (Δν, ΔΛ, θ diagonal, thresholds t per variable, E[η|x] per row, V) of one
    group (see the module docstring); ``values``: the rows of the block's observed variables."""
    p = layout.n_observed
    A, S, m = moments.A, moments.S, moments.m
    latent, y, x = np.arange(p, layout.n), cat.y, cat.x
    if np.any(A[:p, :p]) or np.any(A[np.ix_(latent, y)]):
        raise _refused(
            "with observed variables regressed on others or predicting latent variables",
            "lavaan puts the observed values of such variables in place of their latent "
            "responses",
        )  # fmt: skip
    residual = np.diag(S)[y].copy()
    if np.any(residual <= 0):
        raise _refused(
            "with a residual variance that is zero or negative",
            "lavaan gives no factor scores then (an error, or NA with a warning)",
        )  # fmt: skip
    loadings, beta = A[np.ix_(y, latent)], A[np.ix_(latent, latent)]
    gamma, alpha, nu = A[np.ix_(latent, x)], m[latent], m[y]
    ib_inv = np.linalg.inv(np.eye(len(latent)) - beta)
    psi = ib_inv @ S[np.ix_(latent, latent)] @ ib_inv.T
    mean = (alpha + values[:, x] @ gamma.T) @ ib_inv.T
    delta = cm.scales(cat, theta, cm.conditional(cat, moments.sigma, moments.mu)[0])
    base = nu + loadings @ ib_inv @ alpha
    tau = delta[cat.th_var] * (cm.thresholds(cat, theta) - base[cat.th_var])
    cuts = []
    for j in range(cat.p):
        own = np.flatnonzero((cat.th_var == j) & cat.ordered[j])
        cuts.append(np.concatenate([[-np.inf], tau[own], [np.inf]]) if cat.ordered[j] else None)
    return delta * nu, delta[:, None] * loadings, residual, cuts, mean, psi


def _refused(why: str, hint: str) -> NotSupportedError:
    return NotSupportedError(
        f"factor scores of models with ordered-categorical variables {why} are not available",
        None, None, hint=hint,
    )  # fmt: skip


def _log_posterior(eta, values, nu, lam, theta, cuts, mean, psi_inv):
    """(log posterior, gradient, Hessian) per row at η (rows x m; ``mean``: E[η|x] per row)."""
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
    mean = np.where(np.isnan(mean), 0.0, mean)
    eta = mean.copy()
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
