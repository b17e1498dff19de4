"""Estimation families: the one seam between a fit and the estimator that makes it.

Input: the compiled model, the sample data and the fit options. Output: an
:class:`EstimationFamily`, chosen once from a small registry (:func:`choose_family`) where the fit
starts. Everything after the optimizer — standard errors, tests, fit measures, the summary —
asks the family; no results module looks at types or options to guess which estimator ran.

A family knows:

* its objective: the discrepancy of every group (F and its derivatives in Σ and μ, expected
  information and the first-order part of the Hessian in the free RAM entries);
* the unrestricted (h1) moments of each group (sample moments, or EM estimates under FIML);
* the test statistic T of the model and of the baseline (independence) model;
* for likelihood families, the log-likelihoods of the model, h1 and the baseline;
* the number of observations that scales the information and enters RMSEA
  (:meth:`EstimationFamily.inference_nobs`);
* for likelihood families, the Huber-White sandwich and the Yuan-Bentler (Mplus) scaled test
  (casewise scores, or with two levels the clusters' scores);
* the weight matrix of each group's moment vector (``moment_weights``: ML's h1 information, or
  the least-squares W), which sandwich estimators and scaled tests use with the casewise data
  (:mod:`semlang.results.robust`, :mod:`semlang.results.robust_sem`,
  :mod:`semlang.results.robust_tests`).

Families: :class:`~semlang.estimate.normal_family.NormalML` (ML and its robust variants, with
complete data or FIML), :class:`~semlang.estimate.twolevel_family.TwoLevelML`,
:class:`~semlang.estimate.least_squares.LeastSquares` (GLS, WLS, DWLS, ULS and the robust
ULSM/ULSMV/ULSMVS, WLSM/WLSMV/WLSMVS) and, for models with ordered-categorical variables,
:class:`~semlang.estimate.categorical_family.CategoricalLeastSquares` (the same estimators on
thresholds and polychoric correlations). Moment counting and
degrees of freedom live here too (:func:`moments_count`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from semlang.errors import NotSupportedError, OptionError
from semlang.options import (
    Estimator,
    FitOptions,
    Likelihood,
    ModelOptions,
    StandardErrors,
    Test,
)
from semlang.records import dataclass
from semlang.syntax.ast import Op

if TYPE_CHECKING:  # (annotations only: ``semlang check`` counts moments without numpy)
    import numpy as np


@dataclass(frozen=True)
class H1Moments:
    """One group's unrestricted moments (divisor N) and its number of rows."""

    mean: np.ndarray
    cov: np.ndarray
    nobs: int


@dataclass(frozen=True)
class Statistics:
    """What every family reports of a fit: its test statistic, the baseline's, and (for
    likelihood families) the three log-likelihoods."""

    chisq: float
    baseline_chisq: float
    baseline_npar: int
    logl: float | None = None
    unrestricted_logl: float | None = None
    chisq_groups: tuple[float, ...] = ()


class EstimationFamily(Protocol):
    """The protocol every estimator implements (see the module docstring)."""

    # (read-only: the families are frozen dataclasses)
    @property
    def name(self) -> str: ...

    @property
    def likelihood_based(self) -> bool: ...

    # the family keeps the sample Γ of the moments (lavaan's NACOV: WLS, DWLS, ULS), which
    # Browne's ADF residual test then takes, model-based or not
    @property
    def stores_gamma(self) -> bool: ...

    def objective(self, model, sample, options: FitOptions): ...

    def h1_moments(self, fit) -> tuple[H1Moments, ...]: ...

    def statistics(self, fit) -> Statistics: ...

    def fit_measures(self, fit) -> dict[str, float]: ...

    def inference_nobs(self, sample) -> int:
        """The N that scales the information, vcov = (N·I)⁻¹, and enters RMSEA (lavaan's
        ``lav_utils_get_ntotal``: N, or N − G for a Wishart likelihood)."""
        ...

    def huber_white_vcov(self, fit) -> np.ndarray:
        """Likelihood families: vcov(φ̂) of the Huber-White sandwich from the casewise (or the
        clusters') scores (lavaan's ``se = "robust.huber.white"``, ``"robust.cluster"``)."""
        ...

    def yuan_bentler_mplus(self, fit, base: dict) -> dict:
        """Likelihood families: the Yuan-Bentler (Mplus variant) scaled test and the scaled and
        robust measures built on it, from the fit's standard measures ``base``."""
        ...

    def moment_weights(self, fit, moments=None, information=None) -> list[np.ndarray]:
        """W_g per group over the moments ((μ,) vech Σ) that the robust.sem sandwich and the
        scaled tests weigh the moments' covariance Γ with: for ML the unrestricted model's
        information at ``moments`` (the model-implied ones by default), for least squares the
        estimator's own weight matrix."""
        ...


