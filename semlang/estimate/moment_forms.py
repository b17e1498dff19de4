"""Quadratic forms of a group's moment vector ``(μ,) vech Σ`` under ML's complete-data weight.

Input: Σ̂⁻¹ (the inverse of the implied covariance matrix) and a mask of the moments that count.
Output: :class:`NormalQuadraticForm`, which evaluates ``vᵀ W v`` for W = Σ̂⁻¹ (means) and
½ D'(Σ̂⁻¹ ⊗ Σ̂⁻¹)D (covariances) without forming W: with v = (m, vech E) the form is
``mᵀ Σ̂⁻¹ m + ½ tr(Σ̂⁻¹ E Σ̂⁻¹ E)``, O(p³) where W has p⁴/4 entries (5050² for 100 variables).
Masked moments are zeroed in v, which is the same as zeroing their rows and columns of W.
"""

from __future__ import annotations

import numpy as np

from semlang.estimate.missing_patterns import vech_indices
from semlang.records import dataclass


@dataclass(frozen=True)
class NormalQuadraticForm:
    """``v ↦ vᵀ W v`` for ML's complete-data weight W at Σ̂ (see the module docstring)."""

    inverse: np.ndarray
    keep: np.ndarray  # over (μ,) vech Σ: False for moments left out (fixed.x covariates)
    meanstructure: bool

    def __call__(self, vector: np.ndarray) -> float:
        p = len(self.inverse)
        v = np.where(self.keep, vector, 0.0)
        mean, vech = (v[:p], v[p:]) if self.meanstructure else (None, v)
        rows, cols = vech_indices(p)
        e = np.zeros((p, p))
        e[rows, cols] = vech
        e[cols, rows] = vech
        ae = self.inverse @ e
        value = 0.5 * float(np.sum(ae * ae.T))  # tr(AEAE) = Σ (AE)ᵢⱼ (AE)ⱼᵢ
        if mean is not None:
            value += float(mean @ self.inverse @ mean)
        return value

    def dense(self) -> np.ndarray:
        """W itself, masked (for checks and for callers that need the matrix)."""
        from semlang.estimate.fiml_information import complete_information

        weight = complete_information(np.linalg.inv(self.inverse))
        if not self.meanstructure:
            p = len(self.inverse)
            weight = weight[p:, p:]
        return weight * np.outer(self.keep, self.keep)
