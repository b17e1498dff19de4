"""The asymptotic covariance matrix Γ of the two-stage statistics (Muthén, 1984), from scores.

Input: the stage-one fits of a group's variables (their casewise scores), the pairs' casewise
scores of the correlations and their A21 sums, the correlations and variances. Output: Γ
(lavaan's NACOV) of the moment vector in lavaan's WLS.obs order — thresholds (a continuous
variable's mean with its sign changed, as lavaan's "threshold" of it), the slopes on the covariates
(vec of the p x q slope matrix), the variances of the continuous variables, and the correlations
(covariances where a continuous variable is involved) below the diagonal, column by column.

With S the n x m matrix of all casewise scores, B the block-triangular matrix of the expected
derivatives (A11: each variable's own information, A21: rho's information about the stage-one
parameters, A22: each rho's own information, all from outer products of scores),
Γ = n · H B⁻¹ (SᵀS) B⁻ᵀ Hᵀ, where H turns correlations into covariances for continuous variables.
"""

from __future__ import annotations

import numpy as np

from semlang.categorical.warn import warn
from semlang.errors import DataWarning


def parameter_layout(unis, nexo: int):
    """Column positions of each variable's stage-one parameters in the score matrix.

    Returns (positions, nth_total, ncont): positions[i] lists variable i's columns in its own
    order (thresholds or intercept, slopes, [variance]).
    """
    nvar = len(unis)
    nth = [u.nth for u in unis]
    th_start = np.concatenate(([0], np.cumsum(nth)[:-1])).astype(int)
    total_th = int(sum(nth))
    cont = [i for i, u in enumerate(unis) if not u.ordered]
    positions = []
    for i, u in enumerate(unis):
        cols = list(range(th_start[i], th_start[i] + nth[i]))
        cols += [total_th + i + nvar * k for k in range(nexo)]
        if not u.ordered:
            cols.append(total_th + nvar * nexo + cont.index(i))
        positions.append(np.array(cols, dtype=int))
    return positions, total_th, len(cont)


def nacov(unis, pair_scores, a21_rows, cor, nexo: int) -> np.ndarray:
    """Γ of one group (see the module docstring); ``a21_rows[p]`` is a list of (columns, values)."""
    n = pair_scores.shape[0]
    nvar = len(unis)
    positions, total_th, ncont = parameter_layout(unis, nexo)
    m1 = total_th + nvar * nexo + ncont
    npairs = pair_scores.shape[1]
    sc1 = np.zeros((n, m1))
    for i, u in enumerate(unis):
        sc1[:, positions[i]] = u.scores[:, : len(positions[i])]
    scores = np.hstack([sc1, pair_scores])
    inner = scores.T @ scores
    a11 = np.zeros((m1, m1))
    for cols in positions:
        a11[np.ix_(cols, cols)] = inner[np.ix_(cols, cols)]
    a21 = np.zeros((npairs, m1))
    for p, parts in enumerate(a21_rows):
        for cols, values in parts:
            a21[p, cols] = values[: len(cols)]
    a22 = np.einsum("np,np->p", pair_scores, pair_scores)
    try:
        a11_inv = np.linalg.inv(a11)
    except np.linalg.LinAlgError:
        warn(
            "trouble constructing the weight matrix: a generalized inverse was used for the "
            "information of the univariate statistics",
            DataWarning,
        )
        a11_inv = np.linalg.pinv(a11)
    if np.any(a22 == 0):
        warn(
            "trouble constructing the weight matrix: a correlation has no information", DataWarning
        )
    a22_inv = np.where(a22 == 0, 0.0, 1.0 / np.where(a22 == 0, 1.0, a22))
    w = _sandwich(inner, a11_inv, -(a22_inv[:, None] * a21) @ a11_inv, a22_inv)
    if ncont:
        h = _covariance_jacobian(unis, cor, positions, m1)
        w = h @ w @ h.T
        mean_cols = [positions[i][0] for i, u in enumerate(unis) if not u.ordered]
        w[mean_cols, :] *= -1.0
        w[:, mean_cols] *= -1.0
    return w * n


def _sandwich(inner, p, c, d) -> np.ndarray:
    """B⁻¹ · inner · B⁻ᵀ for B⁻¹ = [[p, 0], [c, diag(d)]], by blocks (diag(d) never formed)."""
    m1 = p.shape[0]
    i11, i12, i22 = inner[:m1, :m1], inner[:m1, m1:], inner[m1:, m1:]
    x = c @ i11 + d[:, None] * i12.T
    out = np.empty_like(inner)
    out[:m1, :m1] = p @ i11 @ p.T
    out[m1:, :m1] = x @ p.T
    out[:m1, m1:] = out[m1:, :m1].T
    ci12 = c @ i12
    out[m1:, m1:] = x @ c.T + ci12 * d[None, :] + d[:, None] * i22 * d[None, :]
    return out


def _covariance_jacobian(unis, cor, positions, m1) -> np.ndarray:
    """d(covariance vector)/d(correlation vector) with the variances, for continuous variables."""
    nvar = len(unis)
    npairs = nvar * (nvar - 1) // 2
    h = np.eye(m1 + npairs)
    p = m1
    for j in range(nvar - 1):
        for i in range(j + 1, nvar):
            ui, uj = unis[i], unis[j]
            if not ui.ordered and not uj.ordered:
                si, sj = np.sqrt(ui.var), np.sqrt(uj.var)
                h[p, positions[i][-1]] = sj * cor[i, j] / (2.0 * si)
                h[p, positions[j][-1]] = si * cor[i, j] / (2.0 * sj)
                h[p, p] = si * sj
            elif not ui.ordered or not uj.ordered:
                k = i if not ui.ordered else j
                sk = np.sqrt(unis[k].var)
                h[p, positions[k][-1]] = cor[i, j] / (2.0 * sk)
                h[p, p] = sk
            p += 1
    return h
