"""Fit -> lavaan's fit measures (``fitMeasures()``), from the family's statistics and the pure
functions in :mod:`semlang.results.measures`.

Input: a :class:`~semlang.results.fit.Fit` and its family's
:class:`~semlang.estimate.families.Statistics`. Output: a dict keyed by lavaan's names in
snake_case: npar, chisq, df, pvalue, baseline_chisq, baseline_df, cfi, tli, (for likelihood
families) logl, unrestricted_logl, aic, bic, then rmsea with its interval and p-values, srmr.
"""

from __future__ import annotations

from semlang.estimate.families import Statistics, free_parameter_count, moments_count
from semlang.results import measures


def srmr(fit) -> float:
    """SRMR (Bentler's) from the family's h1 moments and the implied moments."""
    meanstructure = fit.table.meanstructure
    blocks = [
        (h1.cov, h1.mean if meanstructure else None, moments.sigma,
         moments.mu if meanstructure else None, h1.nobs)
        for moments, h1 in zip(fit.implied, fit.family.h1_moments(fit), strict=True)
    ]  # fmt: skip
    return measures.srmr(blocks)


def test_measures(fit, stats: Statistics) -> dict[str, float]:
    """npar, χ², df, the baseline and the χ²-based indices of any family (RMSEA with the
    family's N: the rows, or N minus the groups for lavaan's least-squares and Wishart fits)."""
    return measures.chisq_measures(
        npar=free_parameter_count(fit.table),
        ndat=moments_count(fit.table),
        chisq=stats.chisq,
        baseline_chisq=stats.baseline_chisq,
        baseline_npar=stats.baseline_npar,
        nobs=fit.inference_nobs,
        ngroups=len(fit.model.layouts) if fit.table.nlevels == 1 else 1,
    )


def likelihood_measures(fit, stats: Statistics) -> dict[str, float]:
    """The measures of a single-level likelihood family (ML, FIML)."""
    out = test_measures(fit, stats)
    out.update(measures.loglik_measures(stats.logl, stats.unrestricted_logl, out["npar"],
                                        fit.nobs))  # fmt: skip
    out["srmr"] = srmr(fit)
    return out
