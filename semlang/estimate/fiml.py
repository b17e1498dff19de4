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

from semlang.estimate.fiml_schur import SchurBlock
from semlang.estimate.missing_patterns import MissingPatterns, vech_indices

LOG_2PI = float(np.log(2.0 * np.pi))


class BlockInverse(NamedTuple):
    """``Σ_oo⁻¹`` (``m x k x k``) and ``log|Σ_oo|`` (``m``) of the patterns of one block."""

    inverse: np.ndarray
    logdet: np.ndarray


def full_inverse(sigma: np.ndarray) -> tuple[np.ndarray, float] | None:
    """``(Σ⁻¹, log|Σ|)`` by Cholesky, or None when ``Σ`` is not positive definite."""
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return None
    diag = np.diagonal(chol)
    if not np.all(diag > 0):
        return None
    chol_inv = np.linalg.inv(chol)
    return chol_inv.T @ chol_inv, 2.0 * float(np.log(diag).sum())


def block_inverse(block, sigma: np.ndarray, full) -> BlockInverse | SchurBlock | None:
    """``Σ_oo⁻¹`` and ``log|Σ_oo|`` of a block's patterns; None if one is not positive definite.

    With ``full = (Σ⁻¹, log|Σ|)`` (:func:`full_inverse`) and at most as many missing variables
    ``m`` as observed ones, a :class:`~semlang.estimate.fiml_schur.SchurBlock`: Schur
    complements ``Σ_oo⁻¹ = (Σ⁻¹)_oo − (Σ⁻¹)_om ((Σ⁻¹)_mm)⁻¹ (Σ⁻¹)_mo`` and
    ``log|Σ_oo| = log|Σ| + log|(Σ⁻¹)_mm|``, an ``m x m`` factorization per pattern instead of a
    ``k x k`` one. Otherwise by a stacked Cholesky factorization of the ``Σ_oo``.
    """
    obs = block.observed
    k = obs.shape[1]
    p = sigma.shape[0]
    if full is not None and p - k <= k:
        found = SchurBlock.build(block, *full)
        if found is not None:
            return found
    sub = sigma.take(block.flat)
    try:
        chol = np.linalg.cholesky(sub)
    except np.linalg.LinAlgError:
        return None
    diag = np.diagonal(chol, axis1=1, axis2=2)
    if not np.all(diag > 0):
        return None
    chol_inv = np.linalg.inv(chol)
    inverse = np.swapaxes(chol_inv, 1, 2) @ chol_inv
    return BlockInverse(inverse, 2.0 * np.log(diag).sum(axis=1))


def inverted_blocks(patterns: MissingPatterns, sigma: np.ndarray):
    """Yield each block (chunk) of patterns with its :class:`BlockInverse`, which is None where
    an observed block of ``sigma`` is not positive definite (the caller stops there).

    When the blocks are kept (small data), so are the inverses of the last ``sigma`` gone
    through to the end: the optimizer's information at a point follows the gradient there."""
    full = full_inverse(sigma)
    blocks = patterns.blocks
    if not isinstance(blocks, tuple):  # chunks made afresh at each pass: nothing is kept
        for block in blocks:
            yield block, block_inverse(block, sigma, full)
        return
    key = (sigma.shape, sigma.tobytes(), full is None)
    kept = patterns.__dict__.get("_inverses")
    if kept is not None and kept[0] == key:
        yield from zip(blocks, kept[1], strict=True)
        return
    inverses = []
    for block in blocks:
        inverse = block_inverse(block, sigma, full)
        yield block, inverse
        if inverse is None:
            return
        inverses.append(inverse)
    patterns.__dict__["_inverses"] = (key, inverses)


def block_inverses(patterns: MissingPatterns, sigma: np.ndarray) -> tuple[BlockInverse, ...] | None:
    """Every block's :class:`BlockInverse` at once (for small data); None if one is not
    positive definite."""
    out = []
    for _, inverse in inverted_blocks(patterns, sigma):
        if inverse is None:
            return None
        out.append(inverse)
    return tuple(out)


