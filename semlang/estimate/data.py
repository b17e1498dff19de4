"""Data frame -> per-group sample data, with every problem reported, nothing silently dropped.

Input: the user's data (a DataFrame, a dict of columns or a CSV path), the parameter table and
the options. Output: :class:`SampleData` — for each group the rows used (as a float array in the
model's variable order), their sample means and covariances (divisor N, as lavaan's ML), and how
many rows were dropped and why. Raises :class:`~semlang.errors.DataError` (or a located
:class:`~semlang.errors.UnknownVariableError`) for unknown, non-numeric or constant columns, too
few rows, duplicate column names, an empty file or a singular covariance matrix.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from semlang.errors import DataError, DataWarning, ModelSpecificationError, UnknownVariableError
from semlang.options import Missing, Options
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

    @property
    def nobs(self) -> int:
        return self.raw.shape[0]

    @property
    def has_missing(self) -> bool:
        return bool(np.isnan(self.raw).any())


@dataclass(frozen=True)
class SampleData:
    groups: tuple[GroupData, ...]
    n_dropped: int

    @property
    def nobs(self) -> int:
        return sum(g.nobs for g in self.groups)

    @property
    def has_missing(self) -> bool:
        return any(g.has_missing for g in self.groups)


def as_frame(data: Any) -> pd.DataFrame:
    """The user's data as a DataFrame (accepts a DataFrame, a dict of columns or a CSV path)."""
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.exists():
            raise DataError(f"data file {str(path)!r} does not exist")
        try:
            frame = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise DataError(f"data file {str(path)!r} is empty") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as error:
            raise DataError(
                f"data file {str(path)!r} is not a readable CSV file: {error}"
            ) from None
        return _check_columns(frame, str(path))
    if isinstance(data, pd.DataFrame):
        return _check_columns(data, "the data")
    if isinstance(data, dict):
        return _check_columns(pd.DataFrame(data), "the data")
    raise DataError(
        "data must be a pandas DataFrame, a dict of columns or a CSV path, "
        f"not {type(data).__name__}"
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
    labels = tuple(str(v) for v in pd.unique(values))
    if len(labels) < 2:
        raise DataError(
            f"group column {group!r} has only one group ({labels[0] if labels else 'none'})",
            hint="drop group= to fit a single group",
        )
    return labels


def prepare(frame: pd.DataFrame, table: ParameterTable, options: Options) -> SampleData:
    """Per-group sample data for the observed variables of ``table``."""
    names = table.observed
    _check_names(frame, table)
    _check_numeric(frame, names)
    values = frame.loc[:, list(names)].to_numpy(dtype=float)
    if options.group is not None:
        labels = table.group_labels
        group_of = frame[options.group].map(lambda v: str(v) if pd.notna(v) else None)
        keep_group = group_of.notna().to_numpy()
    else:
        labels = ("1",)
        group_of = pd.Series("1", index=frame.index)
        keep_group = np.ones(len(frame), dtype=bool)
    missing = np.isnan(values)
    if options.missing is Missing.LISTWISE:
        keep = keep_group & ~missing.any(axis=1)
        reason = "with missing values (listwise deletion; use missing='fiml' to keep them)"
    else:
        keep = keep_group & ~missing.all(axis=1)
        reason = "missing on every model variable"
    dropped = int(keep_group.sum() - keep.sum())
    if dropped:
        warnings.warn(
            f"{dropped} of {len(frame)} rows {reason} were removed", DataWarning, stacklevel=4
        )
    groups = []
    for g, label in enumerate(labels, start=1):
        rows = np.flatnonzero(keep & (group_of.to_numpy() == label))
        groups.append(_group_data(g, label, names, values[rows], rows, options, len(labels)))
    return SampleData(tuple(groups), dropped)


def _group_data(g, label, names, raw, rows, options, ngroups) -> GroupData:
    where = f" in group {label!r}" if ngroups > 1 else ""
    n, p = raw.shape
    if n == 0:
        raise DataError(f"no rows left{where} after removing missing values")
    if n <= p and options.missing is Missing.LISTWISE:
        raise DataError(
            f"only {n} complete rows{where} for {p} variables",
            hint="a covariance matrix of p variables needs more than p rows",
        )
    for j, name in enumerate(names):
        column = raw[:, j][~np.isnan(raw[:, j])]
        if column.size == 0:
            raise DataError(f"variable {name!r} is missing in every row{where}")
        if np.ptp(column) == 0:
            raise DataError(
                f"variable {name!r} is constant{where} (every value is {column[0]:g})",
                hint="a constant variable has no variance to model; drop it from the model",
            )
    if np.isnan(raw).any():
        mean, cov = np.nanmean(raw, axis=0), _pairwise_cov(raw)
    else:
        mean = raw.mean(axis=0)
        centered = raw - mean
        cov = centered.T @ centered / n
        _check_singular(cov, names, where)
    return GroupData(g, label, tuple(names), raw, rows, mean, cov)


def _pairwise_cov(raw: np.ndarray) -> np.ndarray:
    frame = pd.DataFrame(raw)
    return frame.cov(ddof=0).to_numpy()


def _check_singular(cov: np.ndarray, names, where: str) -> None:
    eigenvalues, vectors = np.linalg.eigh(cov)
    scale = max(float(np.max(np.abs(np.diag(cov)))), 1e-300)
    if eigenvalues[0] <= 1e-10 * scale:
        weights = np.abs(vectors[:, 0])
        involved = [names[j] for j in np.flatnonzero(weights > 0.1)]
        raise DataError(
            f"the sample covariance matrix{where} is singular: "
            f"{', '.join(involved)} are linearly dependent",
            hint="drop one of these variables (or a sum/difference of the others)",
        )


def _check_names(frame: pd.DataFrame, table: ParameterTable) -> None:
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


def _check_numeric(frame: pd.DataFrame, names) -> None:
    for name in names:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            continue
        converted = pd.to_numeric(column, errors="coerce")
        bad = column.notna() & converted.isna()
        first = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
        raise DataError(
            f"column {name!r} is not numeric: row {first + 1} holds {column.iloc[first]!r}",
            hint="code categories as numbers, or remove the column from the model",
        )


def _close_columns(name: str, frame: pd.DataFrame) -> str | None:
    close = difflib.get_close_matches(name, [str(c) for c in frame.columns], n=3)
    return ("close column names: " + ", ".join(close)) if close else None
