"""Fit -> nonparametric bootstrap: the model re-estimated on data sets resampled from the data.

Input: a :class:`~semlang.results.fit.Fit` and its options ``bootstrap`` (R, the draws asked
for), ``seed``, ``executor`` and ``progress``. Output: a frozen :class:`BootstrapResult` with the
draws of θ, φ and the ``:=`` parameters, the failed draws with their messages, the covariance of
the φ draws (the bootstrap ``vcov_phi`` of ``se="bootstrap"``) and percentile confidence
intervals for every row of ``Fit.estimates()``.

As lavaan's ``se = "bootstrap"`` (the "ordinary" bootstrap): each draw resamples the rows of
every group with replacement, keeping each group's size; rows with missing values are resampled
like any other row (under ``missing="fiml"`` each draw is a FIML fit). Each draw re-estimates the
already compiled model from the estimates of the fit (a warm start), without standard errors.
A draw that cannot be fitted (a resampled variable is constant, a covariance matrix singular, the
optimizer fails or does not converge within ``min(max_iterations, 500)`` iterations) is a
failure: it is left out of the standard errors and intervals, counted, and reported with its
message in the result and in a :class:`~semlang.errors.SemlangWarning`. Draws with a
nonadmissible solution (a negative variance, a latent covariance matrix that is not positive
definite) are kept, as lavaan keeps them, and counted.

Draw ``i`` resamples with ``numpy.random.default_rng(SeedSequence(seed, spawn_key=(i, 1)))``
(see :mod:`semlang.runner`): the draws depend on the seed alone, not on where they run (this
process, local worker processes — the default — or a dask cluster) nor on how many workers share
them. The covariance of the draws uses the divisor R (lavaan's), and the percentile intervals
interpolate between order statistics on the normal scale (Davison & Hinkley 1997, eq. 5.8;
lavaan's ``boot.ci.type = "perc"``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from semlang.compile.model import CompiledModel
from semlang.errors import DataError, NotSupportedError, SemlangWarning
from semlang.estimate.data import GroupData, SampleData
from semlang.estimate.estimator import estimate
from semlang.matrices import nearly_singular
from semlang.options import FitOptions, StandardErrors, Test
from semlang.runner import Failure, run_replications
from semlang.syntax.ast import Op

LEVEL = 0.95
DRAW_MAX_ITERATIONS = 500  # from the warm start a draw needs a few dozen iterations at most


class DegenerateResample(Exception):
    """A resampled data set from which the model cannot be estimated."""


class NotConverged(Exception):
    """The optimizer did not converge on a resampled data set."""


DegenerateResample.__module__ = NotConverged.__module__ = "semlang.results.bootstrap"


# ---- one draw (runs in a worker) -----------------------------------------------------------


def resample_rows(sizes: tuple[int, ...], rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Row positions of one draw: for each group in turn, ``n_g`` of ``range(n_g)`` with
    replacement."""
    return tuple(rng.integers(0, n, size=n) for n in sizes)


def resampled_group(group: GroupData, picks: np.ndarray) -> GroupData:
    """``group`` with the rows ``picks`` (positions in ``group.raw``) and their moments.

    Raises :class:`DegenerateResample` for a variable that is constant (or never observed)
    in the resample, or a singular covariance matrix of complete data.
    """
    raw = group.raw[picks]
    observed = ~np.isnan(raw)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(observed, raw, np.inf).min(axis=0)
        high = np.where(observed, raw, -np.inf).max(axis=0)
    constant = ~(high > low)
    if constant.any():
        names = ", ".join(group.names[j] for j in np.flatnonzero(constant))
        raise DegenerateResample(f"constant or never observed in the resampled data: {names}")
    if observed.all():
        mean = raw.mean(axis=0)
        centered = raw - mean
        cov = centered.T @ centered / raw.shape[0]
        if nearly_singular(cov):
            raise DegenerateResample("the resampled covariance matrix is singular")
    else:
        mean, cov = _pairwise_moments(raw, observed)
    return GroupData(group.group, group.label, group.names, raw, group.rows[picks], mean, cov)


