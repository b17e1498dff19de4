"""Two-level ML: model-implied within/between moments → log-likelihood and its gradient.

Input: a :class:`~semlang.estimate.twolevel_data.TwoLevelData` and the model-implied moments

* ``sigma_w`` (p_w × p_w), ``mu_w`` (p_w): every level-1 variable (within-only and both), in
  ``data.within`` order — the level-1 model's implied covariance and mean;
* ``sigma_b`` (p_b × p_b), ``mu_b`` (p_b): every level-2 variable (both and between-only), in
  ``data.between`` order — the level-2 model's implied covariance and mean.

These are lavaan's per-level implied moments (``lavInspect(fit, "implied")``: ``within`` and
``cluster``). A within-only variable has its mean in ``mu_w``; a between-only one in ``mu_b``;
for a variable of both levels only ``mu_w + mu_b`` counts (lavaan fixes its level-1 intercept
at 0, but the level-1 model may still imply a non-zero mean, e.g. through covariates' means).

Output: lavaan's ``logl`` (the multivariate normal log-likelihood of all rows, minus the
saturated log-likelihood of the fixed covariates, ``data.loglik_x``) and its gradient.

Model: ``y_ij = μ_W + μ_B + u_j + e_ij`` with ``e_ij ~ N(0, Σ_W)`` and ``u_j ~ N(0, Σ_B)``.
Within-only variables have no between part; between-only variables ``z_j`` have no within part.
Only the sum μ_W + μ_B of a variable of both levels enters the likelihood.

For clusters of size n the vector ``v_j = (z_j − μ_z, √n (ȳ_j − μ_y))`` is normal with
covariance ``V_n = D_n E D_n + W`` where E is Σ_B placed on ``[z, ȳ]`` (zero for within-only
rows), W holds Σ_W in the ȳ block and ``D_n = diag(1, √n)``. Then

    −2 logL = Σ_n m_n [log|V_n| + tr(V_n⁻¹ C_n)] + (N − J)[log|Σ_W| + tr(Σ_W⁻¹ S_PW)] + P log 2π

with ``C_n = D_n (cov_n + (mean_n − μ)(mean_n − μ)ᵀ) D_n`` from the statistics per cluster size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semlang.estimate.twolevel_data import TwoLevelData


@dataclass(frozen=True, eq=False)
class TwoLevelGradient:
    """Log-likelihood and its gradient with respect to the implied moments.

    ``d loglik = tr(sigma_w · dΣ_W) + tr(sigma_b · dΣ_B) + mu_w · dμ_W + mu_b · dμ_B`` for
    symmetric perturbations; the matrices are symmetric, so ∂loglik/∂Σ_ij of an off-diagonal
    element (moving Σ_ij and Σ_ji together) is ``2 · G_ij``. For a variable of both levels the
    two mean entries are equal (only μ_W + μ_B matters). Non-finite when the moments are not
    positive definite (loglik −inf, gradients nan).
    """

    loglik: float
    sigma_w: np.ndarray
    sigma_b: np.ndarray
    mu_w: np.ndarray
    mu_b: np.ndarray


@dataclass(frozen=True, eq=False)
class TwoLevelMoments:
    """Fitted within/between moments (layouts of ``data.within`` / ``data.between``).

    ``npar`` counts the free parameters as lavaan does (fixed covariates not counted).
    """

    sigma_w: np.ndarray
    sigma_b: np.ndarray
    mu_w: np.ndarray
    mu_b: np.ndarray
    loglik: float
    npar: int
    converged: bool
    iterations: int


@dataclass(frozen=True, eq=False)
class _Kernel:
    """The per-size quantities shared by the log-likelihood and the gradient."""

    minus_two_loglik: float
    v_inv: np.ndarray | None = None  # (K, q, q)
    c: np.ndarray | None = None  # (K, q, q)
    dd: np.ndarray | None = None  # (K, q, q) outer products of the scalings √n
    resid: np.ndarray | None = None  # (K, q) mean_n − μ
    w_inv: np.ndarray | None = None  # (p_w, p_w)


def _scalings(data: TwoLevelData) -> np.ndarray:
    p_z = len(data.between_only)
    d = np.ones((data.sizes.size, p_z + len(data.within)))
    d[:, p_z:] = np.sqrt(data.sizes)[:, None]
    return d[:, :, None] * d[:, None, :]


def _embed(
    data: TwoLevelData,
    sigma_w: np.ndarray,
    sigma_b: np.ndarray,
    mu_w: np.ndarray | None,
    mu_b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Σ_B and the total mean on the internal ``[z, ȳ]`` vector, and Σ_W padded to it."""
    p_w, p_z = len(data.within), len(data.between_only)
    q = p_z + p_w
    pos = data.between_position
    sigma_w = np.asarray(sigma_w, dtype=float)
    sigma_b = np.asarray(sigma_b, dtype=float)
    mu_b = np.asarray(mu_b, dtype=float)
    mu_w = np.zeros(p_w) if mu_w is None else np.asarray(mu_w, dtype=float)
    shapes = (sigma_w.shape, sigma_b.shape, mu_w.shape, mu_b.shape)
    expected = ((p_w, p_w), (pos.size, pos.size), (p_w,), (pos.size,))
    if shapes != expected:
        raise ValueError(f"moments of shapes {shapes}, expected (Σ_W, Σ_B, μ_W, μ_B) {expected}")
    e = np.zeros((q, q))
    e[np.ix_(pos, pos)] = sigma_b
    w = np.zeros((q, q))
    w[p_z:, p_z:] = sigma_w
    mu = np.zeros(q)
    mu[p_z:] = mu_w
    mu[pos] += mu_b
    return e, w, mu


