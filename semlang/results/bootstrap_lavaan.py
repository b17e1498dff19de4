"""Fit -> a statistic bootstrapped (lavaan's ``bootstrapLavaan``) and the Bollen-Stine test.

Input: a :class:`~semlang.results.fit.Fit`, a statistic (a function of a fit), the type of
bootstrap ("ordinary" or "bollen.stine"), R and a seed. Output: :class:`BootstrapDraws`, the
statistic at every draw (R x k, a row of NaN for a failed draw, as lavaan), and the Bollen-Stine
p-value of ``test="bollen.stine"``.

The ordinary bootstrap resamples each group's rows with replacement. The Bollen-Stine bootstrap
(Bollen & Stine 1992) first moves each group's data onto the null hypothesis: the rows y become
(y − ȳ) S^{-1/2} Σ̂^{1/2} + μ̂ (symmetric square roots; S the group's sample covariance matrix,
divisor N; Σ̂, μ̂ the fitted moments, μ̂ = ȳ without a mean structure), whose sample moments are
exactly the model-implied ones; then it resamples those rows. Draw ``i`` picks its rows with
``default_rng(SeedSequence(seed, spawn_key=(i, 1)))`` in either case (see
:mod:`semlang.runner`), and runs wherever the ``executor`` says (this process, local worker
processes, a dask cluster): the draws depend on the seed alone.

Each draw refits the compiled model from the estimates (a warm start). A draw that cannot be
fitted fails (its row is NaN; it is counted and reported); draws with a nonadmissible solution
are kept and counted, as lavaan keeps them. ``test="bollen.stine"``: the p-value is the share of
the successful draws whose χ² exceeds the fit's χ² (lavaan's ``boot.larger / boot.length``).
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from semlang.errors import OptionError, SemlangWarning
from semlang.estimate.data import GroupData
from semlang.runner import Failure, run_replications

TYPES = ("ordinary", "bollen.stine")


# ---- the Bollen-Stine transformation ---------------------------------------------------------


def symmetric_sqrt(matrix: np.ndarray, inverse: bool = False) -> np.ndarray:
    """The symmetric square root of a positive definite matrix (or of its inverse)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    roots = np.sqrt(np.clip(values, 0.0, None))
    if inverse:
        roots = 1.0 / roots
    return (vectors * roots) @ vectors.T


def bollen_stine_groups(fit) -> tuple[GroupData, ...]:
    """Each group's rows moved onto the fitted moments: (y − ȳ) S^{-1/2} Σ̂^{1/2} + μ̂."""
    if fit.sample.has_missing or fit.table.options.missing.is_fiml:
        raise OptionError(
            "the Bollen-Stine bootstrap needs complete data (missing='listwise')",
            hint="use missing='listwise', or the ordinary bootstrap",
        )
    out = []
    for group, moments in zip(fit.sample.groups, fit.implied, strict=True):
        sigma = moments.sigma
        mean = moments.mu if fit.table.meanstructure else group.mean
        rotation = symmetric_sqrt(group.cov, inverse=True) @ symmetric_sqrt(sigma)
        raw = (group.raw - group.mean) @ rotation + mean
        moved = raw - raw.mean(axis=0)
        cov = moved.T @ moved / raw.shape[0]
        out.append(GroupData(group.group, group.label, group.names, raw, group.rows,
                             raw.mean(axis=0), cov))  # fmt: skip
    return tuple(out)


# ---- the result -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BootstrapDraws:
    """A statistic at every bootstrap draw (lavaan's ``bootstrapLavaan``).

    ``draws``: R rows (replication order) and one column per number of the statistic (named
    ``names``); a failed draw's row is NaN. ``t0``: the statistic of the fit itself.
    ``admissible``: per draw, whether its solution is admissible (False for a failed draw).
    ``failures``: the failed draws with their messages. ``seed`` repeats the draws.
    ``np.asarray(result)`` is ``draws``.
    """

    type: str
    draws: np.ndarray
    t0: np.ndarray
    names: tuple[str, ...]
    admissible: np.ndarray
    failures: tuple[Failure, ...]
    seed: int | tuple[int, ...]
    elapsed: float

    @property
    def n_requested(self) -> int:
        return int(self.draws.shape[0])

    @property
    def completed(self) -> np.ndarray:
        """The rows of the successful draws."""
        return self.draws[self.succeeded]

    @property
    def succeeded(self) -> np.ndarray:
        """Per draw: whether it was fitted."""
        failed = np.zeros(self.n_requested, dtype=bool)
        failed[[f.index for f in self.failures if f.given_up]] = True
        return ~failed

    @property
    def n_completed(self) -> int:
        return int(self.succeeded.sum())

    @property
    def n_failed(self) -> int:
        return self.n_requested - self.n_completed

    @property
    def n_nonadmissible(self) -> int:
        """Successful draws with a nonadmissible solution (kept)."""
        return int(np.sum(self.succeeded & ~self.admissible))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self.draws if dtype is None else self.draws.astype(dtype)

    def to_frame(self) -> pd.DataFrame:
        """One row per draw: ``replication``, ``admissible`` and the statistic's columns."""
        frame = pd.DataFrame(self.draws, columns=list(self.names))
        frame.insert(0, "admissible", self.admissible)
        frame.insert(0, "replication", np.arange(self.n_requested))
        return frame

    def __repr__(self) -> str:
        return (
            f"<semlang BootstrapDraws ({self.type}): {self.n_completed} of {self.n_requested} "
            f"draws completed, {self.n_failed} failed, {self.n_nonadmissible} nonadmissible, "
            f"seed {self.seed}>"
        )


