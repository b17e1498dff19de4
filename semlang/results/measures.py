"""Fit measures as pure functions, with the definitions of lavaan's ``fitMeasures()`` (ML).

Input: scalars (test statistic, degrees of freedom, sample size, log-likelihood, number of free
parameters) or arrays (sample and model-implied moments). Output: plain floats. Nothing here
knows about models or fits; the ``Fit`` object gathers the inputs and calls these functions.

Conventions that follow lavaan:

* ``nobs`` is the total sample size over all groups (N, not N - 1, for normal-theory ML); a
  two-level model counts level-1 observations.
* Where lavaan reports ``NA`` these functions return ``nan`` (for example the p-value of a test
  with zero degrees of freedom).
* With several groups RMSEA (and its interval) is multiplied by ``sqrt(ngroups)`` and the null
  value of the close-fit test is divided by it (Steiger 1998; Dudgeon 2004).
* SRMR is Bentler's: residuals of covariances (and of means when the model has a mean structure)
  standardized by the *sample* standard deviations; the per-group values are averaged with
  weights ``n_g / N``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize, special

from semlang.estimate.normal_loglik import loglik_normal, saturated_loglik

__all__ = [
    "aic",
    "bic",
    "cfi",
    "chisq_pvalue",
    "loglik_normal",
    "residuals_cor_bentler",
    "rmsea",
    "rmsea_ci",
    "rmsea_pvalue",
    "saturated_loglik",
    "srmr",
    "srmr_twolevel",
    "tli",
]

Block = tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None, float]
"""One group for :func:`srmr`: (sample_cov, sample_mean, implied_cov, implied_mean, nobs)."""

TwoLevelGroup = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]
"""One group for :func:`srmr_twolevel`: (S_within, Sigma_within, S_between, Sigma_between, n)."""

_NEAR_ZERO = 1e-5  # moments smaller than this are left unstandardized, as lavaan does
_LOG_2PI = math.log(2.0 * math.pi)


def _finite(*values: float) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


# --------------------------------------------------------------------------- chi-square based


def chisq_pvalue(chisq: float, df: float) -> float:
    """P(X² > chisq) for a central chi-square with ``df`` degrees of freedom; nan when df == 0."""
    if not _finite(chisq, df) or df <= 0:
        return math.nan
    return float(special.chdtrc(df, max(chisq, 0.0)))


def cfi(chisq: float, df: float, baseline_chisq: float, baseline_df: float) -> float:
    """Comparative fit index (Bentler 1990), bounded to [0, 1].

    ``1 - max(X² - df, 0) / max(X² - df, X²_0 - df_0, 0)``; 1 when both terms vanish.
    """
    if not _finite(chisq, df, baseline_chisq, baseline_df):
        return math.nan
    t1 = max(chisq - df, 0.0)
    t2 = max(chisq - df, baseline_chisq - baseline_df, 0.0)
    if t1 <= 1.5e-8 and t2 <= 1.5e-8:  # R's all.equal(t, 0)
        return 1.0
    return 1.0 - t1 / t2


def tli(chisq: float, df: float, baseline_chisq: float, baseline_df: float) -> float:
    """Tucker-Lewis index (non-normed fit index), not bounded; 1 when df == 0.

    ``1 - ((X² - df) df_0) / ((X²_0 - df_0) df)``.
    """
    if not _finite(chisq, df, baseline_chisq, baseline_df):
        return math.nan
    t1 = (chisq - df) * baseline_df
    t2 = (baseline_chisq - baseline_df) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    return 1.0


def rmsea(chisq: float, df: float, nobs: float, ngroups: int = 1) -> float:
    """Root mean square error of approximation ``sqrt(max(X²/(N df) - 1/N, 0) G)``; 0 if df == 0."""
    if not _finite(chisq, df, nobs) or nobs <= 0:
        return math.nan
    if df <= 0:
        return 0.0
    return math.sqrt(max(chisq / (nobs * df) - 1.0 / nobs, 0.0)) * math.sqrt(ngroups)


def _ncx2_cdf(x: float, df: float, ncp: float) -> float:
    if ncp <= 0.0:
        return float(special.chdtr(df, x))
    return float(special.chndtr(x, df, ncp))


def _lambda_root(chisq: float, df: float, prob: float, upper: float) -> float:
    """The non-centrality λ in [0, upper] with P(X² <= chisq; df, λ) == prob (nan if none)."""
    try:
        return optimize.brentq(
            lambda ncp: _ncx2_cdf(chisq, df, ncp) - prob, 0.0, upper, xtol=1e-10, rtol=1e-12
        )
    except ValueError:
        return math.nan


def rmsea_ci(
    chisq: float, df: float, nobs: float, ngroups: int = 1, level: float = 0.90
) -> tuple[float, float]:
    """Confidence interval of RMSEA (Browne & Cudeck 1993) from the non-central chi-square.

    Each bound is ``sqrt(λ / (N df) * G)`` with λ the non-centrality at which the observed X²
    sits at the upper (lower bound) or lower (upper bound) tail quantile; a bound is 0 when no
    positive λ reaches it, and both are 0 when df < 1.
    """
    if not _finite(chisq, df, nobs) or nobs <= 0:
        return (math.nan, math.nan)
    if not (0.0 <= level <= 1.0):
        raise ValueError(f"level must lie in [0, 1], got {level}")
    if df < 1:
        return (0.0, 0.0)
    upper_p = 1.0 - (1.0 - level) / 2.0
    lower_p = (1.0 - level) / 2.0
    scale = ngroups / (nobs * df)

    lower = 0.0
    if _ncx2_cdf(chisq, df, 0.0) >= upper_p:
        lower = math.sqrt(_lambda_root(chisq, df, upper_p, chisq) * scale)

    upper = 0.0
    search_to = max(nobs, 4.0 * chisq)
    if _ncx2_cdf(chisq, df, search_to) <= lower_p <= _ncx2_cdf(chisq, df, 0.0):
        upper = math.sqrt(_lambda_root(chisq, df, lower_p, search_to) * scale)
    return (lower, upper)


def rmsea_pvalue(
    chisq: float, df: float, nobs: float, ngroups: int = 1, close: float = 0.05
) -> float:
    """P-value of the test of close fit H0: RMSEA <= ``close`` (MacCallum et al. 1996).

    ``P(X² > chisq; df, λ0)`` with ``λ0 = N df close² / G``; nan when df == 0.
    """
    if not _finite(chisq, df, nobs) or df <= 0 or nobs <= 0:
        return math.nan
    ncp = nobs * df * close**2 / ngroups
    return 1.0 - _ncx2_cdf(max(chisq, 0.0), df, ncp)


# --------------------------------------------------------------------------- likelihood based


def aic(logl: float, npar: int) -> float:
    """Akaike information criterion ``-2 logl + 2 npar``."""
    return -2.0 * logl + 2.0 * npar


def bic(logl: float, npar: int, nobs: float) -> float:
    """Bayesian information criterion ``-2 logl + npar log(N)``."""
    return -2.0 * logl + npar * math.log(nobs)


# --------------------------------------------------------------------------- residual based


def _standardize(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """values * scale, except entries with |value| < 1e-5, which lavaan leaves as they are."""
    return np.where(np.abs(values) < _NEAR_ZERO, values, values * scale)


def residuals_cor_bentler(
    sample_cov: np.ndarray,
    sample_mean: np.ndarray | None,
    implied_cov: np.ndarray,
    implied_mean: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Bentler's standardized residuals (lavaan's ``type = "cor.bentler"``) of one group.

    Sample and implied moments are both divided by the sample standard deviations (covariances
    by ``sd_i sd_j``, means by ``sd_i``) and then subtracted. Returns the covariance residual
    matrix and the mean residual vector (None without a mean structure).
    """
    sample_cov = np.asarray(sample_cov, dtype=float)
    variances = np.diag(sample_cov).copy()
    variances[~np.isfinite(variances) | (variances < np.finfo(float).eps)] = np.nan
    inv_sd = 1.0 / np.sqrt(variances)
    cov_scale = np.outer(inv_sd, inv_sd)
    cov_res = _standardize(sample_cov, cov_scale) - _standardize(
        np.asarray(implied_cov, dtype=float), cov_scale
    )
    if implied_mean is None:
        return cov_res, None
    if sample_mean is None:
        raise ValueError("implied_mean given without sample_mean")
    mean_res = _standardize(np.asarray(sample_mean, dtype=float), inv_sd) - _standardize(
        np.asarray(implied_mean, dtype=float), inv_sd
    )
    return cov_res, mean_res


