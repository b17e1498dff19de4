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

from functools import cached_property

import numpy as np


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
        both_missing, _ = block.schur_pairs
        try:
            chol = np.linalg.cholesky(precision.take(both_missing))
        except np.linalg.LinAlgError:
            return None
        diag = np.diagonal(chol, axis1=1, axis2=2)
        if not np.all(diag > 0):
            return None
        return cls(block, precision, np.linalg.inv(chol), logdet + 2.0 * np.log(diag).sum(axis=1))

    @cached_property
    def inverse(self) -> np.ndarray:
        return self.dense()

    def dense(self, pick: np.ndarray | None = None) -> np.ndarray:
        """``Σ_oo⁻¹`` (``len(pick) x k x k``) of the patterns ``pick`` (all by default)."""
        flat = self.block.flat if pick is None else self.block.flat[pick]
        inverse = self.precision.take(flat)
        if self.chol_inv is None:
            return inverse
        missing_observed = self.block.schur_pairs[1]
        chol_inv = self.chol_inv
        if pick is not None:
            missing_observed, chol_inv = missing_observed[pick], chol_inv[pick]
        x = chol_inv @ self.precision.take(missing_observed)
        inverse -= np.swapaxes(x, 1, 2) @ x
        return inverse

    @cached_property
    def pmm_inverse(self) -> np.ndarray:
        """``(P_mm)⁻¹`` per pattern (``m x r x r``)."""
        return np.swapaxes(self.chol_inv, 1, 2) @ self.chol_inv

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
        both_missing, _ = self.block.schur_pairs
        values = weights[:, None, None] * self.pmm_inverse
        q = np.bincount(both_missing.ravel(), values.ravel(), minlength=p * p)
        return float(weights.sum()), q.reshape(p, p)

    def embedded_inverse(self) -> np.ndarray:
        """``W̃`` of each pattern (``m x p x p``), exactly zero in its missing rows and columns."""
        p = self.block.n_vars
        if self.chol_inv is None:
            return np.broadcast_to(self.precision, (len(self.logdet), p, p)).copy()
        x = self.chol_inv @ self.precision[self.block.missing]  # m x r x p
        out = self.precision - np.swapaxes(x, 1, 2) @ x
        seen = np.zeros((len(out), p))
        seen[np.arange(len(out))[:, None], self.block.observed] = 1.0
        out *= seen[:, :, None]
        out *= seen[:, None, :]
        return out
