"""Fit (ML or least squares, complete data) -> the scaled tests of the Satorra-Bentler family
and Browne's residual-based tests, as lavaan 0.6.14 computes them.

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
  (the ``.model`` variants: Γ about the model-implied moments, but for the families that keep
  the sample Γ — WLS, DWLS, ULS — whose ADF test always takes it); each group counts n_g, or
  n_g − 1 when the family's N is N − G (least squares, the Wishart likelihood).

The scaled RMSEA takes T against df = a (the scaled-shifted test: its own statistic on df); the
robust CFI/TLI/RMSEA take T − c·df (scaled-shifted: c = (df − shift)/(s·df)), the robust CFI
and TLI the plain T − df when a Satorra-Bentler factor is 1 (lavaan's rule; DWLS's baseline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import null_space

from semlang.estimate.missing import vech_indices
from semlang.matrices import block_diagonal
from semlang.options import Information, Likelihood, Test
from semlang.results import measures, robust_measures, robust_structured
from semlang.results.robust import (
    _bread_inverse,
    _first_order,
    _free_rows,
    _gamma,
    _groups,
    _h1_information,
    _meat,
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


def _omega_is_gamma(fit, group) -> bool:
    """Whether Ω_g is Γ_g: with complete data, no fixed.x covariates and the normal likelihood
    the scores at the sample moments are A1 (z − z̄), z the rows' moment contributions, so that
    B1 = A1 Γ A1 and Ω = Γ (without computing the scores)."""
    return not group.fiml and not group.x_index.size and fit.options.likelihood is Likelihood.NORMAL


def _omegas(fit) -> list[np.ndarray]:
    """Ω_g = A1⁻¹ B1 A1⁻¹ of the unrestricted model (moments with no information left out)."""
    out = []
    for group in _groups(fit):
        if _omega_is_gamma(fit, group):
            out.append(_gamma(group))
            continue
        a1 = _h1_information(group, group.h1_cov, group.h1_mean, Information.EXPECTED)
        b1 = _first_order(group, group.h1_cov, group.h1_mean)
        keep = np.abs(np.diag(a1)) > 0
        inverse = np.zeros_like(a1)
        inverse[np.ix_(keep, keep)] = np.linalg.inv(a1[np.ix_(keep, keep)])
        out.append(inverse @ b1 @ inverse)
    return out


def scaled_measures(fit, base: dict, test: Test) -> dict[str, float]:
    """The measures of one scaled test (see the module docstring) under lavaan's names."""
    gammas = None  # (Γ: where every Ω is Γ, the default, which large models do without)
    if test is Test.YUAN_BENTLER and not all(_omega_is_gamma(fit, g) for g in _groups(fit)):
        gammas = _omegas(fit)
    traces = model_traces(fit, gammas)
    chisq, df = base["chisq"], base["df"]
    chisq0, df0 = base["baseline_chisq"], base["baseline_df"]
    model = scale(test, chisq, df, traces)
    baseline = scale(test, chisq0, df0, baseline_traces(fit, gammas))
    out = scaled_statistics(test, model, baseline)
    if test is Test.YUAN_BENTLER:
        out |= _yuan_bentler_parts(fit, test)
    ngroups = len(fit.sample.groups)
    nobs = fit.inference_nobs  # N - G with likelihood="wishart", as lavaan's RMSEA
    rmsea: tuple[float, float] = (
        (model.stat, df) if test is Test.SCALED_SHIFTED else (chisq, traces.trace)
    )
    out |= robust_measures.scaled_indices(model.stat, model.df, baseline.stat, baseline.df,
                                          *rmsea, nobs, ngroups)  # fmt: skip
    if test is not Test.MEAN_VAR_ADJUSTED:
        point, point0 = _robust_factor(model, df), _robust_factor(baseline, df0)
        robust = (chisq, point, model.stat, model.factor)
        plain_if_one = test is not Test.SCALED_SHIFTED
        out |= robust_measures.robust_indices(df, df0, robust, (chisq0, point0), nobs, ngroups,
                                              plain_if_one=plain_if_one)  # fmt: skip
    return out


def scaled_statistics(test: Test, model: Scaled, baseline: Scaled) -> dict[str, float]:
    """The scaled statistics of the model and the baseline (and their shifts) under lavaan's
    names."""
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
    return out


def _robust_factor(scaled: Scaled, df: float) -> float:
    """lavaan's c of the robust CFI and RMSEA: the scaling factor, for scaled.shifted
    c·(df − shift)/df (which is tr(UΓ)/df again, up to rounding). A Satorra-Bentler factor
    of 1 up to rounding is 1: DWLS's baseline has tr(UΓ) = df (its W = diag(Γ)⁻¹ is diagonal),
    and lavaan's robust CFI and TLI are then the plain ones; not so with scaled.shifted, whose
    c lavaan finds 1 only up to rounding (so that its robust formulas apply)."""
    if not df > 0:
        return math.nan
    if scaled.shift == 0.0 and abs(scaled.factor - 1.0) < 1e-10:
        return 1.0
    return scaled.factor * (df - scaled.shift) / df


