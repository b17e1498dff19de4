"""Fit -> lavaan's fit measures (``fitMeasures()``), from the pure functions in
:mod:`semlang.results.measures`.

Input: a :class:`~semlang.results.fit.Fit`. Output: a dict keyed by lavaan's names in snake_case:
npar, chisq, df, pvalue, baseline_chisq, baseline_df, cfi, tli, logl, unrestricted_logl, aic, bic,
rmsea, rmsea_ci_lower, rmsea_ci_upper, rmsea_pvalue, srmr (and, with MLR, the scaled test).
"""

from __future__ import annotations

import numpy as np

from semlang.estimate.fiml_objective import FimlDiscrepancy
from semlang.estimate.missing import (
    MissingPatterns,
    fiml_loglik,
    independence_loglik,
    saturated_em,
)
from semlang.results import measures


def moments_count(fit) -> int:
    """Sample moments the model reproduces (lavaan's ndat, fixed.x moments excluded)."""
    total = 0
    meanstructure = fit.table.meanstructure
    for layout in fit.model.layouts:
        p = layout.n_observed
        k = len(_fixed_x(layout))
        total += p * (p + 1) // 2 - k * (k + 1) // 2
        if meanstructure:
            total += p - len(layout.exo_m)
    return total


def _fixed_x(layout) -> list[int]:
    """Indices (among the observed variables) of the covariates fixed at their sample moments."""
    return sorted({i for i, j in layout.exo_S if i == j})


def _covariates(fit, layout) -> list[int]:
    """Indices of the observed exogenous covariates (fixed or not) of a block."""
    block = fit.table.blocks[layout.block - 1]
    position = {name: k for k, name in enumerate(layout.observed)}
    return sorted(position[name] for name in block.observed_exogenous if name in position)


def _h1_moments(discrepancy) -> tuple[np.ndarray, np.ndarray, int]:
    """(mean, cov, nobs) of the unrestricted model: sample moments, or the EM ones under FIML."""
    if isinstance(discrepancy, FimlDiscrepancy):
        return discrepancy.h1_mean, discrepancy.h1_cov, discrepancy.nobs
    return discrepancy.mean, discrepancy.cov, discrepancy.nobs


def _covariate_loglik(layout, discrepancy) -> float:
    """Log-likelihood of the fixed.x covariates' own (saturated) distribution.

    With fixed.x, lavaan's likelihood is conditional on the covariates: this marginal part is
    left out of logl and unrestricted.logl (it cancels in χ²).
    """
    x = _fixed_x(layout)
    if not x:
        return 0.0
    mean, cov, nobs = _h1_moments(discrepancy)
    block = np.ix_(x, x)
    return measures.loglik_normal(cov[block], mean[x], cov[block], mean[x], nobs)


def _baseline(fit) -> tuple[float, int]:
    """Log-likelihood and free-parameter count of the independence model.

    As lavaan's: every observed variable has its own variance (and mean), all uncorrelated,
    except that the observed exogenous covariates keep their covariances (fixed at the sample
    values with fixed.x, free parameters without).
    """
    logl, npar = 0.0, 0
    meanstructure = fit.table.meanstructure
    for layout, discrepancy, group in zip(
        fit.model.layouts, fit.estimation.objective.discrepancies, fit.sample.groups, strict=True
    ):
        fixed = _fixed_x(layout)
        x = sorted(set(_covariates(fit, layout)) | set(fixed))
        npar += (layout.n_observed - len(fixed)) * (2 if meanstructure else 1)
        if not fixed:  # the covariates' covariances are free parameters
            npar += len(x) * (len(x) - 1) // 2
        if isinstance(discrepancy, FimlDiscrepancy):
            logl += _fiml_baseline_loglik(discrepancy, group.raw, x)
            continue
        cov = discrepancy.cov
        sigma = np.diag(np.diag(cov))
        if x:
            sigma[np.ix_(x, x)] = cov[np.ix_(x, x)]
        logl += measures.loglik_normal(
            cov, discrepancy.mean, sigma, discrepancy.mean, discrepancy.nobs
        )
    return logl - _covariate_total(fit), npar


def _fiml_baseline_loglik(discrepancy, raw: np.ndarray, x: list[int]) -> float:
    """FIML independence log-likelihood, the covariates keeping their joint distribution.

    The covariates' univariate terms of the independence model are replaced by their saturated
    (EM) joint log-likelihood over the rows that observe any of them.
    """
    logl = independence_loglik(discrepancy.patterns)
    if len(x) < 2:
        return logl
    covariates = MissingPatterns.from_array(raw[:, x])
    return logl - independence_loglik(covariates) + saturated_em(covariates).loglik


def _covariate_total(fit) -> float:
    return sum(
        _covariate_loglik(layout, discrepancy)
        for layout, discrepancy in zip(
            fit.model.layouts, fit.estimation.objective.discrepancies, strict=True
        )
    )


def _loglik(fit) -> tuple[float, float]:
    """(logl of the model, logl of the saturated model), conditional on fixed.x covariates."""
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
    covariates = _covariate_total(fit)
    return logl - covariates, logl_h1 - covariates


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
    logl, logl_h1 = _loglik(fit)
    logl_0, npar_0 = _baseline(fit)
    out = measures.standard_measures(
        npar=fit.model.n_phi - fit.model.space.n_equalities,
        ndat=moments_count(fit),
        logl=logl,
        unrestricted_logl=logl_h1,
        baseline_logl=logl_0,
        baseline_npar=npar_0,
        nobs=fit.nobs,
        ngroups=len(fit.sample.groups),
    )
    out["srmr"] = _srmr(fit)
    return out
