"""Fit -> lavaan's fit measures (``fitMeasures()``), from the family's statistics and the pure
functions in :mod:`semlang.results.measures`.

Input: a :class:`~semlang.results.fit.Fit` and its family's
:class:`~semlang.estimate.families.Statistics`. Output: a dict keyed by lavaan's names in
snake_case: :func:`test_measures` (npar, fmin, χ², the baseline's test, the incremental indices,
RMSEA with its interval and p-values, CN, MFI, ECVI) for any family; :func:`likelihood_measures`
adds the log-likelihoods, AIC, BIC, SABIC, the residual-based measures
(:func:`residual_measures`: RMR, the SRMR variants, CRMR) and GFI, AGFI, PGFI
(:func:`gfi_measures`, with ML's weight matrix from :func:`normal_weights`).
:func:`in_lavaan_order` puts the keys in the order of lavaan's ``fitMeasures()``.
"""

from __future__ import annotations

import numpy as np

from semlang.estimate.families import Statistics, free_parameter_count, moments_count
from semlang.estimate.missing_patterns import vech_indices
from semlang.results import measures

# lavaan 0.6.14's fitMeasures(fit, "all") order (two-level and categorical names included);
# any other key keeps its place after these
LAVAAN_ORDER = (
    "npar", "fmin", "chisq", "df", "pvalue", "chisq_scaled", "df_scaled", "pvalue_scaled",
    "chisq_scaling_factor", "baseline_chisq", "baseline_df", "baseline_pvalue",
    "baseline_chisq_scaled", "baseline_df_scaled", "baseline_pvalue_scaled",
    "baseline_chisq_scaling_factor", "cfi", "tli", "cfi_scaled", "tli_scaled", "cfi_robust",
    "tli_robust", "nnfi", "rfi", "nfi", "pnfi", "ifi", "rni", "nnfi_scaled", "rfi_scaled",
    "nfi_scaled", "pnfi_scaled", "ifi_scaled", "rni_scaled", "nnfi_robust", "rni_robust",
    "logl", "unrestricted_logl", "aic", "bic", "ntotal", "bic2", "scaling_factor_h1",
    "scaling_factor_h0", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_ci_level",
    "rmsea_pvalue", "rmsea_close_h0", "rmsea_notclose_pvalue", "rmsea_notclose_h0",
    "rmsea_scaled", "rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled", "rmsea_pvalue_scaled",
    "rmsea_notclose_pvalue_scaled", "rmsea_robust", "rmsea_ci_lower_robust",
    "rmsea_ci_upper_robust", "rmsea_pvalue_robust", "rmsea_notclose_pvalue_robust", "rmr",
    "rmr_nomean", "srmr", "srmr_within", "srmr_between", "srmr_bentler", "srmr_bentler_nomean",
    "crmr", "crmr_nomean", "srmr_mplus", "srmr_mplus_nomean", "cn_05", "cn_01", "gfi", "agfi",
    "pgfi", "mfi", "ecvi", "wrmr",
)  # fmt: skip
_RANK = {name: k for k, name in enumerate(LAVAAN_ORDER)}


def srmr(fit) -> float:
    """SRMR (Bentler's) from the family's h1 moments and the implied moments."""
    meanstructure = fit.table.meanstructure
    blocks = [
        (h1.cov, h1.mean if meanstructure else None, moments.sigma,
         moments.mu if meanstructure else None, h1.nobs)
        for moments, h1 in zip(fit.implied, fit.family.h1_moments(fit), strict=True)
    ]  # fmt: skip
    return measures.srmr(blocks)


def in_lavaan_order(values: dict) -> dict:
    """The same measures, lavaan's names first in lavaan's order, then the others as they were."""
    known = sorted((k for k in values if k in _RANK), key=_RANK.__getitem__)
    return {k: values[k] for k in known} | {k: v for k, v in values.items() if k not in _RANK}


def test_measures(fit, stats: Statistics) -> dict[str, float]:
    """npar, fmin, χ², df, the baseline's test and the χ²-based indices of any family (N in
    RMSEA, CN, MFI and ECVI is the family's: N, or N − G for least squares and
    likelihood='wishart', as lavaan); fmin is lavaan's: half the minimized discrepancy."""
    ngroups = len(fit.model.layouts) if fit.table.nlevels == 1 else 1
    out = measures.chisq_measures(
        npar=free_parameter_count(fit.table),
        ndat=moments_count(fit.table),
        chisq=stats.chisq,
        baseline_chisq=stats.baseline_chisq,
        baseline_npar=stats.baseline_npar,
        nobs=fit.inference_nobs,
        ngroups=ngroups,
    )
    if "fmin" in out:
        out["fmin"] = fit.objective_value / 2.0
    return out


