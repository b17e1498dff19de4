"""The maximum-likelihood discrepancy of one group with complete data, as lavaan computes it.

Input: a group's sample mean and covariance (divisor N) and the model-implied Σ, μ. Output: the
group's share of F_ML = log|Σ| + tr(SΣ⁻¹) − log|S| − p + (ȳ−μ)ᵀΣ⁻¹(ȳ−μ) (weighted by n_g/N, so
that χ² = N·F_ML), its derivatives with respect to Σ and μ, and the weight matrix of the
expected information.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from semlang.estimate.normal_entries import NormalPieces, Piece
from semlang.estimate.normal_loglik import loglik_normal, saturated_loglik
from semlang.matrices import NotPositiveDefinite, cholesky_inverse
from semlang.records import dataclass

__all__ = ["CompleteDataML", "NotPositiveDefinite", "cholesky_inverse"]


@dataclass(frozen=True)
class CompleteDataML(NormalPieces):
    """One group's ML discrepancy from its sample moments."""

    mean: np.ndarray
    cov: np.ndarray
    nobs: int
    weight: float  # n_g / N
    meanstructure: bool
    raw: np.ndarray | None = None  # the group's rows, where the fit has them (casewise scores)

    @cached_property
    def patterns(self):
        """The rows as one missing-data pattern (what casewise computations take)."""
        from semlang.estimate.missing import MissingPatterns

        assert self.raw is not None, "casewise computations need the rows (not only moments)"
        return MissingPatterns.from_array(self.raw)

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

    @property
    def h1_mean(self) -> np.ndarray:
        return self.mean

    @property
    def h1_cov(self) -> np.ndarray:
        return self.cov

    def sample_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """The sample means and covariances (lavaan's WLS.obs)."""
        return self.mean, self.cov

    def moment_information(self, sigma: np.ndarray) -> np.ndarray:
        """Unit expected information of (μ, vech Σ) at Σ: Σ⁻¹ and ½ D'(Σ⁻¹ ⊗ Σ⁻¹)D."""
        from semlang.estimate.fiml_information import complete_information

        return complete_information(sigma)

    def moment_weight(self, sigma: np.ndarray, keep: np.ndarray, meanstructure: bool):
        """ML's weight of the moment vector as a quadratic form (W itself has p⁴/4 entries)."""
        from semlang.estimate.moment_forms import NormalQuadraticForm
        from semlang.matrices import cholesky_inverse

        return NormalQuadraticForm(cholesky_inverse(sigma)[0], keep, meanstructure)

    def pieces(self, meanstructure: bool) -> tuple[Piece, ...]:
        return (Piece(self.weight, None, self.mean if meanstructure else None, self.cov),)

    # ---- log-likelihoods (the family's fit statistics) ----
    def loglik(self, sigma: np.ndarray, mu: np.ndarray, meanstructure: bool) -> float:
        """ℓ(Σ, μ) of the group's rows (at the sample means without a mean structure)."""
        return loglik_normal(self.cov, self.mean, sigma, mu if meanstructure else self.mean,
                             self.nobs)  # fmt: skip

    def saturated_loglik(self) -> float:
        return saturated_loglik(self.cov, self.nobs)

    def covariate_loglik(self, x: list[int]) -> float:
        """The saturated log-likelihood of the covariates ``x`` alone (0 without any)."""
        if not x:
            return 0.0
        block = np.ix_(x, x)
        return loglik_normal(self.cov[block], self.mean[x], self.cov[block], self.mean[x],
                             self.nobs)  # fmt: skip

    def sample_covariate_loglik(self, x: list[int]) -> float:
        """The same as :meth:`covariate_loglik` (complete data: the h1 moments are the
        sample moments)."""
        return self.covariate_loglik(x)

    def independence_loglik(self, keep: list[int], fixed: bool = True) -> float:
        """ℓ of the independence model, the covariates ``keep`` keeping their joint block
        (their sample moments, whether fixed or estimated)."""
        sigma = np.diag(np.diag(self.cov))
        if keep:
            sigma[np.ix_(keep, keep)] = self.cov[np.ix_(keep, keep)]
        return loglik_normal(self.cov, self.mean, sigma, self.mean, self.nobs)
