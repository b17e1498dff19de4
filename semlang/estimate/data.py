"""Data frame -> per-group sample data, with every problem reported, nothing silently dropped.

Input: the user's data (a DataFrame, a dict of columns or a CSV path), the parameter table and
the options. Output: :class:`SampleData` — for each group the rows used (as a float array in the
model's variable order), their sample means and covariances (divisor N, as lavaan's ML), and how
many rows were dropped and why. Raises :class:`~semlang.errors.DataError` (or a located
:class:`~semlang.errors.UnknownVariableError`) for unknown, non-numeric or constant columns, too
few rows, duplicate column names (also in a CSV header, which pandas would rename), infinite
values, an empty file or a singular covariance matrix; numbers written as text are read as
numbers. Every removed row is announced by a :class:`~semlang.errors.DataWarning` with the count
and the reason: missing values under listwise deletion, a missing group, no observed value under
FIML, or (FIML with fixed_x, as lavaan) a missing exogenous covariate.

Two more ways to sample data: :func:`sample_from_moments` (given means, covariance matrices and
N, no rows: :class:`MomentGroupData`, for fitting a model to moments) and
:func:`select_variables` (some variables of complete sample data, same rows).
"""

from __future__ import annotations

import csv
import difflib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from semlang.errors import DataError, DataWarning, ModelSpecificationError, UnknownVariableError
from semlang.estimate.data_checks import check_column_types, check_variances
from semlang.matrices import nearly_singular
from semlang.options import Missing, ModelOptions
from semlang.partable.table import ParameterTable


@dataclass(frozen=True)
class GroupData:
    group: int
    label: str
    names: tuple[str, ...]
    raw: np.ndarray  # rows used, n x p (NaN allowed under FIML)
    rows: np.ndarray  # their positions in the user's data
    mean: np.ndarray
    cov: np.ndarray
    cluster: np.ndarray | None = None  # each row's cluster (codes 0, 1, ...), or None

    @property
    def nobs(self) -> int:
        return self.raw.shape[0]

    @cached_property
    def has_missing(self) -> bool:
        return not bool(np.isfinite(self.raw.sum(axis=0)).all()) and bool(np.isnan(self.raw).any())

    @property
    def nclusters(self) -> int | None:
        return None if self.cluster is None else len(np.unique(self.cluster))


@dataclass(frozen=True)
class SampleData:
    groups: tuple[GroupData | MomentGroupData, ...]
    n_dropped: int

    @property
    def nobs(self) -> int:
        return sum(g.nobs for g in self.groups)

    @property
    def has_missing(self) -> bool:
        return any(g.has_missing for g in self.groups)

    @property
    def nclusters(self) -> int | None:
        """The number of clusters (summed over the groups), None without clusters."""
        counts = [getattr(g, "nclusters", None) for g in self.groups]
        known = [count for count in counts if count is not None]
        return sum(known) if len(known) == len(counts) else None

    @property
    def group_nobs(self) -> tuple[int, ...]:
        """The rows used in each group."""
        return tuple(g.nobs for g in self.groups)

    @property
    def missing_pattern_counts(self) -> tuple[int, ...]:
        """The number of missing-data patterns of each group's rows."""
        from semlang.estimate.missing_patterns import distinct_rows

        return tuple(len(distinct_rows(np.isnan(g.raw))[0]) for g in self.groups)


@dataclass(frozen=True)
class MomentGroupData:
    """A group known by its moments alone: means, covariance matrix (divisor N) and N.

    Complete-data ML depends on the data only through these, so a model fits, and its fit
    measures and information-based standard errors follow, as from the rows themselves. What
    needs the rows — scores of the fitted rows, bootstrap draws, robust standard errors — asks
    for ``raw`` or ``rows`` and gets a :class:`~semlang.errors.DataError`.
    """

    group: int
    label: str
    names: tuple[str, ...]
    mean: np.ndarray
    cov: np.ndarray
    n: int

    @property
    def nobs(self) -> int:
        return self.n

    @property
    def has_missing(self) -> bool:
        return False

    @property
    def raw(self) -> np.ndarray:
        raise _no_rows()

    @property
    def rows(self) -> np.ndarray:
        raise _no_rows()


def _no_rows() -> DataError:
    return DataError(
        "this model was fitted to sample moments (means and covariances), not to data rows",
        hint="factor scores of the fitted rows, bootstrap draws and robust standard errors need "
        "the rows: fit the model to a data frame (predict(data=...) scores new rows)",
    )