def _kernel(
    data: TwoLevelData,
    sigma_w: np.ndarray,
    sigma_b: np.ndarray,
    mu_w: np.ndarray | None,
    mu_b: np.ndarray,
) -> _Kernel:
    e, w, mu = _embed(data, sigma_w, sigma_b, mu_w, mu_b)
    p_z = len(data.between_only)
    dd = _scalings(data)
    v = dd * e + w
    try:
        chol_v = np.linalg.cholesky(v)
        chol_w = np.linalg.cholesky(w[p_z:, p_z:])
    except np.linalg.LinAlgError:
        return _Kernel(np.inf)
    logdet_v = 2.0 * np.log(np.diagonal(chol_v, axis1=1, axis2=2)).sum(axis=1)
    logdet_w = 2.0 * np.log(np.diagonal(chol_w)).sum()
    resid = data.size_means - mu
    c = dd * (data.size_covs + resid[:, :, None] * resid[:, None, :])
    v_inv = np.linalg.inv(v)
    w_inv = np.linalg.inv(w[p_z:, p_z:])
    between = data.size_counts @ (logdet_v + np.einsum("kij,kji->k", v_inv, c))
    n_within = data.nobs - data.nclusters
    within = n_within * (logdet_w + np.sum(w_inv * data.pooled_within_cov))
    return _Kernel(float(between + within), v_inv, c, dd, resid, w_inv)


def twolevel_loglik(
    data: TwoLevelData,
    sigma_w: np.ndarray,
    sigma_b: np.ndarray,
    mu_b: np.ndarray,
    mu_w: np.ndarray | None = None,
) -> float:
    """lavaan's two-level ``logl`` at the implied moments (−inf if not positive definite).

    ``mu_w`` defaults to zeros: give it when within-only variables have non-zero means or the
    level-1 model implies non-zero means for variables of both levels.
    """
    kernel = _kernel(data, sigma_w, sigma_b, mu_w, mu_b)
    return -0.5 * kernel.minus_two_loglik + data.log_2pi_constant - data.loglik_x


def twolevel_gradient(
    data: TwoLevelData,
    sigma_w: np.ndarray,
    sigma_b: np.ndarray,
    mu_b: np.ndarray,
    mu_w: np.ndarray | None = None,
) -> TwoLevelGradient:
    """Log-likelihood (as :func:`twolevel_loglik`) with its gradient w.r.t. the moments."""
    kernel = _kernel(data, sigma_w, sigma_b, mu_w, mu_b)
    loglik = -0.5 * kernel.minus_two_loglik + data.log_2pi_constant - data.loglik_x
    p_w, p_b, p_z = len(data.within), len(data.between), len(data.between_only)
    if kernel.v_inv is None:
        return TwoLevelGradient(
            -np.inf, *(np.full(shape, np.nan) for shape in ((p_w, p_w), (p_b, p_b), p_w, p_b))
        )
    v_inv, m = kernel.v_inv, data.size_counts
    dd, resid = kernel.dd, kernel.resid
    assert dd is not None and resid is not None  # (set together with v_inv)
    # d(−2 logL)/dV_n = m_n (V⁻¹ − V⁻¹ C V⁻¹); V_n = D E D + W
    a = m[:, None, None] * (v_inv - v_inv @ kernel.c @ v_inv)
    g_e = -0.5 * np.einsum("kij,kij->ij", dd, a)
    w_inv = kernel.w_inv
    n_within = data.nobs - data.nclusters
    g_w = a[:, p_z:, p_z:].sum(axis=0)
    g_w += n_within * (w_inv - w_inv @ data.pooled_within_cov @ w_inv)
    g_w *= -0.5
    g_mu = np.einsum("k,kij,kj->i", m, dd * v_inv, resid)
    pos = data.between_position
    return TwoLevelGradient(
        loglik=loglik,
        sigma_w=(g_w + g_w.T) / 2,
        sigma_b=(g_e[np.ix_(pos, pos)] + g_e[np.ix_(pos, pos)].T) / 2,
        mu_w=g_mu[p_z:].copy(),
        mu_b=g_mu[pos],
    )


