"""The robust CFI, TLI and RMSEA of a categorical fit (Savalei 2021, as lavaan 0.6.14).

Input: a fit of :class:`~semlang.estimate.categorical_family.CategoricalLeastSquares` whose
variables are all ordered, with each group's polychoric matrix R_g positive definite. Output:
the ``*_robust`` measures under lavaan's names (else NaN, as lavaan).

The model's correlation structure is taken as if fitted by ML to R ("catML", at the DWLS
estimates, no refit): X²₃ = Σ_g n_g [log|Σ̂_g| + tr(R_g Σ̂_g⁻¹) − log|R_g| − p], its baseline
Σ_g n_g (−log|R_g|). The scaling c₃ = tr(Uᵀ V U Γ)/df₃ with U = I − Δ E⁻¹ Δᵀ W (Δ the DWLS
Jacobian of the correlations, E the DWLS information, W = ⊕ f_g W_g), V = ⊕ f_g V_g the ML
weight ½Dᵀ(Σ̂⁻¹⊗Σ̂⁻¹)D of the correlations and Γ = ⊕ Γ_g/f_g of the correlations; the
baseline's c₃ = tr(Γ)/df₃,null. df₃ is the catML model's: the correlations less the free
parameters left when the thresholds and intercepts (latent means) are dropped, which is the
model's df less its fixed thresholds plus its free intercepts. The robust CFI/TLI then take
X²₃ − c₃·df in place of X² − df, the robust RMSEA X²₃/c₃ on df₃ (its interval and p-values
too), as lavaan. With thresholds or intercepts that are equal to other parameters (shared
labels, equalities across groups) lavaan's catML fit fails and its robust indices are NA; so
they are here.
"""

from __future__ import annotations

import math

import numpy as np

from semlang.matrices import block_diagonal
from semlang.results import robust_measures

_KEYS = ("cfi_robust", "tli_robust", "nnfi_robust", "rni_robust", "rmsea_robust",
         "rmsea_ci_lower_robust", "rmsea_ci_upper_robust", "rmsea_pvalue_robust",
         "rmsea_notclose_pvalue_robust")  # fmt: skip


def robust_measures_catml(fit, base: dict, parts) -> dict[str, float]:
    """``parts``: (discrepancies, Δ_g in φ, E⁻¹) of the fit at its estimates."""
    discrepancies, deltas, e_inv = parts
    values = _catml(fit, discrepancies, deltas, e_inv)
    if values is None:
        return dict.fromkeys(_KEYS, math.nan)
    x2, df3, c3, x2_0, c3_0 = values
    df, df0 = base["df"], base["baseline_df"]
    nobs, ngroups = fit.inference_nobs, len(discrepancies)
    incremental = robust_measures.robust_incremental(df, df0, x2, c3, x2_0, c3_0,
                                                     plain_if_one=False)  # fmt: skip
    rmsea = robust_measures.rmsea_robust(x2, df3, c3, nobs, ngroups, scaled=(x2 / c3, c3))
    return robust_measures.suffixed("robust", incremental | rmsea)


def _catml(fit, discrepancies, deltas, e_inv):
    if any(len(d.cat.numeric) or len(d.cat.x) for d in discrepancies):
        return None  # lavaan: only when every variable is ordered, with no covariates
    if not _dropped_rows_are_distinct(fit):
        return None  # lavaan's catML fit of such a model fails: NA
    x2 = x2_0 = 0.0
    weights, mls, gammas, rows = [], [], [], []
    npar = len(fit.estimation.phi)
    vectors = fit.estimation.objective.vectors(fit.theta)
    for d, delta, vector in zip(discrepancies, deltas, vectors, strict=True):
        cat, r_matrix = d.cat, np.asarray(d.stats.cov, dtype=float)
        if np.linalg.eigvalsh(r_matrix)[0] < np.sqrt(np.finfo(float).eps):
            return None
        sigma = np.eye(cat.p)
        off = vector[cat.n_thresholds :]
        sigma[cat.rows, cat.cols] = off
        sigma[cat.cols, cat.rows] = off
        inverse = np.linalg.inv(sigma)
        _, logdet = np.linalg.slogdet(sigma)
        _, logdet_r = np.linalg.slogdet(r_matrix)
        n, f = d.nobs, d.weight
        x2 += n * (logdet + np.trace(r_matrix @ inverse) - logdet_r - cat.p)
        x2_0 += n * (-logdet_r)
        k = cat.n_thresholds
        r, c = cat.rows, cat.cols
        ml = (
            inverse[np.ix_(r, r)] * inverse[np.ix_(c, c)]
            + inverse[np.ix_(r, c)] * inverse[np.ix_(c, r)]
        )
        weights.append(f * d.W[k:, k:])
        mls.append(f * ml)
        gammas.append(d.stats.gamma[k:, k:] / f)
        rows.append(delta[k:])
    pstar = sum(len(d.cat.rows) for d in discrepancies)
    df3 = pstar - (npar - _dropped_parameters(fit))
    w_all, v_all, gamma = block_diagonal(*weights), block_diagonal(*mls), block_diagonal(*gammas)
    delta_all = np.vstack(rows)
    u = np.eye(len(w_all)) - delta_all @ e_inv @ delta_all.T @ w_all
    ks = float(np.trace(u.T @ v_all @ u @ gamma))
    if not df3 > 0:
        return None
    return x2, df3, ks / df3, x2_0, float(np.trace(gamma)) / pstar


_DROPPED = frozenset(("|", "~1"))  # the rows lavaan's catML model leaves out


def _dropped_rows_are_distinct(fit) -> bool:
    """No free threshold or intercept shares its parameter with another row or appears in a
    constraint (lavaan's catML model keeps the equalities of the rows it drops, and fails)."""
    rows = [row for row in fit.table.rows if row.is_model_parameter]
    counts: dict[int, int] = {}
    for row in rows:
        if row.is_free:
            counts[row.free] = counts.get(row.free, 0) + 1
    dropped = [row for row in rows if row.op.value in _DROPPED and row.is_free]
    constrained = {row.lhs for row in fit.table.constraints} | {
        row.rhs for row in fit.table.constraints
    }
    labels = {row.label for row in dropped if row.label}
    return all(counts[row.free] == 1 for row in dropped) and not (labels & constrained)


def _dropped_parameters(fit) -> int:
    """The free parameters (φ) that only thresholds and intercepts hold (catML drops them)."""
    space = fit.model.space
    J = space.jacobian(fit.estimation.phi)
    used_elsewhere = np.zeros(J.shape[1], dtype=bool)
    used_by_dropped = np.zeros(J.shape[1], dtype=bool)
    for row in fit.table.rows:
        if not row.is_free:
            continue
        moves = J[row.free - 1] != 0
        if row.op.value in _DROPPED:
            used_by_dropped |= moves
        else:
            used_elsewhere |= moves
    return int(np.sum(used_by_dropped & ~used_elsewhere))