def _yuan_bentler_parts(fit, test: Test) -> dict[str, float]:
    """scaling_factor_h1 = tr(A1⁻¹ B1)/ndat and scaling_factor_h0 = tr(E⁻¹ B0)/npar."""
    groups = _groups(fit)
    h1 = ndat = 0.0
    for group in groups:
        if _omega_is_gamma(fit, group) and robust_structured.applies(group):
            trace, count = robust_structured.h1_trace(group)
            h1, ndat = h1 + trace, ndat + count
            continue
        a1 = _h1_information(group, group.h1_cov, group.h1_mean, Information.EXPECTED)
        keep = np.abs(np.diag(a1)) > 0
        a1 = a1[np.ix_(keep, keep)]
        if _omega_is_gamma(fit, group):  # tr(A1⁻¹ A1 Γ A1) = tr(Γ A1)
            h1 += float(np.sum(a1 * _gamma(group)[np.ix_(keep, keep)].T))
        else:
            b1 = _first_order(group, group.h1_cov, group.h1_mean)[np.ix_(keep, keep)]
            h1 += float(np.trace(np.linalg.solve(a1, b1)))
        ndat += int(keep.sum())
    e_inv = _bread_inverse(fit)
    h0 = sum(g.weight * float(np.sum(e_inv * _meat(g))) for g in groups)
    return {"scaling_factor_h1": h1 / ndat, "scaling_factor_h0": h0 / _free_rows(fit)}


# --------------------------------------------------------------------------- Browne


def _residuals(group) -> np.ndarray:
    """Sample minus model-implied moments, (μ, vech Σ) as the group's moments."""
    rows, cols = vech_indices(group.p)
    sigma = (group.h1_cov - group.sigma)[rows, cols]
    if not group.meanstructure:
        return sigma
    return np.concatenate([group.h1_mean - group.mu, sigma])


def _normal_gamma(group, sigma: np.ndarray) -> np.ndarray:
    """lavaan's normal-theory covariance of the moments at Σ: Γ_NT(Σ) with
    Γ_NT(S)[ij, kl] = S_ik S_jl + S_il S_jk (and S for the means); with fixed.x covariates
    x, Γ_NT(Σ) − Γ_NT(R), R = Σ less the residual covariance Σ_y|x of the other variables
    (which is also the means' block, zero for the covariates)."""
    x = group.x_index
    residual = np.zeros_like(sigma)
    if len(x):
        y = np.setdiff1d(np.arange(group.p), x)
        b = sigma[np.ix_(y, x)]
        residual[np.ix_(y, y)] = sigma[np.ix_(y, y)] - b @ np.linalg.solve(sigma[np.ix_(x, x)], b.T)
        gamma = _gamma_nt(sigma) - _gamma_nt(sigma - residual)
    else:
        residual, gamma = sigma, _gamma_nt(sigma)
    return block_diagonal(residual, gamma) if group.meanstructure else gamma


def _gamma_nt(s: np.ndarray) -> np.ndarray:
    rows, cols = vech_indices(s.shape[0])
    return (s[np.ix_(rows, rows)] * s[np.ix_(cols, cols)]
            + s[np.ix_(rows, cols)] * s[np.ix_(cols, rows)])  # fmt: skip


def _model_gamma(group) -> np.ndarray:
    """The ADF covariance of the moments about the model-implied moments: the mean of z zᵀ,
    z = (y − μ̂, vech((y − μ̂)(y − μ̂)ᵀ − Σ̂))."""
    rows, cols = vech_indices(group.p)
    centered = group.raw - group.mu
    z = centered[:, rows] * centered[:, cols] - group.sigma[rows, cols]
    if group.meanstructure:
        z = np.hstack([centered, z])
    return z.T @ z / z.shape[0]


def _browne_gamma(group, adf: bool, model_based: bool, stores_gamma: bool) -> np.ndarray:
    if adf:
        return _model_gamma(group) if model_based and not stores_gamma else _gamma(group)
    return _normal_gamma(group, group.sigma if model_based else group.h1_cov)


def browne_residual(fit, base: dict, adf: bool = True, model_based: bool = False) -> dict:
    """Browne's residual-based test (ADF or normal theory; Γ at the sample moments, or at the
    model-implied ones with ``model_based``): statistic, df, p-value and the statistic of each
    group (shared parameters: the statistic split by the groups' sizes)."""
    groups = _groups(fit)
    keep = [_not_x(g) for g in groups]
    stores_gamma = fit.family.stores_gamma
    gammas = [_browne_gamma(g, adf, model_based, stores_gamma)[np.ix_(k, k)]
              for g, k in zip(groups, keep, strict=True)]  # fmt: skip
    deltas = [g.delta[k] for g, k in zip(groups, keep, strict=True)]
    resid = [_residuals(g)[k] for g, k in zip(groups, keep, strict=True)]
    used = [np.any(d != 0, axis=0) for d in deltas]
    shared = len(groups) > 1 and np.any(np.sum(used, axis=0) > 1)
    # each group counts n_g, or n_g − 1 where the family's N is N − G (least squares, Wishart)
    less = 1 if fit.inference_nobs < fit.nobs else 0
    counts = [g.nobs - less for g in fit.sample.groups]
    if shared:
        stat = fit.nobs * _browne(
            np.concatenate(resid),
            np.vstack(deltas),
            block_diagonal(*[m * fit.nobs / n for m, n in zip(gammas, counts, strict=True)]),
        )
        by_group = tuple(stat * g.weight for g in groups)  # fmt: skip
    else:
        by_group = tuple(
            n * _browne(r, d[:, u], m)
            for n, r, d, u, m in zip(counts, resid, deltas, used, gammas, strict=True)
        )
        stat = sum(by_group)
    df = base["df"]
    return {"stat": stat, "df": df, "pvalue": measures.chisq_pvalue(stat, df),
            "stat_groups": by_group}  # fmt: skip


def _browne(resid: np.ndarray, delta: np.ndarray, gamma: np.ndarray) -> float:
    """rᵀ Δc (Δcᵀ Γ Δc)⁻¹ Δcᵀ r (per observation; a generalized inverse if singular)."""
    complement = null_space(delta.T)
    projected = complement.T @ resid
    middle = complement.T @ gamma @ complement
    return float(projected @ np.linalg.pinv(middle, hermitian=True) @ projected)