def sample_from_moments(
    table: ParameterTable,
    groups: Sequence[tuple[np.ndarray, np.ndarray | None, int]],
    names: Sequence[str] | None = None,
) -> SampleData:
    """Sample data given by moments instead of rows: per group ``(cov, mean, nobs)``.

    ``cov`` (divisor N) and ``mean`` (None: zeros, for a model without mean structure) are of
    the variables ``names`` (default: ``table.observed``), which must include every observed
    variable of the table; they are put in the table's order. Raises DataError for a missing
    variable, moments of the wrong shape or not finite, N not above the number of variables,
    and a covariance matrix that is not symmetric positive definite.
    """
    if table.nlevels > 1:
        raise DataError("a two-level model is fitted to rows (with their clusters), not moments")
    names = tuple(table.observed if names is None else names)
    absent = [name for name in table.observed if name not in names]
    if absent:
        raise DataError(f"the moments lack the model's variables: {', '.join(absent)}")
    if len(groups) != table.ngroups:
        raise DataError(f"moments of {len(groups)} groups for a model of {table.ngroups}")
    labels = table.group_labels or tuple(str(g) for g in range(1, table.ngroups + 1))
    idx = np.array([names.index(name) for name in table.observed], dtype=np.intp)
    out = []
    for g, (cov, mean, nobs) in enumerate(groups, start=1):
        label = labels[g - 1]
        where = f" of group {label!r}" if table.ngroups > 1 else ""
        cov = np.asarray(cov, dtype=float)
        mean = np.zeros(len(names)) if mean is None else np.asarray(mean, dtype=float)
        if cov.shape != (len(names), len(names)) or mean.shape != (len(names),):
            raise DataError(
                f"the moments{where} do not match {len(names)} variables: covariance matrix "
                f"{cov.shape}, means {mean.shape}"
            )
        if not (np.all(np.isfinite(cov)) and np.all(np.isfinite(mean))):
            raise DataError(f"the moments{where} are not all finite numbers")
        if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12):
            raise DataError(f"the covariance matrix{where} is not symmetric")
        if int(nobs) <= len(idx):
            raise DataError(
                f"only {int(nobs)} observations{where} for {len(idx)} variables",
                hint="a covariance matrix of p variables needs more than p rows",
            )
        sub = cov[np.ix_(idx, idx)]
        _check_singular(sub, table.observed, where)
        out.append(MomentGroupData(g, label, table.observed, mean[idx], sub, int(nobs)))
    return SampleData(tuple(out), 0)


def select_variables(sample: SampleData, names: Sequence[str]) -> SampleData:
    """The same rows (or moments) restricted to the variables ``names``, in that order.

    For complete data (or moments) nothing else changes: the means and covariances are the
    entries of the selected variables. Raises DataError for a name not in the sample, and for
    incomplete data (a row missing every selected variable would have to go).
    """
    names = tuple(names)
    groups: list[GroupData | MomentGroupData] = []
    for group in sample.groups:
        absent = [name for name in names if name not in group.names]
        if absent:
            raise DataError(f"the sample lacks the variables {', '.join(absent)}")
        if group.has_missing:
            raise DataError(
                "variables are selected from complete data only",
                hint="prepare the data for the selected variables' model instead",
            )
        idx = np.array([group.names.index(name) for name in names], dtype=np.intp)
        mean, cov = group.mean[idx], group.cov[np.ix_(idx, idx)]
        if isinstance(group, MomentGroupData):
            groups.append(MomentGroupData(group.group, group.label, names, mean, cov, group.n))
        else:
            raw = group.raw[:, idx]
            groups.append(GroupData(group.group, group.label, names, raw, group.rows, mean, cov))
    return SampleData(tuple(groups), sample.n_dropped)


def as_frame(data: Any) -> pd.DataFrame:
    """The user's data as a DataFrame (accepts a DataFrame, a dict of columns or a CSV path)."""
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.exists():
            raise DataError(f"data file {str(path)!r} does not exist")
        _check_not_csv(path)
        try:
            frame = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise DataError(f"data file {str(path)!r} is empty") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as error:
            raise DataError(
                f"data file {str(path)!r} is not a readable CSV file: {error}"
            ) from None
        _check_header(path)
        _check_separator(frame, path)
        return _check_columns(frame, str(path))
    if isinstance(data, pd.DataFrame):
        return _check_columns(data, "the data")
    if isinstance(data, dict):
        try:
            frame = pd.DataFrame(data)
        except ValueError as error:
            raise DataError(f"the columns of the data cannot form a table: {error}") from None
        return _check_columns(frame, "the data")
    raise DataError(
        "data must be a pandas DataFrame, a dict of columns or a CSV path, "
        f"not {type(data).__name__}"
    )


