"""Fit (ML, complete data) -> the scaled tests of the Satorra-Bentler family and Browne's
residual-based tests, as lavaan 0.6.14 computes them.

Input: a :class:`~semlang.results.fit.Fit` and its standard measures (chisq, df,
baseline_chisq, baseline_df). Output: for a scaled test the measures under lavaan's names in
snake_case (chisq_scaled, df_scaled, pvalue_scaled, chisq_scaling_factor,
chisq_shift_parameter, the baseline's, the ``*_scaled`` indices and, but for the mean and
variance adjusted test, the ``*_robust`` ones); for a residual-based test its statistic, df
and p-value.

With a = tr(UΓ), b = tr((UΓ)²) (:mod:`semlang.results.robust_sem`) and the model's df:

* satorra.bentler: c = a/df, T/c on df;
* mean.var.adjusted (Satterthwaite, lavaan's MLMVS): df* = a²/b, c = a/df*, T/c on df*;
* scaled.shifted (lavaan's MLMV): s = √(df/b), T·s + (df − s·a) on df; c = 1/s;
* yuan.bentler: as satorra.bentler, Γ replaced by Ω = A1⁻¹ B1 A1⁻¹ of the unrestricted model
  (expected and first-order information at the sample moments);
* browne.residual.adf / .nt: N rᵀ Δc (Δcᵀ Γ Δc)⁻¹ Δcᵀ r, r the residual moments, Δc the
  orthogonal complement of Δ and Γ the ADF or the normal-theory covariance of the moments
  (the ``.model`` variants: Γ about the model-implied moments).

The scaled RMSEA takes T against df = a (the scaled-shifted test: its own statistic on df); the
robust CFI/TLI/RMSEA take T − c·df (scaled-shifted: c = (df − shift)/(s·df)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import block_diag, null_space

from semlang.estimate.missing import vech_indices
from semlang.options import Information, Test
from semlang.results import measures, robust_measures
from semlang.results.robust import (
    _bread_inverse,
    _first_order,
    _free_rows,
    _gamma,
    _groups,
    _h1_information,
    _not_x,
)
from semlang.results.robust_sem import Traces, baseline_traces, model_traces


@dataclass(frozen=True)
class Scaled:
    """A scaled statistic: value, df, scaling factor and shift (0 but for scaled.shifted)."""

    stat: float
    df: float
    factor: float
    shift: float = 0.0


def scale(test: Test, chisq: float, df: float, traces: Traces) -> Scaled:
    """The scaled statistic of ``test`` from χ², df and the traces (unscaled when df is 0)."""
    if not df > 0:
        return Scaled(chisq, df, math.nan)
    a, b = traces.trace, traces.trace2
    if test is Test.MEAN_VAR_ADJUSTED:
        df_star = a * a / b
        c = robust_measures.scaling_factor(a, df_star)
        return Scaled(chisq / c, df_star, c)
    if test is Test.SCALED_SHIFTED:
        s = math.sqrt(df / b)
        shift = df - s * a
        return Scaled(chisq * s + shift, df, 1.0 / s, shift)
    c = robust_measures.scaling_factor(a, df)
    return Scaled(chisq / c, df, c)


def _omegas(fit) -> list[np.ndarray]:
    """Ω_g = A1⁻¹ B1 A1⁻¹ of the unrestricted model (moments with no information left out)."""
    out = []
    for group in _groups(fit):
        a1 = _h1_information(group, group.h1_cov, group.h1_mean, Information.EXPECTED)
        b1 = _first_order(group, group.h1_cov, group.h1_mean)
        keep = np.abs(np.diag(a1)) > 0
        inverse = np.zeros_like(a1)
        inverse[np.ix_(keep, keep)] = np.linalg.inv(a1[np.ix_(keep, keep)])
        out.append(inverse @ b1 @ inverse)
    return out


def scaled_measures(fit, base: dict, test: Test) -> dict[str, float]:
    """The measures of one scaled test (see the module docstring) under lavaan's names."""
    gammas = _omegas(fit) if test is Test.YUAN_BENTLER else None
    traces = model_traces(fit, gammas)
    chisq, df = base["chisq"], base["df"]
    chisq0, df0 = base["baseline_chisq"], base["baseline_df"]
    model = scale(test, chisq, df, traces)
    baseline = scale(test, chisq0, df0, baseline_traces(fit, gammas))
    out = {
        "chisq_scaled": model.stat,
        "df_scaled": model.df,
        "pvalue_scaled": measures.chisq_pvalue(model.stat, model.df),
        "chisq_scaling_factor": model.factor,
        "baseline_chisq_scaled": baseline.stat,
        "baseline_df_scaled": baseline.df,
        "baseline_pvalue_scaled": measures.chisq_pvalue(baseline.stat, baseline.df),
        "baseline_chisq_scaling_factor": baseline.factor,
    }
    if test is Test.SCALED_SHIFTED:
        out["chisq_shift_parameter"] = model.shift
        out["baseline_chisq_shift_parameter"] = baseline.shift
    if test is Test.YUAN_BENTLER:
        out |= _yuan_bentler_parts(fit, test)
    ngroups = len(fit.sample.groups)
    nobs = fit.inference_nobs  # N - G with likelihood="wishart", as lavaan's RMSEA
    rmsea = (model.stat, df) if test is Test.SCALED_SHIFTED else (chisq, traces.trace)
    out |= robust_measures.scaled_indices(model.stat, model.df, baseline.stat, baseline.df,
                                          *rmsea, nobs, ngroups)  # fmt: skip
    if test is not Test.MEAN_VAR_ADJUSTED:
        point, point0 = _robust_factor(model, df), _robust_factor(baseline, df0)
        robust = (chisq, point, model.stat, model.factor)
        out |= robust_measures.robust_indices(df, df0, robust, (chisq0, point0), nobs, ngroups)
    return out


