"""The normal-theory maximum-likelihood family: ML (and MLM, MLMV, MLMVS, MLF, MLR, which share
its estimates), with complete data or under FIML.

Input: a compiled single-level model, its sample data and the fit options. Output: the objective
(one :class:`~semlang.estimate.ml.CompleteDataML` or
:class:`~semlang.estimate.fiml_objective.FimlDiscrepancy` per group) and, after the fit, the
log-likelihoods and test statistics of the model, the unrestricted model and the baseline.

As lavaan: with fixed.x covariates the likelihood is conditional on them (their marginal part is
left out of logl and unrestricted.logl; it cancels in χ²); the baseline (independence) model has
one variance (and mean) per variable, the covariates keeping their joint block (fixed at the
sample values with fixed.x, free parameters without).

``likelihood="wishart"`` (complete data only) is lavaan's: each group's sample covariance matrix
has the divisor n_g − 1 (so do the fixed.x values, the log-likelihoods and SRMR), its statistic
is (n_g − 1)·F̂_g, and the information and the χ²-based indices (RMSEA) use N − G observations
(:meth:`NormalML.inference_nobs`); AIC and BIC keep N.

Under FIML the log-likelihoods are conditional on the fixed.x covariates as lavaan computes them:
the model's covariate term at their EM moments, the unrestricted model's at their sample moments
(available-case means, pairwise-complete covariances); the two differ only when a covariate has
missing cells (``missing="ml.x"``). χ² and the baseline's are differences of the joint
log-likelihoods, where that term cancels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from semlang.compile.ram import ExoValues
from semlang.estimate.data import GroupData
from semlang.estimate.families import H1Moments, Statistics
from semlang.estimate.ml import CompleteDataML
from semlang.estimate.objective import Objective
from semlang.options import Information
from semlang.records import dataclass

if TYPE_CHECKING:
    from semlang.estimate.fiml_objective import FimlDiscrepancy


def exo_values(layout, mean: np.ndarray, cov: np.ndarray) -> ExoValues:
    """The values of a block's fixed.x entries (sample covariances and means)."""
    S = np.array([cov[i, j] for i, j in layout.exo_S], dtype=float)
    m = np.array([mean[i] for i in layout.exo_m], dtype=float)
    return ExoValues(S, m)


def fixed_x(layout) -> list[int]:
    """Indices (among the observed variables) of the covariates fixed at their sample moments."""
    return sorted({i for i, j in layout.exo_S if i == j})


def covariates(table, layout) -> list[int]:
    """Indices of the observed exogenous covariates (fixed or not) of a block."""
    block = table.blocks[layout.block - 1]
    position = {name: k for k, name in enumerate(layout.observed)}
    return sorted(position[name] for name in block.observed_exogenous if name in position)