def twolevel_information(
    data: TwoLevelData,
    moments: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    derivatives: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    observed: bool = False,
) -> np.ndarray:
    """Information per observation of parameters a, b from the moments' first derivatives.

    ``moments`` = (Σ_W, Σ_B, μ_W, μ_B) and ``derivatives`` their derivatives with respect to
    each parameter, shapes (n, p_w, p_w), (n, p_b, p_b), (n, p_w), (n, p_b). Each cluster size
    contributes m_n pieces f = log|V| + tr(V⁻¹C) of the vector v = (z, √n ȳ) with mean μ̃ = Dμ,
    the pooled within deviations N − J pieces of N(0, Σ_W); −2 logL is their sum.

    * expected (``observed=False``): the Fisher information / N, Σ w [½ tr(V⁻¹V_aV⁻¹V_b) +
      μ̃_aᵀV⁻¹μ̃_b] / N;
    * observed: the part of −∇²logL / N built from first derivatives, Σ w [−½ tr(V⁻¹V_aV⁻¹V_b)
      + tr(V⁻¹CV⁻¹V_aV⁻¹V_b) + μ̃_aᵀV⁻¹μ̃_b + dᵀV⁻¹V_aV⁻¹μ̃_b + dᵀV⁻¹V_bV⁻¹μ̃_a] / N with
      d = the mean of v minus μ̃. The rest, ½ tr(G Σ_ab) + ½ gᵀμ_ab with the gradient of
      −2 logL / N, needs the moments' second derivatives (the caller's RAM algebra).

    One pass per cluster size (vectorized over sizes and parameters), never over rows.
    """
    sigma_w, sigma_b, mu_w, mu_b = moments
    e, w, mu = _embed(data, sigma_w, sigma_b, mu_w, mu_b)
    d_v, d_mean = _embed_derivatives(data, derivatives, e.shape[0])
    dd = _scalings(data)  # (K, q, q)
    v_inv = np.linalg.inv(dd * e + w)
    x = np.einsum("kij,kajl->kail", v_inv, d_v)  # V⁻¹ dV_a
    counts = data.size_counts.astype(float)
    info = np.einsum("k,kai,kij,kbj->ab", counts, d_mean, v_inv, d_mean, optimize=True)
    trace_xx = np.einsum("k,kaij,kbji->ab", counts, x, x, optimize=True)
    d_w = np.asarray(derivatives[0], dtype=float)
    y = np.linalg.solve(sigma_w, d_w)  # Σ_W⁻¹ dΣ_W
    n_within = data.nobs - data.nclusters
    trace_within = n_within * np.einsum("aij,bji->ab", y, y)
    if not observed:
        return (info + 0.5 * (trace_xx + trace_within)) / data.nobs
    resid = dd * (data.size_covs + _outer_rows(data.size_means - mu))  # C_n
    vc = v_inv @ resid  # V⁻¹C
    info += np.einsum("k,kij,kajl,kbli->ab", counts, vc, x, x, optimize=True) - 0.5 * trace_xx
    d_scaled = np.sqrt(np.diagonal(dd, axis1=1, axis2=2)) * (data.size_means - mu)  # D d
    left = np.einsum("ki,kaij->kaj", d_scaled, x @ v_inv[:, None])  # dᵀV⁻¹V_aV⁻¹ per a
    cross = np.einsum("k,kaj,kbj->ab", counts, left, d_mean)
    info += cross + cross.T
    s_within = np.linalg.solve(sigma_w, data.pooled_within_cov)  # Σ_W⁻¹ S_PW
    info += n_within * np.einsum("ij,ajl,bli->ab", s_within, y, y) - 0.5 * trace_within
    return info / data.nobs


def _outer_rows(rows: np.ndarray) -> np.ndarray:
    return rows[:, :, None] * rows[:, None, :]


def _embed_derivatives(
    data: TwoLevelData, derivatives: tuple[np.ndarray, ...], q: int
) -> tuple[np.ndarray, np.ndarray]:
    """dV_n (K, n, q, q) and dμ̃_n = D_n dμ (K, n, q) on the internal ``[z, ȳ]`` vector."""
    d_w, d_b, dmu_w, dmu_b = (np.asarray(d, dtype=float) for d in derivatives)
    p_z, n_par = len(data.between_only), d_w.shape[0]
    pos = data.between_position
    d_e = np.zeros((n_par, q, q))
    d_e[:, pos[:, None], pos[None, :]] = d_b
    d_wq = np.zeros((n_par, q, q))
    d_wq[:, p_z:, p_z:] = d_w
    d_mu = np.zeros((n_par, q))
    d_mu[:, p_z:] = dmu_w
    d_mu[:, pos] += dmu_b
    dd = _scalings(data)
    scale = np.sqrt(np.diagonal(dd, axis1=1, axis2=2))  # (K, q): 1 for z, √n for ȳ
    return dd[:, None] * d_e[None] + d_wq[None], d_mu[None] * scale[:, None, :]
