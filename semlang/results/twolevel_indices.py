"""Fit of a two-level model → lavaan's fit measures for two-level ML (``fitMeasures()``).

Input: a :class:`~semlang.results.fit.Fit` of a model with ``level:`` blocks. Output: a dict keyed
by lavaan's names in snake_case: npar, chisq, df, pvalue, baseline_chisq, baseline_df, cfi, tli,
logl, unrestricted_logl, aic, bic, rmsea (with its interval and close-fit p-value), srmr,
srmr_within, srmr_between; plus nclusters.

As lavaan 0.6.14 does for two-level models:

* ``unrestricted_logl`` is the EM fit of the unrestricted model with lavaan's stopping rule, and
  χ² = 2(unrestricted_logl − logl), set to 0 if negative;
* the degrees of freedom count lavaan's sample moments (:func:`moments_count`);
* the baseline model has diagonal Σ_W and Σ_B (the fixed covariates keep their block);
* N in RMSEA and BIC is the number of level-1 rows;
* SRMR is the sum of a within and a between part, each from the correlation residuals of the
  unrestricted model's Σ_W, Σ_B against the implied ones, without mean residuals.
"""

from __future__ import annotations

from semlang.estimate.twolevel import twolevel_loglik
from semlang.partable.table import ParameterTable
from semlang.results import measures
from semlang.syntax.ast import Op


def moments_count(table: ParameterTable) -> int:
    """lavaan's number of sample moments (``ndat``) of a two-level model.

    Level 1: the covariances of its variables and the means of the variables only it mentions;
    level 2: covariances and means. The fixed covariates' covariances are not counted, nor their
    level-2 means (the means of level-1-only covariates are not among the level-1 moments).
    """
    exo = {(row.block, row.lhs) for row in table.rows if row.exo and row.op is Op.COVARIANCE}
    total = 0
    for block in table.blocks:
        p = len(block.observed)
        k = sum(1 for name in block.observed if (block.index, name) in exo)
        count = p * (p + 1) // 2 - k * (k + 1) // 2
        if block.level == 1:
            others = {v for b in table.blocks if b.index != block.index for v in b.observed}
            count += sum(
                1 for v in block.observed if v not in others and (block.index, v) not in exo
            )
        else:
            count += p - k
        total += count
    return total


def _logl(fit) -> float:
    within, between = fit.implied
    data = fit.estimation.objective.sample.data
    return twolevel_loglik(data, within.sigma, between.sigma, between.mu, within.mu)


def _srmr(fit) -> tuple[float, float, float]:
    sample = fit.estimation.objective.sample
    within, between = fit.implied
    group = (sample.h1.sigma_w, within.sigma, sample.h1.sigma_b, between.sigma, sample.nobs)
    return measures.srmr_twolevel([group])


def fit_measures(fit) -> dict[str, float]:
    sample = fit.estimation.objective.sample
    out = measures.standard_measures(
        npar=fit.model.n_phi - fit.model.space.n_equalities,
        ndat=moments_count(fit.table),
        logl=_logl(fit),
        unrestricted_logl=sample.h1.loglik,
        baseline_logl=sample.baseline.loglik,
        baseline_npar=sample.baseline.npar,
        nobs=sample.nobs,
    )
    srmr, srmr_within, srmr_between = _srmr(fit)
    out.update(srmr=srmr, srmr_within=srmr_within, srmr_between=srmr_between)
    out["nclusters"] = sample.nclusters
    return out
