"""``Σ_oo⁻¹`` of many patterns through the full precision matrix, never formed pattern by pattern.

Input: a :class:`~semlang.estimate.missing_patterns.PatternBlock` whose patterns miss at most as
many variables as they observe, the precision ``P = Σ⁻¹`` and ``log|Σ|``. Output:
:class:`SchurBlock`, which gives the pieces the likelihood, its gradient and the information
need with matrix products over all the patterns of the block at once.

Embedded in ``p x p`` zeros, a pattern's inverse is ``W̃ = P − P_{·m} (P_mm)⁻¹ P_{m·}`` (``m`` its
missing variables, ``r`` of them): the Schur complement, which is zero in the missing rows and
columns. So, with the deviations ``d̃`` embedded in zeros (``n x p`` over the patterns),
``W̃ d̃ = P (d̃ − w̃)`` where ``w̃`` holds ``(P_mm)⁻¹ (P d̃)_m`` at the missing variables: two
``m x p`` by ``p x p`` products and one ``r x r`` solve per pattern, instead of a ``k x k``
inverse; ``Σ_t n_t W̃_t = (Σ n_t) P − P Q P`` with ``Q`` the sum of the embedded
``(P_mm)⁻¹``; ``log|Σ_oo| = log|Σ| + log|P_mm|``. Patterns of several rows also need ``W``
itself (their ``S`` terms); :meth:`SchurBlock.dense` gives it for any of them.
"""

from __future__ import annotations

from functools import cache, cached_property

import numpy as np

from semlang.estimate.missing_patterns import pair_positions, vech_indices


class SchurBlock:
    """A block's ``Σ_oo⁻¹`` as Schur complements of ``P = Σ⁻¹`` (see the module docstring).

    ``logdet``: ``log|Σ_oo|`` per pattern; ``inverse``: the ``m x k x k`` inverses, made on
    first use (for the code that works with them pattern by pattern).
    """

    def __init__(self, block, precision: np.ndarray, chol_inv: np.ndarray | None, logdet):
        self.block = block
        self.precision = precision
        self.chol_inv = chol_inv  # m x r x r: L⁻¹ with L L' = P_mm (None when r = 0)
        self.logdet = logdet

    @classmethod
    def build(cls, block, precision: np.ndarray, logdet: float) -> SchurBlock | None:
        """None when some ``P_mm`` is not positive definite (``Σ`` is then not either)."""
        count, k = block.observed.shape
        if k == block.n_vars:
            return cls(block, precision, None, np.full(count, logdet))
        try:
            chol = np.linalg.cholesky(precision.take(block.missing_pairs))
        except np.linalg.LinAlgError:
            return None
        diag = np.diagonal(chol, axis1=1, axis2=2)
        if not np.all(diag > 0):
            return None
        inverse = lower_inverse(chol, diag)
        return cls(block, precision, inverse, logdet + 2.0 * np.log(diag).sum(axis=1))

    @cached_property
    def inverse(self) -> np.ndarray:
        return self.dense()

    def dense(self, pick: np.ndarray | None = None) -> np.ndarray:
        """``Σ_oo⁻¹`` (``len(pick) x k x k``) of the patterns ``pick`` (all by default)."""
        block = self.block
        flat = block.flat if pick is None else block.flat_of(pick)
        inverse = self.precision.take(flat)
        if self.chol_inv is None:
            return inverse
        if pick is None:
            missing_observed, chol_inv = block.missing_observed_pairs, self.chol_inv
        else:
            missing_observed = pair_positions(
                block.missing[pick], block.observed[pick], block.n_vars
            )
            chol_inv = self.chol_inv[pick]
        x = chol_inv @ self.precision.take(missing_observed)
        inverse -= np.swapaxes(x, 1, 2) @ x
        return inverse

    @cached_property
    def pmm_inverse(self) -> np.ndarray:
        """``(P_mm)⁻¹`` per pattern (``m x r x r``; only where some variable is missing)."""
        chol_inv = self.chol_inv
        assert chol_inv is not None
        return np.swapaxes(chol_inv, 1, 2) @ chol_inv

    def embedded(self, values: np.ndarray) -> np.ndarray:
        """The block's ``m x k`` values at their observed variables in ``m x p`` zeros."""
        out = np.zeros((len(values), self.block.n_vars))
        out[np.arange(len(values))[:, None], self.block.observed] = values
        return out

    def scaled(self, dev_full: np.ndarray) -> np.ndarray:
        """``W̃ d̃`` (``m x p``, zero at the missing variables) of embedded deviations."""
        product = dev_full @ self.precision
        if self.chol_inv is None:
            return product
        missing = self.block.missing
        rows = np.arange(len(product))[:, None]
        w = np.einsum("mij,mj->mi", self.pmm_inverse, np.take_along_axis(product, missing, 1))
        shift = np.zeros_like(dev_full)
        shift[rows, missing] = w
        product -= shift @ self.precision
        product[rows, missing] = 0.0
        return product

    def inverse_sum(self, weights: np.ndarray) -> tuple[float, np.ndarray]:
        """``(Σ n_t, Q)``: the weights' sum and ``Q = Σ n_t`` embedded ``(P_mm)⁻¹``, so that
        ``Σ n_t W̃_t = (Σ n_t) P − P Q P``."""
        p = self.block.n_vars
        if self.chol_inv is None:
            return float(weights.sum()), np.zeros((p, p))
        values = weights[:, None, None] * self.pmm_inverse
        q = np.bincount(self.block.missing_pairs.ravel(), values.ravel(), minlength=p * p)
        return float(weights.sum()), q.reshape(p, p)

    def inverse_vech(self) -> np.ndarray:
        """``vech(W̃)`` of each pattern (``m x p(p+1)/2``), exactly zero at the pairs with a
        missing variable: ``P − x'x`` with ``x = L⁻¹ P_{m·}`` (``L L' = P_mm``)."""
        p = self.block.n_vars
        count = len(self.logdet)
        places = _vech_flat(p)
        if self.chol_inv is None:
            return np.broadcast_to(self.precision.ravel()[places], (count, len(places))).copy()
        missing = self.block.missing
        x = self.chol_inv @ self.precision[missing]  # m x r x p
        full = np.swapaxes(x, 1, 2) @ x
        np.subtract(self.precision, full, out=full)
        at = np.arange(count)[:, None]
        full[at, missing, :] = 0.0  # (exactly zero, not a rounding residue)
        full[at, :, missing] = 0.0
        return full.reshape(count, p * p).take(places, axis=1)


@cache
def _vech_flat(p: int) -> np.ndarray:
    """Positions of ``vech`` in a raveled ``p x p`` matrix."""
    rows, cols = vech_indices(p)
    return rows * p + cols


_SMALL = 8  # factors up to this size are inverted by substitution over the whole stack


def lower_inverse(chol: np.ndarray, diag: np.ndarray) -> np.ndarray:
    """``L⁻¹`` of a stack of lower-triangular ``r x r`` factors (``diag`` their diagonals): for
    small ``r`` and many factors by forward substitution, one entry at a time over the whole
    stack (numpy's batched ``inv`` costs several times a Cholesky factorization there)."""
    count, r = chol.shape[:2]
    if r > _SMALL or count < 15 * r * (r + 1):  # (where the loop's own overhead is small)
        return np.linalg.inv(chol)
    out = np.zeros_like(chol)
    recip = 1.0 / diag
    for j in range(r):
        out[:, j, j] = recip[:, j]
        for i in range(j + 1, r):
            total = np.einsum("mk,mk->m", chol[:, i, j:i], out[:, j:i, j])
            out[:, i, j] = -total * recip[:, i]
    return out