_READ_WITH_PANDAS = "and pass the DataFrame, or save the data as CSV (a header line of names)"


def _check_not_csv(path: Path) -> None:
    """A JSON, spreadsheet or other binary file given where a CSV file is expected."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(4096)
    except IsADirectoryError:
        raise DataError(f"data file {str(path)!r} is a directory") from None
    text = start.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"[", b"{"):
        raise DataError(
            f"data file {str(path)!r} holds JSON, not CSV",
            hint=f"read it with pandas.read_json(path) {_READ_WITH_PANDAS}",
        )
    if start.startswith(b"PK\x03\x04") or start.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(
            f"data file {str(path)!r} is a spreadsheet (or zip) file, not CSV",
            hint=f"read it with pandas.read_excel(path) {_READ_WITH_PANDAS}",
        )
    if b"\x00" in start:
        raise DataError(
            f"data file {str(path)!r} is a binary file, not CSV",
            hint=f"read it with pandas (read_stata, read_spss, read_parquet, ...) "
            f"{_READ_WITH_PANDAS}",
        )


def _check_separator(frame: pd.DataFrame, path: Path) -> None:
    """One column named like 'a;b;c': the file is separated by something other than commas."""
    if frame.shape[1] != 1:
        return
    name = str(frame.columns[0])
    separator = next((sep for sep in (";", "\t", "|") if sep in name), None)
    if separator is not None:
        raise DataError(
            f"data file {str(path)!r} has one column, {name!r}: its values look separated by "
            f"{separator!r}, not by commas",
            hint=f"save it comma-separated, or read it with pandas.read_csv(path, "
            f"sep={separator!r}) (decimal=',' if need be) and pass the DataFrame",
        )


def _check_header(path: Path) -> None:
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        header = next(csv.reader(handle), [])
    check_unique_names(header, f"data file {str(path)!r}")


def check_unique_names(header: list[str], what: str) -> None:
    """Duplicate names in a CSV header (pandas would silently rename them 'x.1', ...); ``what``
    names the table in the message."""
    names = [name.strip() for name in header]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DataError(
            f"{what} has duplicate column names: {', '.join(duplicated)}",
            hint="give every column a unique name",
        )


def _check_columns(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    names = [str(c) for c in frame.columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DataError(
            f"{where} has duplicate column names: {', '.join(duplicated)}",
            hint="give every column a unique name",
        )
    if frame.shape[0] == 0:
        raise DataError(f"{where} has no rows")
    return frame


def group_labels(frame: pd.DataFrame, group: str | None) -> tuple[str, ...]:
    """Group labels in order of first appearance (lavaan's order)."""
    if group is None:
        return ()
    if group not in frame.columns:
        raise DataError(
            f"group column {group!r} is not in the data", hint=_close_columns(group, frame)
        )
    values = frame[group].dropna()
    labels = tuple(group_label(v) for v in pd.unique(values))
    if not labels:
        raise DataError(f"group column {group!r} has no values (every row is missing)")
    if len(labels) < 2:
        raise DataError(
            f"group column {group!r} has only one group ({labels[0] if labels else 'none'})",
            hint="drop group= to fit a single group",
        )
    return labels


def group_label(value: Any) -> str:
    """A group's label as lavaan prints it: whole numbers without a decimal point (a numeric
    group column with missing values is read as floats: 1.0 -> "1")."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def prepare(frame: pd.DataFrame, table: ParameterTable, options: ModelOptions) -> SampleData:
    """Per-group sample data for the observed variables of ``table``.

    The model's columns are copied once into a column-ordered float array; complete data in one
    group (the common case) are used in place, their moments taken in one pass over row chunks
    and every check made from column-wise reductions, with no per-row work in Python.
    """
    names = table.observed
    check_names(frame, table)
    values, sums = _numeric_values_and_sums(frame, names)
    labels, group_of, keep = _group_rows(frame, table, options)
    cluster = _cluster_codes(frame, options.cluster, keep)
    if options.group is None and len(values) and np.isfinite(sums).all():
        return _complete_sample(values, sums, table, options, labels[0], cluster)
    missing = np.isnan(values)
    _check_empty_columns(missing, keep, names, labels, group_of)
    kept = int(keep.sum())
    if options.missing is Missing.LISTWISE:
        keep = keep & ~missing.any(axis=1)
        reason = "they have missing values in model variables (listwise deletion; use "
        _report_dropped(kept - int(keep.sum()), len(frame), reason + "missing='fiml' to keep them)")
    else:
        keep = _drop_missing_covariates(keep, missing, names, table, options, len(frame))
        kept = int(keep.sum())
        keep = keep & ~missing.all(axis=1)
        _report_dropped(
            kept - int(keep.sum()), len(frame), "they are missing on every model variable"
        )
    exogenous = {v for b in table.blocks for v in b.observed_exogenous} if options.fixed_x else ()
    check_variances(values[keep], names, exogenous)
    dropped = len(frame) - int(keep.sum())
    groups = []
    for g, label in enumerate(labels, start=1):
        rows = np.flatnonzero(keep & (group_of == label) if len(labels) > 1 else keep)
        raw = values if len(rows) == len(values) else _take_rows(values, rows)
        group = _group_data(g, label, names, raw, rows, options, len(labels))
        if cluster is not None:
            group = replace(group, cluster=np.unique(cluster[rows], return_inverse=True)[1])
        groups.append(group)
    return SampleData(tuple(groups), dropped)


def _complete_sample(values, sums, table, options, label, cluster) -> SampleData:
    """Sample data of one group without a missing value (no row dropped): the rows in place,
    the checks of :func:`prepare` made from the moments."""
    names = table.observed
    n, p = values.shape
    exogenous = {v for b in table.blocks for v in b.observed_exogenous} if options.fixed_x else ()
    mean, cov = (None, None) if n <= p else column_moments(values, sums)
    if n > 1:
        variances = None if cov is None else np.diagonal(cov) * (n / (n - 1))
        check_variances(values, names, exogenous, variances)
    rows = np.arange(n)
    group = _group_data(1, label, names, values, rows, options, 1, (mean, cov))
    if cluster is not None:  # every row kept: the codes are already 0, 1, ... (prepare's)
        group = replace(group, cluster=cluster)
    return SampleData((group,), 0)


_CHUNK_ROWS = 8192  # rows centred at a time: the moments need no copy of the data
_CANCELLATION = 1e-3  # a variance below this share of the mean square is computed centred


_LARGE = 1 << 22  # values from which data are kept column by column, their moments in one pass


def column_moments(values: np.ndarray, sums: np.ndarray | None = None):
    """Means and covariances (divisor n) of complete rows, in one pass; ``sums``: the column
    sums, when known.

    The covariances come from the cross-products X'X less n x̄x̄' (one matrix product, no
    copy of the rows) unless a variable's mean is so large against its spread that this loses
    more than three digits; then from the rows centred chunk by chunk (still no centred copy of
    all rows). Data of fewer than ``_LARGE`` values are centred whole, as they always were (the
    same numbers to the last digit)."""
    n, p = values.shape
    if values.size < _LARGE:
        mean = values.mean(axis=0)
        centered = values - mean
        return mean, centered.T @ centered / n
    mean = (values.sum(axis=0) if sums is None else sums) / n
    with np.errstate(over="ignore", invalid="ignore"):
        squares = values.T @ values / n
        cov = squares - np.outer(mean, mean)
        if np.all(np.diagonal(cov) > _CANCELLATION * np.diagonal(squares)):
            return mean, cov
        cov = np.zeros((p, p))
        buffer = np.empty((min(n, _CHUNK_ROWS), p), order="F")
        for start in range(0, n, _CHUNK_ROWS):
            chunk = values[start : start + _CHUNK_ROWS]
            centred = np.subtract(chunk, mean, out=buffer[: len(chunk)])
            cov += centred.T @ centred
    return mean, cov / n


def _constant_columns(raw: np.ndarray, cov: np.ndarray, mean: np.ndarray) -> list[int]:
    """The columns of complete rows whose values are all equal. A constant column's computed
    variance is at most its rounding error, so only columns that small are looked at."""
    n = raw.shape[0]
    bound = (64.0 * n * np.finfo(float).eps * np.abs(mean)) ** 2
    suspects = np.flatnonzero(~(np.diagonal(cov) > bound))
    return [int(j) for j in suspects if np.ptp(raw[:, j]) == 0]


def _cluster_codes(frame: pd.DataFrame, column: str | None, keep: np.ndarray):
    """Each row's cluster as a code (None without cluster=); the column must exist and have a
    value in every row that belongs to a group."""
    if column is None:
        return None
    if column not in [str(c) for c in frame.columns]:
        close = difflib.get_close_matches(column, [str(c) for c in frame.columns], n=3)
        raise DataError(
            f"cluster variable {column!r} is not a column of the data",
            hint="close column names: " + ", ".join(close) if close else None,
        )
    values = frame[column]
    if values.dtype.kind in "iu":  # (a NumPy integer column: nothing missing)
        return _first_appearance_codes(values.to_numpy())
    absent = np.flatnonzero(values.isna().to_numpy() & keep)
    if absent.size:
        raise DataError(
            f"cluster variable {column!r} is missing in {absent.size} row(s) "
            f"(the first: row {absent[0] + 1})",
            hint="give every row its cluster, or drop the rows without one",
        )
    return pd.factorize(values)[0]


def _first_appearance_codes(values: np.ndarray) -> np.ndarray:
    """``pd.factorize(values)[0]`` of an integer array (codes 0, 1, ... in the order the values
    first appear) by one sort, without pandas' hash table."""
    _, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.intp)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inverse.ravel()]