# --------------------------------------------------------------------------- counting


def moments_count(table) -> int:
    """lavaan's number of sample moments (ndat); the fixed.x covariates' own are left out."""
    if table.nlevels > 1:
        return _twolevel_moments_count(table)
    if table.options.thresholds:  # ordered-categorical variables
        from semlang.estimate.categorical_family import categorical_moments_count

        return categorical_moments_count(table)
    total = 0
    for block in table.blocks:
        p = len(block.observed)
        k = len(block.observed_exogenous) if table.options.fixed_x else 0
        total += p * (p + 1) // 2 - k * (k + 1) // 2
        if table.meanstructure:
            total += p - k
    return total


def _twolevel_moments_count(table) -> int:
    """Level 1: the covariances of its variables and the means of the variables only it
    mentions; level 2: covariances and means. The fixed covariates' moments are not counted."""
    exo = {(row.block, row.lhs) for row in table.rows if row.exo and row.op is Op.COVARIANCE}
    total = 0
    for block in table.blocks:
        p = len(block.observed)
        k = sum(1 for name in block.observed if (block.index, name) in exo)
        count = p * (p + 1) // 2 - k * (k + 1) // 2
        if block.level == 1:
            others = {v for b in table.blocks if b.index != block.index for v in b.observed}
            count += sum(
                1 for v in block.observed if v not in others and (block.index, v) not in exo
            )
        else:
            count += p - k
        total += count
    return total


def free_parameter_count(table) -> int:
    """lavaan's npar: free parameters, less one per ``==`` constraint."""
    n_equal = sum(1 for row in table.constraints if row.op is Op.EQUAL)
    return table.n_free - n_equal


# --------------------------------------------------------------------------- registry


def choose_family(table, options: FitOptions) -> EstimationFamily:
    """The family of ``options.estimator`` for this model (levels) and missing setting."""
    if table.nlevels > 1:
        from semlang.estimate.twolevel_family import TwoLevelML

        return TwoLevelML()
    if table.options.thresholds:  # ordered-categorical variables
        from semlang.estimate.categorical_family import CategoricalLeastSquares

        return CategoricalLeastSquares(options.estimator)  # type: ignore[return-value]
    if options.estimator.is_likelihood:
        from semlang.estimate.normal_family import NormalML

        return NormalML(wishart=options.likelihood is Likelihood.WISHART)
    from semlang.estimate.least_squares import LeastSquares

    # (a robust name takes its discrepancy: ULS, DWLS; least squares has no Huber-White or
    # Yuan-Bentler methods, which are refused for it before they could be asked for)
    return LeastSquares(options.estimator)  # type: ignore[return-value]


# --------------------------------------------------------------------------- what goes together

_LS_SE = (StandardErrors.STANDARD, StandardErrors.ROBUST_SEM, StandardErrors.BOOTSTRAP,
          StandardErrors.NONE)  # fmt: skip
_ROBUST_TESTS_COMPLETE_ONLY = (
    Test.SATORRA_BENTLER,
    Test.MEAN_VAR_ADJUSTED,
    Test.SCALED_SHIFTED,
    Test.BROWNE_RESIDUAL_ADF,
    Test.BROWNE_RESIDUAL_NT,
    Test.BROWNE_RESIDUAL_ADF_MODEL,
    Test.BROWNE_RESIDUAL_NT_MODEL,
    Test.BOLLEN_STINE,
)


@dataclass(frozen=True)
class _Refusal:
    option: str
    why: str
    hint: str


def check_fit_options(model: ModelOptions, options: FitOptions, nlevels: int) -> None:
    """A clear error for a combination lavaan refuses or that has no meaning."""
    refusal = _refusal(model, options, nlevels)
    if refusal is None:
        return
    message = f"{refusal.option}: {refusal.why}"
    if nlevels > 1:
        raise NotSupportedError(message, None, None, hint=refusal.hint)
    raise OptionError(message, hint=refusal.hint)