def _pairwise_moments(raw: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means of the observed values and pairwise-complete covariances (divisor n_jk)."""
    mask = observed.astype(float)
    values = np.where(observed, raw, 0.0)
    counts = mask.T @ mask  # n_jk: rows where j and k are both observed
    sums = values.T @ mask  # [j, k]: sum of x_j over rows where j and k are observed
    cross = values.T @ values
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN for pairs never observed together
        cov = cross / counts - (sums / counts) * (sums.T / counts)
    return sums.diagonal() / counts.diagonal(), cov


@dataclass(frozen=True, eq=False)
class BootstrapTask:
    """One bootstrap draw as a picklable callable ``task(index, rng) -> dict`` for
    :func:`~semlang.runner.run_replications`: the compiled model, the groups' rows (numpy; the
    Bollen-Stine bootstrap's transformed rows), the options, the warm start and the statistic.

    Without a statistic a draw reports φ and θ; with one, ``statistic(refit)`` of the refitted
    :class:`~semlang.results.fit.Fit` as a flat vector of numbers (``values``)."""

    model: CompiledModel
    groups: tuple[GroupData, ...]
    options: FitOptions
    phi0: np.ndarray
    variances: np.ndarray  # θ indices of free variances (admissibility check)
    statistic: Callable[[Any], Any] | None = None

    def __call__(self, index: int, rng: np.random.Generator) -> dict[str, Any]:
        picks = resample_rows(tuple(g.nobs for g in self.groups), rng)
        groups = tuple(resampled_group(g, p) for g, p in zip(self.groups, picks, strict=True))
        sample = SampleData(groups, 0)
        estimation = estimate(self.model, sample, self.options, phi0=self.phi0)
        result = estimation.optimization
        if not result.converged or result.iterations >= self.options.max_iterations:
            raise NotConverged(
                f"the optimizer did not converge within {self.options.max_iterations} "
                f"iterations ({result.message})"
            )
        admissible = self.admissible(estimation.theta, estimation.objective.exo)
        if self.statistic is None:
            return {"phi": estimation.phi, "theta": estimation.theta, "admissible": admissible}
        from semlang.results.fit import Fit, RunSettings

        refit = Fit(self.model, sample, self.options, estimation, RunSettings("serial", False))
        return {"values": statistic_values(self.statistic(refit)), "admissible": admissible}

    def admissible(self, theta: np.ndarray, exo) -> bool:
        """No negative variance, every latent covariance matrix positive definite."""
        if np.any(theta[self.variances] < 0):
            return False
        for layout, moments in zip(self.model.layouts, self.model.implied(theta, exo), strict=True):
            latent = np.arange(layout.n_observed, layout.n)
            psi = moments.total_cov[np.ix_(latent, latent)]
            if latent.size and np.linalg.eigvalsh(psi)[0] <= 0:
                return False
        return True


def statistic_values(value: Any) -> np.ndarray:
    """A statistic's value as a flat float vector (a number, an array, a Series or a dict)."""
    if isinstance(value, Mapping):
        value = list(value.values())
    return np.asarray(value, dtype=float).reshape(-1)


def bootstrap_task(
    fit,
    groups: tuple[GroupData, ...] | None = None,
    statistic: Callable[[Any], Any] | None = None,
) -> BootstrapTask:
    """The task of ``fit``'s draws (from ``groups``, by default the fit's own rows).

    The fit options travel without executor or progress display (those are run-time settings
    and never travel in a task), with at most :data:`DRAW_MAX_ITERATIONS` iterations per draw (a
    draw that needs more is headed for a boundary or a flat ridge; as in lavaan, reaching the
    limit is non-convergence) and, as lavaan's refits, with standard errors in place of
    ``se="bootstrap"`` and without the Bollen-Stine test (a refit never bootstraps again)."""
    check_rows(fit)
    variances = sorted(
        {
            row.free - 1
            for row in fit.table.rows
            if row.op is Op.COVARIANCE and row.lhs == row.rhs and row.is_free
        }
    )
    se = fit.options.se
    options = replace(
        fit.options,
        max_iterations=min(fit.options.max_iterations, DRAW_MAX_ITERATIONS),
        se=StandardErrors.STANDARD if se is StandardErrors.BOOTSTRAP else se,
        test=tuple(t for t in fit.options.test if t is not Test.BOLLEN_STINE),
    )
    return BootstrapTask(
        fit.model,
        fit.sample.groups if groups is None else groups,
        options,
        np.array(fit.estimation.phi, dtype=float),
        np.array(variances, dtype=np.intp),
        statistic,
    )


def check_rows(fit) -> None:
    """A bootstrap resamples rows: refuse two-level models and data given as moments."""
    table = fit.table
    if table.nlevels > 1:
        raise NotSupportedError(
            "the bootstrap is not available for two-level models",
            table.source,
            None,
            hint="use the default standard errors (se='standard')",
        )
    if not all(isinstance(group, GroupData) for group in fit.sample.groups):
        raise DataError(
            "the bootstrap resamples the rows of the data, and this fit was given only moments",
            hint="fit the model to the data rows",
        )


# ---- percentile intervals ------------------------------------------------------------------


def percentile_interval(draws: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The percentile interval of ``draws`` (non-finite draws ignored).

    With R draws sorted, the bound at probability α is the order statistic of rank (R+1)α when
    that rank is whole, the extreme draw when it is below 1 or at least R, and otherwise the
    interpolation between ranks k = ⌊(R+1)α⌋ and k+1 on the normal quantile scale.
    """
    t = np.sort(draws[np.isfinite(draws)])
    r = t.size
    if r == 0:
        return float("nan"), float("nan")
    alpha = np.array([(1 - level) / 2, (1 + level) / 2])
    rank = (r + 1) * alpha
    rank = np.where(np.abs(rank - np.round(rank)) < 1e-9, np.round(rank), rank)  # 0.05/2 != 0.025
    k = np.floor(rank).astype(int)
    inner = (k > 0) & (k < r)
    lo, hi = np.clip(k, 1, r) - 1, np.clip(k + 1, 1, r) - 1  # 0-based ranks k and k+1
    with np.errstate(invalid="ignore", divide="ignore"):
        z_k, z_k1 = ndtri(k / (r + 1)), ndtri((k + 1) / (r + 1))
        share = (ndtri(alpha) - z_k) / (z_k1 - z_k)
    interpolated = t[lo] + np.where(inner & (rank != k), share, 0.0) * (t[hi] - t[lo])
    out = np.where(k <= 0, t[0], np.where(k >= r, t[-1], interpolated))
    return float(out[0]), float(out[1])


def extreme_ranks(r: int, level: float = LEVEL) -> bool:
    """Whether R draws are too few for the interval: its bounds are the extreme draws."""
    rank = (r + 1) * np.array([(1 - level) / 2, (1 + level) / 2])
    return bool(np.any((rank <= 1) | (rank >= r)))


def _intervals(draws: np.ndarray) -> np.ndarray:
    """(n_columns, 2) percentile intervals of the columns of ``draws``."""
    return np.array([percentile_interval(draws[:, j]) for j in range(draws.shape[1])]).reshape(
        -1, 2
    )


def _draw_se(draws: np.ndarray) -> np.ndarray:
    """Standard deviations of the columns (divisor R, lavaan's), finite draws only."""
    out = np.full(draws.shape[1], np.nan)
    for j in range(draws.shape[1]):
        column = draws[np.isfinite(draws[:, j]), j]
        if column.size >= 2:
            out[j] = np.sqrt(np.mean((column - column.mean()) ** 2))
    return out


# ---- the result ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """The completed draws of a bootstrap, its failures and what is derived from them.

    ``theta``, ``phi``, ``defined``: one row per completed draw (in replication order; the
    replication of each in ``replications``), columns θ (named ``theta_names``: a parameter's
    label, else lavaan's name, with ``.g2``... in later groups), φ (the optimizer's vector) and
    the ``:=`` parameters (``defined_names``). ``admissible`` flags the draws without negative
    variances or non-positive-definite latent covariances (the others are kept, as lavaan does).
    ``failures`` holds every failed draw with its message. ``seed`` reproduces the draws
    (``seed=`` of the fit). ``ci_lower``, ``ci_upper``, ``se``: per row of the parameter table
    (the rows of ``Fit.estimates()``), the percentile interval and the standard deviation of the
    draws (divisor R) — NaN for rows without draws (fixed parameters, constraint rows).
    """

    n_requested: int
    seed: int | tuple[int, ...]
    replications: np.ndarray
    theta: np.ndarray
    phi: np.ndarray
    defined: np.ndarray
    admissible: np.ndarray
    failures: tuple[Failure, ...]
    theta_names: tuple[str, ...]
    defined_names: tuple[str, ...]
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    se: np.ndarray
    elapsed: float

    @property
    def n_completed(self) -> int:
        """Draws with estimates (used in standard errors and intervals)."""
        return int(self.theta.shape[0])

    @property
    def n_failed(self) -> int:
        """Draws that failed (left out)."""
        return len(self.failures)

    @property
    def n_nonadmissible(self) -> int:
        """Completed draws with a nonadmissible solution (kept)."""
        return int(np.sum(~self.admissible))

    @cached_property
    def vcov_phi(self) -> np.ndarray:
        """Covariance matrix of the φ draws (divisor R, lavaan's); NaN with fewer than 2."""
        n_phi = self.phi.shape[1]
        if self.n_completed < 2:
            return np.full((n_phi, n_phi), np.nan)
        centered = self.phi - self.phi.mean(axis=0)
        return centered.T @ centered / self.n_completed

    def to_frame(self) -> pd.DataFrame:
        """One row per completed draw: ``replication``, ``admissible``, θ and ``:=`` values."""
        frame = pd.DataFrame(
            np.hstack([self.theta, self.defined]),
            columns=[*self.theta_names, *self.defined_names],
        )
        frame.insert(0, "admissible", self.admissible)
        frame.insert(0, "replication", self.replications)
        return frame

    def failures_frame(self) -> pd.DataFrame:
        """One row per failed draw: ``replication``, ``error`` (the exception) and ``message``."""
        rows = [(f.index, f.error.rsplit(".", 1)[-1], f.message) for f in self.failures]
        return pd.DataFrame(rows, columns=["replication", "error", "message"])

    def __repr__(self) -> str:
        return (
            f"<semlang BootstrapResult: {self.n_completed} of {self.n_requested} draws completed, "
            f"{self.n_failed} failed, {self.n_nonadmissible} nonadmissible, seed {self.seed}>"
        )


def theta_names(table) -> tuple[str, ...]:
    """A name per θ: its label, else lavaan's ``lhs op rhs`` (``.g2``... after group 1)."""
    names: dict[int, str] = {}
    for row in table.rows:
        if row.is_model_parameter and row.is_free and row.free not in names:
            suffix = f".g{row.group}" if row.group > 1 else ""
            names[row.free] = row.label or f"{row.name}{suffix}"
    return tuple(names[k] for k in range(1, len(names) + 1))


# ---- running it ----------------------------------------------------------------------------


def run_bootstrap(
    fit,
    *,
    executor: Any = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
    chunk_size: int | None = None,
) -> BootstrapResult:
    """Draw ``fit.options.bootstrap`` bootstrap samples of ``fit``'s data and re-estimate.

    ``executor`` and ``progress`` as the fit was given them; ``executor``: ``None`` or
    ``"processes"`` (this process and local workers, ``n_jobs`` at most, by default one per CPU),
    ``"serial"``, a ``dask.distributed.Client`` or a scheduler address (see
    :func:`semlang.runner.run_replications`). Failed draws are reported in a SemlangWarning.
    """
    options = fit.options
    seed = options.seed if options.seed is not None else np.random.SeedSequence().entropy
    out = run_replications(
        bootstrap_task(fit),
        options.bootstrap,
        seed,
        executor=executor if executor is not None else fit.run.executor,
        n_jobs=n_jobs,
        progress=progress if progress is not None else fit.run.progress,
        chunk_size=chunk_size,
        label="bootstrap",
    )
    result = _assemble(fit, out, seed)
    _warn(result)
    return result


def _assemble(fit, out, seed) -> BootstrapResult:
    space, table = fit.model.space, fit.table
    results = out.results
    draws = len(results)  # (a model without free parameters has rows of length 0)
    phi = np.array([r["phi"] for r in results], dtype=float).reshape(draws, space.n_phi)
    theta = np.array([r["theta"] for r in results], dtype=float).reshape(draws, space.n_theta)
    n_defined = len(space.definitions)
    defined = np.zeros((theta.shape[0], n_defined))
    for k, draw in enumerate(theta if n_defined else ()):
        defined[k] = space.definitions.value(draw)
    se, ci = _row_summaries(table, theta, defined)
    return BootstrapResult(
        n_requested=out.n,
        seed=seed,
        replications=np.array([r["index"] for r in results], dtype=int),
        theta=theta,
        phi=phi,
        defined=defined,
        admissible=np.array([bool(r["admissible"]) for r in results], dtype=bool),
        failures=out.failures,
        theta_names=theta_names(table),
        defined_names=tuple(space.definition_names),
        ci_lower=ci[:, 0],
        ci_upper=ci[:, 1],
        se=se,
        elapsed=out.elapsed,
    )


def _row_summaries(table, theta: np.ndarray, defined: np.ndarray):
    """(se, intervals) per table row: free rows from their θ's draws, ``:=`` rows from theirs
    (in row order), NaN for every other row."""
    n = len(table.rows)
    se, ci = np.full(n, np.nan), np.full((n, 2), np.nan)
    theta_se, theta_ci = _draw_se(theta), _intervals(theta)
    defined_se, defined_ci = _draw_se(defined), _intervals(defined)
    definition = 0
    for k, row in enumerate(table.rows):
        if row.is_model_parameter and row.is_free:
            se[k], ci[k] = theta_se[row.free - 1], theta_ci[row.free - 1]
        elif row.op is Op.DEFINED:
            se[k], ci[k] = defined_se[definition], defined_ci[definition]
            definition += 1
    return se, ci


def _warn(result: BootstrapResult) -> None:
    """Failed and nonadmissible draws, and too few draws, are said out loud."""
    if result.n_failed:
        kinds = result.failures_frame().groupby("message", sort=False).size()
        shown = "; ".join(f"{count} x {message}" for message, count in kinds.head(3).items())
        more = f"; {len(kinds) - 3} more kinds" if len(kinds) > 3 else ""
        warnings.warn(
            f"{result.n_failed} of {result.n_requested} bootstrap draws failed and were left "
            f"out of the standard errors and intervals ({shown}{more}); "
            f"{result.n_completed} draws were used",
            SemlangWarning,
            stacklevel=4,
        )
    if result.n_nonadmissible:
        warnings.warn(
            f"{result.n_nonadmissible} of {result.n_completed} bootstrap draws gave nonadmissible "
            "solutions (negative variances or a latent covariance matrix that is not positive "
            "definite); they are kept, as lavaan keeps them",
            SemlangWarning,
            stacklevel=4,
        )
    if result.n_completed < 2 or extreme_ranks(result.n_completed):
        warnings.warn(
            f"only {result.n_completed} bootstrap draws: too few for percentile intervals "
            "(their bounds are the extreme draws) or standard errors",
            SemlangWarning,
            stacklevel=4,
        )


# ---- the estimates table -------------------------------------------------------------------


def bootstrap_columns(fit, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The estimates-table columns under ``se="bootstrap"``: ``:=`` rows' se (and z, p-value)
    from their draws, percentile intervals for free and ``:=`` rows (lavaan's
    ``parameterEstimates(boot.ci.type = "perc")``). Other rows are left as they are."""
    from semlang.results.inference import wald_columns
    from semlang.results.table import TINY_SE

    result: BootstrapResult = fit.bootstrap
    out = {name: np.array(values, copy=True) for name, values in columns.items()}
    defined = np.array([row.op is Op.DEFINED for row in fit.table.rows])
    if defined.any():
        se = np.where(result.se[defined] < TINY_SE, 0.0, result.se[defined])
        wald = wald_columns(out["est"][defined], se)
        out["se"][defined] = se
        out["z"][defined], out["pvalue"][defined] = wald["z"], wald["pvalue"]
    drawn = defined | np.array([row.is_model_parameter and row.is_free for row in fit.table.rows])
    out["ci_lower"][drawn] = result.ci_lower[drawn]
    out["ci_upper"][drawn] = result.ci_upper[drawn]
    return out