def _group_rows(frame: pd.DataFrame, table: ParameterTable, options: ModelOptions):
    """(group labels, each row's label, rows that belong to a group)."""
    if options.group is None:
        return ("1",), None, np.ones(len(frame), dtype=bool)
    column = frame[options.group]
    group_of = np.array([group_label(v) if pd.notna(v) else None for v in column], dtype=object)
    keep = column.notna().to_numpy()
    _report_dropped(
        int((~keep).sum()), len(frame), f"their group column {options.group!r} is missing"
    )
    _check_group_labels(set(group_of[keep]), table.group_labels, options.group)
    return table.group_labels, group_of, keep


def _check_group_labels(found: set, expected: tuple[str, ...], column: str) -> None:
    """The data's groups are the model's (a model compiled for some groups and fitted to data
    with others would silently leave rows out or fit an empty group)."""
    unknown = sorted(found - set(expected))
    absent = [label for label in expected if label not in found]
    if unknown or absent:
        problem = (
            f"the data have group(s) {', '.join(map(repr, unknown))} in {column!r} that the model "
            "was not compiled for"
            if unknown
            else f"group(s) {', '.join(map(repr, absent))} of the model have no rows in the data"
        )
        raise DataError(
            f"{problem} (the model's groups: {', '.join(map(repr, expected))})",
            hint="compile the model with group_labels= the groups of the data",
        )


