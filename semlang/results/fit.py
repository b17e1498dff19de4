"""The result of a fit: an immutable :class:`Fit` from which every output is derived.

Input: the compiled model, the sample data, the fit options and the estimation (which carries the
estimation family: everything here that depends on the estimator asks it). Output: estimates
(lavaan's ``parameterEstimates()`` with ``std_lv`` and ``std_all``), fit measures, the implied
moments, the covariance matrix of the estimates and the summary text. Derived values are cached
properties; fitting never mutates the model, and a Fit never changes after it is made.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from semlang.blas import fit_size, limited
from semlang.compile.model import CompiledModel
from semlang.compile.ram import ImpliedMoments
from semlang.errors import NotPositiveDefiniteWarning
from semlang.estimate.data import SampleData
from semlang.estimate.estimator import Estimation
from semlang.estimate.families import EstimationFamily, Statistics
from semlang.options import FitOptions, StandardErrors
from semlang.results import inference
from semlang.syntax.ast import Op

if TYPE_CHECKING:
    from semlang.estimate.twolevel_objective import TwoLevelSample

# results are computed on demand: each runs with one BLAS thread unless the model is large
_threads = limited(lambda fit, *args, **kwargs: fit_size(fit.model, fit.options))


@dataclass(frozen=True)
class RunSettings:
    """How long computations run (never part of a model, its options or a task)."""

    executor: object = None  # None, "processes", "serial", a dask Client or an address
    progress: bool | None = None


@dataclass(frozen=True, eq=False)
class Fit:
    model: CompiledModel
    sample: SampleData | TwoLevelSample
    options: FitOptions
    estimation: Estimation
    run: RunSettings = field(default_factory=RunSettings, repr=False)
    # the messages of the warnings the fit gave when it was made (filled by the API)
    warnings: list[str] = field(default_factory=list, repr=False)

    @property
    def family(self) -> EstimationFamily:
        """The estimation family that made the fit (ML, FIML, two-level ML, least squares)."""
        return self.estimation.family

    @cached_property
    @_threads
    def statistics(self) -> Statistics:
        """The family's test statistic, the baseline's, and the log-likelihoods."""
        return self.family.statistics(self)

    # ---- the optimizer's report ----
    @property
    def converged(self) -> bool:
        return self.estimation.optimization.converged

    @property
    def iterations(self) -> int:
        return self.estimation.optimization.iterations

    @property
    def nobs(self) -> int:
        return self.sample.nobs

    @cached_property
    @_threads
    def inference_nobs(self) -> int:
        """The N that scales the information and enters RMSEA (the family's: N, or N − G
        with the Wishart likelihood)."""
        return self.family.inference_nobs(self.sample)

    @property
    def table(self):
        return self.model.table

    @property
    def theta(self) -> np.ndarray:
        return self.estimation.theta

    @property
    def objective_value(self) -> float:
        """F_ML at the estimates (χ² = N · F)."""
        return self.estimation.optimization.value

    # ---- implied moments ----
    @cached_property
    @_threads
    def implied(self) -> tuple[ImpliedMoments, ...]:
        objective = self.estimation.objective
        if objective.model is self.model:  # the optimizer's moments at θ̂, if it kept them
            return objective.implied_at(self.theta)
        return self.model.implied(self.theta, objective.exo)

    # ---- inference ----
    @cached_property
    @_threads
    def vcov_phi(self) -> np.ndarray:
        """Covariance matrix of φ̂ by the options' standard-error type."""
        se = self.options.se
        if se is StandardErrors.NONE:
            return np.full((self.model.n_phi, self.model.n_phi), np.nan)
        if se is StandardErrors.BOOTSTRAP:
            return self.bootstrap.vcov_phi
        if se is StandardErrors.STANDARD:
            return self.information_vcov_phi
        from semlang.results.sandwich import vcov_phi

        return vcov_phi(self, se)

    @cached_property
    @_threads
    def information_vcov_phi(self) -> np.ndarray:
        """(N · information)⁻¹ with the options' information (expected or observed), N the
        family's :attr:`inference_nobs`."""
        objective, phi = self.estimation.objective, self.estimation.phi
        kind = self.options.information
        structured = inference.structured_vcov(objective, phi, kind, self.inference_nobs)
        if structured is not None:  # thousands of parameters: from the information's blocks
            return structured
        try:
            info = inference.information_per_observation(objective, phi, kind)
        except (ArithmeticError, np.linalg.LinAlgError):  # Σ not positive definite at φ̂
            warnings.warn(
                "the model-implied covariance matrix is not positive definite at the "
                "estimates; standard errors are not available",
                NotPositiveDefiniteWarning,
                stacklevel=3,
            )
            return np.full((self.model.n_phi, self.model.n_phi), np.nan)
        active = inference.active_constraint_rows(self.model.space, phi)
        return inference.vcov_from_information(info, self.inference_nobs, active)

    @cached_property
    @_threads
    def moment_groups(self) -> tuple:
        """Per group, what sandwich estimators and scaled tests use: the moments' derivatives,
        the rows, the unrestricted and the implied moments (:mod:`semlang.results.robust`)."""
        from semlang.results.robust import moment_groups

        return moment_groups(self)

    @cached_property
    @_threads
    def moment_weights(self) -> tuple[np.ndarray, ...]:
        """The family's weight matrix of each group's moments at the implied moments."""
        return tuple(self.family.moment_weights(self))

    @cached_property
    @_threads
    def sandwich_bread(self) -> np.ndarray:
        """The inverse of the information of the sandwich's bread and the scaled tests."""
        from semlang.results.robust import bread_inverse

        return bread_inverse(self)

    @cached_property
    @_threads
    def bootstrap(self):
        """The bootstrap replications (``se="bootstrap"``): draws, failures, percentile CIs."""
        from semlang.results.bootstrap import run_bootstrap

        return run_bootstrap(self)

    @cached_property
    @_threads
    def bollen_stine(self):
        """The Bollen-Stine bootstrap of ``test="bollen.stine"``: the χ² of every draw."""
        from semlang.results.bootstrap_lavaan import bollen_stine

        return bollen_stine(self)

    @cached_property
    @_threads
    def random_starts(self):
        """With ``starts=K``: the refits from K random starting values and whether one found a
        better optimum (:class:`~semlang.results.multistart.RandomStarts`); else None."""
        if not self.options.starts:
            return None
        from semlang.results.multistart import random_starts

        return random_starts(self)

    @cached_property
    @_threads
    def vcov(self) -> np.ndarray:
        """Covariance matrix of θ̂ (the free parameters, shared labels once)."""
        if self.model.space.identity:
            return self.vcov_phi.copy()
        J = self.model.space.jacobian(self.estimation.phi)
        return J @ self.vcov_phi @ J.T

    @cached_property
    @_threads
    def _columns(self) -> dict[str, np.ndarray]:
        from semlang.results.table import estimate_columns

        return estimate_columns(self)

    @_threads
    def estimates(self, level: float = 0.95) -> pd.DataFrame:
        """lavaan's ``parameterEstimates()``: lhs, op, rhs, group, label, est, se, z, pvalue,
        ci_lower, ci_upper (at ``level``), std_lv, std_all, std_nox — fixed rows, ``:=`` rows
        and constraint rows too."""
        from semlang.results.table import estimates_frame

        return estimates_frame(self, level)

    @_threads
    def standardized_solution(
        self, type: str = "std.all", level: float = 0.95, remove_eq: bool = True,
        remove_ineq: bool = True, remove_def: bool = False,
    ) -> pd.DataFrame:  # fmt: skip
        """lavaan's ``standardizedSolution()``: lhs, op, rhs, group, label, est_std, se, z,
        pvalue, ci_lower, ci_upper; ``type`` "std.all", "std.lv" or "std.nox"; standard errors
        by the delta method with the fit's covariance matrix of the estimates."""
        from semlang.results.standardized_frame import standardized_solution

        return standardized_solution(self, type, level, remove_eq, remove_ineq, remove_def)

    def standardized(self) -> pd.DataFrame:
        """The standardized solution (lhs, op, rhs, group, est_std = std_all, std_lv)."""
        frame = self.estimates()
        level = ["level"] if "level" in frame else []
        return frame[["lhs", "op", "rhs", "group", *level, "label", "std_lv", "std_all"]].copy()

    @cached_property
    @_threads
    def _fit_measures(self) -> dict[str, float]:
        from semlang.results.indices import in_lavaan_order
        from semlang.results.tests import scaled_measures

        out = self.family.fit_measures(self)
        out.update(scaled_measures(self, out))
        return in_lavaan_order(out)

    def fit_measures(self) -> dict[str, float]:
        """lavaan's ``fitMeasures()`` under snake_case names (plain Python numbers)."""
        return {k: v.item() if hasattr(v, "item") else v for k, v in self._fit_measures.items()}

    @_threads
    def predict(self, data=None, method: str = "regression") -> pd.DataFrame:
        """Factor scores (lavaan's ``lavPredict()``): one column per latent variable."""
        from semlang.results.scores import predict

        return predict(self, data=data, method=method)

    @_threads
    def modindices(self, sort: bool = False, minimum_value: float = 0.0, **options) -> pd.DataFrame:
        """lavaan's ``modindices()``: the score test of every fixed or left-out parameter (mi,
        epc, sepc_lv, sepc_all, sepc_nox; see :func:`semlang.results.modindices.modindices`)."""
        from semlang.results.modindices import modindices

        return modindices(self, sort=sort, minimum_value=minimum_value, **options)

    @_threads
    def summary(
        self, standardized: bool = False, fit_measures: bool = False, rsquare: bool = False,
        ci: bool = False, level: float = 0.95, modindices: bool = False,
    ):  # fmt: skip
        """lavaan's ``summary()``: header, model test, parameter sections (and fit measures;
        with ``rsquare`` the R-Square blocks; with ``ci`` the confidence intervals at
        ``level``; with ``modindices`` the modification indices at the end). A ``str`` (the
        text) that notebooks show as tables and that has ``to_latex()``
        (:class:`~semlang.results.summary_object.Summary`)."""
        from semlang.results.summary import summary_text

        return summary_text(
            self, standardized=standardized, fit_measures=fit_measures, rsquare=rsquare, ci=ci,
            level=level, modindices=modindices,
        )  # fmt: skip

    # ---- diagnostics: residuals, R², lavInspect ----
    @_threads
    def residuals(self, type: str | None = None, summary: bool = False) -> dict:
        """lavaan's ``resid(fit, type=)`` (type "raw" unless given); ``summary=True``:
        ``lavResiduals(fit, type=)`` (type "cor.bentler" unless given) with the z-statistics and
        the summary table. Several groups: a dict keyed by group label."""
        from semlang.results import residuals

        if summary:
            return residuals.lav_residuals(self, type=type or "cor.bentler")
        return residuals.residuals(self, type=type or "raw")

    @_threads
    def residual_summary(self, type: str = "cor.bentler"):
        """lavResiduals' summary: SRMR (``type="cor.bollen"``: CRMR, ``"raw"``: RMR) with its
        standard error, exact-fit test and unbiased estimate."""
        from semlang.results.residuals import residual_summary

        return residual_summary(self, type=type)

    @_threads
    def r_squared(self):
        """lavaan's ``lavInspect(fit, "rsquare")``: a Series per group (a dict of them keyed by
        group label, or by level with two levels)."""
        from semlang.results.inspect import r_squared

        return r_squared(self)

    @_threads
    def inspect(self, what: str):
        """lavaan's ``lavInspect(fit, what)`` as labelled pandas objects."""
        from semlang.results.inspect import inspect

        return inspect(self, what)

    # ---- statsmodels-style accessors ----
    @property
    def params(self) -> pd.Series:
        """The free parameters' estimates under lavaan's ``coef()`` names."""
        from semlang.results.inspect import coef_frame

        return coef_frame(self)["est"]

    @property
    def bse(self) -> pd.Series:
        """The standard errors of :attr:`params`."""
        from semlang.results.inspect import coef_frame

        return coef_frame(self)["se"]

    @property
    def pvalues(self) -> pd.Series:
        from semlang.results.inspect import coef_frame

        return coef_frame(self)["pvalue"]

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals of :attr:`params` (columns lower, upper)."""
        from scipy.stats import norm

        z = norm.ppf(1 - alpha / 2)
        est, se = self.params, self.bse
        return pd.DataFrame({"lower": est - z * se, "upper": est + z * se})

    @_threads
    def cov_params(self) -> pd.DataFrame:
        """The covariance matrix of :attr:`params` (lavaan's ``vcov()``), labelled."""
        from semlang.results.inspect import vcov_frame

        return vcov_frame(self)

    @property
    def llf(self) -> float:
        return self.fit_measures().get("logl", float("nan"))

    @property
    def aic(self) -> float:
        return self.fit_measures().get("aic", float("nan"))

    @property
    def bic(self) -> float:
        return self.fit_measures().get("bic", float("nan"))

    def __repr__(self) -> str:
        status = "converged" if self.converged else "did NOT converge"
        measures = self._fit_measures
        return (
            f"<semlang Fit: {self.table.options.model_type.value}, {status} after "
            f"{self.iterations} iterations, N = {self.nobs}, chisq = {measures['chisq']:.3f}, "
            f"df = {measures['df']:g}>"
        )

    def diagram(self, what: str = "est"):
        """The path diagram with the estimates (``what="est"``), the standardized estimates
        (``"std"``, std.all) or the model's labels and fixed values (``"none"``): a
        :class:`~semlang.diagram.Diagram` (SVG in a notebook; ``.save("fit.svg")``)."""
        from semlang.diagram import from_fit

        return from_fit(self, what)

    def _repr_html_(self) -> str:
        """A notebook shows a fit as its warnings (in a box) and its summary's tables."""
        from semlang.results.summary_object import warnings_html

        return warnings_html(self.warnings) + self.summary()._repr_html_()

    def row_estimate(self, row) -> float:
        """The estimate of one parameter row."""
        if row.is_free:
            return float(self.theta[row.free - 1])
        if row.exo:
            return self._exo_value(row)
        return row.value

    def _exo_value(self, row) -> float:
        layout = next(lay for lay in self.model.layouts if lay.block == row.block)
        moments = self.implied[self.model.layouts.index(layout)]
        index = {name: k for k, name in enumerate(layout.variables)}
        if row.op is Op.INTERCEPT:
            return float(moments.m[index[row.lhs]])
        return float(moments.S[index[row.lhs], index[row.rhs]])


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(value)
