"""Which columns are ordered, and their categories as codes 0..K-1, with every problem reported.

Input: the user's data frame, the variables, ``ordered`` (None: only pandas ordered Categorical
columns; True: every variable that is not an exogenous covariate; a list of names, to which
ordered Categorical columns are added), the exogenous covariates and the grouping column.
Output: :class:`Coded` — per variable whether it is ordered, its categories (the labels, in order)
and the data as a float matrix with ordered variables replaced by their codes (NaN missing).

Categories: the distinct observed values in increasing order (as lavaan, which takes the levels of
``ordered()``; values never observed are not categories); for a pandas ordered Categorical the
categories' own order, unused ones dropped. Numbers must be whole (1.5 is refused); text is
refused unless it is a pandas ordered Categorical (so that the order is the user's, not an
alphabetical one); text holding whole numbers ("1", "2") is read as numbers. More than 100
categories are refused, one observed category is refused, more than 12 are warned about (as lavaan).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from semlang.categorical.warn import warn
from semlang.errors import DataError, DataWarning, UnknownVariableError

MAX_CATEGORIES = 100
WARN_CATEGORIES = 12


@dataclass(frozen=True)
class Coded:
    names: tuple[str, ...]
    ordered: tuple[bool, ...]
    levels: tuple[tuple, ...]  # each ordered variable's category labels, () for continuous
    values: np.ndarray  # n x p floats: codes 0..K-1 for ordered variables, NaN missing


def _unknown(name: str, columns) -> UnknownVariableError:
    close = difflib.get_close_matches(str(name), [str(c) for c in columns], n=1)
    hint = f"did you mean '{close[0]}'?" if close else "check the column names of the data"
    return UnknownVariableError(f"ordered variable '{name}' is not a column of the data", hint=hint)


def ordered_names(frame: pd.DataFrame, variables, ordered, exogenous=()) -> list[str]:
    """The variables taken as ordered, checking the names given."""
    exogenous = set(exogenous)
    auto = [
        v
        for v in variables
        if isinstance(frame[v].dtype, pd.CategoricalDtype) and frame[v].cat.ordered
    ]
    if ordered is None or ordered is False:
        chosen: list[str] = []
    elif ordered is True:
        chosen = [v for v in variables if v not in exogenous]
    else:
        if isinstance(ordered, str):
            ordered = [ordered]
        chosen = []
        for name in ordered:
            if name not in frame.columns:
                raise _unknown(name, frame.columns)
            if name not in variables:
                raise DataError(
                    f"ordered variable '{name}' is not one of the variables analysed",
                    hint="list it among the variables, or drop it from ordered=",
                )
            chosen.append(name)
    return [v for v in variables if v in set(chosen) | set(auto)]


def _as_numbers(name: str, column: pd.Series) -> np.ndarray:
    """A non-categorical ordered column as floats, refusing text and fractions."""
    if column.dtype == bool:
        return column.to_numpy(dtype=float)
    if pd.api.types.is_numeric_dtype(column.dtype):
        values = column.to_numpy(dtype=float, na_value=np.nan)
    else:
        converted = pd.to_numeric(column, errors="coerce")
        bad = column.notna() & converted.isna()
        if bad.any():
            example = column[bad].iloc[0]
            raise DataError(
                f"ordered variable '{name}' has categories written as text ('{example}')",
                hint="code the categories as whole numbers, or make the column a pandas ordered "
                "Categorical (pd.Categorical(values, categories=[...], ordered=True)) so that "
                "their order is yours",
            )
        values = converted.to_numpy(dtype=float, na_value=np.nan)
    finite = values[~np.isnan(values)]
    if np.isinf(finite).any():
        raise DataError(f"ordered variable '{name}' has infinite values")
    fractional = finite[finite != np.round(finite)]
    if len(fractional):
        raise DataError(
            f"ordered variable '{name}' has a category that is not a whole number "
            f"({fractional[0]:g})",
            hint="ordered categories are coded 1, 2, 3, ...; is this variable continuous?",
        )
    return values


def code_column(name: str, column: pd.Series) -> tuple[np.ndarray, tuple]:
    """Codes 0..K-1 (NaN missing) and the category labels of one ordered column."""
    if isinstance(column.dtype, pd.CategoricalDtype) and not column.cat.ordered:
        if not pd.api.types.is_numeric_dtype(column.cat.categories.dtype):
            raise DataError(
                f"ordered variable '{name}' is an unordered Categorical of text",
                hint="give its categories' order: column.cat.as_ordered() after "
                "set_categories([...]) in the right order",
            )
        column = column.astype(column.cat.categories.dtype)
    if isinstance(column.dtype, pd.CategoricalDtype):
        raw = column.cat.codes.to_numpy()
        used = np.unique(raw[raw >= 0])
        levels = tuple(column.cat.categories[used])
        codes = np.full(len(raw), np.nan)
        codes[raw >= 0] = np.searchsorted(used, raw[raw >= 0])
    else:
        values = _as_numbers(name, column)
        ok = ~np.isnan(values)
        unique = np.unique(values[ok])
        levels = tuple(int(v) for v in unique)
        codes = np.full(len(values), np.nan)
        codes[ok] = np.searchsorted(unique, values[ok])
    _check_levels(name, levels)
    return codes, levels


def _check_levels(name: str, levels: tuple) -> None:
    if len(levels) > MAX_CATEGORIES:
        raise DataError(
            f"ordered variable '{name}' has {len(levels)} categories (at most "
            f"{MAX_CATEGORIES} are allowed)",
            hint="is this variable continuous? leave it out of ordered=",
        )
    if len(levels) < 2:
        raise DataError(
            f"ordered variable '{name}' has only one observed category"
            + (f" ({levels[0]})" if levels else ""),
            hint="a variable that does not vary cannot be analysed; leave it out",
        )
    if len(levels) > WARN_CATEGORIES:
        warn(
            f"ordered variable '{name}' has more than {WARN_CATEGORIES} categories ({len(levels)})",
            DataWarning,
        )


def continuous_column(name: str, column: pd.Series) -> np.ndarray:
    """A continuous column as floats, refusing text."""
    if isinstance(column.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(
        column.dtype
    ):
        converted = pd.to_numeric(column.astype(object), errors="coerce")
        if (column.notna() & converted.isna()).any():
            raise DataError(
                f"variable '{name}' is not numeric",
                hint="declare it in ordered= if its values are ordered categories",
            )
        column = converted
    return column.astype(float).to_numpy()


def code_frame(frame: pd.DataFrame, variables, ordered_set) -> Coded:
    """Code the ordered variables of ``frame`` and read the others as numbers."""
    columns, flags, levels = [], [], []
    for name in variables:
        if name in ordered_set:
            codes, labels = code_column(name, frame[name])
            columns.append(codes)
            flags.append(True)
            levels.append(labels)
        else:
            columns.append(continuous_column(name, frame[name]))
            flags.append(False)
            levels.append(())
    values = np.column_stack(columns) if columns else np.zeros((len(frame), 0))
    return Coded(tuple(variables), tuple(flags), tuple(levels), values)
