"""Fit -> lavaan's FIML-corrected robust fit measures (Savalei's FIML-C, lavaan's versions "V3"
for MLR and "V6" for ML without a scaled test).

Input: a :class:`~semlang.results.fit.Fit` under FIML and its per-group data
(:mod:`semlang.results.robust`). Output: the statistics (X², c, X²_0, c_0) the robust CFI, TLI
and RMSEA are built from, and those measures.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.linalg import block_diag

from semlang import cholesky as linalg
from semlang.estimate.fiml_information import complete_information
from semlang.options import Information, StandardErrors
from semlang.results import inference, robust_measures
from semlang.results.robust import (
    _baseline_parts,
    _first_order,
    _Group,
    _groups,
    _h1_information,
    _not_x,
)


def _discrepancy(group: _Group, sigma: np.ndarray, mu: np.ndarray) -> float:
    """n_g · F_ML of moments (Σ, μ) against the group's unrestricted (EM) moments."""
    inverse = np.linalg.inv(sigma)
    d = group.h1_mean - mu
    f = np.linalg.slogdet(sigma)[1] - np.linalg.slogdet(group.h1_cov)[1] - group.p
    f += np.trace(group.h1_cov @ inverse) + d @ inverse @ d
    return group.patterns.nobs * float(f)


def _k_fimlc(fit, groups, w_m, delta, active, gamma, middle, w_info=None) -> float:
    """tr(U M U Γ) (``gamma`` given, lavaan's "V3") or tr(U M) (``gamma`` None, "V6") with
    U = Wm − Wm Δ (Δᵀ W Δ)⁻¹ Δᵀ Wm over all groups (Δ: stacked rows of the groups' moments,
    columns the parameters; the inverse on the null space of ``active``; W = ``w_info``, by
    default Wm)."""
    w_all = block_diag(*[g.weight * w for g, w in zip(groups, w_m, strict=True)])
    w_inf = w_all
    if w_info is not None:
        w_inf = block_diag(*[g.weight * w for g, w in zip(groups, w_info, strict=True)])
    info = delta.T @ w_inf @ delta
    e_inv = fit.nobs * inference.vcov_from_information(info, fit.nobs, active)
    # (grouped so that no product multiplies two moments x moments matrices)
    u = w_all - (w_all @ delta) @ e_inv @ (delta.T @ w_all)
    if gamma is None:
        return float(np.sum(u * middle.T))
    return float(np.sum((u @ middle @ u) * gamma.T))


def _trace_of_solve(a: np.ndarray, b: np.ndarray) -> float:
    """tr(a⁻¹ b) for a positive definite ``a`` and a symmetric ``b``, from the Cholesky inverse
    (one triangle of it); by ``numpy.linalg.inv`` where ``a`` is not positive definite."""
    factor, info = linalg.dpotrf(a, lower=1)
    if info:
        return float(np.sum(np.linalg.inv(a) * b))
    inverse, info = linalg.dpotri(factor, lower=1)
    if info:
        return float(np.sum(np.linalg.inv(a) * b))
    lower = np.tril(inverse)
    return float(2.0 * np.sum(lower * b) - np.diagonal(inverse) @ np.diagonal(b))


def _k_fimlc_v6(fit, groups, w_m, w_c, traces, delta, active, w_info=None) -> float:
    """:func:`_k_fimlc`'s tr(U M) of version "V6", M = ⊕_g Wm_g⁻¹ Wc_g Wm_g⁻¹ / f_g, without
    forming U or M: U M = ⊕ Wc_g Wm_g⁻¹ − W Δ E⁻¹ Δᵀ (⊕ f_g Wc_g) Wm⁻¹ (W = ⊕ f_g Wm_g), so
    tr(U M) = Σ_g tr(Wm_g⁻¹ Wc_g) − tr(E⁻¹ Δᵀ (⊕ f_g Wc_g) Δ); ``traces`` is the first sum."""
    w_inf = block_diag(*[g.weight * w for g, w in zip(groups, w_info or w_m, strict=True)])
    info = delta.T @ w_inf @ delta
    e_inv = fit.nobs * inference.vcov_from_information(info, fit.nobs, active)
    w_all = block_diag(*[g.weight * w for g, w in zip(groups, w_c, strict=True)])
    return traces - float(np.sum(e_inv * (delta.T @ w_all @ delta)))


