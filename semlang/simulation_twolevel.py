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

``empirical=True`` makes the draw's two-level sample statistics equal the implied moments, so
that the unrestricted two-level ML moments of the drawn data (lavaan's ``sampstat``: within and
between) are the fit's implied ones and a refit of the model reproduces its estimates. The
two-level likelihood depends on the data through the pooled within-cluster covariance S_PW
(divisor N − J) and, per cluster size n, the mean and covariance (divisor: the clusters of that
size) of v_j = [z_j, ȳ_j] (the between-only values and the cluster means of the level-1
variables), whose model covariance is V_n = E + W/n (E: Σ_B on the level-2 entries, W: Σ_W on
the cluster means). The draw makes S_PW = Σ_W exactly (within deviations centered in each cluster,
then linearly rescaled) and, for every cluster size, the v_j's mean exactly μ and covariance
exactly V_n; every term of the likelihood is then at its own minimum. This needs, for every
cluster size, more clusters than entries of v_j, and more rows than clusters plus level-1
variables.
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
    if fit.table.ngroups > 1:
        raise NotSupportedError("simulate() from a two-level model with several groups",
                                hint="fit and simulate each group separately")  # fmt: skip
    within, between = fit.implied
    w_names, b_names = list(within.layout.observed), list(between.layout.observed)
    sizes = _cluster_sizes(fit, n)
    cluster = np.repeat(np.arange(sizes.size), sizes)
    if empirical:
        names_w, names_b, w_e, b_e = _empirical_draw(within, between, sizes, cluster, rng)
        return _frame(fit, names_w, names_b, w_e, b_e, cluster)
    b = between.mu + rng.standard_normal((sizes.size, len(b_names))) @ _root(
        between.sigma, "between"
    )
    w = within.mu + rng.standard_normal((cluster.size, len(w_names))) @ _root(
        within.sigma, "within"
    )
    return _frame(fit, w_names, b_names, w, b, cluster)


def _frame(fit, w_names, b_names, w, b, cluster) -> pd.DataFrame:
    """Level-1 columns w_ij (+ b_j for a variable of both levels), then between-only b_j."""
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


def _whiten(draws: np.ndarray, divisor: int, what: str) -> np.ndarray:
    """``draws`` (already centered) linearly rescaled to cross-product / divisor = I exactly."""
    cross = draws.T @ draws / divisor
    try:
        chol = np.linalg.cholesky(cross)
    except np.linalg.LinAlgError as error:
        raise OptionError(f"empirical=True: the draws of {what} are singular",
                          hint="draw more rows or clusters") from error  # fmt: skip
    return np.linalg.solve(chol, draws.T).T


def _empirical_draw(within, between, sizes, cluster, rng):
    """(level-1 names, level-2 names, w, b) of an ``empirical=True`` draw: the within parts
    w_ij (their cluster means included) and the between-only values (module docstring)."""
    w_names, b_names = list(within.layout.observed), list(between.layout.observed)
    z_names = [v for v in b_names if v not in w_names]
    p_w, p_z = len(w_names), len(z_names)
    q = p_z + p_w
    # the level-2 vector [z, ȳ]: Σ_B on the level-2 entries, Σ_W / n on the cluster means
    pos = np.array([z_names.index(v) if v in z_names else p_z + w_names.index(v) for v in b_names])
    e = np.zeros((q, q))
    e[np.ix_(pos, pos)] = between.sigma
    mu = np.zeros(q)
    mu[p_z:] = within.mu
    mu[pos] += between.mu
    _check_empirical(sizes, q, p_w)
    level2 = np.empty((sizes.size, q))
    for size in np.unique(sizes):
        members = np.flatnonzero(sizes == size)
        u = rng.standard_normal((members.size, q))
        u = _whiten(u - u.mean(axis=0), members.size, f"clusters of size {size}")
        v = e.copy()
        v[p_z:, p_z:] += within.sigma / size
        level2[members] = mu + u @ _root(v, "between")
    dev = rng.standard_normal((cluster.size, p_w))
    dev -= (np.add.reduceat(dev, np.r_[0, np.cumsum(sizes)[:-1]], axis=0) / sizes[:, None])[cluster]
    dev = _whiten(dev, cluster.size - sizes.size, "the within-cluster deviations")
    w = level2[cluster, p_z:] + dev @ _root(within.sigma, "within")
    # a variable of both levels is w + b: its cluster mean sits in w, so its b is zero
    b = np.zeros((sizes.size, len(b_names)))
    for k, name in enumerate(b_names):
        if name in z_names:
            b[:, k] = level2[:, z_names.index(name)]
    return w_names, b_names, w, b


def _check_empirical(sizes: np.ndarray, q: int, p_w: int) -> None:
    values, counts = np.unique(sizes, return_counts=True)
    few = [f"{v} ({c} clusters)" for v, c in zip(values, counts, strict=True) if c <= q]
    if few:
        raise OptionError(
            f"empirical=True needs more than {q} clusters of each size (the cluster-level "
            f"values per cluster); too few of size {', '.join(few)}",
            hint="give n as a number of rows (clusters of one or two sizes) or a list of sizes "
            f"repeating each size more than {q} times",
        )
    if sizes.sum() - sizes.size <= p_w:
        raise OptionError(
            f"empirical=True needs more rows than clusters plus {p_w} (the level-1 variables)",
            hint="draw more rows per cluster",
        )