# ---- running it -----------------------------------------------------------------------------


def _check(fit, type: Any, R: Any) -> None:
    from semlang.results.fit import Fit

    if not isinstance(fit, Fit):
        raise OptionError(f"bootstrap() needs a fitted model, not {fit.__class__.__name__}")
    if type not in TYPES:
        raise OptionError(
            f"unknown bootstrap type {type!r}", hint="use 'ordinary' or 'bollen.stine'"
        )
    if isinstance(R, bool) or not isinstance(R, int) or R < 1:
        raise OptionError(f"R must be a positive integer, not {R!r}", hint="for example R=1000")


def _names(t0: Any, size: int) -> tuple[str, ...]:
    keys = t0.keys() if hasattr(t0, "keys") else getattr(t0, "index", None)
    if keys is not None and len(keys) == size:
        return tuple(str(key) for key in keys)
    return tuple(f"t{k + 1}" for k in range(size))


def bootstrap(
    fit,
    statistic: Callable[[Any], Any] | None = None,
    type: str = "ordinary",
    R: int = 1000,
    seed: int | None = None,
    executor: Any = None,
    progress: bool | None = None,
    *,
    n_jobs: int | None = None,
) -> BootstrapDraws:
    """Bootstrap ``statistic`` of ``fit`` (lavaan's ``bootstrapLavaan``).

    ``statistic(refit)`` gets the :class:`~semlang.results.fit.Fit` of each draw and returns a
    number, an array, a pandas Series or a dict of numbers (by default: the free parameter
    estimates, θ). ``type``: ``"ordinary"`` (resample the rows) or ``"bollen.stine"`` (resample
    the rows moved onto the model-implied moments; complete data only). ``seed``: the draws
    depend on it alone (``None``: fresh entropy, recorded in the result). ``executor``,
    ``n_jobs``, ``progress``: where the draws run, as for ``se="bootstrap"`` (by default local
    worker processes). Away from this process the statistic travels to the workers: it must be
    picklable — a function defined at module level of an importable module (or a
    ``functools.partial`` / ``operator.attrgetter`` of one), not a lambda or a nested function
    (those work with ``executor="serial"``).
    """
    from semlang.results.bootstrap import bootstrap_task, statistic_values, theta_names

    _check(fit, type, R)
    groups = bollen_stine_groups(fit) if type == "bollen.stine" else None
    task = bootstrap_task(fit, groups, statistic)
    if statistic is None:
        t0, names = np.array(fit.theta, dtype=float), theta_names(fit.table)
    else:
        value = statistic(fit)
        t0 = statistic_values(value)
        names = _names(value, t0.size)
    if seed is None:  # fresh entropy, kept in the result so that the draws can be repeated
        fresh = np.random.SeedSequence().entropy
        assert isinstance(fresh, int)  # (drawn from the system: one integer)
        seed = fresh
    out = run_replications(task, R, seed, executor=executor, n_jobs=n_jobs, progress=progress,
                           label=f"bootstrap ({type})")  # fmt: skip
    draws = np.full((R, t0.size), np.nan)
    admissible = np.zeros(R, dtype=bool)
    key = "theta" if statistic is None else "values"
    for record in out.results:
        values = np.asarray(record[key], dtype=float).reshape(-1)
        if values.size != t0.size:
            raise OptionError(
                f"the statistic gave {values.size} numbers at draw {record['index']} and "
                f"{t0.size} at the fit", hint="return the same number of values for every fit",
            )  # fmt: skip
        draws[record["index"]] = values
        admissible[record["index"]] = bool(record["admissible"])
    result = BootstrapDraws(type, draws, t0, names, admissible, out.failures, seed, out.elapsed)
    _warn(result)
    return result


def _warn(result: BootstrapDraws) -> None:
    if result.n_failed:
        messages = pd.Series([f.message for f in result.failures if f.given_up])
        shown = "; ".join(
            f"{n} x {m}" for m, n in messages.value_counts(sort=False).head(3).items()
        )
        warnings.warn(
            f"{result.n_failed} of {result.n_requested} bootstrap draws failed (their rows are "
            f"NaN): {shown}",
            SemlangWarning,
            stacklevel=3,
        )
    if result.n_nonadmissible:
        warnings.warn(
            f"{result.n_nonadmissible} of {result.n_completed} bootstrap draws gave nonadmissible "
            "solutions; they are kept, as lavaan keeps them",
            SemlangWarning,
            stacklevel=3,
        )


# ---- test="bollen.stine" --------------------------------------------------------------------

chisq_statistic = operator.attrgetter("statistics.chisq")  # picklable, for any executor


def bollen_stine(fit) -> BootstrapDraws:
    """The χ² of ``fit.options.bootstrap`` Bollen-Stine draws (``seed=`` of the fit)."""
    return bootstrap(fit, chisq_statistic, type="bollen.stine", R=fit.options.bootstrap,
                     seed=fit.options.seed, executor=fit.run.executor,
                     progress=fit.run.progress)  # fmt: skip


def bollen_stine_pvalue(chisq: float, draws: BootstrapDraws) -> float:
    """The share of successful draws whose χ² exceeds ``chisq`` (NaN without draws)."""
    completed = draws.completed[:, 0]
    if completed.size == 0:
        return float("nan")
    return float(np.mean(completed > chisq))
