"""Fit measures of an EFA model: input S, Σ̂, N, m and the estimator; output lavaan's measures.

The EFA model with m factors has p·m + p − m(m−1)/2 free parameters (loadings up to rotation and
unique variances); the measures are lavaan's ``fitMeasures()`` for that model (names in snake
case, ``sabic`` for lavaan's ``bic2``), computed with :mod:`semlang.results.measures`. ML:
χ² = N·F_ML with S of divisor N; the baseline is the independence model. ULS (S with divisor
N − 1): χ² = (N − 1)·Σ_{i≥j}(s_ij − σ_ij)², no p-value and no likelihood, as lavaan.
"""

from __future__ import annotations

import math

import numpy as np

from ..results import measures as mm


def npar(p: int, m: int) -> int:
    """Free parameters of the EFA model."""
    return p * m + p - m * (m - 1) // 2


def fit_measures(S: np.ndarray, sigma: np.ndarray, nobs: int, m: int, estimator: str) -> dict:
    """lavaan's fit measures of the EFA model with ``m`` factors."""
    p = S.shape[0]
    q = npar(p, m)
    df = p * (p + 1) // 2 - q
    base_df = p * (p - 1) // 2
    if estimator == "ML":
        _, logdet_sigma = np.linalg.slogdet(sigma)
        _, logdet_s = np.linalg.slogdet(S)
        f = logdet_sigma + float(np.sum(S * np.linalg.inv(sigma))) - logdet_s - p
        chisq = nobs * f
        base = nobs * (float(np.sum(np.log(np.diag(S)))) - logdet_s)
        pvalue, base_pvalue = mm.chisq_pvalue(chisq, df), mm.chisq_pvalue(base, base_df)
    else:
        rows, cols = np.tril_indices(p)
        chisq = (nobs - 1) * float(np.sum((S - sigma)[rows, cols] ** 2))
        base = (nobs - 1) * float(np.sum(S[np.tril_indices(p, -1)] ** 2))
        pvalue = base_pvalue = math.nan
    out = {
        "npar": q,
        "fmin": chisq / (2.0 * nobs),
        "chisq": chisq,
        "df": df,
        "pvalue": pvalue,
        "baseline_chisq": base,
        "baseline_df": base_df,
        "baseline_pvalue": base_pvalue,
        "cfi": mm.cfi(chisq, df, base, base_df),
        "tli": mm.tli(chisq, df, base, base_df),
    }
    if estimator == "ML":
        const = p * math.log(2.0 * math.pi)
        logl = -nobs / 2.0 * (const + logdet_sigma + float(np.sum(S * np.linalg.inv(sigma))))
        out["logl"] = logl
        out["unrestricted_logl"] = -nobs / 2.0 * (const + logdet_s + p)
        out["aic"] = mm.aic(logl, q)
        out["bic"] = mm.bic(logl, q, nobs)
        out["sabic"] = mm.sabic(logl, q, nobs)
    out["ntotal"] = nobs
    out["rmsea"] = mm.rmsea(chisq, df, nobs)
    out["rmsea_ci_lower"], out["rmsea_ci_upper"] = mm.rmsea_ci(chisq, df, nobs)
    out["rmsea_pvalue"] = mm.rmsea_pvalue(chisq, df, nobs)
    out["srmr"] = mm.srmr([(S, None, sigma, None, nobs)])
    return out
