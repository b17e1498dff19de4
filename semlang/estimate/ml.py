"""The maximum-likelihood discrepancy of one group with complete data, as lavaan computes it.

Input: a group's sample mean and covariance (divisor N) and the model-implied Σ, μ. Output: the
group's share of F_ML = log|Σ| + tr(SΣ⁻¹) − log|S| − p + (ȳ−μ)ᵀΣ⁻¹(ȳ−μ) (weighted by n_g/N, so
that χ² = N·F_ML), its derivatives with respect to Σ and μ, and the weight matrix of the
expected information.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
from scipy.linalg import lapack


class NotPositiveDefinite(ArithmeticError):
    """The implied covariance matrix is not positive definite."""


def cholesky_inverse(sigma: np.ndarray) -> tuple[np.ndarray, float]:
    """(Σ⁻¹, log|Σ|) from the Cholesky factor (LAPACK potrf/potri); raises NotPositiveDefinite."""
    if not np.all(np.isfinite(sigma)):
        raise NotPositiveDefinite
    factor, info = lapack.dpotrf(sigma, lower=1, clean=0)
    if info != 0:
        raise NotPositiveDefinite
    diagonal = np.diag(factor)
    if np.any(diagonal <= 0):
        raise NotPositiveDefinite
    inverse, info = lapack.dpotri(factor, lower=1)
    if info != 0:
        raise NotPositiveDefinite
    upper = _upper_triangle(len(inverse))
    inverse[upper] = inverse.T[upper]  # potri fills the lower triangle only
    return inverse, 2.0 * float(np.sum(np.log(diagonal)))


@cache
def _upper_triangle(p: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(p, 1)


@dataclass(frozen=True)
class CompleteDataML:
    """One group's ML discrepancy from its sample moments."""

    mean: np.ndarray
    cov: np.ndarray
    nobs: int
    weight: float  # n_g / N
    meanstructure: bool

    @cached_property
    def logdet_sample(self) -> float:
        sign, logdet = np.linalg.slogdet(self.cov)
        return logdet if sign > 0 else -np.inf

    def evaluate(self, sigma: np.ndarray, mu: np.ndarray, gradient: bool = True):
        """(weighted f, dF/dΣ, dF/dμ); raises NotPositiveDefinite."""
        inverse, logdet = cholesky_inverse(sigma)
        p = sigma.shape[0]
        W = inverse @ self.cov
        f = logdet + np.trace(W) - self.logdet_sample - p
        d = None
        if self.meanstructure:
            d = self.mean - mu
            Wd = inverse @ d
            f += float(d @ Wd)
        if not gradient:
            return self.weight * f, None, None
        middle = self.cov if d is None else self.cov + np.outer(d, d)
        G = inverse - inverse @ middle @ inverse
        g = None if d is None else -2.0 * Wd
        return self.weight * f, self.weight * G, None if g is None else self.weight * g

    def information_weight(self, sigma: np.ndarray) -> np.ndarray:
        return cholesky_inverse(sigma)[0]
