"""Reference models of two-level ML: TwoLevelData → saturated (h1) and baseline (independence) fits.

* saturated: Σ_W, Σ_B and the means all free; its log-likelihood is lavaan's
  ``unrestricted.logl``. The fixed covariates are free here too (lavaan's h1 ignores fixed.x)
  and their saturated log-likelihood is subtracted, as in every two-level logl. By default
  lavaan's EM with its stopping rule (:mod:`semlang.estimate.twolevel_em`), which reproduces
  lavaan's number; ``exact=True`` continues by L-BFGS to the maximum.
* baseline: lavaan's independence model: Σ_W and Σ_B diagonal, means free, except that the
  fixed covariates keep a full covariance block fixed (by default at their sample moments,
  level 1: all rows, level 2: the cluster values; :class:`FixedCovariates`).
  ``baseline.chisq = 2 (logl_h1 − logl_baseline)``, ``baseline.df = npar_h1 − npar_baseline``.
  The variables being uncorrelated, the model splits into one model per variable: sample
  moments for a variable of one level, a random-intercept model for a variable of both levels
  (fitted for all such variables at once by Fisher scoring over the cluster sizes).

The exact saturated fit uses L-BFGS with the analytic gradient of
:mod:`semlang.estimate.twolevel`; a covariance matrix is parameterized as ``L₀ T Tᵀ L₀ᵀ`` (T
lower triangular, L₀ the Cholesky factor of the start).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from semlang.estimate.twolevel import (
    TwoLevelGradient,
    TwoLevelMoments,
    twolevel_gradient,
    twolevel_loglik,
)
from semlang.estimate.twolevel_data import TwoLevelData
from semlang.estimate.twolevel_em import em_saturated


def _chol_floor(matrix: np.ndarray, relative: float = 1e-6) -> np.ndarray:
    """Cholesky factor of ``matrix`` after raising its eigenvalues to ``relative``·max(diag)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    floor = relative * max(float(np.max(np.diag(matrix))), 1e-12)
    return np.linalg.cholesky((vectors * np.maximum(values, floor)) @ vectors.T)


@dataclass(frozen=True, eq=False)
class _Saturated:
    """θ = (T_W, T_B lower triangles, free μ_W, μ_B) ↦ moments, and the chain rule back."""

    data: TwoLevelData
    chol_w: np.ndarray
    chol_b: np.ndarray
    mu_w0: np.ndarray
    mu_b0: np.ndarray
    free_w: np.ndarray

    def _split(self, theta: np.ndarray) -> tuple[np.ndarray, ...]:
        p_w, p_b = self.chol_w.shape[0], self.chol_b.shape[0]
        t_w, t_b = np.zeros((p_w, p_w)), np.zeros((p_b, p_b))
        n_w, n_b = p_w * (p_w + 1) // 2, p_b * (p_b + 1) // 2
        t_w[np.tril_indices(p_w)] = theta[:n_w]
        t_b[np.tril_indices(p_b)] = theta[n_w : n_w + n_b]
        a_w = theta[n_w + n_b : n_w + n_b + int(self.free_w.sum())]
        a_b = theta[n_w + n_b + a_w.size :]
        return t_w, t_b, a_w, a_b

    def start(self) -> np.ndarray:
        p_w, p_b = self.chol_w.shape[0], self.chol_b.shape[0]
        parts = [np.eye(p_w)[np.tril_indices(p_w)], np.eye(p_b)[np.tril_indices(p_b)]]
        return np.concatenate([*parts, np.zeros(int(self.free_w.sum()) + p_b)])

    def moments(self, theta: np.ndarray) -> tuple[np.ndarray, ...]:
        t_w, t_b, a_w, a_b = self._split(theta)
        f_w, f_b = self.chol_w @ t_w, self.chol_b @ t_b
        mu_w = self.mu_w0.copy()
        mu_w[self.free_w] += np.diag(self.chol_w)[self.free_w] * a_w
        mu_b = self.mu_b0 + np.diag(self.chol_b) * a_b
        return f_w @ f_w.T, f_b @ f_b.T, mu_w, mu_b

    def chain(self, theta: np.ndarray, g: TwoLevelGradient) -> np.ndarray:
        t_w, t_b, _, _ = self._split(theta)
        g_tw = 2.0 * self.chol_w.T @ g.sigma_w @ self.chol_w @ t_w
        g_tb = 2.0 * self.chol_b.T @ g.sigma_b @ self.chol_b @ t_b
        g_aw = (np.diag(self.chol_w) * g.mu_w)[self.free_w]
        g_ab = np.diag(self.chol_b) * g.mu_b
        p_w, p_b = t_w.shape[0], t_b.shape[0]
        return np.concatenate([g_tw[np.tril_indices(p_w)], g_tb[np.tril_indices(p_b)], g_aw, g_ab])


