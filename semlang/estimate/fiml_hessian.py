"""Second derivatives of the incomplete-data normal log-likelihood, batched over patterns.

Input: :class:`~semlang.estimate.missing_patterns.MissingPatterns` and moments ``sigma``,
``mu``. Output:

* :func:`saturated_derivatives`: the log-likelihood, its gradient and its (observed or expected)
  information, not divided by the number of rows, in the coordinates ``(μ, vech Σ)`` of
  :func:`~semlang.estimate.fiml.casewise_scores` — the Newton system of the saturated model,
  equal to ``nobs`` times :func:`~semlang.estimate.fiml_information.h1_information_observed`
  (or ``_expected``);
* :func:`fiml_entry_information`: the same information carried to the free RAM entries of a
  model, ``Δ H Δ' / N`` with ``Δ`` the derivatives of ``(μ, vech Σ)`` with respect to each
  entry; twice the observed one is the first-order part of the Hessian of the FIML discrepancy
  ``F = 2(ℓ_h1 − ℓ)/N`` (what :func:`~semlang.estimate.objective.first_order_entries` computes
  pattern by pattern);
* :func:`saturated_newton`: Newton steps (Fisher scoring where the observed information is not
  positive definite) on ``(μ, vech Σ)`` of the saturated model, with a backtracking line
  search that keeps ``Σ`` positive definite.

Per pattern the observed information is ``n W`` (μ, μ), ``n D'((W d) ⊗ W)`` (vech Σ, μ) and
``n/2 D'(W ⊗ V) D`` (vech Σ, vech Σ) with ``W = Σ_oo⁻¹``, ``d = ȳ - μ_o``, ``M = S + d d'``,
``V = W (2M - Σ_oo) W`` (expected: ``d = 0``, ``V = W``). ``D'(A ⊗ B) D`` is linear in
``A ⊗ B``, so the patterns are summed first: with ``W`` and ``V`` embedded in ``p x p`` zeros,
``K = Σ_t n_t vech(W_t) vech(V_t)'`` is one ``q x m`` by ``m x q`` matrix product per block of
equally sized patterns (``q = p(p+1)/2``), and the duplication is applied once to the sum. The
cost grows as ``q²`` (memory) and ``m q²`` (time), with no Python loop over the patterns.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np

from semlang import cholesky as linalg
from semlang.estimate.fiml import (
    LOG_2PI,
    fiml_loglik,
    inverted_blocks,
    quadratic_terms,
    schur_terms,
    weighted_products,
)
from semlang.estimate.fiml_schur import SchurBlock
from semlang.estimate.missing_patterns import (
    MissingPatterns,
    unvech,
    vech_gradient,
    vech_indices,
    vech_positions,
)


class SaturatedDerivatives(NamedTuple):
    """Log-likelihood, gradient and information (minus the Hessian, or its expectation) in
    ``(μ, vech Σ)``; summed over rows, not divided by their number."""

    loglik: float
    gradient: np.ndarray
    information: np.ndarray


def _embed_vech(values: np.ndarray, block, q: int) -> np.ndarray:
    """``vech`` of a block's ``m`` symmetric ``k x k`` matrices placed at their observed
    variables in ``p x p`` zeros (``q = p(p+1)/2``)."""
    local_rows, local_cols = vech_indices(block.k)
    out = np.zeros((len(values), q))
    out[np.arange(len(values))[:, None], block.vech_places] = values[:, local_rows, local_cols]
    return out


def _duplicate(kv: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``D' K D`` for ``K[a, b, c, d] = Σ A[a, b] B[c, d]`` (symmetric ``A``, ``B``), given as
    ``kv = Σ vech(A) vech(B)'``: of its four terms ``kv[(ac), (bd)] + kv[(ad), (bc)] +
    kv[(bc), (ad)] + kv[(bd), (ac)]`` the last two are the first two of ``kv'``, so two
    gathers from ``kv + kv'`` make it."""
    first, second, halves = _duplication_indices(pos.shape[0])
    flat = (kv + kv.T).ravel()
    out = flat[first]
    out += flat[second]
    out *= halves
    return out


