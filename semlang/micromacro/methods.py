"""The micro-macro methods: from long data to the group-level regression, seven ways.

Input: a :class:`~semlang.micromacro.model.MicroMacroData` (or long data via :func:`micro_macro`)
and the methods to run. Output: per method the coefficients of ``y`` on the aggregate of each
``x`` and on ``Z`` (``Intercept``, the x names, the Z names), their standard errors and, for the
two-step methods, the group scores.

- ``Unadjusted``: OLS of y on the observed group means and Z, with conventional, HC0 and HC3
  standard errors.
- ``CV Adj``: Croon & van Veldhoven's adjusted group means (the BLUP of xi_g from the group's
  means and Z_g with ANOVA variance components and group-size specific weights; see
  ``docs/croon_van_veldhoven.md``; several x are handled jointly), then OLS.
- ``BLUP_mixed``: the random-intercept model of x as a factor model (loadings 1, one residual
  variance, one intercept: lme4's ``x ~ 1 + (1 | group)``), its regression factor scores, OLS.
- ``BLUP_mixed_hetvar``: the same with a residual variance per member position.
- ``Factor Score``: a one-factor model with free loadings, residual variances and intercepts,
  its regression factor scores, OLS.
- ``SEM``: the full micro-macro SEM (:func:`~semlang.micromacro.model.model_string`), by
  maximum likelihood; unbalanced groups are missing cells fit by FIML.
- ``SEM (two-level)``: the same SEM as a two-level model of the long data (``cluster=group``).
- ``True`` (simulations only): OLS on the true group scores.
- ``CV Adj (published code)`` (simulations only): the adjusted means as the published study's
  code computed them, from the true group scores and with exchanged ANOVA degrees of freedom
  (:mod:`semlang.micromacro.article_cv`); it reproduces the published ``CV Adj`` column.

Regression factor scores are conditional means ``E[xi | observed members]`` under the fitted
model, computed per missing-data pattern (lavaan's ``lavPredict(method = "regression")``); for
the balanced case one weight matrix serves every group.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd

from semlang.api import compile_model, fit, sem
from semlang.blas import limited
from semlang.compile.model import CompiledModel
from semlang.errors import (
    DataError,
    EstimationError,
    HeywoodWarning,
    NotPositiveDefiniteWarning,
    OptionError,
    SemlangWarning,
)
from semlang.micromacro.article_cv import cv_adjusted_as_published
from semlang.micromacro.model import MicroMacroData, measurement_string, model_string
from semlang.micromacro.ols import ols
from semlang.micromacro.twolevel import twolevel_model_string
from semlang.results.fit import Fit
from semlang.syntax.ast import Op

__all__ = [
    "DEFAULT_METHODS",
    "InadmissibleFit",
    "Method",
    "MethodEstimate",
    "MethodModels",
    "cv_adjusted_means",
    "parse_methods",
    "regression_scores",
    "run_methods",
]


class Method(Enum):
    """The methods, named as in the published tables."""

    UNADJUSTED = "Unadjusted"
    BLUP_MIXED = "BLUP_mixed"
    BLUP_MIXED_HETVAR = "BLUP_mixed_hetvar"
    FACTOR_SCORE = "Factor Score"
    CV_ADJ = "CV Adj"
    CV_ADJ_PUBLISHED = "CV Adj (published code)"
    SEM = "SEM"
    SEM_TWOLEVEL = "SEM (two-level)"
    TRUE = "True"


DEFAULT_METHODS = (
    Method.UNADJUSTED,
    Method.BLUP_MIXED,
    Method.BLUP_MIXED_HETVAR,
    Method.FACTOR_SCORE,
    Method.CV_ADJ,
    Method.SEM,
    Method.SEM_TWOLEVEL,
)

# measurement model of each factor-score method: loadings, residual variances, intercepts
_MEASUREMENT = {
    Method.BLUP_MIXED: ("fixed", "equal", "equal"),
    Method.BLUP_MIXED_HETVAR: ("fixed", "free", "equal"),
    Method.FACTOR_SCORE: ("free", "free", "free"),
}
# the order in which a strict run fits the models: the most fragile first
_FIT_ORDER = (Method.FACTOR_SCORE, Method.BLUP_MIXED_HETVAR, Method.BLUP_MIXED, Method.SEM)


def _key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def parse_methods(names: Iterable[str | Method] | None) -> tuple[Method, ...]:
    """Methods from their names (case, spaces, ``-`` and ``_`` ignored); None: the defaults."""
    if names is None:
        return DEFAULT_METHODS
    lookup = {_key(m.value): m for m in Method} | {_key(m.name): m for m in Method}
    lookup |= {"cv": Method.CV_ADJ, "fs": Method.FACTOR_SCORE, "twolevel": Method.SEM_TWOLEVEL}
    out: list[Method] = []
    for name in names:
        method = name if isinstance(name, Method) else lookup.get(_key(str(name)))
        if method is None:
            choices = ", ".join(repr(m.value) for m in Method)
            raise OptionError(f"unknown micro-macro method {name!r}", hint=f"choose from {choices}")
        if method not in out:
            out.append(method)
    return tuple(out)


class InadmissibleFit(EstimationError):
    """A fitted model did not converge or has a negative variance estimate."""

    def __init__(self, method: Method, problem: str):
        super().__init__(f"{method.value}: {problem}")
        self.method = method
        self.problem = problem


@dataclass(frozen=True, eq=False)
class MethodModels:
    """The compiled models of the fitted methods for one data layout (compile once, fit many)."""

    strings: dict[Method, str]
    compiled: dict[Method, CompiledModel]
    max_iterations: int = 10000

    @classmethod
    def build(
        cls, data: MicroMacroData, methods: Sequence[Method], max_iterations: int = 10000
    ) -> MethodModels:
        strings: dict[Method, str] = {}
        compiled: dict[Method, CompiledModel] = {}
        options: dict[str, Any] = {"meanstructure": True, "missing": "fiml"}
        for method in methods:
            if method in _MEASUREMENT:
                loadings, residuals, intercepts = _MEASUREMENT[method]
                text = measurement_string(
                    data.indicators, loadings=loadings, residuals=residuals, intercepts=intercepts
                )
                kind = "cfa"
            elif method is Method.SEM:
                text, kind = model_string(data.indicators, data.z_names, data.y_name), "sem"
            else:
                continue
            strings[method] = text
            compiled[method] = compile_model(text, kind, name=method.value, **options)
        return cls(strings, compiled, max_iterations)


@dataclass(frozen=True, eq=False)
class MethodEstimate:
    """One method's coefficients (``terms``/``est``), standard errors by kind, scores, fit."""

    method: Method
    terms: tuple[str, ...]
    est: np.ndarray
    se: dict[str, np.ndarray] = field(default_factory=dict)
    scores: np.ndarray | None = None
    fit: Fit | None = None
    problem: str | None = None  # why the fitted model is not admissible, if it is not

    def coef(self) -> dict[str, float]:
        return dict(zip(self.terms, map(float, self.est), strict=True))


