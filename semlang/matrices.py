"""Symmetric matrices judged without regard to the variables' scales.

Input: a covariance or information matrix. Output: whether it is (nearly) singular, and its
inverse. Both work on the matrix scaled to a unit diagonal (D⁻¹AD⁻¹, D = diag(A)^½, a correlation
matrix for a covariance matrix), so that a variable measured in thousands, or a parameter on
such a variable, is not mistaken for a dependent one, and the inverse is computed where the
matrix is well conditioned: A⁻¹ = D⁻¹(D⁻¹AD⁻¹)⁻¹D⁻¹.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from semlang import cholesky as lapack  # (numpy's LAPACK: no scipy on the fit's path)

SINGULAR = 1e-10  # smallest / largest eigenvalue of the unit-diagonal matrix


def smallest_scaled_eigenvalue(matrix: np.ndarray) -> float:
    """The smallest eigenvalue of the unit-diagonal form, relative to the largest (−inf when a
    diagonal entry is not positive)."""
    diagonal = np.diag(matrix)
    if matrix.size == 0:
        return 1.0
    if np.any(diagonal <= 0) or not np.all(np.isfinite(matrix)):
        return -np.inf
    scale = 1.0 / np.sqrt(diagonal)
    eigenvalues = np.linalg.eigvalsh(matrix * np.outer(scale, scale))
    return float(eigenvalues[0] / max(eigenvalues[-1], 1e-300))


def nearly_singular(matrix: np.ndarray) -> bool:
    """True unless the matrix is positive definite with room to spare, whatever its scales."""
    return smallest_scaled_eigenvalue(matrix) <= SINGULAR


def scaled_inverse(matrix: np.ndarray) -> np.ndarray:
    """A⁻¹ through the unit-diagonal form (A positive definite)."""
    scale = 1.0 / np.sqrt(np.diag(matrix))
    return np.linalg.inv(matrix * np.outer(scale, scale)) * np.outer(scale, scale)


class NotPositiveDefinite(ArithmeticError):
    """The implied covariance matrix is not positive definite."""


_LAST_INVERSE: list = [None]  # (Σ's shape and bytes, Σ⁻¹, log|Σ|) of the last call


def cholesky_inverse(sigma: np.ndarray) -> tuple[np.ndarray, float]:
    """(Σ⁻¹, log|Σ|) from the Cholesky factor (LAPACK potrf/potri); raises NotPositiveDefinite.

    The last result is kept: the objective's value, Hessian and information at one θ each ask
    for the same Σ⁻¹ (a copy is returned, so callers may change it)."""
    key = (sigma.shape, sigma.dtype, sigma.tobytes())
    last = _LAST_INVERSE[0]
    if last is not None and last[0] == key:
        return last[1].copy(), last[2]
    inverse, logdet = _cholesky_inverse(sigma)
    _LAST_INVERSE[0] = (key, inverse.copy(), logdet)
    return inverse, logdet


def _cholesky_inverse(sigma: np.ndarray) -> tuple[np.ndarray, float]:
    if not np.isfinite(sigma).all():
        raise NotPositiveDefinite
    factor, info = lapack.dpotrf(sigma, lower=1, clean=0)
    if info != 0:
        raise NotPositiveDefinite
    diagonal = factor.diagonal()
    if (diagonal <= 0).any():
        raise NotPositiveDefinite
    logdet = 2.0 * float(np.log(diagonal).sum())
    inverse, info = lapack.dpotri(factor, lower=1)
    if info != 0:
        raise NotPositiveDefinite
    upper = _upper_triangle(len(inverse))
    inverse[upper] = inverse.T[upper]  # potri fills the lower triangle only
    return inverse, logdet


@cache
def _upper_triangle(p: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(p, 1)


def well_conditioned_inverse(matrix: np.ndarray) -> np.ndarray | None:
    """A⁻¹ through the Cholesky factor of the unit-diagonal form, or None where that form is not
    positive definite with room to spare (a pivot below :data:`SINGULAR`): one factorization
    instead of an eigen-decomposition and an inverse (large weight matrices)."""
    diagonal = np.diag(matrix)
    if np.any(diagonal <= 0) or not np.all(np.isfinite(matrix)):
        return None
    scale = 1.0 / np.sqrt(diagonal)
    factor, info = lapack.dpotrf(matrix * np.outer(scale, scale), lower=1, clean=0)
    if info != 0 or np.min(np.diag(factor)) ** 2 <= SINGULAR:
        return None
    inverse, info = lapack.dpotri(factor, lower=1)
    if info != 0:
        return None
    upper = _upper_triangle(len(inverse))
    inverse[upper] = inverse.T[upper]
    return inverse * np.outer(scale, scale)


def symmetric_cross_product(z: np.ndarray) -> np.ndarray:
    """zᵀz by BLAS's symmetric rank-k update (half the work of a general product)."""
    from scipy.linalg import blas

    out = blas.dsyrk(1.0, np.asfortranarray(z), trans=1, lower=1)
    upper = _upper_triangle(len(out))
    out[upper] = out.T[upper]
    return out


def block_diagonal(*blocks: np.ndarray) -> np.ndarray:
    """The block-diagonal matrix of square or rectangular 2-d blocks (scipy's ``block_diag``
    without its per-call overhead)."""
    rows = sum(b.shape[0] for b in blocks)
    cols = sum(b.shape[1] for b in blocks)
    out = np.zeros((rows, cols))
    r = c = 0
    for b in blocks:
        out[r : r + b.shape[0], c : c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    return out