@cache
def _duplication_indices(p: int) -> tuple[np.ndarray, ...]:
    """The two index grids of :func:`_duplicate` into a raveled ``q x q`` matrix, and its ½
    factors for diagonal elements (made once per p)."""
    pos = vech_positions(p).astype(np.intp)  # (its products with q need the width)
    q = p * (p + 1) // 2
    rows, cols = vech_indices(p)
    r, c, r2, c2 = rows[:, None], cols[:, None], rows[None, :], cols[None, :]
    grids = (pos[c, c2] * q + pos[r, r2], pos[c, r2] * q + pos[r, c2])
    half = np.where(rows == cols, 0.5, 1.0)
    return (*grids, np.outer(half, half))


def _duplicate_vec(k3: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``D' K`` (``q x p``) for ``K[a, b, c] = Σ u[a] B[b, c]`` (symmetric ``B``), given as
    ``k3 = Σ u vech(B)'``."""
    rows, cols = vech_indices(pos.shape[0])
    out = k3[cols[:, None], pos[rows]] + k3[rows[:, None], pos[cols]]
    out[rows == cols, :] *= 0.5
    return out


def saturated_derivatives(
    patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray, expected: bool = False
) -> SaturatedDerivatives | None:
    """Log-likelihood, gradient and information in ``(μ, vech Σ)`` (see the module docstring);
    None when an observed block of ``sigma`` is not positive definite."""
    p = patterns.n_vars
    mu = np.asarray(mu, dtype=float)
    total = _Sums(p, expected, patterns.n_patterns)
    for block, inv in inverted_blocks(patterns, np.asarray(sigma, dtype=float)):
        if inv is None:
            return None
        dev = block.mean - mu[block.observed]
        if isinstance(inv, SchurBlock):
            total.add_schur(block, inv, dev)
        else:
            total.add(block, inv, dev)
    square = total.grad_sigma.reshape(p, p)
    grad_sigma = 0.5 * (square + square.T) + unvech(total.grad_vech)
    gradient = np.concatenate([total.grad_mu, vech_gradient(grad_sigma)])
    return SaturatedDerivatives(total.loglik, gradient, total.information())


def saturated_information(
    patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray, expected: bool = False
) -> np.ndarray | None:
    """The information of :func:`saturated_derivatives` alone (the expected one without the
    log-likelihood's and the gradient's work); None when an observed block of ``sigma`` is not
    positive definite."""
    if not expected:
        found = saturated_derivatives(patterns, sigma, mu)
        return None if found is None else found.information
    total = _Sums(patterns.n_vars, True, patterns.n_patterns)
    for block, inv in inverted_blocks(patterns, np.asarray(sigma, dtype=float)):
        if inv is None:
            return None
        total.add_expected(block, inv)
    return total.information()


class _Sums:
    """What :func:`saturated_derivatives` sums over the blocks: the log-likelihood, the
    gradient (pattern-wise blocks into a raveled ``p x p`` matrix, Schur blocks in ``vech``),
    and ``Σ n vech(W)`` (μ, μ), ``K = Σ n vech(W) vech(V)'`` and ``Σ n (W d) vech(W)'``.

    The ``vech`` rows of blocks smaller than ``_STACKED_ROWS / 2`` patterns are written into
    two preallocated buffers (``n vech(W)`` and ``vech(V)``; ``√n vech(W)`` alone for the
    expected information) and multiplied out once :data:`_STACKED_ROWS` of them are there, so
    that many small blocks make one large matrix product; larger blocks are multiplied at once.
    """

    def __init__(self, p: int, expected: bool, patterns: int):
        self.p, self.expected = p, expected
        self.q = q = p * (p + 1) // 2
        self.loglik = 0.0
        self.grad_sigma, self.grad_vech, self.grad_mu = np.zeros(p * p), np.zeros(q), np.zeros(p)
        self.info_mu, self.kv, self.k3 = np.zeros(q), np.zeros((q, q)), np.zeros((p, q))
        self._capacity = min(patterns, _STACKED_ROWS + _STACKED_ROWS // 2)  # (ever held)
        self._left: np.ndarray | None = None  # the buffers, made for the first small block
        self._right: np.ndarray | None = None
        self._rows = 0

    def add(self, block, inv, dev: np.ndarray) -> None:
        """A block whose ``Σ_oo⁻¹`` are formed pattern by pattern."""
        p, w, n = self.p, inv.inverse, block.n
        z, wmw = weighted_products(block, w, dev)
        quad = quadratic_terms(block, w, dev, z)
        self.loglik -= 0.5 * float(n @ (block.k * LOG_2PI + inv.logdet + quad))
        self.grad_mu += np.bincount(block.observed.ravel(), (n[:, None] * z).ravel(), minlength=p)
        self.grad_sigma += np.bincount(
            block.flat.ravel(), (0.5 * n[:, None, None] * (wmw - w)).ravel(), minlength=p * p
        )
        w_vech = _embed_vech(w, block, self.q)
        z_full = np.zeros((len(n), p))
        z_full[np.arange(len(n))[:, None], block.observed] = z
        self._moments(n, w_vech, z_full, None if self.expected else _embed_vech(wmw, block, self.q))

    def add_schur(self, block, inv: SchurBlock, dev: np.ndarray) -> None:
        """A :class:`~semlang.estimate.fiml_schur.SchurBlock`: ``W̃`` embedded at once."""
        n, q = block.n, self.q
        quad, z_full, multi, inverse = schur_terms(block, inv, dev)
        self.loglik -= 0.5 * float(n @ (block.k * LOG_2PI + inv.logdet + quad))
        self.grad_mu += n @ z_full
        w_vech = inv.inverse_vech()
        w_sum = n @ w_vech
        rows, cols = vech_indices(self.p)
        outer = (z_full.T * n) @ z_full
        self.grad_vech += 0.5 * (outer[rows, cols] - w_sum)
        wsw_vech = None
        if inverse is not None:  # the S terms of the patterns of several rows: W S W
            wsw = inverse @ block.multi_cov @ inverse
            local_rows, local_cols = vech_indices(block.k)
            wsw_vech = np.zeros((len(multi), q))
            wsw_vech[np.arange(len(multi))[:, None], block.vech_places_of(multi)] = wsw[
                :, local_rows, local_cols
            ]
            self.grad_vech += 0.5 * (n[multi] @ wsw_vech)
        if self.expected:
            self._moments(n, w_vech, z_full, None, w_sum)
            return
        wmw_vech = z_full[:, rows] * z_full[:, cols]
        if wsw_vech is not None:
            wmw_vech[multi] += wsw_vech
        self._moments(n, w_vech, z_full, wmw_vech, w_sum)

    def add_expected(self, block, inv) -> None:
        """A block's share of the expected information alone (``Σ n vech(W)`` and ``K``)."""
        if isinstance(inv, SchurBlock):
            w_vech = inv.inverse_vech()
        else:
            w_vech = _embed_vech(inv.inverse, block, self.q)
        self.info_mu += block.n @ w_vech
        self._stack(w_vech, np.sqrt(block.n), None)

    def _moments(self, n, w_vech, z_full, wmw_vech, w_sum=None) -> None:
        self.info_mu += n @ w_vech if w_sum is None else w_sum
        if wmw_vech is None:  # expected, symmetric: rank-m updates (half a product)
            self._stack(w_vech, np.sqrt(n), None)
            return
        self.k3 += (z_full.T * n) @ w_vech
        self._stack(w_vech, n, wmw_vech)

    def _stack(self, w_vech: np.ndarray, scale: np.ndarray, wmw_vech: np.ndarray | None) -> None:
        """Add ``left' right`` to ``K`` with ``left = scale · vech(W)`` and ``right =
        2 vech(WMW) − vech(W)`` (``left' left`` when ``wmw_vech`` is None); ``wmw_vech`` is
        overwritten. Blocks of fewer than ``_STACKED_ROWS / 2`` rows go to the buffers."""
        m = len(w_vech)
        if m >= _STACKED_ROWS // 2:
            left = w_vech * scale[:, None]
            self.kv += left.T @ (left if wmw_vech is None else _right(wmw_vech, w_vech))
            return
        if self._left is None:
            self._left = np.empty((self._capacity, self.q))
            self._right = None if self.expected else np.empty((self._capacity, self.q))
        a, b = self._rows, self._rows + m
        np.multiply(w_vech, scale[:, None], out=self._left[a:b])
        if self._right is not None and wmw_vech is not None:
            self._right[a:b] = _right(wmw_vech, w_vech)
        self._rows = b
        if b >= _STACKED_ROWS:
            self.flush()

    def flush(self) -> None:
        """Multiply out the rows held in the buffers."""
        if not self._rows or self._left is None:
            return
        left = self._left[: self._rows]
        self.kv += left.T @ (left if self._right is None else self._right[: self._rows])
        self._rows = 0

    def information(self) -> np.ndarray:
        """The information in ``(μ, vech Σ)`` from the sums (the buffers multiplied out)."""
        self.flush()
        p, q = self.p, self.q
        pos = vech_positions(p)
        info = np.zeros((p + q, p + q))
        info[:p, :p] = unvech(self.info_mu)
        info[p:, p:] = 0.5 * _duplicate(self.kv, pos)
        if not self.expected:
            info[p:, :p] = _duplicate_vec(self.k3, pos)
            info[:p, p:] = info[p:, :p].T
        return 0.5 * (info + info.T)


def _right(wmw_vech: np.ndarray, w_vech: np.ndarray) -> np.ndarray:
    """``2 vech(WMW) − vech(W)``, in place of ``wmw_vech``."""
    wmw_vech *= 2.0
    wmw_vech -= w_vech
    return wmw_vech


_STACKED_ROWS = 2048  # rows of (μ, vech Σ) pieces multiplied out at once


def entry_jacobian(pa: np.ndarray, pb: np.ndarray, pc: np.ndarray) -> np.ndarray:
    """Derivatives of ``(μ, vech Σ)`` with respect to RAM entries, one row per entry, from the
    entry vectors of :meth:`~semlang.compile.ram.ImpliedMoments.entry_vectors`
    (``dΣ/de = a b' + b a'``, ``dμ/de = c``)."""
    rows, cols = vech_indices(pa.shape[1])
    d_sigma = pa[:, rows] * pb[:, cols] + pb[:, rows] * pa[:, cols]
    return np.hstack([pc, d_sigma])


def fiml_entry_information(
    patterns: MissingPatterns,
    sigma: np.ndarray,
    mu: np.ndarray,
    entries: tuple[np.ndarray, np.ndarray, np.ndarray],
    ntotal: int,
    expected: bool = False,
) -> np.ndarray:
    """Information of the free RAM entries from one group's patterns, ``Δ H Δ' / N``.

    ``entries`` are the entry vectors ``(Pa, Pb, Pc)``, ``H`` the (observed or expected)
    information of ``(μ, vech Σ)`` at ``sigma``, ``mu``, ``N`` the total number of rows over all
    groups. Twice the observed one is the first-order part of ``∇²F`` (``F = 2(ℓ_h1 − ℓ)/N``),
    the sum over patterns of :func:`~semlang.estimate.objective.first_order_entries`; the
    expected one is the per-pattern expected information of the entries summed with weights
    ``n_t / N``. Raises ``numpy.linalg.LinAlgError`` when an observed block of ``sigma`` is not
    positive definite.
    """
    information = saturated_information(patterns, sigma, mu, expected=expected)
    if information is None:
        raise np.linalg.LinAlgError("an observed block of sigma is not positive definite")
    delta = entry_jacobian(*entries)
    return delta @ information @ delta.T / ntotal


# ---- Newton / Fisher scoring on (μ, vech Σ) ------------------------------------------------

NEWTON_MAX_VARS = 40  # the Newton system: p + p(p+1)/2 unknowns, a (p(p+1)/2)² work matrix
BATCHED_MAX_VARS = 60  # information of model entries summed in (μ, vech Σ): (p(p+1)/2)² floats
_ARMIJO = 1e-4


def split_moments(theta: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """``(Σ, μ)`` from the flat vector ``(μ, vech Σ)``."""
    return unvech(theta[p:]), theta[:p]


def _positive_definite(matrix: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True


def _direction(
    patterns: MissingPatterns, theta: np.ndarray, current: SaturatedDerivatives
) -> tuple[np.ndarray, bool]:
    """The Newton direction, or Fisher scoring's where the observed information is not positive
    definite (far from the maximum); and whether it is Newton's. Zero when neither will do."""
    try:
        return _solve(current.information, current.gradient), True
    except np.linalg.LinAlgError:
        pass
    expected = saturated_information(patterns, *split_moments(theta, patterns.n_vars), True)
    if expected is None:  # (not reached: the same moments gave ``current``)
        return np.zeros_like(current.gradient), False
    try:
        return _solve(expected, current.gradient), False
    except np.linalg.LinAlgError:
        return np.zeros_like(current.gradient), False


def _solve(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``matrix⁻¹ vector`` by Cholesky and two triangular solves (LinAlgError when ``matrix``
    is not positive definite)."""
    factor = np.linalg.cholesky(matrix)
    half = linalg.solve_triangular(factor, vector, lower=True)
    return linalg.solve_triangular(factor.T, half, lower=False)


def _line_search(
    patterns: MissingPatterns, theta: np.ndarray, loglik: float, step: np.ndarray, gain: float
) -> tuple[np.ndarray, float, SaturatedDerivatives | None] | None:
    """The new point and step length, backtracking from the full step: Σ positive definite and
    an Armijo rise of the log-likelihood (up to rounding); None when no step of 2⁻⁴⁰ will do.
    The full step is tried with all the derivatives (near the maximum it is taken, and the next
    step or the information at the estimates needs them), returned when it is taken."""
    p = patterns.n_vars
    slack = 1e-13 * (1.0 + abs(loglik))
    alpha = 1.0
    for _ in range(40):
        candidate = theta + alpha * step
        sigma, mu = split_moments(candidate, p)
        if _positive_definite(sigma):
            found = saturated_derivatives(patterns, sigma, mu) if alpha == 1.0 else None
            value = fiml_loglik(patterns, sigma, mu) if found is None else found.loglik
            if value >= loglik + _ARMIJO * alpha * gain - slack:
                return candidate, alpha, found
        alpha *= 0.5
    return None


def saturated_newton(
    patterns: MissingPatterns, theta: np.ndarray, tol: float, max_steps: int
) -> tuple[np.ndarray, int, bool, SaturatedDerivatives | None]:
    """Newton (or Fisher scoring) steps on the saturated model from ``theta`` (``(μ, vech Σ)``).

    Converged at a point whose full Newton step would move no element by more than
    ``tol * (1 + |value|)`` (that step is not taken: the derivatives returned are those at the
    point, with no further pass over the patterns for a move at the level of the tolerance), or
    when the steps stop shrinking while the predicted rise of the log-likelihood is at its
    rounding level. Returns the point, the steps taken, convergence and the derivatives at the
    point when they were computed there (None otherwise).
    """
    p = patterns.n_vars
    current = saturated_derivatives(patterns, *split_moments(theta, p))
    if current is None:
        return theta, 0, False, None
    last_change = np.inf
    for steps in range(1, max_steps + 1):
        step, newton = _direction(patterns, theta, current)
        gain = float(step @ current.gradient)
        if not gain > 0:
            return theta, steps, newton and gain == 0, current
        if newton and np.max(np.abs(step) / (1.0 + np.abs(theta))) < tol:
            return theta, steps - 1, True, current
        found = _line_search(patterns, theta, current.loglik, step, gain)
        if found is None:
            return theta, steps, False, current
        new, alpha, at_new = found
        change = np.max(np.abs(new - theta) / (1.0 + np.abs(theta)))
        theta = new
        if newton and alpha == 1.0:  # (a step below tol is never taken: see above)
            if gain < 1e-12 * (1.0 + abs(current.loglik)) and change >= last_change:
                return theta, steps, True, at_new
            last_change = change
        if at_new is None:
            at_new = saturated_derivatives(patterns, *split_moments(theta, p))
        current = at_new
        if current is None:
            return theta, steps, False, None
    return theta, max_steps, False, current