def _refusal(model: ModelOptions, options: FitOptions, nlevels: int) -> _Refusal | None:
    estimator, se = options.estimator, options.se
    word = f"estimator={estimator.value!r}"
    if model.thresholds:  # ordered-categorical variables
        from semlang.estimate.categorical_options import categorical_refusal

        found = categorical_refusal(options)
        return None if found is None else _Refusal(*found)
    if model.cluster is not None and nlevels == 1:
        refusal = _cluster_refusal(options)
        if refusal is not None:
            return refusal
    elif se in _CLUSTER_SE:
        return _Refusal(f"se={se.value!r}", "needs clustered data",
                        "name the column of the clusters: cluster='school'")  # fmt: skip
    if model.missing.is_fiml and not estimator.is_likelihood:
        return _Refusal(
            word,
            f"missing={model.missing.value!r} needs a likelihood (ML, MLR, MLF)",
            "use missing='listwise', or estimator='ML'/'MLR'",
        )
    if model.missing.is_fiml and estimator in (Estimator.MLM, Estimator.MLMV, Estimator.MLMVS):
        return _Refusal(word, "the Satorra-Bentler family needs complete data",
                        "use estimator='MLR' with missing='fiml'")  # fmt: skip
    if model.missing.is_fiml and options.likelihood is Likelihood.WISHART:
        return _Refusal("likelihood='wishart'", "needs complete data: under FIML there is no "
                        "sample covariance matrix whose Wishart likelihood could be used",
                        "drop likelihood= (or use missing='listwise')")  # fmt: skip
    if model.missing.is_fiml:
        bad = [t for t in options.test if t in _ROBUST_TESTS_COMPLETE_ONLY]
        if bad:
            return _Refusal(f"test={bad[0].value!r}", "needs complete data (missing='listwise')",
                            "use estimator='MLR' with FIML")  # fmt: skip
        if se is StandardErrors.ROBUST_SEM:
            return _Refusal("se='robust.sem'", "needs complete data (missing='listwise')",
                            "use se='robust.huber.white' with FIML")  # fmt: skip
    if not estimator.is_likelihood:
        if se not in _LS_SE:
            return _Refusal(f"se={se.value!r}", f"is not available with {word}",
                            "use se='standard' or se='robust.sem'")  # fmt: skip
        if options.likelihood is Likelihood.WISHART:
            return _Refusal("likelihood='wishart'", f"has no meaning with {word}",
                            "drop likelihood=, or use estimator='ML'")  # fmt: skip
        bad = [t for t in options.test if t in (Test.YUAN_BENTLER, Test.YUAN_BENTLER_MPLUS)]
        if bad:
            return _Refusal(f"test={bad[0].value!r}", f"needs a likelihood, not {word}",
                            "use test='satorra.bentler' or 'scaled.shifted'")  # fmt: skip
        refusal = _least_squares_refusal(options)
        if refusal is not None:
            return refusal
    if nlevels > 1:
        if estimator not in (Estimator.ML, Estimator.MLR):
            return _Refusal(word, "two-level models are fitted by ML or MLR",
                            "use estimator='ML' or 'MLR'")  # fmt: skip
        if se not in _TWOLEVEL_SE:
            return _Refusal(f"se={se.value!r}", "two-level models have standard errors from the "
                            "information matrix or robust (Huber-White) ones from the clusters' "
                            "scores", "use se='standard' or 'robust.huber.white'")  # fmt: skip
        robust = se is StandardErrors.ROBUST_HUBER_WHITE or Test.YUAN_BENTLER_MPLUS in options.test
        if robust and not model.fixed_x:
            return _Refusal("fixed_x=False", "robust inference of a two-level model is "
                            "available with fixed covariates only", "drop fixed_x=False, or "
                            "use estimator='ML'")  # fmt: skip
        bad = [t for t in options.test if t not in _TWOLEVEL_TESTS]
        if bad:
            return _Refusal(f"test={bad[0].value!r}", "two-level models have the standard "
                            "and the Yuan-Bentler (Mplus) test", "use test='standard' or "
                            "'yuan.bentler.mplus' (estimator='MLR')")  # fmt: skip
        if options.likelihood is Likelihood.WISHART:
            return _Refusal("likelihood='wishart'", "is not available for two-level models",
                            "drop likelihood=")  # fmt: skip
    if se is StandardErrors.BOOTSTRAP and nlevels > 1:
        return _Refusal("se='bootstrap'", "is not available for two-level models",
                        "use se='standard'")  # fmt: skip
    return None


