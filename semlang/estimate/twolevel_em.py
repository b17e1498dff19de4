"""lavaan's EM for the saturated two-level model: TwoLevelData → unrestricted moments and logl.

lavaan 0.6.14 computes ``unrestricted.logl`` (and so every chi-square of a two-level model) with
this EM, started at Σ_W = Σ_B = I, μ = 0 and stopped as soon as an iteration raises the
log-likelihood by less than ``tol`` = 1e-4. Stopping that early leaves the value slightly below
the maximum (by 1e-4 to 1e-2 on typical data); running the same iterations with the same rule
reproduces lavaan's number, which :func:`em_saturated` does.

Internal representation (see :mod:`semlang.estimate.twolevel`): the level-1 variables y with
within covariance ``sigma_w`` and between covariance ``sigma_b`` (zero rows for within-only
variables), between-only variables z with ``sigma_zz`` and ``sigma_yz``; means ``mu_w``, ``mu_b``
(y) and ``mu_z``. E-step sums run over cluster sizes through the per-size means and covariances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semlang.estimate.twolevel import TwoLevelMoments, twolevel_loglik
from semlang.estimate.twolevel_data import TwoLevelData


@dataclass(frozen=True, eq=False)
class _State:
    sigma_w: np.ndarray  # (p_y, p_y)
    sigma_b: np.ndarray  # (p_y, p_y)
    sigma_yz: np.ndarray  # (p_y, p_z)
    mu_w: np.ndarray  # (p_y,)
    mu_b: np.ndarray  # (p_y,)


def _to_layout(
    data: TwoLevelData, state: _State, sigma_zz: np.ndarray, mu_z: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(Σ_W, Σ_B, μ_W, μ_B) in the layouts of ``data.within`` / ``data.between``."""
    p_z = mu_z.size
    e = np.empty((p_z + state.mu_b.size,) * 2)
    e[:p_z, :p_z] = sigma_zz
    e[p_z:, :p_z] = state.sigma_yz
    e[:p_z, p_z:] = state.sigma_yz.T
    e[p_z:, p_z:] = state.sigma_b
    pos = data.between_position
    mu = np.concatenate([mu_z, state.mu_b])
    return state.sigma_w, e[np.ix_(pos, pos)], state.mu_w, mu[pos]


def _raw_crossprod(data: TwoLevelData) -> np.ndarray:
    """Σ over all rows of y yᵀ for the level-1 variables."""
    p_z = len(data.between_only)
    means = data.size_means[:, p_z:]
    covs = data.size_covs[:, p_z:, p_z:]
    weights = data.sizes * data.size_counts
    between = np.einsum("k,kij->ij", weights, covs + means[:, :, None] * means[:, None, :])
    return (data.nobs - data.nclusters) * data.pooled_within_cov + between


def _estep_mstep(
    data: TwoLevelData, s: _State, sigma_zz: np.ndarray, mu_z: np.ndarray, yy: np.ndarray
) -> _State:
    """One EM iteration: expected between effects per cluster size, then the ML update."""
    p_z = len(data.between_only)
    n, m = data.sizes.astype(float), data.size_counts.astype(float)
    q = p_z + s.mu_w.size
    omega = np.empty((n.size, q, q))
    omega[:, :p_z, :p_z] = sigma_zz
    omega[:, :p_z, p_z:] = s.sigma_yz.T
    omega[:, p_z:, :p_z] = s.sigma_yz
    omega[:, p_z:, p_z:] = s.sigma_b + s.sigma_w / n[:, None, None]
    sigma_1 = np.hstack([s.sigma_yz, s.sigma_b])
    a = np.linalg.solve(omega, np.broadcast_to(sigma_1.T, (n.size, q, sigma_1.shape[0])))
    a = a.transpose(0, 2, 1)  # (K, p_y, q): Σ_1 Ω⁻¹
    resid = data.size_means - np.concatenate([mu_z, s.mu_w + s.mu_b])
    e_bar = s.mu_b + np.einsum("kiq,kq->ki", a, resid)
    a_s = a @ data.size_covs
    cov_v = s.sigma_b - a @ sigma_1.T
    evv = m[:, None, None] * (cov_v + a_s @ a.transpose(0, 2, 1) + _outer(e_bar, e_bar))
    y_bar = data.size_means[:, p_z:]
    y_e = m[:, None, None] * (a_s[:, :, p_z:].transpose(0, 2, 1) + _outer(y_bar, e_bar))
    z_bar = data.size_means[:, :p_z]
    z_e = m[:, None, None] * (a_s[:, :, :p_z].transpose(0, 2, 1) + _outer(z_bar, e_bar))
    cw2 = np.einsum("k,kij->ij", n, evv - y_e - y_e.transpose(0, 2, 1))
    mu_w = (n * m) @ (y_bar - e_bar) / data.nobs
    mu_b = m @ e_bar / data.nclusters
    c_w = (yy + cw2) / data.nobs
    c_b = evv.sum(axis=0) / data.nclusters
    sigma_yz = (z_e.sum(axis=0) / data.nclusters - np.outer(mu_z, mu_b)).T
    return _State(c_w - np.outer(mu_w, mu_w), c_b - np.outer(mu_b, mu_b), sigma_yz, mu_w, mu_b)


def _outer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[:, :, None] * b[:, None, :]


def _start(data: TwoLevelData) -> _State:
    """lavaan's start: Σ_W = I, Σ_B = I on the variables of both levels, means zero."""
    p_y = len(data.within)
    both = np.array([v in data.between for v in data.within], dtype=float)
    zeros = np.zeros(p_y)
    return _State(np.eye(p_y), np.diag(both), np.zeros((p_y, len(data.between_only))), zeros, zeros)


def _floor_variances(state: _State, min_variance: float) -> _State:
    """Within variances below ``min_variance``: row and column zeroed, variance set to it."""
    low = np.diag(state.sigma_w) < min_variance
    if not low.any():
        return state
    sigma_w = state.sigma_w.copy()
    sigma_w[low, :] = 0.0
    sigma_w[:, low] = 0.0
    sigma_w[low, low] = min_variance
    return _State(sigma_w, state.sigma_b, state.sigma_yz, state.mu_w, state.mu_b)


def em_saturated(
    data: TwoLevelData, tol: float = 1e-4, max_iter: int = 5000, min_variance: float = 1e-5
) -> TwoLevelMoments:
    """The saturated model by lavaan's EM, stopped when logl rises by less than ``tol``."""
    state = _start(data)
    eye_b = np.eye(len(data.between))
    fx = twolevel_loglik(data, state.sigma_w, eye_b, np.zeros(eye_b.shape[0]), state.mu_w)
    mu_z = data.cluster_values.mean(axis=0)
    centered = data.cluster_values - mu_z
    sigma_zz = centered.T @ centered / data.nclusters
    yy = _raw_crossprod(data)
    iterations, delta = 0, np.inf
    while iterations < max(max_iter, 1) and delta >= tol:  # also stops on a nan delta
        iterations += 1
        state = _floor_variances(_estep_mstep(data, state, sigma_zz, mu_z, yy), min_variance)
        sigma_w, sigma_b, mu_w, mu_b = _to_layout(data, state, sigma_zz, mu_z)
        fx_new = twolevel_loglik(data, sigma_w, sigma_b, mu_b, mu_w)
        delta, fx = fx_new - fx, fx_new
    converged = bool(np.isfinite(fx) and delta < tol)
    return TwoLevelMoments(
        sigma_w, sigma_b, mu_w, mu_b, fx, data.saturated_npar, converged, iterations
    )