def _drop_missing_covariates(keep, missing, names, table, options, nrows) -> np.ndarray:
    """Under FIML with fixed_x, rows missing a covariate are removed (as lavaan): the
    covariates' distribution is not modelled, so such rows cannot be used. ``missing='ml.x'``
    keeps them: the covariates then enter the likelihood at their EM moments."""
    if not options.fixed_x or options.missing is Missing.FIML_X:
        return keep
    covariates = {name for block in table.blocks for name in block.observed_exogenous}
    columns = [j for j, name in enumerate(names) if name in covariates]
    if not columns:
        return keep
    bad = keep & missing[:, columns].any(axis=1)
    listed = ", ".join(names[j] for j in columns)
    _report_dropped(
        int(bad.sum()), nrows, f"they have missing values in the exogenous covariates ({listed}), "
        "whose distribution fixed_x=True leaves out of the model (use missing='ml.x' or "
        "fixed_x=False to keep them)"
    )  # fmt: skip
    return keep & ~bad


def _check_empty_columns(missing, keep, names, labels, group_of) -> None:
    """A model variable missing in every row (of a group) is an error, named before any row is
    deleted for it."""
    used = missing if keep.all() else missing[keep]
    for j in np.flatnonzero(used.all(axis=0))[:1]:
        raise DataError(f"variable {names[j]!r} is missing in every row", hint=_EMPTY_HINT)
    if len(labels) > 1:
        for label in labels:
            rows = keep & (group_of == label)
            for k in np.flatnonzero(missing[rows].all(axis=0)):
                raise DataError(
                    f"variable {names[k]!r} is missing in every row of group {label!r}",
                    hint=_EMPTY_HINT,
                )