def _rms_lower(matrix: np.ndarray, extra: np.ndarray | None = None) -> float:
    """Root mean square over the lower triangle (with diagonal) and the ``extra`` entries."""
    values = matrix[np.tril_indices(matrix.shape[0])]
    if extra is not None:
        values = np.concatenate([values, extra])
    return float(np.sqrt(np.mean(values**2)))


def srmr(blocks: Sequence[Block]) -> float:
    """Standardized root mean square residual, lavaan's ``srmr`` (Bentler's definition).

    Per group: the root mean square of the Bentler residuals of the p(p+1)/2 covariances and,
    when the model has a mean structure (``implied_mean`` not None), of the p means too.
    Groups are averaged with weights n_g / N.
    """
    values, weights = [], []
    for sample_cov, sample_mean, implied_cov, implied_mean, nobs in blocks:
        cov_res, mean_res = residuals_cor_bentler(
            sample_cov, sample_mean, implied_cov, implied_mean
        )
        values.append(_rms_lower(cov_res, mean_res))
        weights.append(nobs)
    weights_arr = np.asarray(weights, dtype=float)
    return float(np.sum(weights_arr / weights_arr.sum() * np.asarray(values)))


def _cov2cor(matrix: np.ndarray) -> np.ndarray:
    inv_sd = 1.0 / np.sqrt(np.diag(matrix))
    return matrix * np.outer(inv_sd, inv_sd)


