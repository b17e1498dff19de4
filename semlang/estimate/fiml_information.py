"""Unit information matrices of ``(μ, vech Σ)`` for incomplete normal data.

Input: :class:`~semlang.estimate.missing_patterns.MissingPatterns` and moments ``sigma``, ``mu``
(the saturated EM estimates for lavaan's "unstructured" h1 information, or the model-implied
moments for the "structured" one). Output: ``(p + q) x (p + q)`` matrices, ``q = p(p+1)/2``,
in the coordinates of :func:`~semlang.estimate.fiml.casewise_scores` (``μ`` first, then
``vech Σ`` down the columns of the lower triangle, off-diagonal elements as unique elements),
divided by the number of rows used, as lavaan's ``lav_mvnorm_missing_information_*``:

* observed: minus the Hessian of the log-likelihood, per pattern
  ``Σ_oo⁻¹`` (μ, μ), ``D'((Σ_oo⁻¹ d) ⊗ Σ_oo⁻¹)`` (vech Σ, μ) and
  ``1/2 D'(Σ_oo⁻¹ ⊗ Σ_oo⁻¹ (2W - Σ_oo) Σ_oo⁻¹) D`` (vech Σ, vech Σ),
  with ``d = ȳ - μ_o`` and ``W = S + d d'``, times the pattern's row count;
* expected: the same with ``W = Σ_oo`` and ``d = 0`` (block diagonal);
* first order: the cross-product of the casewise scores.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from semlang.estimate.fiml import score_slices
from semlang.estimate.missing_patterns import MissingPatterns, vech_indices


def dup_kron_dup(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``D'(a ⊗ b)D`` for symmetric ``a`` and ``b`` (``D`` the duplication matrix); for
    ``b is a`` the third and fourth terms equal the second and first, so two make it."""
    rows, cols = vech_indices(a.shape[0])
    halves = _halves(a.shape[0])
    a_c, a_r = a[cols], a[rows]  # (rows, then columns: cheaper than one 2-D gather)
    if b is a:
        out = a_c[:, cols] * a_r[:, rows]
        out += a_c[:, rows] * a_r[:, cols]
        out *= 2.0 * halves
        return out
    b_c, b_r = b[cols], b[rows]
    out = a_c[:, cols] * b_r[:, rows]
    out += a_c[:, rows] * b_r[:, cols]
    out += a_r[:, cols] * b_c[:, rows]
    out += a_r[:, rows] * b_c[:, cols]
    out *= halves
    return out


@cache
def _halves(p: int) -> np.ndarray:
    """The ½ factors of :func:`dup_kron_dup` for diagonal elements (made once per p)."""
    rows, cols = vech_indices(p)
    half = np.where(rows == cols, 0.5, 1.0)
    return np.outer(half, half)


def dup_kron_vec(u: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``D'(u ⊗ b)`` for a vector ``u`` and a symmetric ``b``: a ``q x p`` matrix."""
    rows, cols = vech_indices(b.shape[0])
    out = u[cols, None] * b[rows, :] + u[rows, None] * b[cols, :]
    out[rows == cols, :] *= 0.5
    return out


def h1_information_observed(
    patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray
) -> np.ndarray:
    """Unit observed information (minus the Hessian over ``nobs``) of ``(μ, vech Σ)``."""
    return _information(patterns, sigma, mu, expected=False)


def _information(patterns, sigma, mu, expected: bool) -> np.ndarray:
    """The patterns' information summed block by block (see
    :func:`~semlang.estimate.fiml_hessian.saturated_information`), over ``nobs``."""
    from semlang.estimate.fiml_hessian import saturated_information

    sigma = np.asarray(sigma, dtype=float)
    mu = np.asarray(mu, dtype=float).ravel()
    found = saturated_information(patterns, sigma, mu, expected=expected)
    if found is None:
        raise np.linalg.LinAlgError("an observed block of sigma is not positive definite")
    return found / patterns.nobs


def complete_information(sigma: np.ndarray) -> np.ndarray:
    """Unit expected information of ``(μ, vech Σ)`` with complete data: Σ⁻¹ and
    ½ D'(Σ⁻¹ ⊗ Σ⁻¹)D (raises NotPositiveDefinite where Σ is not positive definite)."""
    from semlang.matrices import cholesky_inverse

    inverse = cholesky_inverse(sigma)[0]
    p = len(inverse)
    out = np.zeros((p + p * (p + 1) // 2,) * 2)  # block diagonal
    out[:p, :p] = inverse
    out[p:, p:] = 0.5 * dup_kron_dup(inverse, inverse)
    return out


def h1_information_expected(patterns: MissingPatterns, sigma: np.ndarray) -> np.ndarray:
    """Unit expected information of ``(μ, vech Σ)`` (block diagonal; valid under MCAR); in
    closed form when no value is missing."""
    if patterns.complete:
        return complete_information(sigma)
    return _information(patterns, sigma, np.zeros(patterns.n_vars), expected=True)


def h1_information_firstorder(
    patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray
) -> np.ndarray:
    """Unit first-order information: the cross-product of the casewise scores over ``nobs``
    (summed slice by slice of the rows, never all scores at once)."""
    p = patterns.n_vars
    out = np.zeros((p + p * (p + 1) // 2,) * 2)
    for _, scores in score_slices(patterns, sigma, mu):
        out += scores.T @ scores
    return out / patterns.nobs