_TWOLEVEL_SE = (StandardErrors.STANDARD, StandardErrors.NONE, StandardErrors.ROBUST_HUBER_WHITE)
_TWOLEVEL_TESTS = (Test.STANDARD, Test.NONE, Test.YUAN_BENTLER_MPLUS)
_NOT_ROBUST = (Estimator.GLS, Estimator.WLS)
_ROBUST_NAMES = (Estimator.ULSM, Estimator.ULSMV, Estimator.ULSMVS, Estimator.WLSM,
                 Estimator.WLSMV, Estimator.WLSMVS)  # fmt: skip


def _least_squares_refusal(options: FitOptions) -> _Refusal | None:
    """lavaan's rules: GLS and WLS have no scaled tests, GLS no robust.sem standard errors (WLS
    has them: with W = Γ⁻¹ the sandwich is the standard covariance matrix); the robust names
    (ULSM, ..., WLSMVS) are not bootstrapped."""
    estimator, word = options.estimator, f"estimator={options.estimator.value!r}"
    if estimator in _NOT_ROBUST:
        if options.se is StandardErrors.ROBUST_SEM and estimator is Estimator.GLS:
            return _Refusal("se='robust.sem'", f"is not available with {word}",
                            "use se='standard', or estimator='ULS' or 'DWLS' (or 'ULSM', "
                            "'WLSMV', ...) for robust standard errors")  # fmt: skip
        bad = [t for t in options.test if t.is_scaled]
        if bad:
            return _Refusal(f"test={bad[0].value!r}", f"is not available with {word}",
                            "use estimator='ULS' or 'DWLS' (or 'ULSM', 'WLSMV', ...)")  # fmt: skip
    if estimator in _ROBUST_NAMES and options.se is StandardErrors.BOOTSTRAP:
        plain = "ULS" if estimator.value.startswith("ULS") else "DWLS"
        return _Refusal("se='bootstrap'", f"is not available with {word}",
                        f"use estimator={plain!r} with se='bootstrap'")  # fmt: skip
    return None


_CLUSTER_SE = (StandardErrors.ROBUST_CLUSTER, StandardErrors.ROBUST_CLUSTER_SEM)
_CLUSTER_TESTS = (Test.STANDARD, Test.NONE, Test.SATORRA_BENTLER, Test.YUAN_BENTLER,
                  Test.YUAN_BENTLER_MPLUS)  # fmt: skip


def _cluster_refusal(options: FitOptions) -> _Refusal | None:
    """lavaan's rules for a single-level model with clusters (cluster-robust inference)."""
    estimator, se = options.estimator, options.se
    if estimator not in (Estimator.ML, Estimator.MLR, Estimator.MLM):
        return _Refusal(f"estimator={estimator.value!r}", "a single-level model with clusters "
                        "is fitted by ML, MLR or MLM", "use estimator='MLR'")  # fmt: skip
    if se not in (*_CLUSTER_SE, StandardErrors.NONE):
        return _Refusal(f"se={se.value!r}", "a single-level model with clusters has cluster-"
                        "robust standard errors: se='robust.cluster', 'robust.cluster.sem' or "
                        "'none'", "drop se=, or use estimator='MLR' or 'MLM'")  # fmt: skip
    if se is StandardErrors.ROBUST_CLUSTER_SEM and estimator is Estimator.ML:
        return _Refusal("se='robust.cluster.sem'", "needs estimator='MLM'",
                        "use estimator='MLM'")  # fmt: skip
    bad = [t for t in options.test if t not in _CLUSTER_TESTS]
    if bad:
        return _Refusal(f"test={bad[0].value!r}", "is not available with clusters: use "
                        "'standard', 'satorra.bentler', 'yuan.bentler' or 'yuan.bentler.mplus'",
                        "drop test=")  # fmt: skip
    return None


def check_supported(table, options: FitOptions) -> None:
    """Refuse, pointing at the model, what no family computes for this model yet."""
    if table.nlevels > 1 and table.options.missing.is_fiml:
        raise NotSupportedError(
            "two-level models are not fitted with missing='fiml' yet",
            table.source,
            None,
            hint="use missing='listwise' (the default)",
        )
