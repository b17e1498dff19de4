"""Fit -> lavaan's fit measures (``fitMeasures()``), from the pure functions in
:mod:`semlang.results.measures`.

Input: a :class:`~semlang.results.fit.Fit`. Output: a dict keyed by lavaan's names in snake_case:
npar, chisq, df, pvalue, baseline_chisq, baseline_df, cfi, tli, logl, unrestricted_logl, aic, bic,
rmsea, rmsea_ci_lower, rmsea_ci_upper, rmsea_pvalue, srmr (and, with MLR, the scaled test).
"""

from __future__ import annotations

import numpy as np

from semlang.estimate.fiml_objective import FimlDiscrepancy
from semlang.estimate.missing import fiml_loglik, independence_loglik
from semlang.results import measures


def moments_count(fit) -> int:
    """Sample moments the model reproduces (lavaan's ndat, fixed.x moments excluded)."""
    total = 0
    meanstructure = fit.table.meanstructure
    for layout in fit.model.layouts:
        p = layout.n_observed
        k = len({i for i, j in layout.exo_S if i == j})
        total += p * (p + 1) // 2 - k * (k + 1) // 2
        if meanstructure:
            total += p - len(layout.exo_m)
    return total


def _baseline(fit) -> tuple[float, int]:
    """Log-likelihood and free-parameter count of the independence model."""
    logl, npar = 0.0, 0
    meanstructure = fit.table.meanstructure
    for layout, discrepancy in zip(
        fit.model.layouts, fit.estimation.objective.discrepancies, strict=True
    ):
        p = layout.n_observed
        exo = sorted({i for i, j in layout.exo_S if i == j})
        free = [i for i in range(p) if i not in exo]
        npar += len(free) * (2 if meanstructure else 1)
        if isinstance(discrepancy, FimlDiscrepancy):
            logl += independence_loglik(discrepancy.patterns)
            continue
        cov = discrepancy.cov
        sigma = np.diag(np.diag(cov))
        if exo:
            sigma[np.ix_(exo, exo)] = cov[np.ix_(exo, exo)]
        logl += measures.loglik_normal(
            cov, discrepancy.mean, sigma, discrepancy.mean, discrepancy.nobs
        )
    return logl, npar


def _loglik(fit) -> tuple[float, float]:
    """(logl of the model, logl of the saturated model)."""
    logl = logl_h1 = 0.0
    for moments, discrepancy in zip(
        fit.implied, fit.estimation.objective.discrepancies, strict=True
    ):
        if isinstance(discrepancy, FimlDiscrepancy):
            logl += fiml_loglik(discrepancy.patterns, moments.sigma, moments.mu)
            logl_h1 += discrepancy.saturated.loglik
            continue
        mu = moments.mu if fit.table.meanstructure else discrepancy.mean
        logl += measures.loglik_normal(
            discrepancy.cov, discrepancy.mean, moments.sigma, mu, discrepancy.nobs
        )
        logl_h1 += measures.saturated_loglik(discrepancy.cov, discrepancy.nobs)
    return logl, logl_h1


def _srmr(fit) -> float:
    blocks = []
    meanstructure = fit.table.meanstructure
    for moments, discrepancy in zip(
        fit.implied, fit.estimation.objective.discrepancies, strict=True
    ):
        mean = getattr(discrepancy, "h1_mean", None)
        cov = getattr(discrepancy, "h1_cov", None)
        if mean is None:
            mean, cov = discrepancy.mean, discrepancy.cov
        blocks.append(
            (cov, mean if meanstructure else None, moments.sigma,
             moments.mu if meanstructure else None, discrepancy.nobs)
        )  # fmt: skip
    return measures.srmr(blocks)


def fit_measures(fit) -> dict[str, float]:
    npar = fit.model.n_phi
    nobs = fit.nobs
    ngroups = len(fit.sample.groups)
    logl, logl_h1 = _loglik(fit)
    chisq = max(2.0 * (logl_h1 - logl), 0.0)
    df = moments_count(fit) - npar
    logl_0, npar_0 = _baseline(fit)
    baseline_chisq = 2.0 * (logl_h1 - logl_0)
    baseline_df = moments_count(fit) - npar_0
    lower, upper = measures.rmsea_ci(chisq, df, nobs, ngroups)
    return {
        "npar": npar,
        "chisq": chisq,
        "df": df,
        "pvalue": measures.chisq_pvalue(chisq, df),
        "baseline_chisq": baseline_chisq,
        "baseline_df": baseline_df,
        "cfi": measures.cfi(chisq, df, baseline_chisq, baseline_df),
        "tli": measures.tli(chisq, df, baseline_chisq, baseline_df),
        "logl": logl,
        "unrestricted_logl": logl_h1,
        "aic": measures.aic(logl, npar),
        "bic": measures.bic(logl, npar, nobs),
        "rmsea": measures.rmsea(chisq, df, nobs, ngroups),
        "rmsea_ci_lower": lower,
        "rmsea_ci_upper": upper,
        "rmsea_pvalue": measures.rmsea_pvalue(chisq, df, nobs, ngroups),
        "srmr": _srmr(fit),
    }
