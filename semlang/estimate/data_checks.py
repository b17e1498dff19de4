"""Checks of the data's columns before any moment is computed: their types and their scales.

Input: the data frame (or the model's columns as floats) and the model's variable names.
Output: nothing, or a :class:`~semlang.errors.DataError` naming the column; a
:class:`~semlang.errors.DataWarning` for variances on very different scales, as lavaan warns:

* a date, time span, period or complex column is refused (as a number it would be nanoseconds,
  or lose its imaginary part);
* a variable whose variance is not finite (values so large that their squares overflow) is
  refused, as lavaan refuses a variable with "no finite variance";
* when one (endogenous or free exogenous) variable's variance is more than 1000 times another's,
  or above 10⁶, a warning says so and names them (lavaan: "some observed variances are (at least)
  a factor 1000 times larger than others", "some observed variances are larger than 1000000").
  A missing-value code such as -999 left in the data is a common cause.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from semlang.errors import DataError, DataWarning

RELATIVE_VARIANCE = 1000.0  # lavaan's limit on max / min variance
LARGE_VARIANCE = 1e6  # lavaan's limit on a variance


def check_column_types(dtypes: dict, names: Sequence[str]) -> None:
    """Refuse a model column holding dates, time spans, periods, intervals or complex numbers."""
    for name in names:
        dtype = dtypes[name]
        kind = _refused_kind(dtype)
        if kind is not None:
            raise DataError(
                f"column {name!r} holds {kind} (dtype {dtype}), not numbers a model can use",
                hint=f"convert it to numbers first ({_CONVERSIONS[kind]}), or remove the "
                "variable from the model",
            )


_CONVERSIONS = {
    "dates": "e.g. days since a start date",
    "time spans": "e.g. the span in days or hours",
    "periods": "e.g. the year or the month's number",
    "intervals": "e.g. their midpoints",
    "complex numbers": "e.g. their real part or modulus",
}


def _refused_kind(dtype) -> str | None:
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "dates"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "time spans"
    if isinstance(dtype, pd.PeriodDtype):
        return "periods"
    if isinstance(dtype, pd.IntervalDtype):
        return "intervals"
    if pd.api.types.is_complex_dtype(dtype):
        return "complex numbers"
    return None


def check_variances(
    values: np.ndarray, names: Sequence[str], exogenous=(), variances: np.ndarray | None = None
) -> None:
    """Refuse a variable without a finite variance; warn as lavaan does about variances on very
    different scales (``exogenous``: fixed covariates, left out of the warning as in lavaan).
    ``variances`` (divisor n − 1), when the caller has them, spare a pass over ``values``."""
    if values.shape[0] < 2:
        return
    if variances is None:
        with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            variances = np.nanvar(values, axis=0, ddof=1)
    for j, name in enumerate(names):
        if np.isfinite(variances[j]):
            continue
        if np.isfinite(values[:, j]).sum() > 1:
            largest = np.nanmax(np.abs(values[:, j]))
            raise DataError(
                f"variable {name!r} has no finite variance: its values (up to {largest:.3g} "
                "in absolute value) are too large to square",
                hint="rescale it, e.g. divide it by a power of 10",
            )
    keep = [j for j, name in enumerate(names) if name not in set(exogenous)]
    keep = [j for j in keep if np.isfinite(variances[j])]
    if not keep:
        return
    scale = variances[keep]
    largest, smallest = keep[int(np.argmax(scale))], keep[int(np.argmin(scale))]
    hint = (
        "rescale the variables (e.g. divide by a power of 10), and check for a missing-value "
        "code such as -999 left in the data"
    )
    if variances[smallest] > 0 and variances[largest] / variances[smallest] > RELATIVE_VARIANCE:
        warnings.warn(
            "some observed variances are (at least) a factor 1000 times larger than others: "
            f"{names[largest]!r} {variances[largest]:.4g}, {names[smallest]!r} "
            f"{variances[smallest]:.4g}; {hint}",
            DataWarning,
            stacklevel=5,
        )
    if variances[largest] > LARGE_VARIANCE:
        large = [names[j] for j in keep if variances[j] > LARGE_VARIANCE]
        warnings.warn(
            f"some observed variances are larger than 1000000: {', '.join(map(repr, large))}; "
            f"{hint}",
            DataWarning,
            stacklevel=5,
        )