def _force_pd(matrix: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """Raise eigenvalues below ``tol`` times the largest one to that floor."""
    if matrix.shape[0] == 1:
        return np.maximum(matrix, tol)
    eigval, eigvec = np.linalg.eigh(matrix)
    largest = abs(eigval[-1])
    eigval = np.where(eigval / largest < tol, tol * largest, eigval)
    return (eigvec * eigval) @ eigvec.T


def srmr_twolevel(groups: Sequence[TwoLevelGroup]) -> tuple[float, float, float]:
    """SRMR of a two-level model as lavaan computes it: (srmr, srmr_within, srmr_between).

    Per level the residuals are differences of correlation matrices (the unrestricted-model
    estimate minus the implied one, each turned into correlations by its own standard
    deviations; the implied between matrix first forced positive definite), averaged over the
    p(p+1)/2 lower-triangle entries; no mean residuals. Per-level values are averaged over groups
    with weights n_g / N, and ``srmr`` is the *sum* of the within and between values.
    """
    within, between, weights = [], [], []
    for s_within, sigma_within, s_between, sigma_between, nobs in groups:
        r_within = _cov2cor(np.asarray(s_within, float)) - _cov2cor(np.asarray(sigma_within, float))
        sigma_between = _force_pd(np.asarray(sigma_between, float))
        if np.all(np.diag(sigma_between) > 0):
            r_between = _cov2cor(np.asarray(s_between, float)) - _cov2cor(sigma_between)
        else:
            r_between = np.full(sigma_between.shape, np.nan)
        within.append(_rms_lower(r_within))
        between.append(_rms_lower(r_between))
        weights.append(nobs)
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    srmr_w = float(w @ np.asarray(within))
    srmr_b = float(w @ np.asarray(between))
    return (srmr_w + srmr_b, srmr_w, srmr_b)


def chisq_measures(
    *,
    npar: int,
    ndat: int,
    chisq: float,
    baseline_chisq: float,
    baseline_npar: int,
    nobs: float,
    ngroups: int = 1,
) -> dict[str, float]:
    """lavaan's χ²-based measures: the test on ndat − npar degrees of freedom, the baseline's,
    CFI, TLI and RMSEA with its interval and close-fit p-value."""
    df = ndat - npar
    baseline_df = ndat - baseline_npar
    lower, upper = rmsea_ci(chisq, df, nobs, ngroups)
    return {
        "npar": npar,
        "chisq": chisq,
        "df": df,
        "pvalue": chisq_pvalue(chisq, df),
        "baseline_chisq": baseline_chisq,
        "baseline_df": baseline_df,
        "cfi": cfi(chisq, df, baseline_chisq, baseline_df),
        "tli": tli(chisq, df, baseline_chisq, baseline_df),
        "rmsea": rmsea(chisq, df, nobs, ngroups),
        "rmsea_ci_lower": lower,
        "rmsea_ci_upper": upper,
        "rmsea_pvalue": rmsea_pvalue(chisq, df, nobs, ngroups),
    }


def loglik_measures(logl: float, unrestricted_logl: float, npar: int, nobs: float) -> dict:
    """logl, unrestricted.logl, AIC and BIC."""
    return {
        "logl": logl,
        "unrestricted_logl": unrestricted_logl,
        "aic": aic(logl, npar),
        "bic": bic(logl, npar, nobs),
    }


def standard_measures(
    *,
    npar: int,
    ndat: int,
    logl: float,
    unrestricted_logl: float,
    baseline_logl: float,
    baseline_npar: int,
    nobs: float,
    ngroups: int = 1,
) -> dict[str, float]:
    """lavaan's standard fit measures from the three log-likelihoods and the counts.

    χ² = 2(ℓ_h1 − ℓ) (never below 0) on ndat − npar degrees of freedom; the baseline χ²
    likewise against the independence model; then CFI, TLI, AIC, BIC and RMSEA with its CI.
    """
    out = chisq_measures(
        npar=npar,
        ndat=ndat,
        chisq=max(2.0 * (unrestricted_logl - logl), 0.0),
        baseline_chisq=2.0 * (unrestricted_logl - baseline_logl),
        baseline_npar=baseline_npar,
        nobs=nobs,
        ngroups=ngroups,
    )
    return out | loglik_measures(logl, unrestricted_logl, npar, nobs)