def regression_scores(
    fitted: Fit, values: np.ndarray, observed: Sequence[str], latent: Sequence[str]
) -> np.ndarray:
    """E[latent | observed values] under a fitted single-group model, pattern by pattern.

    ``values`` (n, len(observed)) may hold NaN (missing cells); a row is scored from its
    observed entries. The result is (n, len(latent)).
    """
    layout = fitted.model.layouts[0]
    moments = fitted.implied[0]
    position = {name: k for k, name in enumerate(layout.variables)}
    obs = np.array([position[name] for name in observed])
    lat = np.array([position[name] for name in latent])
    cov, mean = moments.total_cov, moments.total_mean
    present = np.isfinite(values)
    patterns, which = np.unique(present, axis=0, return_inverse=True)
    out = np.full((values.shape[0], lat.shape[0]), np.nan)
    for k, pattern in enumerate(patterns):
        rows = np.flatnonzero(which.reshape(-1) == k)
        seen = obs[pattern]
        weights = np.linalg.solve(cov[np.ix_(seen, seen)], cov[np.ix_(seen, lat)])
        out[rows] = mean[lat] + (values[np.ix_(rows, np.flatnonzero(pattern))] - mean[seen]) @ (
            weights
        )
    return out


def cv_adjusted_means(data: MicroMacroData) -> np.ndarray:
    """(G, p) Croon & van Veldhoven adjusted means of every x, jointly given all means and Z.

    ANOVA moments: Sigma_nu = MSW, Sigma_xi = (MSB - MSW) / n0 (matrices), Cov(xi, Z) by the
    covariance of the group means with Z and Var(Z) over groups (divisor G - 1). For one x this
    is :func:`~semlang.micromacro.adjusted_means`.
    """
    n, xbar, G = data.sizes.astype(float), data.xbar, data.n_groups
    total, p = float(n.sum()), data.p
    if G < 2 or total <= G:
        raise DataError("adjusted means need at least 2 groups and a group with 2 members")
    grand = n @ xbar / total
    msw = data.within_sscp / (total - G)
    centred = xbar - grand
    msb = (centred * n[:, None]).T @ centred / (G - 1)
    sigma_xi = (msb - msw) / ((total - float(n @ n) / total) / (G - 1))
    if np.any(np.diag(sigma_xi) <= 0):
        warnings.warn("the latent group variance is not positive", HeywoodWarning, stacklevel=3)
    observed = np.column_stack([centred, data.z - data.z.mean(axis=0)])
    joint = np.atleast_2d(np.cov(np.column_stack([xbar, data.z]), rowvar=False, ddof=1))
    cross = np.column_stack([sigma_xi, joint[:p, p:]])  # Cov(xi, (xbar, Z))
    out = np.empty_like(xbar)
    for size in np.unique(data.sizes):
        v = joint.copy()
        v[:p, :p] = sigma_xi + msw / size
        rows = data.sizes == size
        if np.linalg.eigvalsh(v)[0] <= 0:
            warnings.warn(
                "the covariance matrix of the group means and Z is not positive definite: "
                "unstable adjusted means",
                NotPositiveDefiniteWarning,
                stacklevel=3,
            )
        out[rows] = grand + observed[rows] @ np.linalg.solve(v, cross.T)
    return out


