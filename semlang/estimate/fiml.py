"""The normal log-likelihood of incomplete data (FIML) and its derivatives.

Input: :class:`~semlang.estimate.missing_patterns.MissingPatterns` and model-implied moments
``sigma`` (``p x p``, symmetric) and ``mu`` (``p``). Output: the casewise normal log-likelihood
summed over rows (lavaan's ``logl`` under ``missing = "ml"``), its gradient, and each row's
scores. Every row contributes ``-1/2 (k log 2π + log|Σ_oo| + (y_o - μ_o)' Σ_oo⁻¹ (y_o - μ_o))``
for its ``k`` observed variables ``o``; per pattern this only needs the pattern's mean and
covariance, so the work is a loop over blocks of equally sized patterns with batched linear
algebra, never a loop over rows.

Conventions:

* gradient ``(G, g)``: ``d loglik = tr(G dΣ) + g·dμ`` for a symmetric ``dΣ``; ``G`` is symmetric.
  :func:`~semlang.estimate.missing_patterns.vech_gradient` turns ``G`` into the derivative with
  respect to ``vech(Σ)``.
* scores are in ``(μ, vech Σ)`` coordinates, ``vech`` running down the columns of the lower
  triangle; an off-diagonal column is the derivative with respect to the unique element
  ``σ_ij = σ_ji`` (it moves both entries), lavaan's convention.
* when some observed block ``Σ_oo`` is not positive definite, the log-likelihood is ``-inf``
  and the gradient NaN, so an optimizer backs off.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from semlang.estimate.missing_patterns import MissingPatterns, vech_indices

LOG_2PI = float(np.log(2.0 * np.pi))


class BlockInverse(NamedTuple):
    """``Σ_oo⁻¹`` (``m x k x k``) and ``log|Σ_oo|`` (``m``) of the patterns of one block."""

    inverse: np.ndarray
    logdet: np.ndarray


def block_inverses(patterns: MissingPatterns, sigma: np.ndarray) -> tuple[BlockInverse, ...] | None:
    """Inverse and log-determinant of each pattern's ``Σ_oo``; None if one is not pos. def."""
    out = []
    for block in patterns.blocks:
        idx = block.observed
        sub = sigma[idx[:, :, None], idx[:, None, :]]
        try:
            chol = np.linalg.cholesky(sub)
        except np.linalg.LinAlgError:
            return None
        diag = np.diagonal(chol, axis1=1, axis2=2)
        if not np.all(diag > 0):
            return None
        chol_inv = np.linalg.inv(chol)
        inverse = np.swapaxes(chol_inv, 1, 2) @ chol_inv
        out.append(BlockInverse(inverse, 2.0 * np.log(diag).sum(axis=1)))
    return tuple(out)