def _robust_factor(scaled: Scaled, df: float) -> float:
    """lavaan's c of the robust CFI and RMSEA: the scaling factor, for scaled.shifted
    c·(df − shift)/df."""
    if not df > 0:
        return math.nan
    return scaled.factor * (df - scaled.shift) / df


def _yuan_bentler_parts(fit, test: Test) -> dict[str, float]:
    """scaling_factor_h1 = tr(A1⁻¹ B1)/ndat and scaling_factor_h0 = tr(E⁻¹ B0)/npar."""
    groups = _groups(fit)
    h1 = ndat = 0.0
    for group in groups:
        a1 = _h1_information(group, group.h1_cov, group.h1_mean, Information.EXPECTED)
        b1 = _first_order(group, group.h1_cov, group.h1_mean)
        keep = np.abs(np.diag(a1)) > 0
        h1 += float(np.trace(np.linalg.solve(a1[np.ix_(keep, keep)], b1[np.ix_(keep, keep)])))
        ndat += int(keep.sum())
    e_inv = _bread_inverse(fit)
    h0 = sum(g.weight * float(np.sum(e_inv * (g.delta.T @ _first_order(g, g.sigma, g.mu)
                                              @ g.delta))) for g in groups)  # fmt: skip
    return {"scaling_factor_h1": h1 / ndat, "scaling_factor_h0": h0 / _free_rows(fit)}


# --------------------------------------------------------------------------- Browne


def _residuals(group) -> np.ndarray:
    """Sample minus model-implied moments, (μ, vech Σ) as the group's moments."""
    rows, cols = vech_indices(group.p)
    sigma = (group.h1_cov - group.sigma)[rows, cols]
    if not group.meanstructure:
        return sigma
    return np.concatenate([group.h1_mean - group.mu, sigma])


def _normal_gamma(group, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """The normal-theory covariance of the moments at (Σ, μ) (W⁻¹), the fixed.x covariates'
    own moments left at zero."""
    gamma = np.linalg.inv(_h1_information(group, sigma, mu, Information.EXPECTED))
    gamma[~_not_x(group)] = 0.0
    gamma[:, ~_not_x(group)] = 0.0
    return gamma


def _model_gamma(group) -> np.ndarray:
    """The ADF covariance of the moments about the model-implied moments: the mean of z zᵀ,
    z = (y − μ̂, vech((y − μ̂)(y − μ̂)ᵀ − Σ̂))."""
    rows, cols = vech_indices(group.p)
    centered = group.raw - group.mu
    z = centered[:, rows] * centered[:, cols] - group.sigma[rows, cols]
    if group.meanstructure:
        z = np.hstack([centered, z])
    return z.T @ z / z.shape[0]


def _browne_gamma(group, adf: bool, model_based: bool) -> np.ndarray:
    if adf:
        return _model_gamma(group) if model_based else _gamma(group)
    if model_based:
        return _normal_gamma(group, group.sigma, group.mu)
    return _normal_gamma(group, group.h1_cov, group.h1_mean)


def browne_residual(fit, base: dict, adf: bool = True, model_based: bool = False) -> dict:
    """Browne's residual-based test (ADF or normal theory; Γ at the sample moments, or at the
    model-implied ones with ``model_based``): statistic, df, p-value and the statistic of each
    group (shared parameters: the statistic split by the groups' sizes)."""
    groups = _groups(fit)
    keep = [_not_x(g) for g in groups]
    gammas = [_browne_gamma(g, adf, model_based)[np.ix_(k, k)]
              for g, k in zip(groups, keep, strict=True)]  # fmt: skip
    deltas = [g.delta[k] for g, k in zip(groups, keep, strict=True)]
    resid = [_residuals(g)[k] for g, k in zip(groups, keep, strict=True)]
    used = [np.any(d != 0, axis=0) for d in deltas]
    shared = len(groups) > 1 and np.any(np.sum(used, axis=0) > 1)
    if shared:
        weights = [g.weight for g in groups]
        stat = _browne(
            np.concatenate(resid),
            np.vstack(deltas),
            block_diag(*[m / w for m, w in zip(gammas, weights, strict=True)]),
        )
        by_group = tuple(stat * w for w in weights)  # fmt: skip
    else:
        by_group = tuple(
            g.weight * _browne(r, d[:, u], m)
            for g, r, d, u, m in zip(groups, resid, deltas, used, gammas, strict=True)
        )
        stat = sum(by_group)
    stat *= fit.nobs
    by_group = tuple(fit.nobs * s for s in by_group)
    df = base["df"]
    return {"stat": stat, "df": df, "pvalue": measures.chisq_pvalue(stat, df),
            "stat_groups": by_group}  # fmt: skip


def _browne(resid: np.ndarray, delta: np.ndarray, gamma: np.ndarray) -> float:
    """rᵀ Δc (Δcᵀ Γ Δc)⁻¹ Δcᵀ r (per observation; a generalized inverse if singular)."""
    complement = null_space(delta.T)
    projected = complement.T @ resid
    middle = complement.T @ gamma @ complement
    return float(projected @ np.linalg.pinv(middle, hermitian=True) @ projected)
