"""Missing-data patterns of a data matrix, the data side of full-information ML.

Input: an ``n x p`` float array whose missing cells are NaN. Output: a frozen
:class:`MissingPatterns` with the rows grouped by which variables they observe; each
:class:`MissingPattern` holds its observed-variable indices, its rows' original indices, its
row count and the sufficient statistics of its observed part (mean and covariance with divisor
``n``). Rows that observe nothing carry no information and are removed (and counted).

The patterns are also stacked into :class:`PatternBlock` s, one per number of observed
variables, so that the likelihood code can work on all patterns of one size with batched
linear algebra instead of a Python loop over patterns.

This module also holds the half-vectorization helpers shared by the FIML code: ``vech`` runs
down the columns of the lower triangle, lavaan's order ``(1,1), (2,1), ..., (p,1), (2,2), ...``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

from semlang.errors import DataError


@cache
def vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of ``vech`` (lower triangle, column by column); read-only arrays,
    made once per p."""
    upper_rows, upper_cols = np.triu_indices(p)
    return _readonly(upper_cols), _readonly(upper_rows)


def vech(matrix: np.ndarray) -> np.ndarray:
    """The lower triangle of a square matrix, column by column."""
    rows, cols = vech_indices(matrix.shape[-1])
    return matrix[..., rows, cols]


def unvech(values: np.ndarray) -> np.ndarray:
    """The symmetric matrix whose ``vech`` is ``values``."""
    q = values.shape[-1]
    p = (math.isqrt(8 * q + 1) - 1) // 2
    rows, cols = vech_indices(p)
    out = np.zeros((*values.shape[:-1], p, p))
    out[..., rows, cols] = values
    out[..., cols, rows] = values
    return out


def vech_gradient(grad: np.ndarray) -> np.ndarray:
    """Derivative with respect to the unique elements of a symmetric matrix.

    ``grad`` is the symmetric ``G`` with ``d f = tr(G dS)``; the result is ``D' vec(G)``: the
    diagonal ``G_ii`` and, off the diagonal, ``2 G_ij`` (the element counts as ``(i,j)`` and
    ``(j,i)``).
    """
    rows, cols = vech_indices(grad.shape[-1])
    return grad[..., rows, cols] * np.where(rows == cols, 1.0, 2.0)


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class MissingPattern:
    """The rows sharing one set of observed variables.

    ``observed``: sorted indices of the observed variables (``k`` of them); ``rows``: the rows'
    indices in the original data (ascending); ``data``: their observed values (``n x k``);
    ``mean`` and ``cov``: the sample mean and covariance (divisor ``n``) of ``data``.
    """

    observed: np.ndarray
    rows: np.ndarray
    data: np.ndarray
    mean: np.ndarray
    cov: np.ndarray

    @property
    def n(self) -> int:
        """Number of rows with this pattern."""
        return len(self.rows)

    @property
    def k(self) -> int:
        """Number of observed variables."""
        return len(self.observed)

    @property
    def cross_products(self) -> np.ndarray:
        """Uncentred cross-products ``data' data`` of the observed part."""
        return self.n * (self.cov + np.outer(self.mean, self.mean))

    @classmethod
    def from_rows(cls, data: np.ndarray, observed: np.ndarray, rows: np.ndarray) -> MissingPattern:
        """The pattern of ``rows`` of ``data`` observing ``observed``."""
        values = data[np.ix_(rows, observed)]
        mean = values.mean(axis=0)
        centered = values - mean
        cov = centered.T @ centered / len(rows)
        return cls(
            observed=_readonly(observed),
            rows=_readonly(rows),
            data=_readonly(values),
            mean=_readonly(mean),
            cov=_readonly(cov),
        )


@dataclass(frozen=True, eq=False)
class PatternBlock:
    """All patterns with ``k`` observed variables, stacked (``m`` patterns).

    ``pattern_ids`` index :attr:`MissingPatterns.patterns`; ``observed`` is ``m x k``, ``n``
    the row counts (float), ``mean`` ``m x k``, ``cov`` ``m x k x k``; ``flat`` holds the
    positions ``i * p + j`` of each pattern's observed block in a raveled ``p x p`` matrix.
    """

    pattern_ids: np.ndarray
    observed: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    flat: np.ndarray

    @property
    def k(self) -> int:
        return self.observed.shape[1]


