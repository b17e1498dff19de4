"""Two-level ML: a compiled two-level model + clustered data → the function the optimizer minimizes.

Input: a :class:`~semlang.compile.CompiledModel` whose table has ``level:`` blocks (for one group,
block 1 is level 1, the within model; block 2 is level 2, the between model), the data frame
and the options (``cluster=`` names the cluster column). Output:

* :func:`prepare_twolevel` → :class:`TwoLevelSample`: the clustered data's statistics
  (:class:`~semlang.estimate.twolevel_data.TwoLevelData`), lavaan's unrestricted (h1) fit by EM
  and, on demand, the baseline model. Variables are classified by the level blocks that mention
  them: level-1 and level-2 (split into within and between parts), level-1 only, level-2 only.
  A variable that is constant within every cluster is a level-2 variable: using it in the
  level-1 model is an error located in the model text.
* :func:`build_twolevel_objective` → :class:`TwoLevelObjective`: F(φ) = 2(ℓ_h1 − ℓ(φ))/N, so
  that χ² = N·F = 2(ℓ_h1 − ℓ) with lavaan's ℓ_h1; its analytic gradient (the likelihood's
  derivatives with respect to Σ_W, Σ_B, μ_W, μ_B, taken through each level's RAM chain rule);
  the expected information (``information="expected"``) and the observed information (half
  the Hessian of F: lavaan's default for two-level ML), both analytic: the first-derivative
  terms from :func:`~semlang.estimate.twolevel.twolevel_information`, the second-derivative
  terms from each level's RAM algebra.

Σ_W, μ_W are block 1's implied moments (its observed variables are the level-1 variables);
Σ_B, μ_B block 2's. The fixed exogenous covariates (fixed.x) of each level are fixed at the
unrestricted model's moments of that level, as lavaan does (level-1-only covariates: mean and
covariance over all rows; level-2-only ones: over the cluster values).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from semlang.compile.model import CompiledModel
from semlang.compile.ram import ExoValues, ImpliedMoments, collapse
from semlang.errors import (
    DataError,
    ModelSpecificationError,
    NotSupportedError,
    OptionError,
    Span,
    UnknownVariableError,
)
from semlang.estimate.objective import Objective, second_order_entries
from semlang.estimate.twolevel import (
    TwoLevelMoments,
    twolevel_gradient,
    twolevel_information,
    twolevel_loglik,
)
from semlang.estimate.twolevel_data import TwoLevelData, detect_between_only
from semlang.estimate.twolevel_h1 import FixedCovariates, fit_baseline, fit_saturated
from semlang.options import ModelOptions
from semlang.partable.table import ParameterTable
from semlang.syntax.ast import Op

_EXO_VARIANCE_FLOOR = 1e-3  # lavaan raises fixed covariates' variances below this to it


# ---- the sample ---------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class TwoLevelSample:
    """Clustered data ready for two-level ML: statistics, the h1 fit, and the baseline on demand."""

    data: TwoLevelData
    h1: TwoLevelMoments  # lavaan's EM fit of the unrestricted model (its unrestricted.logl)
    fixed: FixedCovariates  # each level's fixed covariates and the moments they are fixed at
    cluster: str
    n_dropped: int

    @property
    def nobs(self) -> int:
        """Number of rows used (level-1 observations)."""
        return self.data.nobs

    @property
    def nclusters(self) -> int:
        return self.data.nclusters

    @property
    def has_missing(self) -> bool:
        return False

    @property
    def group_nobs(self) -> tuple[int, ...]:
        return (self.nobs,)

    @property
    def missing_pattern_counts(self) -> tuple[int, ...]:
        return ()

    free_covariates: bool = False  # fixed_x=False: the covariates' blocks are free parameters

    @cached_property
    def baseline(self) -> TwoLevelMoments:
        """lavaan's baseline (independence) model: the covariates of each level keep their
        covariance block, fixed (fixed.x) or free; a free block's estimate is the sample block,
        so only the count of free parameters differs."""
        baseline = fit_baseline(self.data, self.fixed)
        if not self.free_covariates:
            return baseline
        fixed, both = self.fixed, set(self.data.both)
        k_w, k_b = len(fixed.within), len(fixed.between)
        extra = k_w * (k_w + 1) // 2 + sum(1 for v in fixed.within if v not in both)
        extra += k_b * (k_b + 3) // 2
        return replace(baseline, npar=baseline.npar + extra)


def prepare_twolevel(
    frame: pd.DataFrame, table: ParameterTable, options: ModelOptions
) -> TwoLevelSample:
    """Check the data against the two-level model and compute its statistics."""
    _check_supported(table, options)
    cluster = options.cluster
    assert cluster is not None  # (checked above)
    within, between = level_variables(table)
    _check_columns(frame, table, cluster)
    _check_level_one_variables(frame, table, cluster, within)
    exo = _exogenous_by_level(table)
    data = TwoLevelData.from_data(
        frame, cluster, within, between, fixed_x=tuple(dict.fromkeys(exo[0] + exo[1]))
    )
    h1 = fit_saturated(data)
    free = not options.fixed_x
    if free:
        covariates = {block.level: block.observed_exogenous for block in table.blocks}
        exo = (covariates[1], covariates[2])
    fixed = fixed_covariates(data, h1, exo)
    return TwoLevelSample(data, h1, fixed, cluster, len(frame) - data.nobs, free)


def level_variables(table: ParameterTable) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The observed variables of the level-1 block and of the level-2 block, in block order."""
    levels = {block.level: block.observed for block in table.blocks}
    return levels[1], levels[2]


