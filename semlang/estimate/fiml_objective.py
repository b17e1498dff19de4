"""One group's FIML discrepancy: the casewise likelihood over missing-data patterns.

Input: a group's rows with missing cells. Output: :class:`FimlDiscrepancy` with
F = 2(ℓ_h1 − ℓ(Σ, μ))/N (so that, as with complete data, χ² = N·F̂), its derivatives with respect
to Σ and μ, and the saturated (EM) moments, which stand in for the sample moments in starting
values, fixed.x values and fit measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semlang.estimate.missing import (
    MissingPatterns,
    SaturatedResult,
    fiml_loglik,
    fiml_loglik_and_gradient,
    saturated_em,
)
from semlang.estimate.ml import NotPositiveDefinite, cholesky_inverse


@dataclass(frozen=True)
class FimlDiscrepancy:
    patterns: MissingPatterns
    saturated: SaturatedResult
    nobs: int
    weight: float  # n_g / N
    ntotal: int

    @classmethod
    def from_group(cls, group, weight: float, ntotal: int) -> FimlDiscrepancy:
        patterns = MissingPatterns.from_array(group.raw)
        saturated = saturated_em(patterns, names=group.names)
        return cls(patterns, saturated, patterns.nobs, weight, ntotal)

    @property
    def h1_mean(self) -> np.ndarray:
        return self.saturated.mean

    @property
    def h1_cov(self) -> np.ndarray:
        return self.saturated.cov

    def evaluate(self, sigma: np.ndarray, mu: np.ndarray, gradient: bool = True):
        scale = 2.0 / self.ntotal
        if not gradient:
            loglik = fiml_loglik(self.patterns, sigma, mu)
            if not np.isfinite(loglik):
                raise NotPositiveDefinite
            return scale * (self.saturated.loglik - loglik), None, None
        loglik, G, g = fiml_loglik_and_gradient(self.patterns, sigma, mu)
        if not np.isfinite(loglik):
            raise NotPositiveDefinite
        return scale * (self.saturated.loglik - loglik), -scale * G, -scale * g

    def information_weight(self, sigma: np.ndarray) -> np.ndarray:
        """Complete-data weight Σ⁻¹: an approximation, used only to guide the optimizer."""
        return cholesky_inverse(sigma)[0]