def likelihood_measures(fit, stats: Statistics) -> dict[str, float]:
    """The measures of a single-level likelihood family (ML, FIML)."""
    out = test_measures(fit, stats)
    logl, h1_logl = stats.logl, stats.unrestricted_logl
    assert logl is not None and h1_logl is not None  # (set by every likelihood family)
    out.update(measures.loglik_measures(logl, h1_logl, int(out["npar"]), fit.nobs))
    out.update(residual_measures(fit))
    out.update(gfi_measures(fit, out["df"], normal_weights(fit)))
    return in_lavaan_order(out)


# --------------------------------------------------------------------------- residual based


def _blocks(fit) -> list[tuple]:
    """Per group (h1 cov, h1 mean, implied cov, implied mean, n); means None without a mean
    structure."""
    meanstructure = fit.table.meanstructure
    return [
        (h1.cov, h1.mean if meanstructure else None, moments.sigma,
         moments.mu if meanstructure else None, h1.nobs)
        for moments, h1 in zip(fit.implied, fit.family.h1_moments(fit), strict=True)
    ]  # fmt: skip


def residual_measures(fit) -> dict[str, float]:
    """rmr, rmr_nomean, srmr, srmr_bentler(_nomean), crmr(_nomean), srmr_mplus(_nomean) of a
    single-level fit, from the family's unrestricted moments and the implied ones."""
    return measures.residual_summary(_blocks(fit))


def _moment_vector(cov: np.ndarray, mean: np.ndarray | None) -> np.ndarray:
    rows, cols = vech_indices(cov.shape[0])
    vech = np.asarray(cov)[rows, cols]
    return vech if mean is None else np.concatenate([np.asarray(mean).ravel(), vech])


def gfi_measures(fit, df: float, weights: list[np.ndarray]) -> dict[str, float]:
    """gfi, agfi and pgfi with one weight matrix per group over (means,) vech(cov) in
    :func:`~semlang.estimate.missing.vech_indices` order (a 1-d array: a diagonal one), against
    each group's sample statistics (lavaan's WLS.obs)."""
    meanstructure = fit.table.meanstructure
    parts = []
    blocks = zip(_blocks(fit), fit.estimation.objective.discrepancies, weights, strict=True)
    for (_, _, sigma, mu, n), discrepancy, w in blocks:
        mean, cov = discrepancy.sample_moments()  # lavaan's: pairwise ones under FIML
        observed = _moment_vector(cov, mean if meanstructure else None)
        parts.append((observed, _moment_vector(sigma, mu), w, n))
    nel = sum(len(observed) for observed, *_ in parts)
    value = measures.gfi(parts)
    return {
        "gfi": value,
        "agfi": measures.agfi(value, nel, df),
        "pgfi": measures.pgfi(value, nel, df),
    }


def _not_fixed_x(fit, group: int) -> np.ndarray:
    """Mask over (μ,) vech Σ: False for the moments among the fixed.x covariates only."""
    layout, block = fit.model.layouts[group], fit.table.blocks[group]
    names = list(layout.observed)
    is_x = np.zeros(len(names), dtype=bool)
    if fit.table.options.fixed_x:
        is_x[[names.index(v) for v in block.observed_exogenous]] = True
    rows, cols = vech_indices(len(names))
    keep = ~(is_x[rows] & is_x[cols])
    return np.concatenate([~is_x, keep]) if fit.table.meanstructure else keep


def normal_weights(fit) -> list:
    """ML's weight per group (lavaan's ``WLS.V``): the expected information of the moments at
    the implied Σ̂ (complete data: Σ̂⁻¹ and ½ D'(Σ̂⁻¹ ⊗ Σ̂⁻¹)D, as a quadratic form; FIML: the
    missing-data expected information over the patterns), the fixed.x covariates' own moments
    left out."""
    parts = zip(fit.implied, fit.estimation.objective.discrepancies, strict=True)
    return [
        discrepancy.moment_weight(moments.sigma, _not_fixed_x(fit, group), fit.table.meanstructure)
        for group, (moments, discrepancy) in enumerate(parts)
    ]
