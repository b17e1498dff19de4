"""Fit of a two-level model → lavaan's fit measures for two-level ML (``fitMeasures()``).

Input: a :class:`~semlang.results.fit.Fit` of a model with ``level:`` blocks. Output: a dict keyed
by lavaan's names in snake_case: npar, chisq, df, pvalue, the baseline's test, cfi, tli and the
other incremental indices (nnfi, rfi, nfi, pnfi, ifi, rni), logl, unrestricted_logl, aic, bic,
ntotal, bic2, rmsea (with its interval and close- and not-close-fit p-values), srmr,
srmr_within, srmr_between; plus nclusters. As lavaan, no fmin (lavaan's is the two-level
objective's value), no CN, MFI or ECVI, and no GFI or RMR.

As lavaan 0.6.14 does for two-level models:

* ``unrestricted_logl`` is the EM fit of the unrestricted model with lavaan's stopping rule, and
  χ² = 2(unrestricted_logl − logl), set to 0 if negative;
* the degrees of freedom count lavaan's sample moments
  (:func:`~semlang.estimate.families.moments_count`);
* the baseline model has diagonal Σ_W and Σ_B (the fixed covariates keep their block);
* N in RMSEA and BIC is the number of level-1 rows;
* SRMR is the sum of a within and a between part, each from the correlation residuals of the
  unrestricted model's Σ_W, Σ_B against the implied ones, without mean residuals.
"""

from __future__ import annotations

from semlang.results import measures


def _srmr(fit) -> tuple[float, float, float]:
    sample = fit.estimation.objective.sample
    within, between = fit.implied
    group = (sample.h1.sigma_w, within.sigma, sample.h1.sigma_b, between.sigma, sample.nobs)
    return measures.srmr_twolevel([group])


def fit_measures(fit, stats) -> dict[str, float]:
    from semlang.results.indices import test_measures

    sample = fit.estimation.objective.sample
    out = test_measures(fit, stats)
    for key in ("fmin", "cn_05", "cn_01", "mfi", "ecvi"):  # lavaan has none of these
        del out[key]
    out.update(measures.loglik_measures(stats.logl, stats.unrestricted_logl, int(out["npar"]),
                                        sample.nobs))  # fmt: skip
    srmr, srmr_within, srmr_between = _srmr(fit)
    out.update(srmr=srmr, srmr_within=srmr_within, srmr_between=srmr_between)
    out["nclusters"] = sample.nclusters
    return out