_EMPTY_HINT = "remove the variable from the model, or check the column's values"


def _report_dropped(count: int, total: int, reason: str) -> None:
    """Warn that ``count`` rows were removed, and why: nothing is dropped silently."""
    if count:
        warnings.warn(f"{count} of {total} rows were removed: {reason}", DataWarning, stacklevel=5)


def _group_data(g, label, names, raw, rows, options, ngroups, moments=None) -> GroupData:
    """One group's data; ``moments``: its (mean, cov) when known to be complete."""
    where = f" in group {label!r}" if ngroups > 1 else ""
    n, p = raw.shape
    if n == 0:
        raise DataError(f"no rows left{where} after removing missing values")
    if n <= p:
        complete = "complete " if options.missing is Missing.LISTWISE else ""
        raise DataError(
            f"only {n} {complete}rows{where} for {p} variables",
            hint="a covariance matrix of p variables needs more than p rows",
        )
    has_missing = moments is None and bool(np.isnan(raw).any())
    if not has_missing:
        mean, cov = moments if moments is not None else column_moments(raw)
        for j in _constant_columns(raw, cov, mean)[:1]:
            _refuse_constant(names[j], where, raw[0, j])
        _check_singular(cov, names, where)
        group = GroupData(g, label, tuple(names), raw, rows, mean, cov)
        group.__dict__["has_missing"] = False  # (known: no need to look again)
        return group
    for j, name in enumerate(names):
        column = raw[:, j][~np.isnan(raw[:, j])]
        if column.size == 0:
            raise DataError(f"variable {name!r} is missing in every row{where}")
        if np.ptp(column) == 0:
            _refuse_constant(name, where, column[0])
    mean, cov = np.nanmean(raw, axis=0), _pairwise_cov(raw)
    return GroupData(g, label, tuple(names), raw, rows, mean, cov)


