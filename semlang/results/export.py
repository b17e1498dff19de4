"""Fit -> machine-readable output: JSON and CSV.

Input: a :class:`~semlang.results.fit.Fit`. Output: text.

* :func:`to_json`: ``{"estimates": [one object per row of fit.estimates()], "fit_measures":
  {...}}``; NaN becomes ``null``, numpy numbers become plain JSON numbers.
* :func:`to_csv`: the estimates table (a header line, one line per row; NaN as an empty field).
* :func:`fit_measures_csv`: the fit measures as a two-column table ``measure,value``.

The numbers are those of ``fit.estimates()`` and ``fit.fit_measures()``, at full precision.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """A JSON-ready Python value: numpy scalars to int/float/bool/str, NaN and ±Inf to None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is None:
        return None
    return value


def estimates_records(fit) -> list[dict[str, Any]]:
    """The rows of ``fit.estimates()`` as plain dicts (column name -> value)."""
    frame = fit.estimates()
    columns = list(frame.columns)
    return [
        {name: plain(value) for name, value in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def fit_measures_dict(fit) -> dict[str, Any]:
    """``fit.fit_measures()`` with plain values."""
    return {str(name): plain(value) for name, value in fit.fit_measures().items()}


def to_json(fit, indent: int | None = 2) -> str:
    """The estimates and the fit measures as one JSON document."""
    document = {"estimates": estimates_records(fit), "fit_measures": fit_measures_dict(fit)}
    return json.dumps(document, indent=indent, allow_nan=False)


def to_csv(fit) -> str:
    """The estimates table as CSV."""
    buffer = io.StringIO()
    fit.estimates().to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def fit_measures_csv(fit) -> str:
    """The fit measures as CSV with the columns ``measure`` and ``value``."""
    measures = fit_measures_dict(fit)
    values = pd.Series(list(measures.values()), dtype=object)  # counts stay whole numbers
    frame = pd.DataFrame({"measure": list(measures), "value": values})
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()
