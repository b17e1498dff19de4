"""The unrotated factor solution: input a covariance matrix S (divisor N) and m, output Λ and Ψ.

The model is Σ = ΛΛᵀ + Ψ with Ψ diagonal, fitted by ML (F = log|Σ| + tr(SΣ⁻¹) − log|S| − p) or
ULS (F = ½‖S − Σ‖², lavaan's minimum with off-diagonal residuals counted once is the same). For a
given Ψ the best Λ has a closed form (the m largest eigenvalues of Ψ^{-½}SΨ^{-½} for ML, of S − Ψ
for ULS), so only the p unique variances are optimized (L-BFGS-B, bounded below by 0 as
lavaan's ``bounds = "pos.var"``). The minimum is lavaan's: Σ̂ is unique, Λ only up to rotation;
the returned Λ is in lavaan's echelon form (factor k loads 0 on the first k − 1 variables).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConvergenceWarning


@dataclass(frozen=True)
class Extraction:
    """Unrotated loadings (echelon form), unique variances, Σ̂ and the minimum of F."""

    loadings: np.ndarray
    uniquenesses: np.ndarray
    sigma: np.ndarray
    fmin: float
    converged: bool
    iterations: int


def extract(S: np.ndarray, nfactors: int, estimator: str = "ML") -> Extraction:
    """The ML or ULS factor solution with ``nfactors`` factors of the covariance matrix ``S``."""
    from scipy.optimize import minimize

    p = S.shape[0]
    loadings_for = _ml_loadings if estimator == "ML" else _uls_loadings
    objective = _ml_objective if estimator == "ML" else _uls_objective
    scale = np.diag(S).copy()
    # factanal's start: ψ_i = (1 − m/(2p)) / (S⁻¹)_ii, on the scale of the variances
    start = (1.0 - 0.5 * nfactors / p) / np.diag(np.linalg.inv(S))
    lower = 1e-10 * scale

    def f(x):
        psi = x * scale
        value, grad = objective(S, psi, loadings_for(S, psi, nfactors))
        return value, grad * scale

    result = minimize(
        f,
        start / scale,
        jac=True,
        method="L-BFGS-B",
        bounds=[(lo / s, None) for lo, s in zip(lower, scale, strict=True)],
        options={"maxiter": 10000, "ftol": 1e-16, "gtol": 1e-11, "maxcor": 20},
    )
    psi = result.x * scale
    L = _echelon(loadings_for(S, psi, nfactors))
    sigma = L @ L.T + np.diag(psi)
    converged = bool(result.success) or np.max(np.abs(result.jac)) < 1e-6
    if not converged:
        import warnings

        warnings.warn(
            f"the {estimator} factor extraction with {nfactors} factors did not converge "
            f"({result.message})",
            ConvergenceWarning,
            3,
        )
    return Extraction(L, psi, sigma, float(result.fun), converged, int(result.nit))


def _ml_loadings(S, psi, m):
    root = np.sqrt(psi)
    scaled = S / root[:, None] / root[None, :]
    values, vectors = np.linalg.eigh(scaled)
    values, vectors = values[::-1][:m], vectors[:, ::-1][:, :m]
    return root[:, None] * vectors * np.sqrt(np.maximum(values - 1.0, 0.0))


def _uls_loadings(S, psi, m):
    values, vectors = np.linalg.eigh(S - np.diag(psi))
    values, vectors = values[::-1][:m], vectors[:, ::-1][:, :m]
    return vectors * np.sqrt(np.maximum(values, 0.0))


def _ml_objective(S, psi, L):
    """F_ML and its gradient in ψ (diag of Σ⁻¹(Σ − S)Σ⁻¹), Λ at its best for ψ."""
    sigma = L @ L.T + np.diag(psi)
    inv = np.linalg.inv(sigma)
    _, logdet = np.linalg.slogdet(sigma)
    _, logdet_s = np.linalg.slogdet(S)
    value = logdet + np.sum(S * inv) - logdet_s - S.shape[0]
    grad = np.diag(inv @ (sigma - S) @ inv)
    return float(value), grad


def _uls_objective(S, psi, L):
    """½‖S − Σ‖² and its gradient in ψ, Λ at its best for ψ."""
    resid = S - L @ L.T - np.diag(psi)
    return 0.5 * float(np.sum(resid * resid)), -np.diag(resid).copy()


def _echelon(L: np.ndarray) -> np.ndarray:
    """The same solution rotated so that the top m × m block is lower triangular, diagonal ≥ 0."""
    m = L.shape[1]
    if m < 2:  # lavaan leaves one factor unrotated, with its first loading positive
        return L * (1.0 if L[0, 0] >= 0 else -1.0)
    q, _r = np.linalg.qr(L[:m, :].T)
    E = L @ q
    signs = np.where(np.diag(E[:m, :]) < 0, -1.0, 1.0)
    return E * signs
