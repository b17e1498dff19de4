"""The two-level ML family: one within- and one between-cluster block, fitted by ML.

Input: a compiled model with ``level:`` blocks and its clustered sample. Output: the two-level
objective and, after the fit, the log-likelihoods of the model, the unrestricted (EM) model and
the baseline, as lavaan 0.6.14 computes them for two-level models; with MLR the Huber-White
standard errors and the Yuan-Bentler (Mplus) test from the clusters' scores
(:mod:`semlang.results.twolevel_robust`).
"""

from __future__ import annotations

from dataclasses import dataclass

from semlang.errors import NotSupportedError
from semlang.estimate.families import H1Moments, Statistics
from semlang.estimate.twolevel import twolevel_loglik


@dataclass(frozen=True)
class TwoLevelML:
    name: str = "ML"
    likelihood_based: bool = True
    stores_gamma: bool = False

    def objective(self, model, sample, options):
        from semlang.estimate.twolevel_objective import build_twolevel_objective

        return build_twolevel_objective(model, sample, options)

    def h1_moments(self, fit) -> tuple[H1Moments, ...]:
        """The unrestricted model's within and between moments."""
        sample = fit.estimation.objective.sample
        h1 = sample.h1
        return (
            H1Moments(h1.mu_w, h1.sigma_w, sample.nobs),
            H1Moments(h1.mu_b, h1.sigma_b, sample.nclusters),
        )

    def statistics(self, fit) -> Statistics:
        sample = fit.estimation.objective.sample
        within, between = fit.implied
        logl = twolevel_loglik(sample.data, within.sigma, between.sigma, between.mu, within.mu)
        logl_h1 = sample.h1.loglik
        chisq = max(2.0 * (logl_h1 - logl), 0.0)
        return Statistics(
            chisq=chisq,
            baseline_chisq=2.0 * (logl_h1 - sample.baseline.loglik),
            baseline_npar=sample.baseline.npar,
            logl=logl,
            unrestricted_logl=logl_h1,
            chisq_groups=(chisq,),
        )

    def inference_nobs(self, sample) -> int:
        """The level-1 observations (the information is scaled by them)."""
        return sample.nobs

    def fit_measures(self, fit) -> dict[str, float]:
        from semlang.results.twolevel_indices import fit_measures

        return fit_measures(fit, fit.statistics)

    def huber_white_vcov(self, fit):
        """The Huber-White sandwich from the clusters' scores (lavaan's two-level MLR)."""
        from semlang.results.twolevel_robust import robust_vcov_phi

        return robust_vcov_phi(fit)

    def yuan_bentler_mplus(self, fit, base: dict) -> dict:
        """The Yuan-Bentler (Mplus variant) scaled test from the clusters' scores."""
        from semlang.results.twolevel_robust import scaled_test

        return scaled_test(fit, base)

    def moment_weights(self, fit, moments=None, information=None) -> list:
        """Two-level models have no weight matrix of one moment vector (no robust.sem
        standard errors or Satorra-Bentler-type tests)."""
        raise NotSupportedError(
            "robust.sem standard errors and Satorra-Bentler-type tests are not available for "
            "two-level models", None, None,
            hint="use estimator='MLR' (robust.huber.white, yuan.bentler.mplus)",
        )  # fmt: skip