def _prepare(sigma: np.ndarray, mu: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    sigma = np.asarray(sigma, dtype=float)
    mu = np.asarray(mu, dtype=float).ravel()
    if sigma.shape != (p, p) or mu.shape != (p,):
        raise ValueError(f"expected sigma {p} x {p} and mu of length {p}")
    return sigma, mu


def fiml_loglik(patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray) -> float:
    """Casewise normal log-likelihood of the incomplete data, summed over the rows used."""
    sigma, mu = _prepare(sigma, mu, patterns.n_vars)
    inverses = block_inverses(patterns, sigma)
    if inverses is None:
        return -np.inf
    total = 0.0
    for block, inv in zip(patterns.blocks, inverses, strict=True):
        dev = block.mean - mu[block.observed]
        quad = np.einsum("mij,mij->m", inv.inverse, block.cov)
        quad += np.einsum("mi,mij,mj->m", dev, inv.inverse, dev)
        total -= 0.5 * float(block.n @ (block.k * LOG_2PI + inv.logdet + quad))
    return total


def fiml_loglik_and_gradient(
    patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood and its gradient ``(G, g)`` (see the module docstring), in one pass."""
    sigma, mu = _prepare(sigma, mu, patterns.n_vars)
    p = patterns.n_vars
    inverses = block_inverses(patterns, sigma)
    if inverses is None:
        return -np.inf, np.full((p, p), np.nan), np.full(p, np.nan)
    total = 0.0
    grad_sigma = np.zeros(p * p)
    grad_mu = np.zeros(p)
    for block, inv in zip(patterns.blocks, inverses, strict=True):
        dev = block.mean - mu[block.observed]
        weighted = block.cov + dev[:, :, None] * dev[:, None, :]
        quad = np.einsum("mij,mij->m", inv.inverse, weighted)
        total -= 0.5 * float(block.n @ (block.k * LOG_2PI + inv.logdet + quad))
        inv_dev = np.einsum("mij,mj->mi", inv.inverse, dev)
        grad_mu += np.bincount(
            block.observed.ravel(), (block.n[:, None] * inv_dev).ravel(), minlength=p
        )
        inner = inv.inverse @ weighted @ inv.inverse - inv.inverse
        grad_sigma += np.bincount(
            block.flat.ravel(), (0.5 * block.n[:, None, None] * inner).ravel(), minlength=p * p
        )
    square = grad_sigma.reshape(p, p)
    return total, 0.5 * (square + square.T), grad_mu


def fiml_gradient(
    patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient ``(G, g)``: ``d loglik = tr(G dΣ) + g·dμ`` for symmetric ``dΣ``."""
    _, grad_sigma, grad_mu = fiml_loglik_and_gradient(patterns, sigma, mu)
    return grad_sigma, grad_mu


def _pattern_inverse(
    patterns: MissingPatterns, inverses: tuple[BlockInverse, ...], pattern: int
) -> tuple[np.ndarray, float]:
    b, j = patterns.block_of_pattern[pattern]
    return inverses[b].inverse[j], float(inverses[b].logdet[j])


def _scaled_residuals(
    patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per used row: ``Σ_oo⁻¹ (y_o - μ_o)`` (zero where missing), the row's pattern, and per
    pattern the embedded ``Σ_oo⁻¹`` and ``log|Σ_oo|``."""
    p = patterns.n_vars
    inverses = block_inverses(patterns, sigma)
    if inverses is None:
        raise np.linalg.LinAlgError("an observed block of sigma is not positive definite")
    scaled = np.zeros((patterns.nobs, p))
    row_pattern = np.zeros(patterns.nobs, dtype=np.intp)
    embedded = np.zeros((patterns.n_patterns, p, p))
    logdets = np.zeros(patterns.n_patterns)
    for t, (pat, pos) in enumerate(zip(patterns.patterns, patterns.positions, strict=True)):
        inverse, logdets[t] = _pattern_inverse(patterns, inverses, t)
        scaled[np.ix_(pos, pat.observed)] = (pat.data - mu[pat.observed]) @ inverse
        embedded[t][np.ix_(pat.observed, pat.observed)] = inverse
        row_pattern[pos] = t
    return scaled, row_pattern, embedded, logdets


def casewise_loglik(patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Each used row's log-likelihood, rows in the order of ``patterns.used_rows``."""
    sigma, mu = _prepare(sigma, mu, patterns.n_vars)
    inverses = block_inverses(patterns, sigma)
    if inverses is None:
        return np.full(patterns.nobs, -np.inf)
    out = np.zeros(patterns.nobs)
    for t, (pat, pos) in enumerate(zip(patterns.patterns, patterns.positions, strict=True)):
        inverse, logdet = _pattern_inverse(patterns, inverses, t)
        dev = pat.data - mu[pat.observed]
        quad = np.einsum("ni,ij,nj->n", dev, inverse, dev)
        out[pos] = -0.5 * (pat.k * LOG_2PI + logdet + quad)
    return out


def casewise_scores(patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Each used row's derivative of its log-likelihood with respect to ``(μ, vech Σ)``.

    An ``nobs x (p + p(p+1)/2)`` array, rows in the order of ``patterns.used_rows`` (the
    original order without the empty rows). Columns: ``μ_1..μ_p``, then ``vech(Σ)`` down the
    columns of the lower triangle; an off-diagonal column is the derivative with respect to the
    unique element (moving ``σ_ij`` and ``σ_ji`` together). Entries of variables a row does not
    observe are zero. The column sums are the gradient in these coordinates.
    Raises ``numpy.linalg.LinAlgError`` when an observed block of ``sigma`` is not positive
    definite.
    """
    sigma, mu = _prepare(sigma, mu, patterns.n_vars)
    scaled, row_pattern, embedded, _ = _scaled_residuals(patterns, sigma, mu)
    rows, cols = vech_indices(patterns.n_vars)
    sigma_part = scaled[:, rows] * scaled[:, cols] - embedded[:, rows, cols][row_pattern]
    sigma_part[:, rows == cols] *= 0.5
    return np.hstack([scaled, sigma_part])