def _take_rows(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values[rows]`` in the layout of the data's own array (the same arithmetic)."""
    if values.flags.c_contiguous:
        return values[rows]
    out = np.empty((len(rows), values.shape[1]), order="F")
    for j in range(values.shape[1]):
        out[:, j] = values[rows, j]
    return out


def _refuse_constant(name: str, where: str, value: float) -> None:
    raise DataError(
        f"variable {name!r} is constant{where} (every value is {value:g})",
        hint="a constant variable has no variance to model; drop it from the model",
    )


def _pairwise_cov(raw: np.ndarray) -> np.ndarray:
    """Covariances from the rows observing each pair, divisor N (starting values only)."""
    observed = (~np.isnan(raw)).astype(float)
    values = np.where(observed > 0, raw, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        count = observed.T @ observed
        sums = values.T @ observed  # [i, j]: sum of x_i over the rows observing x_j too
        return (values.T @ values) / count - (sums / count) * (sums.T / count)


def _check_singular(cov: np.ndarray, names, where: str) -> None:
    """An error naming the linearly dependent variables; judged on the correlation matrix, so
    that variables on very different scales are not mistaken for dependent ones."""
    if nearly_singular(cov):
        sd = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
        vectors = np.linalg.eigh(cov / np.outer(sd, sd))[1]
        weights = np.abs(vectors[:, 0])
        involved = [names[j] for j in np.flatnonzero(weights > 0.1)]
        raise DataError(
            f"the sample covariance matrix{where} is singular: "
            f"{', '.join(involved)} are linearly dependent",
            hint="drop one of these variables (or a sum/difference of the others)",
        )


def check_names(frame: pd.DataFrame, table: ParameterTable) -> None:
    """A located error for a model variable that is not a column (or a latent variable that
    is one)."""
    columns = [str(c) for c in frame.columns]
    for name in table.observed:
        if name not in columns:
            span = table.variable_spans.get(name)
            close = difflib.get_close_matches(name, columns, n=3)
            hint = (
                ("close column names: " + ", ".join(close))
                if close
                else ("if it is a latent variable, define it with '=~'")
            )
            raise UnknownVariableError(
                f"variable {name!r} is not a column of the data", table.source, span, hint=hint
            )
    for name in table.latent:
        if name in columns:
            raise ModelSpecificationError(
                f"latent variable {name!r} has the name of a column of the data",
                table.source,
                table.variable_spans.get(name),
                hint="rename the latent variable",
            )


def _numeric_values(frame: pd.DataFrame, names) -> np.ndarray:
    """The model's columns as floats (NaN = missing); numbers written as text are accepted.

    Raises DataError naming the column and its first bad row (rows counted from 1) for text that
    is not a number and for infinite values.
    """
    return _numeric_values_and_sums(frame, names)[0]


def _numeric_values_and_sums(frame: pd.DataFrame, names) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_numeric_values` (a column-ordered array) and its column sums (not finite where
    a column has a missing value)."""
    columns = frame.columns.tolist()  # (iterating an Index or a Series is slow)
    dtypes = dict(zip(columns, frame.dtypes.tolist(), strict=True))
    out = _plain_columns(frame, names, columns, dtypes)
    if out is not None:  # NumPy numbers or bools only: nothing to refuse or parse
        return out, _check_finite(out, names)
    check_column_types(dtypes, names)
    numeric = [
        name for name in names
        if pd.api.types.is_bool_dtype(dtypes[name]) or pd.api.types.is_numeric_dtype(dtypes[name])
    ]  # fmt: skip
    if len(numeric) == len(names):  # the usual case: one conversion for all columns
        if columns == list(names):
            out = frame.to_numpy(dtype=float, na_value=np.nan)
        else:
            columns = [frame[name].to_numpy(dtype=float, na_value=np.nan) for name in names]
            out = np.column_stack(columns) if columns else np.empty((len(frame), 0))
        out = np.asarray(out, order=_layout(*out.shape))  # (one layout: the same arithmetic)
        return out, _check_finite(out, names)
    out = np.empty((len(frame), len(names)), order=_layout(len(frame), len(names)))
    for j, name in enumerate(names):
        column = frame[name]
        if name in numeric:
            converted = column.astype(float)
        else:
            converted = pd.to_numeric(column, errors="coerce")
            bad = (column.notna() & converted.isna()).to_numpy()
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                raise DataError(
                    f"column {name!r} is not numeric: row {first + 1} holds "
                    f"{column.iloc[first]!r}"
                    + (f" ({int(bad.sum())} such rows)" if bad.sum() > 1 else ""),
                    hint="code categories as numbers, mark missing values as empty or NA, "
                    "or remove the variable from the model",
                )
        out[:, j] = converted.to_numpy(dtype=float)
    return out, _check_finite(out, names)


def _plain_columns(frame: pd.DataFrame, names, columns: list, dtypes: dict) -> np.ndarray | None:
    """The columns as floats straight from the frame's arrays when each is a NumPy number or
    bool column with a unique name (selecting a column as a Series costs more than converting
    it); None otherwise (nullable or extension types go through pandas' own conversion)."""
    column_array = getattr(frame, "_get_column_array", None)
    if column_array is None or not names or len(dtypes) < len(columns):  # a repeated name
        return None
    if not all(isinstance(dtypes.get(name), np.dtype) and dtypes[name].kind in "biuf"
               for name in names):  # fmt: skip
        return None
    position = {name: k for k, name in enumerate(columns)}
    out = np.empty((len(frame), len(names)), order=_layout(len(frame), len(names)))
    for j, name in enumerate(names):
        out[:, j] = column_array(position[name])
    return out


def _layout(n: int, p: int) -> Literal["C", "F"]:
    """Large data column by column (contiguous copies from the frame's columns), small data row
    by row as they always were."""
    return "F" if n * p >= _LARGE else "C"


def _check_finite(values: np.ndarray, names) -> np.ndarray:
    """The column sums; a DataError for an infinite value."""
    sums = values.sum(axis=0)
    if np.isfinite(sums).all():  # (no NaN, no infinity: one cheap pass)
        return sums
    infinite = np.isinf(values)
    if infinite.any():
        column = int(np.flatnonzero(infinite.any(axis=0))[0])
        row = int(np.flatnonzero(infinite[:, column])[0])
        raise DataError(
            f"column {names[column]!r} holds an infinite value in row {row + 1}",
            hint="replace infinite values by finite numbers or mark them missing",
        )
    return sums


def _close_columns(name: str, frame: pd.DataFrame) -> str | None:
    close = difflib.get_close_matches(name, [str(c) for c in frame.columns], n=3)
    return ("close column names: " + ", ".join(close)) if close else None