@dataclass(frozen=True, eq=False)
class MissingPatterns:
    """A data matrix grouped by missingness pattern (see the module docstring).

    ``patterns`` are ordered by decreasing number of observed variables, ties by first row;
    ``empty_rows`` are the original indices of the removed rows that observe nothing.
    """

    patterns: tuple[MissingPattern, ...]
    n_vars: int
    n_rows: int
    empty_rows: np.ndarray

    @classmethod
    def from_array(cls, data: np.ndarray) -> MissingPatterns:
        """Group the rows of an ``n x p`` array (NaN = missing) by missingness pattern."""
        data = _checked_array(data)
        observed = ~np.isnan(data)
        n_rows, n_vars = data.shape
        keys = np.packbits(observed, axis=1)
        unique_keys, first, inverse = np.unique(
            keys, axis=0, return_index=True, return_inverse=True
        )
        inverse = inverse.ravel()
        counts = np.bincount(inverse, minlength=len(unique_keys))
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        by_pattern = np.argsort(inverse, kind="stable")
        n_observed = observed[first].sum(axis=1)
        empty_rows = np.concatenate(
            [by_pattern[starts[u] : starts[u] + counts[u]] for u in np.flatnonzero(n_observed == 0)]
            or [np.zeros(0, dtype=np.intp)]
        )
        order = [u for u in np.lexsort((first, -n_observed)) if n_observed[u] > 0]
        if not order:
            raise DataError("no row of the data has an observed value")
        patterns = tuple(
            MissingPattern.from_rows(
                data,
                np.flatnonzero(observed[first[u]]),
                by_pattern[starts[u] : starts[u] + counts[u]],
            )
            for u in order
        )
        return cls(patterns, n_vars, n_rows, _readonly(empty_rows))

    @property
    def n_patterns(self) -> int:
        return len(self.patterns)

    @property
    def nobs(self) -> int:
        """Number of rows used (all rows but those missing on every variable)."""
        return self.n_rows - len(self.empty_rows)

    @property
    def n_dropped_empty(self) -> int:
        """Number of removed rows that observe no variable."""
        return len(self.empty_rows)

    @property
    def complete(self) -> bool:
        """Whether no value is missing (in the rows used)."""
        return self.n_patterns == 1 and self.patterns[0].k == self.n_vars

    @cached_property
    def used_rows(self) -> np.ndarray:
        """Original indices of the rows used, ascending: the row order of casewise results."""
        return _readonly(np.sort(np.concatenate([pat.rows for pat in self.patterns])))

    @cached_property
    def positions(self) -> tuple[np.ndarray, ...]:
        """For each pattern, where its rows sit in :attr:`used_rows`."""
        return tuple(np.searchsorted(self.used_rows, pat.rows) for pat in self.patterns)

    @cached_property
    def n_observed(self) -> np.ndarray:
        """Number of rows observing each variable."""
        return self.coverage_counts.diagonal().copy()

    @cached_property
    def coverage_counts(self) -> np.ndarray:
        """``p x p`` counts of rows observing both variables of a pair."""
        out = np.zeros((self.n_vars, self.n_vars))
        for pat in self.patterns:
            out[np.ix_(pat.observed, pat.observed)] += pat.n
        return _readonly(out)

    @property
    def coverage(self) -> np.ndarray:
        """``p x p`` proportions of the rows used observing both variables of a pair."""
        return self.coverage_counts / self.nobs

    @cached_property
    def blocks(self) -> tuple[PatternBlock, ...]:
        """The patterns stacked by number of observed variables (largest first)."""
        sizes = np.array([pat.k for pat in self.patterns])
        out = []
        for k in np.unique(sizes)[::-1]:
            ids = np.flatnonzero(sizes == k)
            members = [self.patterns[i] for i in ids]
            observed = np.stack([pat.observed for pat in members])
            out.append(
                PatternBlock(
                    pattern_ids=ids,
                    observed=observed,
                    n=np.array([pat.n for pat in members], dtype=float),
                    mean=np.stack([pat.mean for pat in members]),
                    cov=np.stack([pat.cov for pat in members]),
                    flat=observed[:, :, None] * self.n_vars + observed[:, None, :],
                )
            )
        return tuple(out)

    @cached_property
    def block_of_pattern(self) -> np.ndarray:
        """``n_patterns x 2``: the block of each pattern and its place in that block."""
        out = np.zeros((self.n_patterns, 2), dtype=np.intp)
        for b, block in enumerate(self.blocks):
            out[block.pattern_ids, 0] = b
            out[block.pattern_ids, 1] = np.arange(len(block.pattern_ids))
        return out


def _checked_array(data: np.ndarray) -> np.ndarray:
    """``data`` as a 2-D float array, refusing infinite values."""
    try:
        array = np.array(data, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"data must be numeric: {exc}") from None
    if array.ndim != 2:
        raise DataError(f"data must be a 2-D array (rows x variables), not {array.ndim}-D")
    if array.shape[1] == 0:
        raise DataError("data has no variables")
    if np.isinf(array).any():
        raise DataError("data contain infinite values", hint="code missing values as NaN")
    return array