def _check_supported(table: ParameterTable, options: ModelOptions) -> None:
    def refuse(what: str, hint: str) -> None:
        raise NotSupportedError(
            f"two-level models are not fitted {what} yet", table.source, None, hint=hint
        )

    if options.cluster is None:
        raise OptionError(
            "the model has 'level:' blocks but no cluster variable",
            hint="name the column that identifies the clusters: cluster='school'",
        )
    if table.ngroups > 1 or options.group is not None:
        refuse("with several groups (group=)", "fit each group on its own")
    if options.missing.is_fiml:
        refuse("with missing='fiml'", "leave missing at 'listwise' (rows with gaps are dropped)")


def _check_columns(frame: pd.DataFrame, table: ParameterTable, cluster: str) -> None:
    """Every observed variable and the cluster variable are columns of the data."""
    columns = [str(c) for c in frame.columns]
    for name in table.observed:
        if name not in columns:
            close = difflib.get_close_matches(name, columns, n=3)
            raise UnknownVariableError(
                f"variable {name!r} is not a column of the data",
                table.source,
                table.variable_spans.get(name),
                hint="close column names: " + ", ".join(close) if close else None,
            )
    if cluster not in columns:
        close = difflib.get_close_matches(cluster, columns, n=3)
        raise DataError(
            f"cluster variable {cluster!r} is not a column of the data",
            hint="close column names: " + ", ".join(close) if close else None,
        )


def _check_level_one_variables(
    frame: pd.DataFrame, table: ParameterTable, cluster: str, within: tuple[str, ...]
) -> None:
    """A variable constant within every cluster is a level-2 variable: not in the level-1 model.

    Skipped when the clusters themselves are unusable (missing ids, one cluster, clusters of one
    row): :class:`TwoLevelData` reports those.
    """
    rows = frame.dropna(subset=list(within))
    sizes = rows[cluster].value_counts(dropna=False)
    if rows[cluster].isna().any() or sizes.size < 2 or sizes.max() < 2:
        return
    candidates = detect_between_only(rows, cluster, within)
    if not candidates:
        return
    name = candidates[0]
    raise ModelSpecificationError(
        f"variable {name!r} is constant within every cluster of {cluster!r}: it is a level-2 "
        "variable, but the level-1 model uses it",
        table.source,
        _level_one_span(table, name),
        hint=f"move {name!r} to the 'level: 2' block (a level-2 variable has no within part)",
    )


def _level_one_span(table: ParameterTable, name: str) -> Span | None:
    """Where the level-1 block mentions ``name`` (the statement's span, narrowed to the name)."""
    text = table.source.text
    for row in table.rows:
        if row.level != 1 or row.span is None or name not in (row.lhs, row.rhs):
            continue
        piece = text[row.span.start : row.span.end]
        offset = _find_word(piece, name)
        if offset >= 0:
            start = row.span.start + offset
            return Span(start, start + len(name))
        return row.span
    return None