def _maximize(data: TwoLevelData, model: _Saturated, npar: int) -> TwoLevelMoments:
    """Maximize the log-likelihood over the model's θ by L-BFGS with the analytic gradient."""
    n = data.nobs

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        sigma_w, sigma_b, mu_w, mu_b = model.moments(theta)
        g = twolevel_gradient(data, sigma_w, sigma_b, mu_b, mu_w)
        if not np.isfinite(g.loglik):
            return np.inf, np.zeros_like(theta)
        return -g.loglik / n, -model.chain(theta, g) / n

    result = minimize(
        objective,
        model.start(),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 10_000, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 20},
    )
    sigma_w, sigma_b, mu_w, mu_b = model.moments(result.x)
    return TwoLevelMoments(
        sigma_w=sigma_w,
        sigma_b=sigma_b,
        mu_w=mu_w,
        mu_b=mu_b,
        loglik=-float(result.fun) * n,
        npar=npar,
        converged=bool(result.success),
        iterations=int(result.nit),
    )


def fit_saturated(data: TwoLevelData, *, exact: bool = False) -> TwoLevelMoments:
    """The unrestricted two-level model; ``loglik`` is lavaan's ``unrestricted.logl``.

    ``exact=False``: lavaan's EM and stopping rule (its number, slightly below the maximum);
    ``exact=True``: continued by L-BFGS to the maximum of the likelihood.
    """
    em = em_saturated(data)
    if not exact:
        return em
    free_w = np.array([v in data.within_only for v in data.within])
    mu_w = np.where(free_w, em.mu_w, 0.0)
    mu_b = em.mu_b + (em.mu_w @ _both_to_between(data))
    model = _Saturated(data, _chol_floor(em.sigma_w), _chol_floor(em.sigma_b), mu_w, mu_b, free_w)
    return _maximize(data, model, data.saturated_npar)


def _both_to_between(data: TwoLevelData) -> np.ndarray:
    """(p_w, p_b) 0/1 matrix moving the μ_W entry of each variable of both levels to μ_B."""
    out = np.zeros((len(data.within), len(data.between)))
    for j, v in enumerate(data.between):
        if v in data.within:
            out[data.within.index(v), j] = 1.0
    return out


# ---- baseline (independence) model --------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class FixedCovariates:
    """The fixed covariates of each level and the moments they are fixed at.

    ``within`` names level-1 variables (any of ``data.within``), with their mean and covariance
    ``mean_w``, ``cov_w``; ``between`` level-2 ones with ``mean_b``, ``cov_b``. A variable of both
    levels may be fixed at either level or both.
    """

    within: tuple[str, ...]
    mean_w: np.ndarray
    cov_w: np.ndarray
    between: tuple[str, ...]
    mean_b: np.ndarray
    cov_b: np.ndarray

    @classmethod
    def of(cls, data: TwoLevelData) -> FixedCovariates:
        """The data's fixed covariates (level-1 only and level-2 only) at their sample moments."""
        mean_w, cov_w = data.fixed_x_moments(1)
        mean_b, cov_b = data.fixed_x_moments(2)
        return cls(data.fixed_x_within, mean_w, cov_w, data.fixed_x_between, mean_b, cov_b)


