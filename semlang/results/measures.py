"""Fit measures as pure functions, with the definitions of lavaan's ``fitMeasures()`` (ML).

Input: scalars (test statistic, degrees of freedom, sample size, log-likelihood, number of free
parameters). Output: plain floats. Nothing here knows about models or fits; the ``Fit`` object
gathers the inputs and calls these functions. The residual-based measures (RMR, the SRMR
variants, CRMR, GFI) are in :mod:`semlang.results.residual_measures` (re-exported here).

Conventions that follow lavaan:

* ``nobs`` is the total sample size over all groups (N, not N - 1, for normal-theory ML); a
  two-level model counts level-1 observations.
* Where lavaan reports ``NA`` these functions return ``nan`` (for example the p-value of a test
  with zero degrees of freedom).
* With several groups RMSEA (and its interval) is multiplied by ``sqrt(ngroups)`` and the null
  value of the close-fit test is divided by it (Steiger 1998; Dudgeon 2004).
* The incremental indices compare the model's statistic X² on df with the baseline's X²_0 on
  df_0; "all.equal(t, 0)" in lavaan is |t| < 1.5e-8 here.
"""

from __future__ import annotations

import math
import sys

from semlang import roots as optimize  # brentq, for the RMSEA interval
from semlang import special  # (scipy.special's functions, without its import)
from semlang.estimate.normal_loglik import loglik_normal, saturated_loglik
from semlang.results.residual_measures import (
    agfi,
    gfi,
    pgfi,
    residual_summary,
    residuals_cor_bentler,
    srmr,
    srmr_twolevel,
)

__all__ = [
    "agfi",
    "aic",
    "bic",
    "cfi",
    "chisq_pvalue",
    "cn",
    "ecvi",
    "gfi",
    "ifi",
    "loglik_normal",
    "mfi",
    "nfi",
    "pgfi",
    "pnfi",
    "residual_summary",
    "residuals_cor_bentler",
    "rfi",
    "rmsea",
    "rmsea_ci",
    "rmsea_notclose_pvalue",
    "rmsea_pvalue",
    "rni",
    "sabic",
    "saturated_loglik",
    "srmr",
    "srmr_twolevel",
    "tli",
]

RMSEA_CI_LEVEL = 0.90
RMSEA_CLOSE_H0 = 0.05
RMSEA_NOTCLOSE_H0 = 0.08
_ZERO = 1.5e-8  # R's all.equal(t, 0)


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
    if t1 <= _ZERO and t2 <= _ZERO:
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


def nnfi(chisq: float, df: float, baseline_chisq: float, baseline_df: float) -> float:
    """Non-normed fit index: lavaan's other name for the TLI (:func:`tli`)."""
    return tli(chisq, df, baseline_chisq, baseline_df)


def rni(chisq: float, df: float, baseline_chisq: float, baseline_df: float) -> float:
    """Relative noncentrality index (McDonald-Marsh) ``1 − (X² − df)/(X²_0 − df_0)``, not
    bounded; nan when X²_0 − df_0 is 0."""
    if not _finite(chisq, df, baseline_chisq, baseline_df):
        return math.nan
    t2 = baseline_chisq - baseline_df
    return math.nan if abs(t2) < _ZERO else 1.0 - (chisq - df) / t2


def nfi(chisq: float, df: float, baseline_chisq: float, baseline_df: float) -> float:
    """Normed fit index (Bentler-Bonett) ``(X²_0 − X²)/X²_0``; 1 when df == 0; nan when
    df > df_0 or X²_0 is 0."""
    if not _finite(chisq, df, baseline_chisq, baseline_df):
        return math.nan
    if df > baseline_df or abs(baseline_chisq) < _ZERO:
        return math.nan
    return (baseline_chisq - chisq) / baseline_chisq if df > 0 else 1.0


def rfi(chisq: float, df: float, baseline_chisq: float, baseline_df: float) -> float:
    """Relative fit index (Bollen's ρ1) ``(X²_0/df_0 − X²/df)/(X²_0/df_0)``; 1 when either
    term is negative or when df (or df_0) is 0; nan when df > df_0."""
    if not _finite(chisq, df, baseline_chisq, baseline_df):
        return math.nan
    if df > baseline_df:
        return math.nan
    if not (df > 0 and baseline_df > 0):
        return 1.0
    t2 = baseline_chisq / baseline_df
    t1 = t2 - chisq / df
    return 1.0 if t1 < 0 or t2 < 0 else t1 / t2


