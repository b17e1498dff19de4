"""One group's FIML discrepancy: the casewise likelihood over missing-data patterns.

Input: a group's rows with missing cells. Output: :class:`FimlDiscrepancy` with
F = 2(ℓ_h1 − ℓ(Σ, μ))/N (so that, as with complete data, χ² = N·F̂), its derivatives with respect
to Σ and μ, and the saturated (EM) moments, which stand in for the sample moments in starting
values, fixed.x values and fit measures.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd

from semlang.compile.ram import gather
from semlang.estimate.fiml_hessian import BATCHED_MAX_VARS, fiml_entry_information
from semlang.estimate.fiml_memory import memory_error
from semlang.estimate.missing import (
    MissingPatterns,
    SaturatedResult,
    fiml_loglik,
    fiml_loglik_and_gradient,
    independence_loglik,
    saturated_em,
)
from semlang.estimate.normal_entries import NormalPieces, Piece
from semlang.estimate.normal_loglik import loglik_normal
from semlang.matrices import NotPositiveDefinite
from semlang.records import dataclass


@dataclass(frozen=True)
class FimlDiscrepancy(NormalPieces):
    patterns: MissingPatterns
    saturated: SaturatedResult
    nobs: int
    weight: float  # n_g / N
    ntotal: int
    raw: np.ndarray  # the group's rows (NaN where missing)
    costly_hessian = True  # an information pass costs several evaluations (see Objective)

    @classmethod
    def from_group(cls, group, weight: float, ntotal: int) -> FimlDiscrepancy:
        patterns = MissingPatterns.from_array(group.raw)
        with _memory_guard(patterns):
            saturated = saturated_em(patterns, names=group.names)
        return cls(patterns, saturated, patterns.nobs, weight, ntotal, group.raw)

    @property
    def h1_mean(self) -> np.ndarray:
        return self.saturated.mean

    @property
    def h1_cov(self) -> np.ndarray:
        return self.saturated.cov

    def evaluate(self, sigma: np.ndarray, mu: np.ndarray, gradient: bool = True):
        with _memory_guard(self.patterns):
            return self._evaluate(sigma, mu, gradient)

    def _evaluate(self, sigma: np.ndarray, mu: np.ndarray, gradient: bool):
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

    def expected_entries(self, moments, Pa, Pb, Pc, meanstructure: bool) -> np.ndarray:
        """Per-observation expected information of the free entries, summed over the patterns:
        batched (:func:`~semlang.estimate.fiml_hessian.fiml_entry_information`) unless the
        moment space is too large for it, then pattern by pattern."""
        if not _batched(self.patterns):
            return super().expected_entries(moments, Pa, Pb, Pc, meanstructure)
        return self._entry_information(moments, (Pa, Pb, Pc), expected=True)

    def first_order_hessian_entries(self, moments, Pa, Pb, Pc, meanstructure) -> np.ndarray:
        """The Hessian of F in the free entries less its second-derivative terms: twice the
        observed information of the entries (batched as :meth:`expected_entries`)."""
        if not _batched(self.patterns):
            return super().first_order_hessian_entries(moments, Pa, Pb, Pc, meanstructure)
        return 2.0 * self._entry_information(moments, (Pa, Pb, Pc), expected=False)

    def factored_expected_entries(self, moments, factors, meanstructure: bool) -> np.ndarray:
        """:meth:`expected_entries` in the order of the factored entries (by θ)."""
        if not _batched(self.patterns):
            return super().factored_expected_entries(moments, factors, meanstructure)
        Pa, Pb, Pc, _ = moments.entry_vectors()
        order = moments.entry_order
        return gather(self.expected_entries(moments, Pa, Pb, Pc, meanstructure), order, order)

    def factored_first_order_entries(self, moments, factors, meanstructure) -> np.ndarray:
        """:meth:`first_order_hessian_entries` in the order of the factored entries (by θ)."""
        if not _batched(self.patterns):
            return super().factored_first_order_entries(moments, factors, meanstructure)
        Pa, Pb, Pc, _ = moments.entry_vectors()
        order = moments.entry_order
        hessian = self.first_order_hessian_entries(moments, Pa, Pb, Pc, meanstructure)
        return gather(hessian, order, order)

    def _entry_information(self, moments, entries, expected: bool) -> np.ndarray:
        try:
            with _memory_guard(self.patterns):
                out = fiml_entry_information(
                    self.patterns, moments.sigma, moments.mu, entries, self.ntotal, expected
                )
        except np.linalg.LinAlgError:
            raise NotPositiveDefinite from None
        out += out.T  # exactly symmetric
        out *= 0.5
        return out

    def pieces(self, meanstructure: bool = True) -> tuple[Piece, ...]:
        """One piece per missing-data pattern (FIML always has a mean structure)."""
        return tuple(
            Piece(pattern.n / self.ntotal, np.asarray(pattern.observed), pattern.mean,
                  pattern.cov)
            for pattern in self.patterns.patterns
        )  # fmt: skip

    # ---- log-likelihoods (the family's fit statistics) ----
    def loglik(self, sigma: np.ndarray, mu: np.ndarray, meanstructure: bool = True) -> float:
        return fiml_loglik(self.patterns, sigma, mu)

    def saturated_loglik(self) -> float:
        return self.saturated.loglik

    def covariate_loglik(self, x: list[int]) -> float:
        """The covariates' own log-likelihood at their EM moments (0 without any)."""
        if not x:
            return 0.0
        block = np.ix_(x, x)
        mean, cov = self.h1_mean[x], self.h1_cov[block]
        return loglik_normal(cov, mean, cov, mean, self.nobs)

    def covariate_sample_moments(self, x: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """lavaan's sample moments of the covariates ``x``: available-case means and
        pairwise-complete covariances (each pair's divisor n − 1, rescaled by (N − 1)/N). With
        complete covariates these are their sample moments, and their EM moments too."""
        frame = pd.DataFrame(self.raw[:, x])
        cov = frame.cov().to_numpy() * ((self.nobs - 1) / self.nobs)
        return frame.mean().to_numpy(), cov

    def sample_covariate_loglik(self, x: list[int]) -> float:
        """The covariates' saturated log-likelihood at :meth:`covariate_sample_moments` (0
        without any): what lavaan leaves out of the unrestricted log-likelihood."""
        if not x:
            return 0.0
        mean, cov = self.covariate_sample_moments(x)
        return loglik_normal(cov, mean, cov, mean, self.nobs)

    def independence_loglik(self, keep: list[int], fixed: bool = True) -> float:
        """FIML independence log-likelihood, the covariates ``keep`` keeping their joint
        distribution: their univariate terms are replaced by their joint log-likelihood over
        the rows that observe any of them — at their sample moments when they are fixed.x
        (:meth:`covariate_sample_moments`, as lavaan's baseline fixes them), at their
        saturated (EM) estimates when they are free."""
        logl = independence_loglik(self.patterns)
        if len(keep) < 2:
            return logl
        covariates = MissingPatterns.from_array(self.raw[:, keep])
        if fixed:
            mean, cov = self.covariate_sample_moments(keep)
            joint = fiml_loglik(covariates, cov, mean)
        else:
            joint = saturated_em(covariates).loglik
        return logl - independence_loglik(covariates) + joint

    def sample_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """lavaan's sample statistics of incomplete data (its WLS.obs, used by GFI): the means of
        the observed values and the pairwise covariances, rescaled by (N − 1)/N."""
        import pandas as pd

        n = self.raw.shape[0]
        cov = pd.DataFrame(self.raw).cov().to_numpy() * (n - 1) / n
        return np.nanmean(self.raw, axis=0), cov

    def moment_information(self, sigma: np.ndarray) -> np.ndarray:
        """Unit expected information of (μ, vech Σ) at Σ over the missing-data patterns."""
        from semlang.estimate.fiml_information import h1_information_expected

        return h1_information_expected(self.patterns, sigma)


def _batched(patterns: MissingPatterns) -> bool:
    """Whether the entries' information is summed in the moment space (its ``(p + q)²``
    matrices, ``q = p(p+1)/2``, stay small) rather than pattern by pattern."""
    return patterns.n_vars <= BATCHED_MAX_VARS


@contextmanager
def _memory_guard(patterns: MissingPatterns):
    """A ``MemoryError`` met inside becomes an error saying how much memory FIML needs."""
    try:
        yield
    except MemoryError:
        rows, p = patterns.n_rows, patterns.n_vars
        raise memory_error(rows, p, patterns.need, patterns.n_patterns) from None