def _problems(fitted: Fit) -> str | None:
    """Why a fit is not admissible (not converged, a negative variance), or None."""
    if not fitted.converged:
        return "the optimizer did not converge"
    negative = [
        row.name
        for row in fitted.table.parameters
        if row.op is Op.COVARIANCE and row.lhs == row.rhs and row.is_free
        and fitted.theta[row.free - 1] < 0
    ]  # fmt: skip
    return "negative variance " + ", ".join(negative) if negative else None


def _structural(fitted: Fit, data: MicroMacroData, inference: bool) -> tuple[np.ndarray, dict]:
    """The SEM's Intercept, effects of the latent scores and of Z, and their ML SEs."""
    targets = [(data.y_name, Op.INTERCEPT, "")]
    targets += [(data.y_name, Op.REGRESSION, name) for name in (*data.latent_names, *data.z_names)]
    rows = {(r.lhs, r.op, r.rhs): r for r in fitted.table.parameters}
    est = np.array([fitted.row_estimate(rows[t]) for t in targets])
    if not inference:
        return est, {}
    frame = fitted.estimates().set_index(["lhs", "op", "rhs"])["se"]
    se = np.array([float(frame.loc[(lhs, op.value, rhs)]) for lhs, op, rhs in targets])
    return est, {"ML": se}


def _second_step(
    method: Method,
    data: MicroMacroData,
    scores: np.ndarray,
    inference: bool,
    fitted: Fit | None = None,
) -> MethodEstimate:
    names = (*data.x_names, *data.z_names)
    design = np.column_stack([scores, data.z])
    result = ols(data.y, design, names=names)
    se = {}
    if inference:
        se["standard"] = result.se
        for kind in ("HC0", "HC3"):
            se[kind] = ols(data.y, design, names=names, cov_type=kind).se
    problem = _problems(fitted) if fitted is not None else None
    return MethodEstimate(method, result.names, result.params, se, scores, fitted, problem)


def _fit_method(method: Method, data: MicroMacroData, models: MethodModels, strict: bool) -> Fit:
    fitted = fit(models.compiled[method], data.wide, max_iterations=models.max_iterations)
    problem = _problems(fitted) if strict else None
    if problem is not None:
        raise InadmissibleFit(method, problem)
    return fitted