def weighted_products(block, inverse: np.ndarray, dev: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(z, WMW)`` of a block: ``z = W d`` and ``W M W`` with ``M = S + d d'`` (``W = Σ_oo⁻¹``,
    ``d = ȳ − μ_o``); a one-row pattern has ``S = 0``, so ``W M W = z z'`` needs no product of
    matrices."""
    z = np.einsum("mij,mj->mi", inverse, dev)
    wmw = z[:, :, None] * z[:, None, :]
    multi = block.multi
    if len(multi):
        w = inverse[multi]
        wmw[multi] += w @ block.multi_cov @ w
    return z, wmw


def quadratic_terms(block, inverse: np.ndarray, dev: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``tr(W M)`` of each pattern of a block (``z = W d``)."""
    quad = np.einsum("mi,mi->m", dev, z)
    multi = block.multi
    if len(multi):
        quad[multi] += np.einsum("mij,mij->m", inverse[multi], block.multi_cov)
    return quad


def _prepare(sigma: np.ndarray, mu: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    sigma = np.asarray(sigma, dtype=float)
    mu = np.asarray(mu, dtype=float).ravel()
    if sigma.shape != (p, p) or mu.shape != (p,):
        raise ValueError(f"expected sigma {p} x {p} and mu of length {p}")
    return sigma, mu


def fiml_loglik(patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray) -> float:
    """Casewise normal log-likelihood of the incomplete data, summed over the rows used."""
    sigma, mu = _prepare(sigma, mu, patterns.n_vars)
    total = 0.0
    for block, inv in inverted_blocks(patterns, sigma):
        if inv is None:
            return -np.inf
        dev = block.mean - mu[block.observed]
        if isinstance(inv, SchurBlock):
            quad = schur_terms(block, inv, dev)[0]
        else:
            z = np.einsum("mij,mj->mi", inv.inverse, dev)
            quad = quadratic_terms(block, inv.inverse, dev, z)
        total -= 0.5 * float(block.n @ (block.k * LOG_2PI + inv.logdet + quad))
    return total


def schur_terms(block, inv: SchurBlock, dev: np.ndarray):
    """``tr(W M)`` per pattern, ``W̃ d̃`` (``m x p``), and the patterns of several rows with
    their ``Σ_oo⁻¹`` (for their ``S`` terms) of a :class:`SchurBlock`."""
    dev_full = inv.embedded(dev)
    scaled = inv.scaled(dev_full)
    quad = np.einsum("mi,mi->m", dev_full, scaled)
    multi = block.multi
    inverse = inv.dense(multi) if len(multi) else None
    if inverse is not None:
        quad[multi] += np.einsum("mij,mij->m", inverse, block.multi_cov)
    return quad, scaled, multi, inverse


class _GradientSum:
    """The gradient ``(G, g)`` summed block by block: pattern-wise blocks into a raveled
    ``p x p`` matrix, :class:`SchurBlock` s as products over the whole block."""

    def __init__(self, p: int):
        self.p = p
        self.flat = np.zeros(p * p)  # Σ ½ n (W M W − W), pattern-wise, at the observed pairs
        self.outer = np.zeros((p, p))  # Σ n z z' of Schur blocks (z embedded)
        self.inverse_sum = np.zeros((p, p))  # Σ n embedded (P_mm)⁻¹
        self.count = 0.0  # Σ n of Schur blocks
        self.mu = np.zeros(p)
        self.precision: np.ndarray | None = None

    def add(self, block, inv, dev: np.ndarray) -> np.ndarray:
        """Add a block; returns its ``tr(W M)`` per pattern."""
        p, n = self.p, block.n
        if isinstance(inv, SchurBlock):
            quad, scaled, multi, inverse = schur_terms(block, inv, dev)
            self.mu += n @ scaled
            self.outer += (scaled.T * n) @ scaled
            count, q = inv.inverse_sum(n)
            self.count += count
            self.inverse_sum += q
            self.precision = inv.precision
            if inverse is not None:
                wsw = inverse @ block.multi_cov @ inverse
                self.flat += np.bincount(
                    block.flat_of(multi).ravel(), (0.5 * n[multi, None, None] * wsw).ravel(),
                    minlength=p * p,
                )  # fmt: skip
            return quad
        inv_dev, wmw = weighted_products(block, inv.inverse, dev)
        self.mu += np.bincount(block.observed.ravel(), (n[:, None] * inv_dev).ravel(), minlength=p)
        inner = wmw - inv.inverse
        self.flat += np.bincount(
            block.flat.ravel(), (0.5 * n[:, None, None] * inner).ravel(), minlength=p * p
        )
        return quadratic_terms(block, inv.inverse, dev, inv_dev)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        square = self.flat.reshape(self.p, self.p)
        grad = 0.5 * (square + square.T)
        if self.precision is not None:
            precision = self.precision
            weighted = self.outer - self.count * precision
            weighted += precision @ self.inverse_sum @ precision
            grad += 0.25 * (weighted + weighted.T)
        return grad, self.mu


def fiml_loglik_and_gradient(
    patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood and its gradient ``(G, g)`` (see the module docstring), in one pass."""
    sigma, mu = _prepare(sigma, mu, patterns.n_vars)
    p = patterns.n_vars
    total = 0.0
    gradient = _GradientSum(p)
    for block, inv in inverted_blocks(patterns, sigma):
        if inv is None:
            return -np.inf, np.full((p, p), np.nan), np.full(p, np.nan)
        dev = block.mean - mu[block.observed]
        quad = gradient.add(block, inv, dev)
        total -= 0.5 * float(block.n @ (block.k * LOG_2PI + inv.logdet + quad))
    return total, *gradient.result()


def fiml_gradient(
    patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient ``(G, g)``: ``d loglik = tr(G dΣ) + g·dμ`` for symmetric ``dΣ``."""
    _, grad_sigma, grad_mu = fiml_loglik_and_gradient(patterns, sigma, mu)
    return grad_sigma, grad_mu


_ROW_ELEMENTS = 1 << 21  # rows x p x p entries of a slice of casewise work


def row_slices(patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray):
    """Yield, slice by slice of the used rows (pattern by pattern, a bounded number at a time):
    their places in :attr:`~MissingPatterns.used_rows`, their observed variables (``r x k``),
    ``Σ_oo⁻¹ (y_o − μ_o)`` (``r x k``), ``Σ_oo⁻¹`` (``r x k x k``) and ``log|Σ_oo|`` (``r``).
    Raises ``numpy.linalg.LinAlgError`` when an observed block of ``sigma`` is not positive
    definite."""
    sigma, mu = _prepare(sigma, mu, patterns.n_vars)
    at = patterns.row_positions
    for block, inv in inverted_blocks(patterns, sigma):
        if inv is None:
            raise np.linalg.LinAlgError("an observed block of sigma is not positive definite")
        ids = block.pattern_ids
        first, last = patterns.starts[ids[0]], patterns.starts[ids[-1] + 1]
        which = np.repeat(np.arange(len(ids)), block.n.astype(np.intp))
        step = max(1, _ROW_ELEMENTS // (patterns.n_vars**2))  # (scores embed in p x p)
        # (a Schur block's Σ_oo⁻¹ made here, not kept on it: the last Σ's blocks are kept)
        inverses = inv.dense() if isinstance(inv, SchurBlock) else inv.inverse
        for a in range(0, last - first, step):
            part = which[a : a + step]
            rows = patterns.order[first + a : first + a + len(part)]
            obs = block.observed[part]
            dev = patterns.data[rows[:, None], obs] - mu[obs]
            inverse = inverses[part]
            scaled = np.einsum("rij,rj->ri", inverse, dev)
            yield at[first + a : first + a + len(part)], obs, dev, scaled, inverse, inv.logdet[part]


def casewise_loglik(patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Each used row's log-likelihood, rows in the order of ``patterns.used_rows``."""
    sigma, mu = _prepare(sigma, mu, patterns.n_vars)
    out = np.zeros(patterns.nobs)
    try:
        for at, obs, dev, scaled, _, logdet in row_slices(patterns, sigma, mu):
            quad = np.einsum("ri,ri->r", dev, scaled)
            out[at] = -0.5 * (obs.shape[1] * LOG_2PI + logdet + quad)
    except np.linalg.LinAlgError:
        return np.full(patterns.nobs, -np.inf)
    return out


def score_slices(patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray):
    """Yield :func:`casewise_scores` slice by slice: (places in ``used_rows``, scores)."""
    p = patterns.n_vars
    rows, cols = vech_indices(p)
    if _is_complete(patterns):
        yield from _complete_score_slices(patterns, sigma, mu)
        return
    for at, obs, _, scaled, inverse, _ in row_slices(patterns, sigma, mu):
        ar = np.arange(len(at))[:, None]
        full = np.zeros((len(at), p))
        full[ar, obs] = scaled
        embedded = np.zeros((len(at), p, p))
        embedded[ar[:, :, None], obs[:, :, None], obs[:, None, :]] = inverse
        part = full[:, rows] * full[:, cols] - embedded[:, rows, cols]
        part[:, rows == cols] *= 0.5
        yield at, np.hstack([full, part])


def _is_complete(patterns: MissingPatterns) -> bool:
    return len(patterns.masks) == 1 and bool(patterns.masks[0].all())


def _complete_score_slices(patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray):
    """:func:`score_slices` of complete data, a bounded number of rows at a time."""
    sigma, mu = _prepare(sigma, mu, patterns.n_vars)
    inverse = _complete_inverse(sigma)
    p = patterns.n_vars
    step = max(1, _ROW_ELEMENTS // (p + p * (p + 1) // 2))
    at = patterns.row_positions
    for a in range(0, patterns.nobs, step):
        rows = patterns.order[a : a + step]
        yield at[a : a + step], _complete_scores(patterns.data[rows], inverse, mu)


def _complete_inverse(sigma: np.ndarray) -> np.ndarray:
    found = full_inverse(sigma)
    if found is None:
        raise np.linalg.LinAlgError("sigma is not positive definite")
    return found[0]


def _complete_scores(data: np.ndarray, inverse: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """The scores of complete rows: one ``Σ⁻¹`` for all, so the scaled deviations are one
    matrix product; built moment by moment in place (contiguous rows, no temporary of the
    scores' size) and returned as a rows x moments view."""
    p = len(mu)
    out = np.empty((p + p * (p + 1) // 2, data.shape[0]))
    scaled = out[:p]
    np.matmul(inverse, (data - mu).T, out=scaled)
    at = p
    for j in range(p):  # vech Σ's column j: σ_jj, σ_j+1,j, ..., σ_p-1,j
        part = out[at : at + p - j]
        np.multiply(scaled[j:], scaled[j], out=part)
        part -= inverse[j:, j, None]
        part[0] *= 0.5
        at += p - j
    return out.T


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
    p = patterns.n_vars
    if _is_complete(patterns):  # every row in place, at once
        sigma, mu = _prepare(sigma, mu, p)
        data = patterns.data if not patterns.n_dropped_empty else patterns.data[patterns.used_rows]
        return _complete_scores(data, _complete_inverse(sigma), mu)
    out = np.zeros((patterns.nobs, p + p * (p + 1) // 2))
    for at, scores in score_slices(patterns, sigma, mu):
        out[at] = scores
    return out
