"""Simulate data from a model whose text holds the population values (lavaan's ``simulateData``).

Input: model text in which fixed values (``y ~ 0.3*x``, ``f =~ 0.7*x2``, ``x ~~ 2*x``) and
``start()`` values are the population values, the number of rows (one number per group) and a
seed. Output: a DataFrame with one column per observed variable, in the model's order (and a
``group`` column numbered from 1 when there are several groups).

The model is read with lavaan's ``simulateData`` defaults: ``std_lv=True`` without a marker
(``auto_fix_first=False``, ``auto_fix_single=False``), ``fixed_x=False`` (observed covariates are
random, drawn with the rest), ``orthogonal=False``, automatic (residual) variances and
covariances as in ``sem()``. Every parameter the text leaves without a value gets the value
``simulateData`` gives it: 1 for factor loadings and for (residual) variances, 0 for everything
else — covariances, intercepts and regression coefficients (an unspecified regression
coefficient is set to zero with a warning). The model-implied covariance matrix and means at
these values are then sampled as a multivariate normal: each row is ``mu + L z`` with ``z``
standard normal and ``L`` the symmetric square root of the implied covariance matrix, so the
draws do not depend on the order of eigenvectors. With ``empirical=True`` the sample means and
covariance matrix (divisor N, as maximum likelihood uses) equal the population values exactly.

``simulate(fit, n)`` draws instead from a fitted model (a :class:`~semlang.results.fit.Fit`): its
implied covariance matrix and means at the estimates, per group (the means are the sample means
when the model has no mean structure, as its saturated mean part); with several groups the
frame has a column named as the fit's group variable holding the group labels. ``n`` defaults
to the fit's rows per group; one number gives every group that many rows. A two-level fit gives
clustered rows (:mod:`semlang.simulation_twolevel`; ``empirical=True``: its two-level statistics
equal the implied moments).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from semlang.api import parameter_table
from semlang.blas import limited
from semlang.compile.model import compile_model
from semlang.errors import (
    ModelSpecificationError,
    NotSupportedError,
    OptionError,
    SemlangWarning,
)
from semlang.estimate.fiml_memory import platform_available_memory
from semlang.partable import ParameterTable
from semlang.syntax.ast import Op

__all__ = ["population_moments", "simulate"]

# simulateData's reading of the model text (its defaults, in semlang's option names)
SIMULATE_DEFAULTS = {
    "std_lv": True,
    "auto_fix_first": False,
    "auto_fix_single": False,
    "fixed_x": False,
    "orthogonal": False,
}


def _sizes(n: int | Sequence[int]) -> list[int]:
    if isinstance(n, int | np.integer):
        values = [n]
    elif isinstance(n, Sequence) and not isinstance(n, str):
        values = list(n)
    else:
        values = []
    if not values or any(
        isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1 for v in values
    ):
        raise OptionError(
            f"n must be a positive whole number, or one per group, not {n!r}",
            hint="for example n=500, or n=[200, 300] for two groups",
        )
    return [int(v) for v in values]


def _population_value(row: Any, unspecified_regressions: list[str]) -> float:
    """The value simulateData gives a free parameter: start(), else 1 or 0 by its kind."""
    if not math.isnan(row.start):
        return float(row.start)
    if row.op is Op.MEASURED:
        return 1.0
    if row.op is Op.COVARIANCE and row.lhs == row.rhs:
        return 1.0
    if row.op is Op.REGRESSION:
        unspecified_regressions.append(row.name)
    return 0.0


def _population_theta(table: ParameterTable) -> np.ndarray:
    """θ at the population values; warns about regressions that had no value."""
    theta = np.full(table.n_free, np.nan)
    unspecified: list[str] = []
    for row in table.parameters:
        if row.is_free and math.isnan(theta[row.free - 1]):
            theta[row.free - 1] = _population_value(row, unspecified)
    if unspecified:
        warnings.warn(
            "regression coefficients without a value are set to zero: " + ", ".join(unspecified),
            SemlangWarning,
            stacklevel=4,
        )
    return theta


def _table(model: str, ngroups: int, options: dict[str, Any]) -> ParameterTable:
    given = {name.replace(".", "_") for name in options}
    if "fixed_x" in given and options.get("fixed_x", options.get("fixed.x")):
        raise OptionError(
            "simulate draws observed covariates with the other variables: fixed_x must be False"
        )
    settings = {**SIMULATE_DEFAULTS, **options}
    table = parameter_table(model, "sem", ngroups=ngroups, name="<simulate>", **settings)
    if table.nlevels > 1:
        raise NotSupportedError(
            "simulate does not generate two-level data yet",
            table.source,
            hint="simulate each level's model and add the between part to the members' rows",
        )
    return table


def population_moments(
    model: str, ngroups: int = 1, **options: Any
) -> tuple[tuple[str, ...], list[tuple[np.ndarray, np.ndarray]]]:
    """The observed variables and, per group, the implied (mean, covariance) at the population
    values of ``model`` (read as :func:`simulate` reads it)."""
    table = _table(model, ngroups, options)
    compiled = compile_model(table)
    theta = _population_theta(table)
    moments = []
    for layout, implied in zip(compiled.layouts, compiled.implied(theta), strict=True):
        mean = implied.mu if table.meanstructure else np.zeros(layout.n_observed)
        moments.append((np.asarray(mean, dtype=float), np.asarray(implied.sigma, dtype=float)))
    names = compiled.layouts[0].observed
    if any(layout.observed != names for layout in compiled.layouts):
        raise ModelSpecificationError("the groups have different observed variables", table.source)
    return names, moments


def _square_root(cov: np.ndarray, group: int) -> np.ndarray:
    """The symmetric square root of the implied covariance matrix (PD checked)."""
    values, vectors = np.linalg.eigh((cov + cov.T) / 2)
    scale = max(float(np.abs(values).max()), 1.0)
    if values[0] < -1e-10 * scale:
        raise ModelSpecificationError(
            f"the model-implied covariance matrix of group {group} is not positive definite "
            f"(smallest eigenvalue {values[0]:.4g})",
            hint="change the population values: a residual variance may be too small, or a "
            "covariance larger than the variances allow",
        )
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def _standardized_draws(rng: np.random.Generator, n: int, p: int, empirical: bool) -> np.ndarray:
    """(n, p) standard normal draws; with ``empirical`` exactly mean 0 and covariance I."""
    z = rng.standard_normal((n, p))
    if not empirical:
        return z
    if n <= p:
        raise OptionError(f"empirical=True needs more rows than variables ({n} <= {p})")
    z = z - z.mean(axis=0)
    chol = np.linalg.cholesky(z.T @ z / n)
    return np.linalg.solve(chol, z.T).T


@limited()
def simulate(
    model: Any,
    n: int | Sequence[int] | None = None,
    seed: int | None = None,
    *,
    rng: np.random.Generator | None = None,
    empirical: bool = False,
    **options: Any,
) -> pd.DataFrame:
    """Draw ``n`` rows (a list: rows per group; default 500) of multivariate normal data from
    ``model``: model text, or a fitted model (then ``n`` defaults to its rows per group and the
    draws follow its implied moments at the estimates).

    Fixed values in the model text are the population values; the rest follow lavaan's
    ``simulateData`` (see the module docstring). ``seed`` (or a numpy Generator ``rng``) makes
    the draws reproducible. ``empirical=True`` makes the sample moments (divisor N) equal the
    population moments. Other keyword arguments are model options (``orthogonal``,
    ``auto_cov_lv_x``, ``meanstructure``, ...), as in ``semlang.sem``.

    >>> data = simulate("f =~ x1 + 0.8*x2 + 0.6*x3\\ny ~ 0.5*f", n=1000, seed=1)
    >>> list(data.columns)
    ['x1', 'x2', 'x3', 'y']
    """
    if not isinstance(model, str) and hasattr(model, "implied"):
        return _simulate_fit(model, n, _generator(seed, rng), empirical)
    if not isinstance(model, str):
        raise OptionError(
            f"simulate() draws from model text or a fitted model, not {type(model).__name__}",
            hint="pass a model string with population values, or the result of semlang.sem()",
        )
    sizes = _sizes(500 if n is None else n)
    names, moments = population_moments(model, len(sizes), **options)
    return _draw(names, moments, sizes, _generator(seed, rng), empirical, "group", None)


def _generator(seed: Any, rng: Any) -> np.random.Generator:
    if seed is not None and rng is not None:
        raise OptionError("give a seed or a Generator (rng), not both")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise OptionError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        return rng
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)
                             or seed < 0):  # fmt: skip
        raise OptionError(
            f"seed must be a non-negative whole number, not {seed!r}", hint="for example seed=1"
        )
    return np.random.default_rng(seed)


# Bytes per drawn value while drawing: the standard normal draws, the transformed values and the
# DataFrame's copy of them.
_BYTES_PER_VALUE = 3 * 8


def _available_memory() -> int | None:
    """Bytes of memory available to a new allocation, where the platform says (else None)."""
    return platform_available_memory()


def _gigabytes(size: float) -> str:
    return f"{size / 1e9:,.1f} GB" if size >= 1e8 else f"{size / 1e6:,.1f} MB"


def _too_large(rows: int, p: int, available: int | None) -> OptionError:
    need = rows * p * _BYTES_PER_VALUE
    having = f", more than the {_gigabytes(available)} available" if available is not None else ""
    return OptionError(
        f"simulating {rows:,} rows of {p} variables needs about {_gigabytes(need)} of "
        f"memory{having}",
        hint="draw fewer rows, or draw them in several calls with different seeds",
    )


def _check_memory(rows: int, p: int) -> None:
    """Refuse a draw that cannot fit in memory, saying how much it needs."""
    available = _available_memory()
    if available is not None and rows * p * _BYTES_PER_VALUE > available:
        raise _too_large(rows, p, available)


def _draw(names, moments, sizes, rng, empirical, group_column, labels) -> pd.DataFrame:
    """Rows per group drawn from the (mean, covariance) pairs ``moments``; a group column (the
    group numbers, or ``labels``) when there are several groups."""
    _check_memory(sum(sizes), len(names))
    try:
        return _draw_groups(names, moments, sizes, rng, empirical, group_column, labels)
    except MemoryError:
        raise _too_large(sum(sizes), len(names), _available_memory()) from None


def _draw_groups(names, moments, sizes, rng, empirical, group_column, labels) -> pd.DataFrame:
    frames = []
    for group, (size, (mean, cov)) in enumerate(zip(sizes, moments, strict=True), start=1):
        root = _square_root(cov, group)
        values = mean + _standardized_draws(rng, size, len(names), empirical) @ root
        frame = pd.DataFrame(values, columns=list(names))
        if len(sizes) > 1:
            frame[group_column] = group if labels is None else labels[group - 1]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def fit_moments(fit: Any) -> tuple[tuple[str, ...], list[tuple[np.ndarray, np.ndarray]]]:
    """The observed variables and, per group, the fitted model's implied (mean, covariance);
    the sample means where the model has no mean structure."""
    table = fit.table
    if table.nlevels > 1:
        raise NotSupportedError(
            "simulate() from a fitted two-level model",
            hint="write the population values in the model text and call simulate(model, n)",
        )
    names = fit.model.layouts[0].observed
    moments = []
    for implied, group in zip(fit.implied, fit.sample.groups, strict=True):
        if implied.layout.observed != names:
            raise ModelSpecificationError("the groups have different observed variables")
        mean = implied.mu if table.meanstructure else getattr(group, "mean", None)
        if mean is None:
            mean = np.zeros(len(names))
        cov = np.asarray(implied.sigma, dtype=float)
        moments.append((np.asarray(mean, dtype=float).ravel(), (cov + cov.T) / 2))
    return names, moments


def _simulate_fit(fit: Any, n: Any, rng: np.random.Generator, empirical: bool) -> pd.DataFrame:
    if fit.table.nlevels > 1:
        from semlang.simulation_twolevel import simulate_twolevel

        return simulate_twolevel(fit, n, rng, empirical)
    ngroups = len(fit.implied)
    if n is None:
        sizes = list(fit.sample.group_nobs)
    else:
        sizes = _sizes(n)
        if len(sizes) == 1:
            sizes = sizes * ngroups
        elif len(sizes) != ngroups:
            raise OptionError(
                f"n gives {len(sizes)} group sizes but the fit has {ngroups} groups",
                hint="give one number (rows in each group) or one per group",
            )
    names, moments = fit_moments(fit)
    table = fit.table
    column = table.options.group or "group"
    return _draw(names, moments, sizes, rng, empirical, column, list(table.group_labels))
