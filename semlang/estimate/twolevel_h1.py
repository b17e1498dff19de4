"""Reference models of two-level ML: TwoLevelData → saturated (h1) and baseline (independence) fits.

* saturated: Σ_W, Σ_B and the means all free; its log-likelihood is lavaan's
  ``unrestricted.logl``. The fixed covariates are free here too (lavaan's h1 ignores fixed.x)
  and their saturated log-likelihood is subtracted, as in every two-level logl. By default
  lavaan's EM with its stopping rule (:mod:`semlang.estimate.twolevel_em`), which reproduces
  lavaan's number; ``exact=True`` continues by L-BFGS to the maximum.
* baseline: lavaan's independence model: Σ_W and Σ_B diagonal, means free, except that the
  fixed covariates keep a full covariance block fixed at their sample moments (level 1: all
  rows, level 2: the cluster values). ``baseline.chisq = 2 (logl_h1 − logl_baseline)`` with
  ``baseline.df = npar_h1 − npar_baseline``. As the fixed covariates are uncorrelated with the
  other variables, their part cancels against ``data.loglik_x``: the baseline logl is the sum of
  univariate fits (a random-intercept model for each variable of both levels).

L-BFGS uses the analytic gradient of :mod:`semlang.estimate.twolevel`; a covariance matrix is
parameterized as ``L₀ T Tᵀ L₀ᵀ`` (T lower triangular, L₀ the Cholesky factor of the start),
a diagonal one by log-variances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from semlang.estimate.twolevel import TwoLevelGradient, TwoLevelMoments, twolevel_gradient
from semlang.estimate.twolevel_data import TwoLevelData
from semlang.estimate.twolevel_em import em_saturated


def _chol_floor(matrix: np.ndarray, relative: float = 1e-6) -> np.ndarray:
    """Cholesky factor of ``matrix`` after raising its eigenvalues to ``relative``·max(diag)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    floor = relative * max(float(np.max(np.diag(matrix))), 1e-12)
    return np.linalg.cholesky((vectors * np.maximum(values, floor)) @ vectors.T)


def _diagonal_start(data: TwoLevelData) -> tuple[np.ndarray, ...]:
    """Start of the independence model: variances of Σ_W and Σ_B, and μ_W, μ_B."""
    p_z = len(data.between_only)
    within_only = np.array([v in data.within_only for v in data.within])
    var_w = np.where(within_only, np.diag(data.total_cov), np.diag(data.pooled_within_cov))
    var_level2 = np.concatenate([data.cluster_values.var(axis=0), data.cluster_means.var(axis=0)])
    var_level2[p_z:] = np.maximum(var_level2[p_z:] - var_w / data.cluster_size.mean(), 0.05 * var_w)
    mean_level2 = np.concatenate([data.cluster_values.mean(axis=0), data.total_mean])
    pos = data.between_position
    mu_w = np.where(within_only, data.total_mean, 0.0)
    return np.maximum(var_w, 1e-8), np.maximum(var_level2[pos], 1e-8), mu_w, mean_level2[pos]


def _free_means(data: TwoLevelData, fixed: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the free entries of μ_W (within-only) and μ_B (all level-2 variables)."""
    free_w = np.array([v in data.within_only and v not in fixed for v in data.within])
    free_b = np.array([v not in fixed for v in data.between])
    return free_w, free_b


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


@dataclass(frozen=True, eq=False)
class _Baseline:
    """θ = (log-variances of the free diagonals, free means) ↦ moments of the independence model."""

    fixed_w: np.ndarray  # Σ_W with the fixed-covariate block, zeros elsewhere
    fixed_b: np.ndarray
    var_w: np.ndarray  # masks of the free variances
    var_b: np.ndarray
    start_w: np.ndarray  # start variances (full diagonals)
    start_b: np.ndarray
    mu_w0: np.ndarray
    mu_b0: np.ndarray
    free_mw: np.ndarray  # masks of the free means
    free_mb: np.ndarray

    def _sizes(self) -> list[int]:
        masks = (self.var_w, self.var_b, self.free_mw, self.free_mb)
        return np.cumsum([int(m.sum()) for m in masks]).tolist()

    def start(self) -> np.ndarray:
        logs = [np.log(self.start_w[self.var_w]), np.log(self.start_b[self.var_b])]
        return np.concatenate([*logs, np.zeros(self._sizes()[-1] - self._sizes()[1])])

    def moments(self, theta: np.ndarray) -> tuple[np.ndarray, ...]:
        t_w, t_b, a_w, a_b = np.split(theta, self._sizes()[:-1])
        sigma_w, sigma_b = self.fixed_w.copy(), self.fixed_b.copy()
        sigma_w[self.var_w, self.var_w] = np.exp(t_w)
        sigma_b[self.var_b, self.var_b] = np.exp(t_b)
        mu_w, mu_b = self.mu_w0.copy(), self.mu_b0.copy()
        mu_w[self.free_mw] += np.sqrt(self.start_w[self.free_mw]) * a_w
        mu_b[self.free_mb] += np.sqrt(self.start_b[self.free_mb]) * a_b
        return sigma_w, sigma_b, mu_w, mu_b

    def chain(self, theta: np.ndarray, g: TwoLevelGradient) -> np.ndarray:
        t_w, t_b, _, _ = np.split(theta, self._sizes()[:-1])
        return np.concatenate(
            [
                np.diag(g.sigma_w)[self.var_w] * np.exp(t_w),
                np.diag(g.sigma_b)[self.var_b] * np.exp(t_b),
                (np.sqrt(self.start_w) * g.mu_w)[self.free_mw],
                (np.sqrt(self.start_b) * g.mu_b)[self.free_mb],
            ]
        )


def _maximize(data: TwoLevelData, model: _Saturated | _Baseline, npar: int) -> TwoLevelMoments:
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


def _fixed_block(names: tuple[str, ...], fixed: tuple[str, ...], cov: np.ndarray) -> np.ndarray:
    out = np.zeros((len(names), len(names)))
    idx = [names.index(v) for v in fixed]
    out[np.ix_(idx, idx)] = cov
    return out


def fit_baseline(data: TwoLevelData) -> TwoLevelMoments:
    """lavaan's two-level baseline (independence) model (see the module docstring)."""
    var_w, var_b, mu_w, mu_b = _diagonal_start(data)
    fixed = {*data.fixed_x_within, *data.fixed_x_between}
    mean_x1, cov_x1 = data.fixed_x_moments(1)
    mean_x2, cov_x2 = data.fixed_x_moments(2)
    for names, fixed_names, mu, mean_x in (
        (data.within, data.fixed_x_within, mu_w, mean_x1),
        (data.between, data.fixed_x_between, mu_b, mean_x2),
    ):
        mu[[names.index(v) for v in fixed_names]] = mean_x
    free_mw, free_mb = _free_means(data, fixed)
    model = _Baseline(
        fixed_w=_fixed_block(data.within, data.fixed_x_within, cov_x1),
        fixed_b=_fixed_block(data.between, data.fixed_x_between, cov_x2),
        var_w=np.array([v not in fixed for v in data.within]),
        var_b=np.array([v not in fixed for v in data.between]),
        start_w=var_w,
        start_b=var_b,
        mu_w0=mu_w,
        mu_b0=mu_b,
        free_mw=free_mw,
        free_mb=free_mb,
    )
    npar = int(model.var_w.sum() + model.var_b.sum() + free_mw.sum() + free_mb.sum())
    return _maximize(data, model, npar)
