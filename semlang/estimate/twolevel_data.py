"""Two-level data: clustered rows → the sufficient statistics of two-level maximum likelihood.

Input: a data set (DataFrame or array with names), cluster ids, the variables of the level-1
(within) model and of the level-2 (between) model, and the model's fixed exogenous covariates.
Output: a frozen :class:`TwoLevelData` holding the pooled within-cluster covariance, the cluster
means, and the mean and covariance of the cluster-level data for each distinct cluster size, so
the likelihood shares all work across clusters of the same size; each cluster's within scatter
and size for the per-cluster scores (:mod:`semlang.estimate.twolevel_scores`).

Variables are classified as lavaan does, by the level(s) whose model mentions them:

* *both*: in the level-1 and the level-2 model; split into a within part (Σ_W) and a between
  part (Σ_B), ``y_ij = μ + u_j + e_ij``;
* *within-only*: only in the level-1 model; no between part (their rows of Σ_B are zero), so the
  cluster means of such a variable carry only within variance;
* *between-only*: only in the level-2 model; must be constant within every cluster (checked).

:func:`detect_between_only` finds the variables that are constant within every cluster, the
candidates for the level-2 model alone.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from semlang.errors import DataError, DataWarning
from semlang.estimate.data_checks import check_column_types, check_variances

_LOG_2PI = float(np.log(2.0 * np.pi))
_CONSTANT = 1e-10  # relative within-cluster range below which a variable counts as constant


def _frozen(array: np.ndarray, dtype: type | None = float) -> np.ndarray:
    array = np.array(array, dtype=dtype)
    array.setflags(write=False)
    return array


def _ml_cov(x: np.ndarray) -> np.ndarray:
    """Covariance with divisor n (rows are observations)."""
    centered = x - x.mean(axis=0)
    return centered.T @ centered / x.shape[0]


def _h1_loglik(cov: np.ndarray, n: int) -> float:
    """Saturated normal log-likelihood of ``n`` rows with ML covariance ``cov``."""
    p = cov.shape[0]
    if p == 0:
        return 0.0
    logdet = np.linalg.slogdet(cov)[1]
    return float(-0.5 * n * (p * _LOG_2PI + logdet + p))


@dataclass(frozen=True, eq=False)
class TwoLevelData:
    """Sufficient statistics of clustered data for two-level ML (build with :meth:`from_data`).

    Layouts of the moments the likelihood takes:

    * ``within`` orders Σ_W and μ_W: every level-1 variable (both and within-only), as given;
    * ``between`` orders Σ_B and μ_B: every level-2 variable (both and between-only), as given.

    Internally the cluster-level vector is ``[z, ȳ]``: the between-only variables (in ``between``
    order) followed by the cluster means of all level-1 variables (in ``within`` order); ``q`` is
    its length, K the number of distinct cluster sizes.
    """

    within: tuple[str, ...]
    between: tuple[str, ...]
    fixed_x: tuple[str, ...]
    cluster_ids: np.ndarray  # (J,) ids in order of first appearance
    cluster_size: np.ndarray  # (J,) rows per cluster
    sizes: np.ndarray  # (K,) distinct cluster sizes, ascending
    size_counts: np.ndarray  # (K,) clusters of each size
    pooled_within_cov: np.ndarray  # (p_w, p_w) within-cluster scatter / (N - J)
    cluster_means: np.ndarray  # (J, p_w) cluster means of the level-1 variables
    cluster_values: np.ndarray  # (J, p_z) values of the between-only variables
    size_means: np.ndarray  # (K, q) mean over clusters of that size of [z, ȳ]
    size_covs: np.ndarray  # (K, q, q) covariance (divisor: count) of [z, ȳ] over those clusters
    total_mean: np.ndarray  # (p_w,) mean of the level-1 variables over all rows
    total_cov: np.ndarray  # (p_w, p_w) covariance (divisor N) of the level-1 variables
    cluster_scatter: np.ndarray  # (J, p_w, p_w) each cluster's within scatter Σ_i (y − ȳ)(y − ȳ)ᵀ
    size_index: np.ndarray  # (J,) each cluster's position in ``sizes``

    @classmethod
    def from_data(
        cls,
        data: pd.DataFrame | np.ndarray,
        cluster: str | Sequence | np.ndarray,
        within: Sequence[str],
        between: Sequence[str],
        *,
        names: Sequence[str] | None = None,
        fixed_x: Sequence[str] = (),
    ) -> TwoLevelData:
        """Validate clustered data and compute the statistics.

        ``cluster`` is a column name of ``data`` or one id per row; ``names`` names the columns
        of an array. ``fixed_x`` are the model's exogenous covariates with fixed.x (their
        log-likelihood is left out, as lavaan does); variables of both levels are never fixed.
        Rows with missing values in the variables are dropped (listwise, with a warning).
        """
        frame = _as_frame(data, names)
        within, between = tuple(within), tuple(between)
        _check_layout(frame, within, between)
        ids = _cluster_column(frame, cluster)
        columns = list(dict.fromkeys(within + between))
        values = _numeric(frame, columns)
        keep = ~np.isnan(values).any(axis=1)
        if not keep.all():
            warnings.warn(
                f"{int((~keep).sum())} rows with missing values dropped (listwise deletion)",
                DataWarning,
                stacklevel=2,
            )
            values, ids = values[keep], ids[keep]
        check_variances(values, columns, tuple(fixed_x))
        return _build(cls, values, ids, columns, within, between, tuple(fixed_x))

    # ---- sizes and classification -------------------------------------------------------
    @property
    def nobs(self) -> int:
        """Number of rows N."""
        return int(self.cluster_size.sum())

    @property
    def nclusters(self) -> int:
        """Number of clusters J."""
        return int(self.cluster_size.size)

    @cached_property
    def both(self) -> tuple[str, ...]:
        """Variables of both levels, in ``within`` order."""
        return tuple(v for v in self.within if v in self.between)

    @cached_property
    def within_only(self) -> tuple[str, ...]:
        """Level-1 variables without a between part, in ``within`` order."""
        return tuple(v for v in self.within if v not in self.between)

    @cached_property
    def between_only(self) -> tuple[str, ...]:
        """Level-2 variables without a within part, in ``between`` order (the internal z)."""
        return tuple(v for v in self.between if v not in self.within)

    @cached_property
    def between_position(self) -> np.ndarray:
        """Position of each ``between`` variable in the internal ``[z, ȳ]`` vector."""
        p_z = len(self.between_only)
        return np.array(
            [
                self.between_only.index(v) if v in self.between_only else p_z + self.within.index(v)
                for v in self.between
            ],
            dtype=int,
        )

    # ---- exogenous covariates (fixed.x) --------------------------------------------------
    @cached_property
    def fixed_x_within(self) -> tuple[str, ...]:
        """Fixed covariates of the level-1 model (within-only), in ``within`` order."""
        return tuple(v for v in self.within_only if v in self.fixed_x)

    @cached_property
    def fixed_x_between(self) -> tuple[str, ...]:
        """Fixed covariates of the level-2 model (between-only), in ``between`` order."""
        return tuple(v for v in self.between_only if v in self.fixed_x)

    def fixed_x_moments(self, level: int) -> tuple[np.ndarray, np.ndarray]:
        """(mean, covariance) the fixed covariates of ``level`` (1 or 2) are fixed at.

        Level 1: mean and covariance (divisor N) over all rows; level 2: mean and covariance
        (divisor J) of the cluster values.
        """
        if level == 1:
            idx = [self.within.index(v) for v in self.fixed_x_within]
            return self.total_mean[idx], self.total_cov[np.ix_(idx, idx)]
        idx = [self.between_only.index(v) for v in self.fixed_x_between]
        z = self.cluster_values[:, idx]
        return z.mean(axis=0), _ml_cov(z)

    @cached_property
    def loglik_x(self) -> float:
        """Saturated log-likelihood of the fixed covariates, which lavaan leaves out of logl."""
        out = 0.0
        if self.fixed_x_within:
            out += _h1_loglik(self.fixed_x_moments(1)[1], self.nobs)
        if self.fixed_x_between:
            out += _h1_loglik(self.fixed_x_moments(2)[1], self.nclusters)
        return out

    @cached_property
    def saturated_npar(self) -> int:
        """Free parameters of the saturated model as lavaan counts them.

        Σ_W, Σ_B, μ_B and the within-only part of μ_W, less the fixed covariates' moments.
        """
        p_w, p_b = len(self.within), len(self.between)
        k_w, k_b = len(self.fixed_x_within), len(self.fixed_x_between)
        total = p_w * (p_w + 1) // 2 + p_b * (p_b + 3) // 2 + len(self.within_only)
        return total - k_w * (k_w + 3) // 2 - k_b * (k_b + 3) // 2

    @property
    def log_2pi_constant(self) -> float:
        """−½ log(2π) times the number of data values (N·p_w + J·p_z)."""
        count = self.nobs * len(self.within) + self.nclusters * len(self.between_only)
        return -0.5 * count * _LOG_2PI


# ---- construction helpers -----------------------------------------------------------------
def _as_frame(data: pd.DataFrame | np.ndarray, names: Sequence[str] | None) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data if names is None else data.set_axis(list(names), axis=1)
    array = np.asarray(data)
    if array.ndim != 2:
        raise DataError(f"two-level data must be a 2-d table, got an array of shape {array.shape}")
    if names is None or len(names) != array.shape[1]:
        raise DataError(
            "an array needs one name per column",
            hint=f"pass names=[...] with {array.shape[1]} entries",
        )
    return pd.DataFrame(array, columns=list(names))


def _check_layout(frame: pd.DataFrame, within: tuple, between: tuple) -> None:
    for label, layout in (("level-1", within), ("level-2", between)):
        if len(set(layout)) != len(layout):
            raise DataError(f"the {label} variables contain duplicates: {list(layout)}")
    if not within:
        raise DataError("a two-level model needs at least one level-1 variable")
    missing = [v for v in dict.fromkeys(within + between) if v not in frame.columns]
    if missing:
        raise DataError(
            f"variable(s) not in the data: {', '.join(missing)}",
            hint="available columns: " + ", ".join(map(str, frame.columns)),
        )


def _cluster_column(frame: pd.DataFrame, cluster: str | Sequence | np.ndarray) -> np.ndarray:
    if isinstance(cluster, str):
        if cluster not in frame.columns:
            raise DataError(f"cluster variable {cluster!r} is not in the data")
        ids = frame[cluster].to_numpy()
        label = cluster
    else:
        ids = np.asarray(cluster)
        label = "cluster"
        if ids.shape != (len(frame),):
            raise DataError(f"cluster ids: expected {len(frame)} values, got shape {ids.shape}")
    bad = pd.isna(ids)
    if bad.any():
        rows = [str(r) for r in frame.index[bad][:10]]
        raise DataError(
            f"cluster variable {label!r} is missing in {int(bad.sum())} row(s): "
            + ", ".join(rows)
            + (" ..." if bad.sum() > 10 else ""),
            hint="drop these rows or give them a cluster id",
        )
    return ids


def _numeric(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    check_column_types(dict(zip(frame.columns, frame.dtypes, strict=True)), columns)
    for v in columns:
        if not pd.api.types.is_numeric_dtype(frame[v]):
            raise DataError(f"variable {v!r} is not numeric (dtype {frame[v].dtype})")
    return frame[columns].to_numpy(dtype=float)


def _build(
    cls: type[TwoLevelData],
    values: np.ndarray,
    ids: np.ndarray,
    columns: list[str],
    within: tuple[str, ...],
    between: tuple[str, ...],
    fixed_x: tuple[str, ...],
) -> TwoLevelData:
    unknown = [v for v in fixed_x if v not in columns]
    if unknown:
        raise DataError(f"fixed covariate(s) not among the model's variables: {unknown}")
    codes, uniques = pd.factorize(ids, sort=False)
    size = np.bincount(codes)
    _check_clusters(size, between)
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate(([0], np.cumsum(size)[:-1]))
    means = np.add.reduceat(values[order], starts, axis=0) / size[:, None]
    spread = _within_range(values[order], starts)
    col = {v: i for i, v in enumerate(columns)}
    y_idx = [col[v] for v in within]
    z_names = [v for v in between if v not in within]
    z_idx = [col[v] for v in z_names]
    _check_between_only(spread, z_idx, z_names, np.asarray(uniques))
    _check_within_variance(spread, within, between, y_idx, size)
    y = values[:, y_idx]
    ybar = means[:, y_idx]
    dev = y - ybar[codes]
    scatter = np.zeros((len(size), len(y_idx), len(y_idx)))
    np.add.at(scatter, codes, dev[:, :, None] * dev[:, None, :])
    n, j = len(codes), len(size)
    level2 = np.hstack([means[:, z_idx], ybar])
    sizes, inverse, counts = np.unique(size, return_inverse=True, return_counts=True)
    q = level2.shape[1]
    size_means = np.empty((sizes.size, q))
    size_covs = np.empty((sizes.size, q, q))
    for k in range(sizes.size):  # one pass per distinct cluster size
        block = level2[inverse == k]
        size_means[k] = block.mean(axis=0)
        size_covs[k] = _ml_cov(block)
    return cls(
        within=within,
        between=between,
        fixed_x=fixed_x,
        cluster_ids=_frozen(np.asarray(uniques), None),
        cluster_size=_frozen(size, int),
        sizes=_frozen(sizes, int),
        size_counts=_frozen(counts, int),
        pooled_within_cov=_frozen(dev.T @ dev / (n - j)),
        cluster_means=_frozen(ybar),
        cluster_values=_frozen(means[:, z_idx]),
        size_means=_frozen(size_means),
        size_covs=_frozen(size_covs),
        total_mean=_frozen(y.mean(axis=0)),
        total_cov=_frozen(_ml_cov(y)),
        cluster_scatter=_frozen(scatter),
        size_index=_frozen(inverse, int),
    )


def _check_clusters(size: np.ndarray, between: tuple[str, ...]) -> None:
    if size.size < 2:
        raise DataError(
            "the cluster variable has a single cluster: a two-level model needs several clusters",
            hint="check the cluster= column",
        )
    if size.size <= len(between):  # J cluster means span at most J - 1 dimensions
        raise DataError(
            f"only {size.size} clusters for {len(between)} level-2 variables "
            f"({', '.join(between)}): their between-cluster covariance matrix is singular",
            hint="a two-level model needs more clusters than level-2 variables (and many more "
            "for stable estimates); fit a single-level model, or use fewer level-2 variables",
        )
    if (size == 1).all():
        raise DataError(
            "every cluster contains only one row: there is no within-cluster variation",
            hint="check the cluster= column (is it a row id?)",
        )


def _within_range(sorted_values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """(J, p) relative range (max − min) of each variable within each cluster; gaps ignored."""
    gap = np.isnan(sorted_values)
    high = np.maximum.reduceat(np.where(gap, -np.inf, sorted_values), starts, axis=0)
    low = np.minimum.reduceat(np.where(gap, np.inf, sorted_values), starts, axis=0)
    with np.errstate(invalid="ignore"):
        spread = (high - low) / (1.0 + np.maximum(np.abs(high), np.abs(low)))
    return np.where(np.isfinite(spread), spread, 0.0)


def _check_between_only(
    spread: np.ndarray, z_idx: list[int], z_names: list[str], ids: np.ndarray
) -> None:
    for name, i in zip(z_names, z_idx, strict=True):
        bad = np.flatnonzero(spread[:, i] > _CONSTANT)
        if bad.size:
            shown = ", ".join(map(str, ids[bad][:10])) + (" ..." if bad.size > 10 else "")
            raise DataError(
                f"level-2 variable {name!r} varies within {bad.size} cluster(s) "
                f"(cluster id(s): {shown})",
                hint="a variable only in the level-2 model must be constant within each cluster; "
                "add it to the level-1 model if it varies within clusters",
            )


def _check_within_variance(
    spread: np.ndarray, within: tuple, between: tuple, y_idx: list[int], size: np.ndarray
) -> None:
    multi = size > 1
    for name, i in zip(within, y_idx, strict=True):
        if (spread[multi, i] > _CONSTANT).any():
            continue
        text = f"level-1 variable {name!r} is constant within every cluster"
        hint = "it is a between-level variable: use it in the level-2 model only"
        if name in between:
            raise DataError(text + ": it has no within part to split off", hint=hint)
        warnings.warn(f"{text}; {hint}", DataWarning, stacklevel=4)


def detect_between_only(
    data: pd.DataFrame | np.ndarray,
    cluster: str | Sequence | np.ndarray,
    variables: Sequence[str],
    *,
    names: Sequence[str] | None = None,
) -> tuple[str, ...]:
    """The ``variables`` that are constant within every cluster (rows with gaps ignored)."""
    frame = _as_frame(data, names)
    ids = _cluster_column(frame, cluster)
    columns = list(variables)
    values = _numeric(frame, columns)
    codes, _ = pd.factorize(ids, sort=False)
    size = np.bincount(codes)
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate(([0], np.cumsum(size)[:-1]))
    spread = _within_range(values[order], starts)
    return tuple(v for v, s in zip(columns, spread.max(axis=0), strict=True) if s <= _CONSTANT)