def fit_baseline(data: TwoLevelData, fixed: FixedCovariates | None = None) -> TwoLevelMoments:
    """lavaan's two-level baseline (independence) model (see the module docstring).

    ``fixed`` defaults to :meth:`FixedCovariates.of`. Every other variable is uncorrelated with
    all the rest: a level-1-only or level-2-only variable has its sample variance and mean; a
    variable of both levels is a random-intercept model, fitted by :func:`_random_intercepts`.
    """
    fixed = FixedCovariates.of(data) if fixed is None else fixed
    p_w, p_b = len(data.within), len(data.between)
    sigma_w, sigma_b = np.zeros((p_w, p_w)), np.zeros((p_b, p_b))
    mu_w, mu_b = np.zeros(p_w), np.zeros(p_b)
    iw = [data.within.index(v) for v in fixed.within]
    ib = [data.between.index(v) for v in fixed.between]
    sigma_w[np.ix_(iw, iw)], mu_w[iw] = fixed.cov_w, fixed.mean_w
    sigma_b[np.ix_(ib, ib)], mu_b[ib] = fixed.cov_b, fixed.mean_b
    npar = 0
    for v in data.within_only:
        if v not in fixed.within:
            i = data.within.index(v)
            sigma_w[i, i], mu_w[i] = data.total_cov[i, i], data.total_mean[i]
            npar += 2
    for k, v in enumerate(data.between_only):
        if v not in fixed.between:
            i = data.between.index(v)
            values = data.cluster_values[:, k]
            sigma_b[i, i], mu_b[i] = values.var(), values.mean()
            npar += 2
    both = [v for v in data.both if not (v in fixed.within and v in fixed.between)]
    converged, iterations = True, 0
    if both:
        fit = _random_intercepts(data, both, fixed, sigma_w, sigma_b, mu_b)
        converged, iterations = fit.converged, fit.iterations
        for k, v in enumerate(both):
            i, j = data.within.index(v), data.between.index(v)
            sigma_w[i, i], sigma_b[j, j], mu_b[j] = fit.within[k], fit.between[k], fit.mean[k]
        npar += int(fit.free.sum())
    loglik = twolevel_loglik(data, sigma_w, sigma_b, mu_b, mu_w)
    return TwoLevelMoments(sigma_w, sigma_b, mu_w, mu_b, loglik, npar, converged, iterations)


@dataclass(frozen=True, eq=False)
class _RandomIntercepts:
    within: np.ndarray  # (r,) σ²_W
    between: np.ndarray  # (r,) σ²_B
    mean: np.ndarray  # (r,) μ
    free: np.ndarray  # (r, 3) which of the three is free
    converged: bool
    iterations: int


