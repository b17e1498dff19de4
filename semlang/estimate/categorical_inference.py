"""A categorical fit -> robust.sem standard errors, the scaled tests and the fit measures.

Input: a fit of :class:`~semlang.estimate.categorical_family.CategoricalLeastSquares`. Output:
the covariance matrix of φ̂ and the measures under lavaan's names, as lavaan 0.6.14 computes them
for ordered data (Δ_g = dσ_g/dφ of the statistics, W_g the estimator's weight, Γ_g lavaan's
NACOV, f_g = n_g/N):

* robust.sem: E⁻¹ (Σ_g f_g Δ_gᵀW_gΓ_gW_gΔ_g) E⁻¹ / N with E = Σ_g f_g Δ_gᵀW_gΔ_g;
* U = V − VΔE⁻¹ΔᵀV (V = ⊕ f_g W_g), Γ = ⊕ Γ_g/f_g: a = tr(UΓ), b = tr((UΓ)²), which the
  scaled tests take (:func:`semlang.results.robust_tests.scale`); the baseline's U from its free
  statistics (thresholds, numeric means and variances) with the same W;
* the standard measures of the test T = Σ_g (n_g − 1)(s_g − σ_g)ᵀW_g(s_g − σ_g) (N − G in
  RMSEA), the SRMR of the correlations and WRMR (:func:`residual_measures`).
"""

from __future__ import annotations

import math

import numpy as np

from semlang.estimate.families import free_parameter_count, moments_count
from semlang.matrices import block_diagonal
from semlang.options import Estimator, Test
from semlang.results import measures, robust_measures
from semlang.results import residual_measures as residual
from semlang.results.robust_sem import Traces
from semlang.results.robust_tests import scale, scaled_statistics


def _parts(fit):
    """(discrepancies, Δ_g in φ, E⁻¹) at the estimates."""
    objective = fit.estimation.objective
    phi = fit.estimation.phi
    J = fit.model.space.jacobian(phi)
    deltas = [jac @ J for jac in objective.jacobians(fit.theta)]
    info = objective.information(phi)
    return objective.discrepancies, deltas, np.linalg.pinv(info, hermitian=True)


def robust_sem_vcov(fit, e_inv: np.ndarray | None = None) -> np.ndarray:
    """``e_inv``: E⁻¹ per observation when it is not the plain inverse (a rotated solution's,
    bordered by the rotation's conditions)."""
    discrepancies, deltas, own = _parts(fit)
    e_inv = own if e_inv is None else e_inv
    meat = 0.0
    for d, delta in zip(discrepancies, deltas, strict=True):
        wd = d.W @ delta
        meat = meat + d.weight * wd.T @ d.stats.gamma @ wd
    return e_inv @ meat @ e_inv / fit.inference_nobs


def model_traces(fit) -> Traces:
    discrepancies, deltas, e_inv = _parts(fit)
    v = block_diagonal(*[d.weight * d.W for d in discrepancies])
    vd = v @ np.vstack(deltas)
    u = v - vd @ e_inv @ vd.T
    gamma = block_diagonal(*[d.stats.gamma / d.weight for d in discrepancies])
    product = u @ gamma
    return Traces(float(np.trace(product)), float(np.sum(product * product.T)))


def baseline_traces(fit) -> Traces:
    trace = trace2 = 0.0
    for d in fit.estimation.objective.discrepancies:
        free = np.zeros(len(d.stats.wls_obs), dtype=bool)
        free[: d.cat.n_free_baseline] = True
        w = d.W
        wd = w[:, free]
        u = w - wd @ np.linalg.solve(w[np.ix_(free, free)], wd.T)
        product = u @ d.stats.gamma
        trace += float(np.trace(product))
        trace2 += float(np.sum(product * product.T))
    return Traces(trace, trace2)


def standard_measures(fit, estimator: Estimator) -> dict[str, float]:
    stats = fit.statistics
    ngroups = len(fit.model.layouts)
    out = measures.chisq_measures(
        npar=free_parameter_count(fit.table), ndat=moments_count(fit.table), chisq=stats.chisq,
        baseline_chisq=stats.baseline_chisq, baseline_npar=stats.baseline_npar,
        nobs=fit.inference_nobs, ngroups=ngroups,
    )  # fmt: skip
    out["fmin"] = stats.chisq / (2.0 * fit.nobs)  # lavaan's: χ² = 2N·fmin
    if estimator is Estimator.ULS:  # lavaan: its statistic has no known distribution
        out["pvalue"] = out["baseline_pvalue"] = math.nan
    out.update(residual_measures(fit))
    return out


def residual_measures(fit) -> dict[str, float]:
    """lavaan's residual measures of a categorical fit: the residual correlations (numeric
    variables: standardized covariances; the diagonal counts with residual 0 for ordered
    variables), with the thresholds' residuals in the versions with a mean part; SRMR is
    srmr_bentler_nomean (as lavaan); WRMR = √(χ² ÷ the first group's number of statistics);
    GFI, AGFI and PGFI with the estimator's W. Groups weighted by n_g/N."""
    objective = fit.estimation.objective
    vectors = objective.vectors(fit.theta)
    per_group: dict[str, list[float]] = {}
    weights, gfi_parts = [], []
    ndat = 0
    for d, v in zip(objective.discrepancies, vectors, strict=True):
        for key, value in _group_residuals(d, v).items():
            per_group.setdefault(key, []).append(value)
        weights.append(d.nobs)
        ndat += len(v)
        gfi_parts.append((d.stats.wls_obs, v, d.W, d.nobs))
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    out = {key: float(w @ np.asarray(values)) for key, values in per_group.items()}
    out["srmr"] = out["srmr_bentler_nomean"]
    out["srmr_mplus"] = out["srmr_mplus_nomean"] = math.nan  # (lavaan: NA for ordered data)
    # lavaan's WRMR: √(χ² / the number of the first group's statistics)
    out["wrmr"] = math.sqrt(fit.statistics.chisq / len(vectors[0]))
    df = moments_count(fit.table) - free_parameter_count(fit.table)
    value = residual.gfi(gfi_parts)
    out |= {"gfi": value, "agfi": residual.agfi(value, int(ndat), df),
            "pgfi": residual.pgfi(value, int(ndat), df)}  # fmt: skip
    return out