def _find_word(text: str, word: str) -> int:
    start = text.find(word)
    while start >= 0:
        before = text[start - 1] if start > 0 else " "
        end = start + len(word)
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before in "._") and not (after.isalnum() or after in "._"):
            return start
        start = text.find(word, start + 1)
    return -1


def _exogenous_by_level(table: ParameterTable) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The fixed covariates (``exo`` variance rows) of the level-1 and of the level-2 block."""
    out: dict[int, list[str]] = {1: [], 2: []}
    for row in table.rows:
        if row.exo and row.op is Op.COVARIANCE and row.lhs == row.rhs:
            out[row.level].append(row.lhs)
    return tuple(out[1]), tuple(out[2])


def fixed_covariates(
    data: TwoLevelData, h1: TwoLevelMoments, names: tuple[tuple[str, ...], tuple[str, ...]]
) -> FixedCovariates:
    """The moments lavaan fixes each level's covariates at: the unrestricted model's moments of
    that level (variances below 0.001 raised to it); the level-1 mean of a variable of both
    levels is 0 and its level-2 mean the unrestricted model's μ_B."""
    iw = [data.within.index(v) for v in names[0]]
    ib = [data.between.index(v) for v in names[1]]
    mean_w = np.where([v in data.between for v in names[0]], 0.0, h1.mu_w[iw])
    return FixedCovariates(
        names[0],
        mean_w,
        _floor_variances(h1.sigma_w[np.ix_(iw, iw)]),
        names[1],
        np.asarray(h1.mu_b)[ib],
        _floor_variances(h1.sigma_b[np.ix_(ib, ib)]),
    )


def _floor_variances(cov: np.ndarray) -> np.ndarray:
    out = np.array(cov, dtype=float)
    out[np.diag_indices_from(out)] = np.maximum(np.diag(out), _EXO_VARIANCE_FLOOR)
    return out


# ---- the objective ------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class LevelMoments:
    """One level's unrestricted moments (the start values read ``h1_mean`` and ``h1_cov``)."""

    h1_mean: np.ndarray
    h1_cov: np.ndarray
    nobs: int
    weight: float = 1.0


