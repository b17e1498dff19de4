"""simulate(fit, n) for a fitted two-level model: clustered draws from its implied moments.

Input: a two-level :class:`~semlang.results.fit.Fit`, the rows wanted and a numpy Generator.
Output: a DataFrame with the level-1 variables (in the within level's order), then the
between-only variables, and a column named as the fit's cluster variable (clusters numbered
from 1).

Each cluster j draws its between part b_j ~ N(μ_B, Σ_B) over the level-2 variables and each of
its rows i a within part w_ij ~ N(μ_W, Σ_W) over the level-1 variables (the implied moments of
each level at the estimates); a variable of both levels is w_ij + b_j, a within-only variable
w_ij, a between-only variable b_j (constant within the cluster). The clusters: by default those
of the fitted data (their sizes); ``n`` rows are spread evenly over as many clusters as give the
fitted data's mean cluster size; a list gives the size of each cluster.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from semlang.errors import NotSupportedError, OptionError

__all__ = ["simulate_twolevel"]


def _cluster_sizes(fit: Any, n: Any) -> np.ndarray:
    fitted = np.asarray(fit.sample.data.cluster_size, dtype=int)
    if n is None:
        return fitted
    if isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 1:
        clusters = max(1, round(int(n) / fitted.mean()))
        return np.array([len(part) for part in np.array_split(np.arange(int(n)), clusters)])
    values = list(n) if isinstance(n, list | tuple | np.ndarray) else []
    if not values or any(isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1
                         for v in values):  # fmt: skip
        raise OptionError(
            f"n must be a positive whole number (rows) or a list of cluster sizes, not {n!r}",
            hint="for example n=1000, or n=[5, 5, 6] for three clusters",
        )
    return np.asarray(values, dtype=int)


def _root(cov: np.ndarray, level: str) -> np.ndarray:
    values, vectors = np.linalg.eigh((cov + cov.T) / 2)
    if values.size and values[0] < -1e-8 * max(float(np.abs(values).max()), 1.0):
        raise NotSupportedError(
            f"the {level} covariance matrix implied by the fit is not positive semi-definite",
            hint="check the fit's estimates (a negative variance?)",
        )
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def simulate_twolevel(fit: Any, n: Any, rng: np.random.Generator, empirical: bool):
    """Rows drawn from the two-level ``fit`` (see the module docstring)."""
    if empirical:
        raise NotSupportedError(
            "empirical=True is not available for a two-level model",
            hint="drop empirical=True",
        )
    if fit.table.ngroups > 1:
        raise NotSupportedError("simulate() from a two-level model with several groups",
                                hint="fit and simulate each group separately")  # fmt: skip
    within, between = fit.implied
    w_names, b_names = list(within.layout.observed), list(between.layout.observed)
    sizes = _cluster_sizes(fit, n)
    cluster = np.repeat(np.arange(sizes.size), sizes)
    b = between.mu + rng.standard_normal((sizes.size, len(b_names))) @ _root(
        between.sigma, "between"
    )
    w = within.mu + rng.standard_normal((cluster.size, len(w_names))) @ _root(
        within.sigma, "within"
    )
    columns = {}
    for k, name in enumerate(w_names):
        values = w[:, k]
        if name in b_names:
            values = values + b[cluster, b_names.index(name)]
        columns[name] = values
    for k, name in enumerate(b_names):
        if name not in columns:
            columns[name] = b[cluster, k]
    frame = pd.DataFrame(columns)
    frame[str(fit.table.options.cluster)] = cluster + 1
    return frame