def pnfi(chisq: float, df: float, baseline_chisq: float, baseline_df: float) -> float:
    """Parsimony normed fit index (James-Mulaik-Brett) ``(df/df_0)(X²_0 − X²)/X²_0``; nan
    unless df_0 > 0 and X²_0 > 0."""
    if not _finite(chisq, df, baseline_chisq, baseline_df):
        return math.nan
    if not (baseline_df > 0 and baseline_chisq > 0):
        return math.nan
    return (df / baseline_df) * (baseline_chisq - chisq) / baseline_chisq


def ifi(chisq: float, df: float, baseline_chisq: float, baseline_df: float) -> float:
    """Incremental fit index (Bollen's Δ2) ``(X²_0 − X²)/(X²_0 − df)``; 1 when the denominator
    is negative, nan when it is 0."""
    if not _finite(chisq, df, baseline_chisq, baseline_df):
        return math.nan
    t2 = baseline_chisq - df
    if t2 < 0:
        return 1.0
    return math.nan if abs(t2) < _ZERO else (baseline_chisq - chisq) / t2


def rmsea(chisq: float, df: float, nobs: float, ngroups: int = 1) -> float:
    """Root mean square error of approximation ``sqrt(max(X²/(N df) - 1/N, 0) G)``; 0 if df == 0."""
    if not _finite(chisq, df, nobs) or nobs <= 0:
        return math.nan
    if df <= 0:
        return 0.0
    return math.sqrt(max(chisq / (nobs * df) - 1.0 / nobs, 0.0)) * math.sqrt(ngroups)


_OWN_CDF_ROOTS = 24  # lookups: each RMSEA bound and each end-point check is one (a fit or two)
_noncentral_calls = 0


def _noncentral_cdf():
    """The non-central chi-square CDF. A process that fits once uses semlang's own (plain
    Python: no scipy import at start-up); once a process has computed a few fits' RMSEA
    intervals (bootstrap, studies, refits), scipy's compiled one, about thirty times faster
    per call. The two agree to about 1e-14 (1e-10 at non-centralities of 10^5)."""
    global _noncentral_calls
    if _noncentral_calls < _OWN_CDF_ROOTS and "scipy.special" not in sys.modules:
        _noncentral_calls += 1
        return special.chndtr
    from scipy.special import chndtr

    return chndtr


def _ncx2_cdf(x: float, df: float, ncp: float) -> float:
    if ncp <= 0.0:
        return float(special.chdtr(df, x))
    return float(_noncentral_cdf()(x, df, ncp))


def _lambda_root(chisq: float, df: float, prob: float, upper: float) -> float:
    """The non-centrality λ in [0, upper] with P(X² <= chisq; df, λ) == prob (nan if none)."""
    central = float(special.chdtr(df, chisq))  # _ncx2_cdf at ncp = 0
    noncentral = _noncentral_cdf()

    def excess(ncp: float) -> float:  # _ncx2_cdf(chisq, df, ncp) - prob, without its calls
        return (float(noncentral(chisq, df, ncp)) if ncp > 0.0 else central) - prob

    try:
        return optimize.brentq(excess, 0.0, upper, xtol=1e-10, rtol=1e-12)
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


def rmsea_notclose_pvalue(
    chisq: float, df: float, nobs: float, ngroups: int = 1, notclose: float = RMSEA_NOTCLOSE_H0
) -> float:
    """P-value of the test of not-close fit H0: RMSEA >= ``notclose`` (MacCallum et al. 1996):

    ``P(X² <= chisq; df, λ0)`` with ``λ0 = N df notclose² / G``; nan when df == 0.
    """
    if not _finite(chisq, df, nobs) or df <= 0 or nobs <= 0:
        return math.nan
    ncp = nobs * df * notclose**2 / ngroups
    return _ncx2_cdf(max(chisq, 0.0), df, ncp)


# --------------------------------------------------------------------------- likelihood based


def aic(logl: float, npar: int) -> float:
    """Akaike information criterion ``-2 logl + 2 npar``."""
    return -2.0 * logl + 2.0 * npar


