"""Standard errors of a rotated factor solution, as lavaan's ``rotation.se = "bordered"``.

Input: the rotated loadings Λ (p × m), unique variances ψ, factor correlations Φ, the Rotation
that produced them, the estimator and N. Output: the covariance matrix of the parameters
θ = (vec Λ column by column, ψ, the strict lower triangle of Φ column by column when oblique),
and that of their standardized values (loadings / √σ_ii, ψ_i / σ_ii, Φ).

All loadings and correlations are free here, so the information matrix I(θ) of Σ = ΛΦΛᵀ + Ψ is
singular (any rotation gives the same Σ); the rotation's stationarity conditions c(θ) = 0
(:func:`semlang.efa.rotation.stationarity`) remove that freedom. With Z a basis of the null
space of their Jacobian C = ∂c/∂θ, the covariance is Z (Zᵀ I Z)⁻¹ Zᵀ / N, the top-left block of
the inverse of the bordered matrix [[I, Cᵀ], [C, 0]]. I is the expected information per
observation: ½ tr(Σ⁻¹ ∂Σ_j Σ⁻¹ ∂Σ_k) for ML, ∂vech Σ_jᵀ ∂vech Σ_k for ULS (lavaan's
"standard" standard errors for least squares, scaled by N − 1).
"""

from __future__ import annotations

import numpy as np

from ..blas import limited
from .rotation import Rotation, stationarity


def pack(L: np.ndarray, psi: np.ndarray, Phi: np.ndarray, orthogonal: bool) -> np.ndarray:
    """θ from the matrices (see the module docstring for the order), or a stack of θ (one per
    row) from stacks of them."""
    parts = [L.swapaxes(-1, -2).reshape(*L.shape[:-2], -1), psi]
    if not orthogonal:
        rows, cols = np.triu_indices(Phi.shape[-1], 1)
        parts.append(Phi[..., cols, rows])
    return np.concatenate(parts, axis=-1)


def unpack(theta: np.ndarray, p: int, m: int, orthogonal: bool):
    """Λ, ψ, Φ from θ (or stacks of them from a stack of θ, one per row)."""
    L = np.swapaxes(theta[..., : p * m].reshape(*theta.shape[:-1], m, p), -1, -2)
    psi = theta[..., p * m : p * m + p]
    Phi = np.zeros((*theta.shape[:-1], m, m)) + np.eye(m)
    if not orthogonal:
        rows, cols = np.triu_indices(m, 1)
        Phi[..., cols, rows] = Phi[..., rows, cols] = theta[..., p * m + p :]
    return L, psi, Phi


def sigma_derivatives(L: np.ndarray, Phi: np.ndarray, orthogonal: bool) -> np.ndarray:
    """∂Σ/∂θ_j for every parameter, shape (q, p, p)."""
    p, m = L.shape
    LP = L @ Phi
    out = []
    for k in range(m):  # loadings, column by column
        for i in range(p):
            d = np.zeros((p, p))
            d[i, :] += LP[:, k]
            d[:, i] += LP[:, k]
            out.append(d)
    for i in range(p):
        d = np.zeros((p, p))
        d[i, i] = 1.0
        out.append(d)
    if not orthogonal:
        for k in range(m):
            for j in range(k + 1, m):
                outer = np.outer(L[:, j], L[:, k])
                out.append(outer + outer.T)
    return np.array(out)


def information(sigma: np.ndarray, dsigma: np.ndarray, estimator: str) -> np.ndarray:
    """The expected information per observation (ML) or ΔᵀΔ on vech Σ (ULS)."""
    if estimator == "ULS":
        rows, cols = np.tril_indices(sigma.shape[0])
        delta = dsigma[:, rows, cols]
        return delta @ delta.T
    inv = np.linalg.inv(sigma)
    A = inv @ dsigma  # Σ⁻¹ ∂Σ_j
    q = A.shape[0]  # ½ tr(A_j A_k) = ½ vec(A_j)·vec(A_kᵀ), as one matrix product
    return 0.5 * (A.reshape(q, -1) @ np.swapaxes(A, -1, -2).reshape(q, -1).T)