def fiml_corrected(
    fit, groups: Sequence[_Group], df: float, df0: float, scaled: bool = True
) -> tuple[float, ...]:
    """(X², c, X²_0, c_0) of lavaan's FIML-corrected robust CFI and RMSEA (Savalei's FIML-C):
    the model's and the baseline's moments against the EM moments as if those came from
    complete data (X²), with c = tr(U Wm⁻¹ Wc Wm⁻¹ U Γ)/df when the fit has a scaled test
    (lavaan's version "V3") and c = tr(U Wm⁻¹ Wc Wm⁻¹)/df without one ("V6"); Wm the
    incomplete-data and Wc the complete-data h1 information at the EM moments,
    Γ = Wm⁻¹ J Wm⁻¹ (J first-order), U built with Δᵀ Wm Δ as the information; the fixed.x
    covariates' own moments left out."""
    keep = [_not_x(g) for g in groups]

    def cut(matrix, k):
        return matrix[np.ix_(k, k)]

    w_m = [cut(_h1_information(g, g.h1_cov, g.h1_mean, Information.OBSERVED), k)
           for g, k in zip(groups, keep, strict=True)]  # fmt: skip
    w_c = [cut(g.moment_slice(complete_information(g.h1_cov)), k)
           for g, k in zip(groups, keep, strict=True)]  # fmt: skip
    delta = np.vstack([g.delta[k] for g, k in zip(groups, keep, strict=True)])
    active = inference.active_constraint_rows(fit.model.space, fit.estimation.phi)
    w_info = None
    if fit.options.se is StandardErrors.FIRST_ORDER:  # lavaan's information = "first.order"
        w_info = [cut(_first_order(g, g.h1_cov, g.h1_mean), k)
                  for g, k in zip(groups, keep, strict=True)]  # fmt: skip
    baseline = _baseline_parts(fit, groups)
    delta0 = block_diag(*[np.eye(len(free))[np.ix_(k, free)]
                          for k, (free, _, _) in zip(keep, baseline, strict=True)])  # fmt: skip
    no_constraints = np.zeros((0, delta0.shape[1]))
    if scaled:
        inverses = [np.linalg.inv(w) for w in w_m]
        gamma = block_diag(*[wi @ cut(_first_order(g, g.h1_cov, g.h1_mean), k) @ wi / g.weight
                             for g, k, wi in zip(groups, keep, inverses, strict=True)])  # fmt: skip
        middle = block_diag(
            *[wi @ wc @ wi / g.weight for g, wc, wi in zip(groups, w_c, inverses, strict=True)]
        )
        k_model = _k_fimlc(fit, groups, w_m, delta, active, gamma, middle, w_info)
        k_base = _k_fimlc(fit, groups, w_m, delta0, no_constraints, gamma, middle, w_info)
    else:
        traces = sum(_trace_of_solve(w, wc) for w, wc in zip(w_m, w_c, strict=True))
        k_model = _k_fimlc_v6(fit, groups, w_m, w_c, traces, delta, active, w_info)
        k_base = _k_fimlc_v6(fit, groups, w_m, w_c, traces, delta0, no_constraints, w_info)
    x2 = sum(_discrepancy(g, g.sigma, g.mu) for g in groups)
    x2_0 = sum(_discrepancy(g, s, m) for g, (_, s, m) in zip(groups, baseline, strict=True))
    return (
        x2,
        robust_measures.scaling_factor(k_model, df),
        x2_0,
        robust_measures.scaling_factor(k_base, df0),
    )


def fiml_robust_measures(fit, unscaled: dict) -> dict[str, float]:
    """lavaan's robust CFI/TLI/NNFI/RNI and RMSEA (interval, p-values) of an ML fit under FIML
    without a scaled test: the FIML-corrected statistics of version "V6"."""
    df, df0 = unscaled["df"], unscaled["baseline_df"]
    x2, c, x2_0, c0 = fiml_corrected(fit, _groups(fit), df, df0, scaled=False)
    ngroups = len(fit.sample.groups)
    return robust_measures.robust_indices(df, df0, (x2, c, x2 / c, c), (x2_0, c0), fit.nobs,
                                          ngroups)  # fmt: skip