def bic(logl: float, npar: int, nobs: float) -> float:
    """Bayesian information criterion ``-2 logl + npar log(N)``."""
    return -2.0 * logl + npar * math.log(nobs)


def sabic(logl: float, npar: int, nobs: float) -> float:
    """Sample-size adjusted BIC (Sclove 1987) ``-2 logl + npar log((N + 2)/24)``."""
    return -2.0 * logl + npar * math.log((nobs + 2.0) / 24.0)


# --------------------------------------------------------------------------- other


def fmin(chisq: float, nobs: float) -> float:
    """lavaan's ``fmin``, the minimum of its discrepancy function: ``X² / (2N)``."""
    return chisq / (2.0 * nobs)


def cn(chisq: float, df: float, nobs: float, alpha: float = 0.05) -> float:
    """Hoelter's critical N ``χ²_{1−α}(df) / (X²/N) + 1``; nan when df == 0 and X² is 0, inf
    (as R's division by zero) when X² is 0 with df > 0 (a perfect fit)."""
    if not _finite(chisq, df, nobs):
        return math.nan
    if df == 0 and chisq < 2.220446e-16:
        return math.nan
    critical = float(special.chdtri(df, alpha)) if df > 0 else 0.0
    if chisq == 0:
        return math.inf  # (as R's division by 0)
    return critical / (chisq / nobs) + 1.0


def ecvi(chisq: float, npar: int, nobs: float) -> float:
    """Expected cross-validation index (Browne-Cudeck) ``X²/N + 2 npar/N``."""
    return chisq / nobs + 2.0 * npar / nobs


def mfi(chisq: float, df: float, nobs: float) -> float:
    """McDonald's fit index ``exp(−(X² − df)/(2N))``."""
    return math.exp(-0.5 * (chisq - df) / nobs)


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
    """lavaan's χ²-based measures: the test on ndat − npar degrees of freedom (and fmin), the
    baseline's test, the incremental indices (CFI, TLI, NNFI, RFI, NFI, PNFI, IFI, RNI), RMSEA
    with its 90% interval and its close- and not-close-fit p-values, Hoelter's CN, MFI, ECVI."""
    df = ndat - npar
    df0 = ndat - baseline_npar
    lower, upper = rmsea_ci(chisq, df, nobs, ngroups, RMSEA_CI_LEVEL)
    indices = (chisq, df, baseline_chisq, df0)
    return {
        "npar": npar,
        "fmin": fmin(chisq, nobs),
        "chisq": chisq,
        "df": df,
        "pvalue": chisq_pvalue(chisq, df),
        "baseline_chisq": baseline_chisq,
        "baseline_df": df0,
        "baseline_pvalue": chisq_pvalue(baseline_chisq, df0),
        "cfi": cfi(*indices),
        "tli": tli(*indices),
        "nnfi": nnfi(*indices),
        "rfi": rfi(*indices),
        "nfi": nfi(*indices),
        "pnfi": pnfi(*indices),
        "ifi": ifi(*indices),
        "rni": rni(*indices),
        "rmsea": rmsea(chisq, df, nobs, ngroups),
        "rmsea_ci_lower": lower,
        "rmsea_ci_upper": upper,
        "rmsea_ci_level": RMSEA_CI_LEVEL,
        "rmsea_pvalue": rmsea_pvalue(chisq, df, nobs, ngroups, RMSEA_CLOSE_H0),
        "rmsea_close_h0": RMSEA_CLOSE_H0,
        "rmsea_notclose_pvalue": rmsea_notclose_pvalue(chisq, df, nobs, ngroups),
        "rmsea_notclose_h0": RMSEA_NOTCLOSE_H0,
        "cn_05": cn(chisq, df, nobs, 0.05),
        "cn_01": cn(chisq, df, nobs, 0.01),
        "mfi": mfi(chisq, df, nobs),
        "ecvi": ecvi(chisq, npar, nobs),
    }


def loglik_measures(logl: float, unrestricted_logl: float, npar: int, nobs: float) -> dict:
    """logl, unrestricted.logl, AIC, BIC, ntotal and the sample-size adjusted BIC (bic2)."""
    return {
        "logl": logl,
        "unrestricted_logl": unrestricted_logl,
        "aic": aic(logl, npar),
        "bic": bic(logl, npar, nobs),
        "ntotal": nobs,
        "bic2": sabic(logl, npar, nobs),
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