def constraint_jacobian(theta, p, m, rotation: Rotation, std_ov: bool, h: float = 1e-4):
    """∂c/∂θ by five-point central differences (error O(h⁴)), all points at once."""
    steps = h * np.maximum(1.0, np.abs(theta))
    q = theta.size
    points = np.repeat(theta[None, None, :], 4, axis=0).repeat(q, axis=1)  # (4, q, q)
    points[:, np.arange(q), np.arange(q)] += np.array([1.0, -1.0, 2.0, -2.0])[:, None] * steps
    L, psi, Phi = unpack(points, p, m, rotation.orthogonal)
    # as lavaan: the variances for std.ov are diag(ΛΛᵀ) + ψ, without Φ
    ov_var = np.sum(L * L, axis=-1) + psi if std_ov else None
    c = stationarity(L, Phi, rotation, ov_var)
    return ((8.0 * (c[0] - c[1]) - (c[2] - c[3])) / (12.0 * steps[:, None])).T


def rotated_vcov(L, psi, Phi, rotation: Rotation, estimator: str, nobs: int, std_ov: bool):
    """The covariance matrix of θ (bordered by the rotation's stationarity conditions)."""
    from scipy.linalg import null_space

    p, m = L.shape
    orthogonal = rotation.orthogonal
    theta = pack(L, psi, Phi, orthogonal)
    sigma = L @ Phi @ L.T + np.diag(psi)
    info = information(sigma, sigma_derivatives(L, Phi, orthogonal), estimator)
    n = nobs - 1 if estimator == "ULS" else nobs
    if m < 2 or rotation.method == "none":
        Z = np.eye(theta.size)
    else:
        Z = null_space(constraint_jacobian(theta, p, m, rotation, std_ov))
    return Z @ np.linalg.solve(Z.T @ info @ Z, Z.T) / n


def echelon_vcov(L, psi, estimator: str, nobs: int) -> np.ndarray:
    """The covariance of θ (orthogonal layout) for the unrotated echelon solution: loading
    (i, k) with i < k is fixed at 0, every other loading and ψ free."""
    p, m = L.shape
    theta = pack(L, psi, np.eye(m), True)
    sigma = L @ L.T + np.diag(psi)
    info = information(sigma, sigma_derivatives(L, np.eye(m), True), estimator)
    fixed = [k * p + i for k in range(m) for i in range(k)]
    Z = np.delete(np.eye(theta.size), fixed, axis=1)
    n = nobs - 1 if estimator == "ULS" else nobs
    return Z @ np.linalg.solve(Z.T @ info @ Z, Z.T) / n


@limited()  # one BLAS thread (computed when the estimates are first asked for)
def lavaan_standardized_vcov(unrotated, psi, rotation: Rotation, options: dict, estimator: str,
                              nobs: int, eps: float = 1e-3) -> np.ndarray:  # fmt: skip
    """The covariance of the standardized θ as lavaan's standardizedSolution() gets it for a
    rotated model: the delta method from the unrotated (echelon) parameters x, whose Jacobian
    is taken by forward differences of step ``eps`` (numDeriv's "simple" method), every
    evaluation rotating A(x) again from the final rotation matrix (one start, GPA to the same
    tolerance) and reflecting and ordering its columns."""
    from .delta import jacobian

    V = echelon_vcov(unrotated, psi, estimator, nobs)
    J = jacobian(unrotated, psi, rotation, options, eps, standardize=True)
    return J @ V @ J.T


def standardized(theta: np.ndarray, p: int, m: int, orthogonal: bool) -> np.ndarray:
    """θ in the standardized metric: λ_ik/√σ_ii, ψ_i/σ_ii, Φ unchanged (θ one or a stack)."""
    L, psi, Phi = unpack(theta, p, m, orthogonal)
    var = np.sum((L @ Phi) * L, axis=-1) + psi
    return pack(L / np.sqrt(var)[..., None], psi / var, Phi, orthogonal)


def standardized_vcov(theta, vcov, p, m, orthogonal, h: float = 1e-6) -> np.ndarray:
    """The covariance of the standardized θ by the delta method (central differences)."""
    J = np.empty((theta.size, theta.size))
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = h
        plus = standardized(theta + e, p, m, orthogonal)
        minus = standardized(theta - e, p, m, orthogonal)
        J[:, j] = (plus - minus) / (2.0 * h)
    return J @ vcov @ J.T