def _scores_of(fitted: Fit, data: MicroMacroData) -> np.ndarray:
    """Regression factor scores of the latent group scores, one row per group."""
    scores = fitted.predict()  # the rows the model was fit to: every group, by position
    if len(scores) != data.n_groups:
        scores = scores.reindex(range(data.n_groups))
    columns = [scores.columns.get_loc(name) for name in data.latent_names]
    return scores.to_numpy(dtype=float)[:, columns]


def run_methods(
    data: MicroMacroData,
    models: MethodModels,
    methods: Sequence[Method] = DEFAULT_METHODS,
    *,
    true_xi: np.ndarray | None = None,
    inference: bool = True,
    strict: bool = False,
) -> dict[Method, MethodEstimate]:
    """Run ``methods`` on ``data`` with the compiled ``models``, in the order given.

    ``true_xi`` (G, p): the true group scores (for ``True`` and ``CV Adj (published code)``).
    ``inference``: compute standard errors (else only estimates: faster). ``strict``: raise
    :class:`InadmissibleFit` as soon as a fitted model did not converge or has a negative
    variance (its most fragile models first).
    """
    fits = {}
    for method in sorted(set(methods) & set(_FIT_ORDER), key=_FIT_ORDER.index):
        if method not in models.compiled:
            raise OptionError(f"no compiled model for {method.value}")
        fits[method] = _fit_method(method, data, models, strict)
    out: dict[Method, MethodEstimate] = {}
    for method in methods:
        if method is Method.SEM:
            est, se = _structural(fits[method], data, inference)
            terms = ("Intercept", *data.x_names, *data.z_names)
            problem = _problems(fits[method])
            out[method] = MethodEstimate(method, terms, est, se, None, fits[method], problem)
        elif method is Method.SEM_TWOLEVEL:
            out[method] = _twolevel(data, inference)
        elif method in fits:
            scores = _scores_of(fits[method], data)
            out[method] = _second_step(method, data, scores, inference, fits[method])
        else:
            out[method] = _second_step(
                method, data, _simple_scores(method, data, true_xi), inference
            )
    return out


def _simple_scores(method: Method, data: MicroMacroData, true_xi: np.ndarray | None) -> np.ndarray:
    if method is Method.UNADJUSTED:
        return data.xbar
    if method is Method.CV_ADJ:
        return cv_adjusted_means(data)
    if method is Method.CV_ADJ_PUBLISHED:
        return cv_adjusted_as_published(data, true_xi)
    if method is Method.TRUE:
        if true_xi is None:
            raise OptionError("the 'True' method needs the true group scores (simulations only)")
        return data.true_scores(true_xi)
    raise OptionError(f"{method.value} has no group scores")


def _twolevel(data: MicroMacroData, inference: bool) -> MethodEstimate:
    """The two-level SEM of the long data (``cluster=`` the group column; no reshaping).

    Fits :func:`~semlang.micromacro.twolevel.twolevel_model_string` to ``data.long`` and returns
    the level-2 rows ``y ~1``, ``y ~ x`` and ``y ~ Z`` (the between part of each x is its latent
    group score). Its intercept is that of the uncentred between part of x.
    """
    text = twolevel_model_string(data.x_names, data.z_names, data.y_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemlangWarning)
        fitted = sem(text, data.long, cluster=data.group)
    rows = {(r.lhs, r.op, r.rhs): r for r in fitted.table.parameters if r.level == 2}
    targets = [(data.y_name, Op.INTERCEPT, "")]
    targets += [(data.y_name, Op.REGRESSION, name) for name in (*data.x_names, *data.z_names)]
    est = np.array([fitted.row_estimate(rows[t]) for t in targets])
    se = {}
    if inference:
        frame = fitted.estimates()
        frame = frame[frame["level"] == 2].set_index(["lhs", "op", "rhs"])["se"]
        se["ML"] = np.array([float(frame.loc[(lhs, op.value, rhs)]) for lhs, op, rhs in targets])
    terms = ("Intercept", *data.x_names, *data.z_names)
    return MethodEstimate(Method.SEM_TWOLEVEL, terms, est, se, None, fitted, _problems(fitted))