def _group_residuals(d, vector: np.ndarray) -> dict[str, float]:
    """One group's residual measures, of the (conditional, with covariates) correlation matrix:
    rmr of the raw residuals, srmr_bentler of the residuals over the observed standard
    deviations (the diagonal included), crmr of the residual correlations (no diagonal); the
    versions with a mean part add the thresholds' residuals."""
    cat = d.cat
    cov, implied = _matrix(cat, d.stats.wls_obs), _matrix(cat, vector)
    sd, sd_model = np.sqrt(np.diag(cov)), np.sqrt(np.diag(implied))
    raw = cov - implied
    bentler = raw / np.outer(sd, sd)
    correlation = cov / np.outer(sd, sd) - implied / np.outer(sd_model, sd_model)
    rows, cols = np.tril_indices(cat.p, -1)
    ordered = cat.ordered[cat.th_var]  # (lavaan counts the thresholds, not the numeric means)
    th = (d.stats.wls_obs - vector)[: cat.n_thresholds][ordered]
    th_std = th / sd[cat.th_var[ordered]]
    k = len(th)
    vech_raw = np.sum(raw[rows, cols] ** 2) + np.sum(np.diag(raw) ** 2)
    vech_bentler = np.sum(bentler[rows, cols] ** 2) + np.sum(np.diag(bentler) ** 2)
    off = np.sum(correlation[rows, cols] ** 2)
    q = len(cat.x)  # lavaan counts the covariates' covariances too (residuals zero)
    n_vech = cat.p * (cat.p + 1) // 2 + q * (q + 1) // 2
    n_off = cat.p * (cat.p - 1) // 2 + q * (q - 1) // 2
    return {
        "rmr": math.sqrt((vech_raw + np.sum(th**2)) / (n_vech + k)),
        "rmr_nomean": math.sqrt(vech_raw / n_vech),
        "srmr_bentler": math.sqrt((vech_bentler + np.sum(th_std**2)) / (n_vech + k)),
        "srmr_bentler_nomean": math.sqrt(vech_bentler / n_vech),
        "crmr": math.sqrt((off + np.sum(th_std**2)) / (n_off + k)),
        "crmr_nomean": math.sqrt(off / n_off),
    }


def _matrix(cat, vector: np.ndarray) -> np.ndarray:
    """The correlation (numeric: covariance) matrix held in a statistics vector."""
    out = np.eye(cat.p)
    k = cat.n_thresholds + cat.n_slopes
    out[cat.numeric, cat.numeric] = vector[k : k + len(cat.numeric)]
    off = vector[k + len(cat.numeric) :]
    out[cat.rows, cat.cols] = off
    out[cat.cols, cat.rows] = off
    return out


def scaled_measures(fit, base: dict, test: Test) -> dict[str, float]:
    """The measures of a scaled test (as :func:`semlang.results.robust_tests.scaled_measures`
    with the traces of the categorical statistics)."""
    traces = model_traces(fit)
    chisq, df = base["chisq"], base["df"]
    chisq0, df0 = base["baseline_chisq"], base["baseline_df"]
    model = scale(test, chisq, df, traces)
    baseline = scale(test, chisq0, df0, baseline_traces(fit))
    out = scaled_statistics(test, model, baseline)
    ngroups = len(fit.model.layouts)
    nobs = fit.inference_nobs
    rmsea_x2, rmsea_df = (model.stat, df) if test is Test.SCALED_SHIFTED else (chisq, traces.trace)
    out |= robust_measures.scaled_indices(model.stat, model.df, baseline.stat, baseline.df,
                                          rmsea_x2, rmsea_df, nobs, ngroups)  # fmt: skip
    if test is not Test.MEAN_VAR_ADJUSTED:  # lavaan's robust indices of ordered data: catML
        from semlang.estimate.categorical_robust import robust_measures_catml

        out |= robust_measures_catml(fit, base, _parts(fit))
    return out


def difference_traces(less, more) -> tuple[float, float]:
    """Satorra's (2000) difference test of nested categorical fits (lavaan's lavTestLRT for
    WLSMV): A spans the directions of ``less`` (model 1) that ``more`` (model 0) does not have,
    from H = Δ1⁺Δ0; U = VΔ1 M Δ1ᵀV with M = E⁻¹Aᵀ(AE⁻¹Aᵀ)⁺AE⁻¹, V = ⊕ W_g, Γ = ⊕ f_g Γ_g."""
    from scipy.linalg import null_space

    from semlang.results.satorra2000 import _projection

    discrepancies, deltas, e_inv = _parts(less)
    delta1 = np.vstack(deltas)
    delta0 = np.vstack(_parts(more)[1])
    a = null_space((np.linalg.pinv(delta1) @ delta0).T).T
    m = _projection(a, e_inv)
    vd = block_diagonal(*[d.W for d in discrepancies]) @ delta1
    u = vd @ m @ vd.T
    gamma = block_diagonal(*[d.weight * d.stats.gamma for d in discrepancies])
    product = u @ gamma
    return float(np.trace(product)), float(np.sum(product * product.T))
