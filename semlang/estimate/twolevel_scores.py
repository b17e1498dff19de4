"""Two-level ML per cluster: implied moments → each cluster's log-likelihood and its scores.

Input: a :class:`~semlang.estimate.twolevel_data.TwoLevelData` and the implied moments
(Σ_W, Σ_B, μ_W, μ_B) in the layouts of :mod:`semlang.estimate.twolevel`; for scores in model
parameters also their derivatives dΣ_W, dΣ_B, dμ_W, dμ_B (n, ...) per parameter.

Output:

* :func:`cluster_loglik` — (J,) each cluster's log-likelihood (the 2π constants included, the
  fixed covariates' saturated part not): their sum less ``data.loglik_x`` is
  :func:`~semlang.estimate.twolevel.twolevel_loglik`;
* :func:`cluster_moment_scores` — each cluster's gradient with respect to the moments, in the
  convention of :class:`~semlang.estimate.twolevel.TwoLevelGradient` (summed over the clusters
  it is that gradient);
* :func:`cluster_scores` — (J, n) each cluster's score in the parameters;
* :func:`first_order_information` — Σ_j s_j s_jᵀ / N, the first-order (cross-product)
  information per observation, lavaan's ``information="first.order"`` of a two-level model and
  the "meat" of its robust (Huber-White) standard errors.

A cluster j of size n with between vector x_j = (z_j, ȳ_j) contributes two independent normal
pieces: r_j = D_n (x_j − μ) ~ N(0, V_n), V_n = D_n E D_n + W (D_n = diag(1, √n)), and its n − 1
within contrasts, whose scatter S_j has E[S_j] = (n − 1) Σ_W:

    −2 ℓ_j = log|V_n| + r_jᵀ V_n⁻¹ r_j + (n − 1) log|Σ_W| + tr(Σ_W⁻¹ S_j) + const.

With u_j = V_n⁻¹ r_j, dℓ_j/dV = ½(u uᵀ − V⁻¹), dℓ_j/dμ = D u, dℓ_j/dΣ_W (within part)
= ½(Σ_W⁻¹ S_j Σ_W⁻¹ − (n − 1) Σ_W⁻¹).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semlang.estimate.twolevel import _embed, _scalings
from semlang.estimate.twolevel_data import TwoLevelData

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True, eq=False)
class ClusterMomentScores:
    """Per-cluster gradients of ℓ_j with respect to the moments (J leading axis)."""

    sigma_w: np.ndarray  # (J, p_w, p_w)
    sigma_b: np.ndarray  # (J, p_b, p_b)
    mu_w: np.ndarray  # (J, p_w)
    mu_b: np.ndarray  # (J, p_b)


def _pieces(data: TwoLevelData, sigma_w, sigma_b, mu_b, mu_w):
    """V_n⁻¹ per cluster size, r_j, Σ_W⁻¹ and the per-cluster scalings √n."""
    e, w, mu = _embed(data, sigma_w, sigma_b, mu_w, mu_b)
    p_z = len(data.between_only)
    dd = _scalings(data)
    v = dd * e + w
    scale = np.sqrt(np.diagonal(dd, axis1=1, axis2=2))[data.size_index]  # (J, q)
    x = np.hstack([data.cluster_values, data.cluster_means])
    r = scale * (x - mu)
    return v, r, w[p_z:, p_z:], scale, dd


def cluster_loglik(
    data: TwoLevelData,
    sigma_w: np.ndarray,
    sigma_b: np.ndarray,
    mu_b: np.ndarray,
    mu_w: np.ndarray | None = None,
) -> np.ndarray:
    """(J,) each cluster's log-likelihood (−inf everywhere if a Σ is not positive definite)."""
    v, r, w, _, _ = _pieces(data, sigma_w, sigma_b, mu_b, mu_w)
    try:
        chol_v, chol_w = np.linalg.cholesky(v), np.linalg.cholesky(w)
    except np.linalg.LinAlgError:
        return np.full(data.nclusters, -np.inf)
    k = data.size_index
    logdet_v = 2.0 * np.log(np.diagonal(chol_v, axis1=1, axis2=2)).sum(axis=1)[k]
    logdet_w = 2.0 * np.log(np.diagonal(chol_w)).sum()
    u = np.linalg.solve(v[k], r[:, :, None])[:, :, 0]
    within = (data.cluster_size - 1) * logdet_w
    within += np.einsum("ij,kji->k", np.linalg.inv(w), data.cluster_scatter)
    count = data.cluster_size * len(data.within) + len(data.between_only)
    return -0.5 * (logdet_v + np.einsum("ki,ki->k", r, u) + within + count * _LOG_2PI)