@dataclass(frozen=True, eq=False)
class TwoLevelObjective(Objective):
    """F(φ) = 2(ℓ_h1 − ℓ(φ))/N of a two-level model, with gradient and information."""

    sample: TwoLevelSample

    @property
    def data(self) -> TwoLevelData:
        return self.sample.data

    def _implied(self, phi: np.ndarray) -> tuple[ImpliedMoments, ImpliedMoments]:
        within, between = self.model.implied(self.theta(phi), self.exo)
        return within, between

    def loglik(self, phi: np.ndarray) -> float:
        """lavaan's two-level logl at φ (−inf when a level's Σ is not positive definite)."""
        try:
            within, between = self._implied(phi)
        except np.linalg.LinAlgError:
            return -np.inf
        return twolevel_loglik(self.data, within.sigma, between.sigma, between.mu, within.mu)

    def _scale(self) -> float:
        return 2.0 / self.data.nobs

    def value(self, phi: np.ndarray) -> float:
        loglik = self.loglik(phi)
        if not np.isfinite(loglik):
            return np.inf
        return self._scale() * (self.sample.h1.loglik - loglik)

    def value_and_gradient(self, phi: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            within, between = self._implied(phi)
        except np.linalg.LinAlgError:
            return np.inf, np.zeros(len(phi))
        g = twolevel_gradient(self.data, within.sigma, between.sigma, between.mu, within.mu)
        if not np.isfinite(g.loglik):
            return np.inf, np.zeros(len(phi))
        c, n_theta = -self._scale(), self.model.n_theta
        grad = within.gradient(c * g.sigma_w, c * g.mu_w, n_theta)
        grad += between.gradient(c * g.sigma_b, c * g.mu_b, n_theta)
        value = self._scale() * (self.sample.h1.loglik - g.loglik)
        return value, self.model.space.jacobian(phi).T @ grad

    def _information(self, phi: np.ndarray, observed: bool) -> np.ndarray:
        within, between = self._implied(phi)
        n_theta = self.model.n_theta
        d_sigma_w, d_mu_w = within.dsigma_dtheta(n_theta)
        d_sigma_b, d_mu_b = between.dsigma_dtheta(n_theta)
        moments = (within.sigma, between.sigma, within.mu, between.mu)
        derivatives = (d_sigma_w, d_sigma_b, d_mu_w, d_mu_b)
        info = twolevel_information(self.data, moments, derivatives, observed=observed)
        if observed:
            info += 0.5 * self._second_order(within, between)
        jac = self.model.space.jacobian(phi)
        return jac.T @ info @ jac

    def _second_order(self, within: ImpliedMoments, between: ImpliedMoments) -> np.ndarray:
        """The part of ∇²F in θ with the moments' second derivatives: Σ tr(G Σ_ab) + gᵀμ_ab."""
        g = twolevel_gradient(self.data, within.sigma, between.sigma, between.mu, within.mu)
        c, n_theta = -self._scale(), self.model.n_theta
        out = np.zeros((n_theta, n_theta))
        for moments, grad_sigma, grad_mu in (
            (within, g.sigma_w, g.mu_w),
            (between, g.sigma_b, g.mu_b),
        ):
            entries = second_order_entries(moments, c * grad_sigma, c * grad_mu)
            out += collapse((entries + entries.T) / 2.0, moments.entry_vectors()[3], n_theta)
        return out

    def information(self, phi: np.ndarray) -> np.ndarray:
        """Expected information per observation in φ (E[∇²F]/2 = Fisher information / N)."""
        return self._information(phi, observed=False)

    def observed_information(self, phi: np.ndarray) -> np.ndarray:
        """Observed information per observation in φ (∇²F/2 = −∇²logL / N), analytic."""
        return self._information(phi, observed=True)


def build_twolevel_objective(
    model: CompiledModel, sample: TwoLevelSample, options=None
) -> TwoLevelObjective:
    """The objective of a compiled two-level model on prepared clustered data."""
    data, h1 = sample.data, sample.h1
    within_layout, between_layout = model.layouts
    if within_layout.observed != data.within or between_layout.observed != data.between:
        raise ValueError("the compiled model's levels do not match the prepared data")
    fixed = sample.fixed
    exo = (
        _exo_values(within_layout, fixed.within, fixed.mean_w, fixed.cov_w),
        _exo_values(between_layout, fixed.between, fixed.mean_b, fixed.cov_b),
    )
    (mean_w, cov_w), (mean_b, cov_b) = _start_moments(data, h1)
    discrepancies = (
        LevelMoments(mean_w, cov_w, data.nobs),
        LevelMoments(mean_b, cov_b, data.nclusters),
    )
    return TwoLevelObjective(model, discrepancies, exo, True, sample)


def _start_moments(
    data: TwoLevelData, h1: TwoLevelMoments
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """((μ_W, Σ_W), (μ_B, Σ_B)) for the start values: the unrestricted model's moments, with
    the whole mean of a variable of both levels at level 2."""
    mean_w = np.where([v in data.between for v in data.within], 0.0, h1.mu_w)
    mean_b = np.array(h1.mu_b, dtype=float)
    for j, v in enumerate(data.between):
        if v in data.within:
            mean_b[j] += h1.mu_w[data.within.index(v)]
    return (mean_w, np.asarray(h1.sigma_w)), (mean_b, np.asarray(h1.sigma_b))


def _exo_values(layout, names: tuple[str, ...], mean: np.ndarray, cov: np.ndarray) -> ExoValues:
    """The layout's exo entries from the fixed covariates' moments (matched by name)."""
    index = {name: k for k, name in enumerate(names)}
    variables = layout.variables
    s = [cov[index[variables[i]], index[variables[j]]] for i, j in layout.exo_S]
    m = [mean[index[variables[i]]] for i in layout.exo_m]
    return ExoValues(np.array(s, dtype=float), np.array(m, dtype=float))