def _random_intercepts(
    data: TwoLevelData,
    names: list[str],
    fixed: FixedCovariates,
    sigma_w: np.ndarray,
    sigma_b: np.ndarray,
    mu_b: np.ndarray,
    max_iterations: int = 500,
) -> _RandomIntercepts:
    """ML of y_ij = μ + u_j + e_ij for each variable in ``names``, by Fisher scoring.

    All variables at once (arrays of shape (r, K) over the cluster sizes); a variance or mean
    fixed at a level (``fixed``) keeps the value already placed in ``sigma_w``/``sigma_b``/``mu_b``.
    Steps are halved until each variable's log-likelihood rises.
    """
    p_z = len(data.between_only)
    iy = np.array([data.within.index(v) for v in names])
    ib = np.array([data.between.index(v) for v in names])
    ybar = data.size_means[:, p_z + iy].T  # (r, K)
    cvar = data.size_covs[:, p_z + iy, p_z + iy].T
    s_pw = np.diag(data.pooled_within_cov)[iy]
    at_level_2 = [v not in fixed.between for v in names]
    free = np.column_stack([[v not in fixed.within for v in names], at_level_2, at_level_2])
    n_bar = data.cluster_size.mean()
    spread = data.cluster_means[:, iy].var(axis=0)
    start = np.column_stack(
        [s_pw, np.maximum(spread - s_pw / n_bar, 0.05 * s_pw), data.total_mean[iy]]
    )
    current = np.where(free, start, np.column_stack([sigma_w[iy, iy], sigma_b[ib, ib], mu_b[ib]]))
    stats = (ybar, cvar, s_pw, data.sizes.astype(float), data.size_counts.astype(float))
    n_within = data.nobs - data.nclusters
    value = _ri_loglik(current, stats, n_within)
    for iteration in range(1, max_iterations + 1):
        grad, info = _ri_score(current, stats, n_within)
        step = _ri_step(grad, info, free)
        alpha = np.ones(len(names))
        for _ in range(30):
            trial = current + alpha[:, None] * step
            trial_value = _ri_loglik(trial, stats, n_within)
            worse = ~(trial_value >= value - 1e-12 * np.abs(value))
            if not worse.any():
                break
            alpha = np.where(worse, alpha / 2, alpha)
        gain = float(np.max(np.abs(alpha[:, None] * step)))
        current, value = trial, trial_value
        if gain < 1e-10 * max(1.0, float(np.max(np.abs(current)))):
            return _RandomIntercepts(current[:, 0], current[:, 1], current[:, 2], free, True,
                                     iteration)  # fmt: skip
    return _RandomIntercepts(current[:, 0], current[:, 1], current[:, 2], free, False,
                             max_iterations)  # fmt: skip


def _ri_loglik(params: np.ndarray, stats: tuple, n_within: int) -> np.ndarray:
    """Each variable's random-intercept log-likelihood (constants dropped); −inf if improper."""
    ybar, cvar, s_pw, n, m = stats
    a, b, mu = params[:, :1], params[:, 1:2], params[:, 2:]
    v = n * b + a  # (r, K): variance of √n ȳ
    with np.errstate(divide="ignore", invalid="ignore"):
        between = m * (np.log(v) + n * (cvar + (ybar - mu) ** 2) / v)
        out = -0.5 * (n_within * (np.log(a[:, 0]) + s_pw / a[:, 0]) + between.sum(axis=1))
    proper = (a[:, 0] > 0) & (v > 0).all(axis=1)
    return np.where(proper & np.isfinite(out), out, -np.inf)


def _ri_score(params: np.ndarray, stats: tuple, n_within: int) -> tuple[np.ndarray, np.ndarray]:
    """Gradient (r, 3) and Fisher information (r, 3, 3) of each variable's log-likelihood."""
    ybar, cvar, s_pw, n, m = stats
    a, b, mu = params[:, :1], params[:, 1:2], params[:, 2:]
    v = n * b + a
    resid = ybar - mu
    core = m * (1.0 / v - n * (cvar + resid**2) / v**2)
    grad = np.column_stack(
        [
            -0.5 * (n_within * (1.0 / a[:, 0] - s_pw / a[:, 0] ** 2) + core.sum(axis=1)),
            -0.5 * (n * core).sum(axis=1),
            (m * n * resid / v).sum(axis=1),
        ]
    )
    info = np.zeros((len(params), 3, 3))
    info[:, 0, 0] = 0.5 * (n_within / a[:, 0] ** 2 + (m / v**2).sum(axis=1))
    info[:, 0, 1] = info[:, 1, 0] = 0.5 * (m * n / v**2).sum(axis=1)
    info[:, 1, 1] = 0.5 * (m * n**2 / v**2).sum(axis=1)
    info[:, 2, 2] = (m * n / v).sum(axis=1)
    return grad, info


def _ri_step(grad: np.ndarray, info: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Scoring step I⁻¹g on the free parameters (fixed ones do not move)."""
    mask = free.astype(float)
    info = info * mask[:, :, None] * mask[:, None, :] + np.eye(3) * (1.0 - mask)[:, None, :]
    return np.linalg.solve(info, (grad * mask)[:, :, None])[:, :, 0]
