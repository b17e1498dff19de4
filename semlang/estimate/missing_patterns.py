"""Missing-data patterns of a data matrix, the data side of full-information ML.

Input: an ``n x p`` float array whose missing cells are NaN. Output: a frozen
:class:`MissingPatterns` with the rows grouped by which variables they observe; each
:class:`MissingPattern` holds its observed-variable indices, its rows' original indices, its
row count and the sufficient statistics of its observed part (mean and covariance with divisor
``n``). Rows that observe nothing carry no information and are removed (and counted).

The patterns are kept as arrays, never as one Python object per pattern (a million rows with a
fifth of the cells missing have some 670,000 patterns): the rows in pattern order, each
pattern's observed set, row count and mean, and the covariance of the patterns with more than
one row (a single row has none). The likelihood code works on :class:`PatternBlock` s — patterns
of one size stacked, at most :data:`CHUNK_ELEMENTS` covariance entries at a time — with batched
linear algebra instead of a Python loop over patterns; so its memory is bounded whatever the
number of patterns. :attr:`MissingPatterns.patterns` still gives one :class:`MissingPattern` per
pattern, for small data and for checks.

This module also holds the half-vectorization helpers shared by the FIML code: ``vech`` runs
down the columns of the lower triangle, lavaan's order ``(1,1), (2,1), ..., (p,1), (2,2), ...``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import cache, cached_property

import numpy as np

from semlang.errors import DataError
from semlang.estimate.fiml_memory import check_fiml_memory, fiml_need, memory_error
from semlang.records import dataclass


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


CHUNK_ELEMENTS = 1 << 21  # entries of a chunk's m x k x k arrays (16 MB of floats)
_KEPT_ELEMENTS = 1 << 23  # chunks this small in all are built once and kept


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


@dataclass(frozen=True, eq=False)
class PatternBlock:
    """Patterns with ``k`` observed variables, stacked (``m`` patterns; all of them, or a chunk).

    ``pattern_ids`` index :attr:`MissingPatterns.patterns`; ``observed`` is ``m x k``, ``n``
    the row counts (float), ``mean`` ``m x k``; ``multi`` the places of the patterns of several
    rows (ascending) and ``multi_cov`` their covariances (a single row has none), ``cov`` all
    ``m x k x k`` (zero for single rows; made on first use); ``flat`` holds the positions
    ``i * p + j`` of each pattern's observed block in a raveled ``p x p`` matrix.
    """

    pattern_ids: np.ndarray
    observed: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    multi: np.ndarray
    multi_cov: np.ndarray
    n_vars: int

    @property
    def k(self) -> int:
        return self.observed.shape[1]

    @cached_property
    def cov(self) -> np.ndarray:
        out = np.zeros((len(self.n), self.k, self.k))
        out[self.multi] = self.multi_cov
        return out

    @cached_property
    def flat(self) -> np.ndarray:
        return pair_positions(self.observed, self.observed, self.n_vars)

    @cached_property
    def vech_places(self) -> np.ndarray:
        """``m x k(k+1)/2``: where each pattern's ``vech`` entries sit in ``vech`` of ``p x p``."""
        return self.vech_places_of(None)

    def vech_places_of(self, pick: np.ndarray | None) -> np.ndarray:
        """:attr:`vech_places` of the patterns ``pick`` only (all with None)."""
        if pick is None and "vech_places" in self.__dict__:
            return self.__dict__["vech_places"]
        observed = self.observed if pick is None else self.observed[pick]
        rows, cols = vech_indices(self.k)
        position = vech_positions(self.n_vars)
        return position[observed[:, rows], observed[:, cols]]

    def flat_of(self, pick: np.ndarray) -> np.ndarray:
        """:attr:`flat` of the patterns ``pick`` only (without making it for them all)."""
        if "flat" in self.__dict__:
            return self.flat[pick]
        observed = self.observed[pick]
        return pair_positions(observed, observed, self.n_vars)

    @cached_property
    def missing(self) -> np.ndarray:
        """``m x (p − k)``: the variables each pattern does not observe (sorted)."""
        unseen = np.ones((len(self.n), self.n_vars), dtype=bool)
        unseen[np.arange(len(self.n))[:, None], self.observed] = False
        return np.nonzero(unseen)[1].reshape(len(self.n), self.n_vars - self.k)

    @property
    def schur_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions in a raveled ``p x p`` matrix of the (missing, missing) and (missing,
        observed) blocks of each pattern."""
        return self.missing_pairs, self.missing_observed_pairs

    @cached_property
    def missing_observed_pairs(self) -> np.ndarray:
        """Positions in a raveled ``p x p`` matrix of the (missing, observed) block of each
        pattern."""
        return pair_positions(self.missing, self.observed, self.n_vars)

    @cached_property
    def missing_pairs(self) -> np.ndarray:
        """Positions in a raveled ``p x p`` matrix of the (missing, missing) block of each
        pattern."""
        return pair_positions(self.missing, self.missing, self.n_vars)


@cache
def vech_positions(p: int) -> np.ndarray:
    """``p x p``: the position of each element in ``vech`` (symmetric; read-only, made once per
    p; 32-bit integers where they suffice)."""
    rows, cols = vech_indices(p)
    dtype = np.int32 if p * p < 2**31 else np.intp
    out = np.zeros((p, p), dtype=dtype)
    out[rows, cols] = out[cols, rows] = np.arange(len(rows))
    return _readonly(out)


def pair_positions(rows: np.ndarray, cols: np.ndarray, p: int) -> np.ndarray:
    """``m x a x b`` positions ``i * p + j`` of the pairs of ``rows`` (``m x a``) and ``cols``
    (``m x b``) in a raveled ``p x p`` matrix."""
    dtype = np.int32 if p * p < 2**31 else np.intp
    return rows.astype(dtype)[:, :, None] * p + cols.astype(dtype)[:, None, :]


@dataclass(frozen=True, eq=False)
class _SizeClass:
    """All patterns with ``k`` observed variables, compactly: covariances only of the patterns
    with more than one row (``multi``, their places among these patterns)."""

    pattern_ids: np.ndarray
    observed: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    multi: np.ndarray
    multi_cov: np.ndarray

    def chunk(self, start: int, stop: int, n_vars: int) -> PatternBlock:
        """Patterns ``start:stop`` of this class."""
        lo, hi = np.searchsorted(self.multi, [start, stop])
        return PatternBlock(
            self.pattern_ids[start:stop], self.observed[start:stop], self.n[start:stop],
            self.mean[start:stop], self.multi[lo:hi] - start, self.multi_cov[lo:hi], n_vars,
        )  # fmt: skip


@dataclass(frozen=True, eq=False)
class MissingPatterns:
    """A data matrix grouped by missingness pattern (see the module docstring).

    Patterns are ordered by decreasing number of observed variables, ties by first row;
    ``empty_rows`` are the original indices of the removed rows that observe nothing; ``data``
    is the array itself (not copied), ``order`` the used rows pattern by pattern (ascending
    within one), ``starts`` where each pattern's rows begin in ``order`` (and its end),
    ``masks`` which variables each pattern observes, ``need`` the memory estimated for FIML.
    """

    n_vars: int
    n_rows: int
    empty_rows: np.ndarray
    data: np.ndarray
    order: np.ndarray
    starts: np.ndarray
    masks: np.ndarray
    classes: tuple[_SizeClass, ...]
    need: int  # bytes of memory estimated for FIML on these patterns

    @classmethod
    def from_array(cls, data: np.ndarray) -> MissingPatterns:
        """Group the rows of an ``n x p`` array (NaN = missing) by missingness pattern.

        Raises :class:`~semlang.errors.EstimationError` with the memory needed when the
        patterns and the likelihood's work would not fit in the memory available
        (:mod:`~semlang.estimate.fiml_memory`), never a bare ``MemoryError``."""
        data = _checked_array(data)
        try:
            return cls._grouped(data)
        except MemoryError:
            raise memory_error(*data.shape) from None

    @classmethod
    def _grouped(cls, data: np.ndarray) -> MissingPatterns:
        observed = ~np.isnan(data)
        n_rows, n_vars = data.shape
        if n_rows and observed.all():  # complete data: one pattern, its first row the first
            first, inverse = np.zeros(1, dtype=np.intp), np.zeros(n_rows, dtype=np.intp)
        else:
            first, inverse = distinct_rows(observed)
        counts = np.bincount(inverse, minlength=len(first))
        n_observed = observed[first].sum(axis=1)
        empty_rows = np.flatnonzero(n_observed[inverse] == 0)
        ranked = np.lexsort((first, -n_observed))
        ranked = ranked[n_observed[ranked] > 0]
        if not len(ranked):
            raise DataError("no row of the data has an observed value")
        sizes, counts_used = n_observed[ranked], counts[ranked]
        multi = sizes[counts_used > 1]
        chunk = min(CHUNK_ELEMENTS, int(counts_used @ sizes**2))
        need = fiml_need(n_rows, n_vars, int(sizes.sum()), int(multi @ multi), chunk)
        check_fiml_memory(need, n_rows, n_vars, len(ranked))
        rank = np.full(len(first), len(first), dtype=np.intp)
        rank[ranked] = np.arange(len(ranked))
        by_pattern = np.argsort(rank[inverse], kind="stable")
        order = by_pattern[: n_rows - len(empty_rows)]
        starts = np.concatenate(([0], np.cumsum(counts[ranked])))
        masks = observed[first[ranked]]
        del observed, inverse, by_pattern
        classes = _size_classes(data, order, starts, masks)
        return cls(n_vars, n_rows, _readonly(empty_rows), data, _readonly(order),
                   _readonly(starts), _readonly(masks), classes, need)  # fmt: skip

    @property
    def n_patterns(self) -> int:
        return len(self.masks)

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
        return self.n_patterns == 1 and bool(self.masks[0].all())

    @property
    def counts(self) -> np.ndarray:
        """Each pattern's number of rows."""
        return np.diff(self.starts)

    @property
    def sizes(self) -> np.ndarray:
        """Each pattern's number of observed variables."""
        return self.masks.sum(axis=1)

    @cached_property
    def used_rows(self) -> np.ndarray:
        """Original indices of the rows used, ascending: the row order of casewise results."""
        return _readonly(np.sort(self.order))

    @cached_property
    def row_positions(self) -> np.ndarray:
        """Where each row of :attr:`order` sits in :attr:`used_rows`."""
        return _readonly(np.searchsorted(self.used_rows, self.order))

    @property
    def positions(self) -> tuple[np.ndarray, ...]:
        """For each pattern, where its rows sit in :attr:`used_rows`."""
        at = self.row_positions
        return tuple(at[a:b] for a, b in zip(self.starts[:-1], self.starts[1:], strict=True))

    @property
    def patterns(self) -> tuple[MissingPattern, ...]:
        """One :class:`MissingPattern` per pattern (built on demand: for small data, checks)."""
        out = []
        for t, (a, b) in enumerate(zip(self.starts[:-1], self.starts[1:], strict=True)):
            rows = np.sort(self.order[a:b])
            observed = np.flatnonzero(self.masks[t])
            values = self.data[np.ix_(rows, observed)]
            mean = values.mean(axis=0)
            centered = values - mean
            cov = centered.T @ centered / len(rows)
            arrays = (observed, rows, values, mean, cov)
            out.append(MissingPattern(*(_readonly(array) for array in arrays)))
        return tuple(out)

    @cached_property
    def n_observed(self) -> np.ndarray:
        """Number of rows observing each variable."""
        return self.coverage_counts.diagonal().copy()

    @cached_property
    def coverage_counts(self) -> np.ndarray:
        """``p x p`` counts of rows observing both variables of a pair."""
        flags = self.masks.astype(float)
        return _readonly((flags.T * self.counts) @ flags)

    @property
    def coverage(self) -> np.ndarray:
        """``p x p`` proportions of the rows used observing both variables of a pair."""
        return self.coverage_counts / self.nobs

    @property
    def blocks(self) -> tuple[PatternBlock, ...] | Iterator[PatternBlock]:
        """The patterns stacked by number of observed variables (largest first), in chunks of
        at most :data:`CHUNK_ELEMENTS` covariance entries: kept when they are small, else made
        afresh at each pass (an iterator), so that memory stays bounded."""
        kept = self.__dict__.get("_blocks")
        if kept is not None:
            return kept
        total = sum(c.observed.shape[0] * c.observed.shape[1] ** 2 for c in self.classes)
        if total > _KEPT_ELEMENTS:
            return self._chunks()
        kept = tuple(self._chunks())
        self.__dict__["_blocks"] = kept
        return kept

    def _chunks(self) -> Iterator[PatternBlock]:
        for size_class in self.classes:
            m, k = size_class.observed.shape
            step = max(1, CHUNK_ELEMENTS // max(1, k * k))
            for start in range(0, m, step):
                yield size_class.chunk(start, min(m, start + step), self.n_vars)

    @cached_property
    def block_of_pattern(self) -> np.ndarray:
        """``n_patterns x 2``: the block of each pattern and its place in that block."""
        out = np.zeros((self.n_patterns, 2), dtype=np.intp)
        for b, block in enumerate(self.blocks):
            out[block.pattern_ids, 0] = b
            out[block.pattern_ids, 1] = np.arange(len(block.pattern_ids))
        return out


def distinct_rows(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first row of each distinct row of a boolean matrix, and each row's distinct row."""
    packed = np.packbits(flags, axis=1)
    if packed.shape[1] <= 8:  # one 64-bit key per row: a plain sort
        padded = np.zeros((packed.shape[0], 8), dtype=np.uint8)
        padded[:, : packed.shape[1]] = packed
        keys = padded.view(np.uint64)[:, 0]
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    else:
        _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def _size_classes(data, order, starts, masks) -> tuple[_SizeClass, ...]:
    """The patterns grouped by their number of observed variables (largest first), with their
    row counts, means and (for patterns of several rows) covariances."""
    sizes = masks.sum(axis=1)
    counts = np.diff(starts)
    out = []
    for k in np.unique(sizes)[::-1]:
        ids = np.flatnonzero(sizes == k)
        observed = np.nonzero(masks[ids])[1].reshape(len(ids), k)
        mean = np.empty((len(ids), k))
        single = counts[ids] == 1
        rows = order[starts[ids[single]]]
        mean[single] = data[rows[:, None], observed[single]]
        multi = np.flatnonzero(~single)
        multi_cov = np.empty((len(multi), k, k))
        for j, t in enumerate(multi):
            if counts[ids[t]] == data.shape[0] and k == data.shape[1]:  # every row and column
                values = np.ascontiguousarray(data)  # (the gather's values and layout)
            else:
                rows = np.sort(order[starts[ids[t]] : starts[ids[t] + 1]])
                values = data[np.ix_(rows, observed[t])]
            mean[t] = values.mean(axis=0)
            centered = values - mean[t]
            multi_cov[j] = centered.T @ centered / len(values)
        out.append(_SizeClass(ids, observed, counts[ids].astype(float), mean, multi, multi_cov))
    return tuple(out)


def _checked_array(data: np.ndarray) -> np.ndarray:
    """``data`` as a 2-D float array, refusing infinite values."""
    try:
        array = np.asarray(data, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"data must be numeric: {exc}") from None
    if array.ndim != 2:
        raise DataError(f"data must be a 2-D array (rows x variables), not {array.ndim}-D")
    if array.shape[1] == 0:
        raise DataError("data has no variables")
    if np.isinf(array).any():
        raise DataError("data contain infinite values", hint="code missing values as NaN")
    return array