@dataclass(frozen=True)
class NormalML:
    """ML under multivariate normality, complete data or FIML (see the module docstring)."""

    wishart: bool = False
    name: str = "ML"
    likelihood_based: bool = True
    stores_gamma: bool = False  # no sample Γ kept (see EstimationFamily)

    def objective(self, model, sample, options) -> Objective:
        ntotal = sample.nobs
        discrepancies, exo = [], []
        for layout, group in zip(model.layouts, sample.groups, strict=True):
            weight = group.nobs / ntotal
            discrepancy: FimlDiscrepancy | CompleteDataML
            if group.has_missing:  # (FIML's modules are imported only for data with holes)
                from semlang.estimate.fiml_objective import FimlDiscrepancy

                discrepancy = FimlDiscrepancy.from_group(group, weight, ntotal)
            else:
                discrepancy = CompleteDataML(
                    group.mean, self.sample_cov(group), group.nobs, weight,
                    model.table.meanstructure, group.raw if isinstance(group, GroupData) else None,
                )  # fmt: skip
            discrepancies.append(discrepancy)
            exo.append(exo_values(layout, discrepancy.h1_mean, discrepancy.h1_cov))
        return Objective(model, tuple(discrepancies), tuple(exo), model.table.meanstructure)

    def sample_cov(self, group) -> np.ndarray:
        """A complete group's sample covariance matrix: divisor n_g, or n_g − 1 (Wishart)."""
        n = group.nobs
        return group.cov * (n / (n - 1)) if self.wishart else group.cov

    def inference_nobs(self, sample) -> int:
        """The N that scales the information (vcov = (N·I)⁻¹) and enters RMSEA: N, or N − G
        with the Wishart likelihood (lavaan's ``lav_utils_get_ntotal``)."""
        return sample.nobs - len(sample.groups) if self.wishart else sample.nobs

    def h1_moments(self, fit) -> tuple[H1Moments, ...]:
        return tuple(
            H1Moments(d.h1_mean, d.h1_cov, d.nobs) for d in fit.estimation.objective.discrepancies
        )

    def statistics(self, fit) -> Statistics:
        parts = list(zip(fit.model.layouts, fit.estimation.objective.discrepancies, fit.implied,
                         strict=True))  # fmt: skip
        meanstructure = fit.table.meanstructure
        logl = logl_h1 = chisq_0 = 0.0
        groups = []
        for layout, discrepancy, moments in parts:
            x = fixed_x(layout)
            model = discrepancy.loglik(moments.sigma, moments.mu, meanstructure)
            saturated = discrepancy.saturated_loglik()
            keep = sorted(set(covariates(fit.table, layout)) | set(x))
            baseline = discrepancy.independence_loglik(keep, fixed=bool(x))
            factor = self._factor(discrepancy.nobs)
            logl += model - discrepancy.covariate_loglik(x)
            logl_h1 += saturated - discrepancy.sample_covariate_loglik(x)
            groups.append(2.0 * (saturated - model) * factor)
            chisq_0 += 2.0 * (saturated - baseline) * factor
        return Statistics(
            chisq=max(sum(groups), 0.0),
            baseline_chisq=chisq_0,
            baseline_npar=baseline_npar(fit),
            logl=logl,
            unrestricted_logl=logl_h1,
            chisq_groups=tuple(max(g, 0.0) for g in groups),
        )

    def _factor(self, n: int) -> float:
        """(n − 1)/n with likelihood='wishart' (lavaan's n_g − 1 per group), else 1."""
        return (n - 1) / n if self.wishart else 1.0

    def fit_measures(self, fit) -> dict[str, float]:
        from semlang.results.indices import likelihood_measures

        return likelihood_measures(fit, fit.statistics)

    def huber_white_vcov(self, fit) -> np.ndarray:
        """The Huber-White sandwich from the casewise (or clusters') scores of the moments."""
        from semlang.results.robust import robust_vcov_phi

        return robust_vcov_phi(fit)

    def yuan_bentler_mplus(self, fit, base: dict) -> dict:
        """The Yuan-Bentler (Mplus variant) scaled test and the measures built on it."""
        from semlang.results.robust import scaled_test

        return scaled_test(fit, base)

    def moment_weights(self, fit, moments=None, information=None) -> list[np.ndarray]:
        """W_g per group over the moments ((μ,) vech Σ): the unrestricted model's unit
        information at ``moments`` (one (Σ, μ) per group; the model-implied ones by default,
        μ the sample means without a mean structure), of the kind ``information`` (the fit's
        information setting by default) — lavaan's "structured" h1 information."""
        from semlang.estimate.missing import h1_information_observed

        kind = information or fit.options.information
        meanstructure = fit.table.meanstructure
        discrepancies = fit.estimation.objective.discrepancies
        if moments is None:
            moments = [(m.sigma, m.mu if meanstructure else d.h1_mean)
                       for m, d in zip(fit.implied, discrepancies, strict=True)]  # fmt: skip
        out = []
        for discrepancy, (sigma, mu) in zip(discrepancies, moments, strict=True):
            if kind is Information.OBSERVED:
                info = h1_information_observed(discrepancy.patterns, sigma, mu)
            else:
                info = discrepancy.moment_information(sigma)
            out.append(info if meanstructure else info[len(mu) :, len(mu) :])
        return out


def baseline_npar(fit) -> int:
    """The independence model's free parameters: a variance (and mean) per variable that is not
    a fixed.x covariate; the covariates' covariances too when they are not fixed."""
    npar = 0
    for layout in fit.model.layouts:
        fixed = fixed_x(layout)
        x = sorted(set(covariates(fit.table, layout)) | set(fixed))
        npar += (layout.n_observed - len(fixed)) * (2 if fit.table.meanstructure else 1)
        if not fixed:  # the covariates' covariances are free parameters
            npar += len(x) * (len(x) - 1) // 2
    return npar