def cluster_moment_scores(
    data: TwoLevelData,
    sigma_w: np.ndarray,
    sigma_b: np.ndarray,
    mu_b: np.ndarray,
    mu_w: np.ndarray | None = None,
) -> ClusterMomentScores:
    """Each cluster's dℓ_j with respect to (Σ_W, Σ_B, μ_W, μ_B), symmetric matrices."""
    v, r, w, scale, dd = _pieces(data, sigma_w, sigma_b, mu_b, mu_w)
    k = data.size_index
    v_inv = np.linalg.inv(v)[k]  # (J, q, q)
    w_inv = np.linalg.inv(w)
    u = np.einsum("kij,kj->ki", v_inv, r)
    g_v = 0.5 * (u[:, :, None] * u[:, None, :] - v_inv)  # dℓ_j/dV
    p_z, pos = len(data.between_only), data.between_position
    g_e = dd[k] * g_v
    g_w = g_v[:, p_z:, p_z:] + 0.5 * (
        w_inv @ data.cluster_scatter @ w_inv - (data.cluster_size - 1)[:, None, None] * w_inv
    )
    g_mu = scale * u
    return ClusterMomentScores(
        sigma_w=(g_w + g_w.transpose(0, 2, 1)) / 2.0,
        sigma_b=g_e[:, pos[:, None], pos[None, :]],
        mu_w=g_mu[:, p_z:],
        mu_b=g_mu[:, pos],
    )


def cluster_scores(
    data: TwoLevelData,
    moments: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    derivatives: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    fixed_x: bool = True,
) -> np.ndarray:
    """(J, n) dℓ_j/dθ_a from ``moments`` = (Σ_W, Σ_B, μ_W, μ_B) and their derivatives.

    ``fixed_x=False`` leaves out the fixed covariates' own moments (lavaan's scores for the
    first-order information); the model's parameters never move them, so only parameters
    outside the model (score-test candidates) see the difference."""
    sigma_w, sigma_b, mu_w, mu_b = moments
    d_w, d_b, dm_w, dm_b = (np.asarray(d, dtype=float) for d in derivatives)
    g = cluster_moment_scores(data, sigma_w, sigma_b, mu_b, mu_w)
    if not fixed_x:
        g = _without_fixed_x(data, g)
    out = np.einsum("jil,ail->ja", g.sigma_w, d_w, optimize=True)
    out += np.einsum("jil,ail->ja", g.sigma_b, d_b, optimize=True)
    return out + g.mu_w @ dm_w.T + g.mu_b @ dm_b.T


def first_order_information(
    data: TwoLevelData,
    moments: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    derivatives: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    """Σ_j s_j s_jᵀ / N: the cross-product of the clusters' scores per observation."""
    scores = cluster_scores(data, moments, derivatives, fixed_x=False)
    return scores.T @ scores / data.nobs


def _without_fixed_x(data: TwoLevelData, g: ClusterMomentScores) -> ClusterMomentScores:
    """The scores with the fixed covariates' own means and covariances (both indices among
    them) set to zero, as lavaan does: those moments are not the model's to explain."""
    iw = np.array([data.within.index(v) for v in data.fixed_x if v in data.within], dtype=int)
    ib = np.array([data.between.index(v) for v in data.fixed_x if v in data.between], dtype=int)
    sigma_w, sigma_b = g.sigma_w.copy(), g.sigma_b.copy()
    mu_w, mu_b = g.mu_w.copy(), g.mu_b.copy()
    sigma_w[:, iw[:, None], iw[None, :]] = 0.0
    sigma_b[:, ib[:, None], ib[None, :]] = 0.0
    mu_w[:, iw], mu_b[:, ib] = 0.0, 0.0
    return ClusterMomentScores(sigma_w, sigma_b, mu_w, mu_b)