@dataclass(frozen=True, eq=False)
class MicroMacroResult:
    """Every method's group-level regression on one data set (see :func:`micro_macro`)."""

    data: MicroMacroData
    estimates: dict[Method, MethodEstimate]
    models: MethodModels

    @property
    def model_string(self) -> str:
        """The text of the full micro-macro SEM of this data."""
        return self.models.strings.get(Method.SEM) or self.data.model_string()

    @property
    def twolevel_model_string(self) -> str | None:
        """The two-level SEM's text when that method ran (for the long data, ``cluster=``)."""
        if Method.SEM_TWOLEVEL not in self.estimates:
            return None
        data = self.data
        return twolevel_model_string(data.x_names, data.z_names, data.y_name)

    def coefficients(self) -> pd.DataFrame:
        """One row per method and term: ``method, term, est, se, se_hc0, se_hc3, problem``.

        ``se`` is the conventional OLS standard error of the two-step methods and the ML standard
        error of the SEM; ``se_hc0``/``se_hc3`` are White's corrections (two-step methods only).
        """
        rows = []
        for method, result in self.estimates.items():
            se = result.se.get("standard", result.se.get("ML"))
            for k, term in enumerate(result.terms):
                rows.append(
                    {
                        "method": method.value,
                        "term": term,
                        "est": float(result.est[k]),
                        "se": float(se[k]) if se is not None else np.nan,
                        "se_hc0": float(result.se["HC0"][k]) if "HC0" in result.se else np.nan,
                        "se_hc3": float(result.se["HC3"][k]) if "HC3" in result.se else np.nan,
                        "problem": result.problem or "",
                    }
                )
        return pd.DataFrame(rows)

    def table(self, se: str = "se") -> pd.DataFrame:
        """Methods side by side: one row per term, columns ``(method, "est")``, ``(method, se)``.

        ``se``: ``"se"`` (conventional / ML), ``"se_hc0"`` or ``"se_hc3"`` (the SEM keeps its ML
        standard error).
        """
        if se not in ("se", "se_hc0", "se_hc3"):
            raise OptionError(f"se must be 'se', 'se_hc0' or 'se_hc3', not {se!r}")
        frame = self.coefficients()
        frame["shown"] = frame[se].where(frame[se].notna(), frame["se"])
        wide = frame.pivot(index="term", columns="method", values=["est", "shown"])
        wide = wide.rename(columns={"shown": "se"}).swaplevel(axis=1)
        methods = [m.value for m in self.estimates]
        terms = list(dict.fromkeys(frame["term"]))
        return wide.reindex(
            index=terms, columns=pd.MultiIndex.from_product([methods, ["est", "se"]])
        )

    def scores(self) -> pd.DataFrame:
        """The group scores of the two-step methods: one row per group (x by x if several)."""
        out = pd.DataFrame({self.data.group: self.data.labels, "n": self.data.sizes})
        for method, result in self.estimates.items():
            if result.scores is None:
                continue
            for j, name in enumerate(self.data.x_names):
                label = method.value if self.data.p == 1 else f"{method.value}: {name}"
                out[label] = result.scores[:, j]
        return out


@limited()
def micro_macro(
    data: Any,
    group: str,
    x: str | Sequence[str],
    z: str | Sequence[str] | None = None,
    y: str = "y",
    *,
    methods: Iterable[str | Method] | None = None,
    true_xi: np.ndarray | None = None,
    max_iterations: int = 10000,
) -> MicroMacroResult:
    """Fit the micro-macro methods to long data (a DataFrame or a CSV file).

    ``group``: the group id column; ``x``: the individual-level column(s); ``z``: group-level
    covariates (none: None); ``y``: the group-level outcome. ``methods``: names (default: all
    but the simulation-only ``True`` and ``CV Adj (published code)``); ``true_xi``: the true
    group scores, (G,) or (G, p) in the order of the sorted group ids, for those two. Warnings
    report fits that did not converge or have negative variances;
    :meth:`MicroMacroResult.coefficients` marks them too.
    """
    from semlang.estimate.data import as_frame

    chosen = parse_methods(methods)
    prepared = MicroMacroData.from_long(as_frame(data), group, x, z, y)
    models = MethodModels.build(prepared, chosen, max_iterations=max_iterations)
    estimates = run_methods(prepared, models, chosen, true_xi=true_xi)
    return MicroMacroResult(prepared, estimates, models)
