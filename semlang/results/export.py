"""Fit -> machine-readable output: JSON and CSV.

Input: a :class:`~semlang.results.fit.Fit`. Output: text.

* :func:`to_json`: ``{"semlang_version", "converged", "iterations", "nobs", "groups": [{"group",
  "nobs"}, ...] (and "nclusters", "random_starts"), "options": {"model": {...}, "fit": {...}},
  "warnings": [...], "estimates": [one object per row of fit.estimates()], "fit_measures":
  {...}}``; NaN becomes ``null``, numpy numbers become plain JSON numbers, options their lavaan
  words. The warnings are those the fit gave and those computing the estimates and fit measures
  gave.
* :func:`to_csv`: the estimates table (a header line, one line per row; NaN as an empty field).
* :func:`fit_measures_csv`: the fit measures as a two-column table ``measure,value``.

The numbers are those of ``fit.estimates()`` and ``fit.fit_measures()``, at full precision.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import fields
from enum import Enum
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


def _option(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [_option(v) for v in value]
    return plain(value)


_INTERNAL = ("fixed_x_given", "se_given", "test_observed_h1")


def options_dict(fit) -> dict[str, Any]:
    """The model's and the fit's options, resolved (lavaan's defaults applied)."""
    out = {}
    for name, options in (("model", fit.table.options), ("fit", fit.options)):
        out[name] = {
            f.name: _option(getattr(options, f.name))
            for f in fields(options)
            if f.name not in _INTERNAL
        }
    out["model"]["meanstructure"] = bool(fit.table.meanstructure)
    return out


def run_info(fit) -> dict[str, Any]:
    """The version, the optimizer's report and the numbers of observations per group."""
    from semlang import __version__

    labels = fit.table.group_labels or ("1",)
    nobs = fit.sample.group_nobs
    info: dict[str, Any] = {
        "semlang_version": __version__,
        "converged": bool(fit.converged),
        "iterations": int(fit.iterations),
        "nobs": int(fit.nobs),
        "groups": [
            {"group": str(label), "nobs": int(n)} for label, n in zip(labels, nobs, strict=False)
        ],
    }
    nclusters = getattr(fit.sample, "nclusters", None)
    if nclusters is not None:
        info["nclusters"] = plain(nclusters)
    starts = fit.random_starts
    if starts is not None:
        info["random_starts"] = {
            "starts": starts.n_starts,
            "converged": starts.n_converged,
            "better": starts.better,
            "improvement": plain(starts.improvement),
        }
    return info


def to_json(fit, indent: int | None = 2) -> str:
    """The run's report, options and warnings, the estimates and the fit measures as one JSON
    document."""
    from semlang.results.diagnostics import recording

    messages = list(getattr(fit, "warnings", ()))
    with recording(messages):
        estimates, measures = estimates_records(fit), fit_measures_dict(fit)
    document = {
        **run_info(fit),
        "options": options_dict(fit),
        "warnings": messages,
        "estimates": estimates,
        "fit_measures": measures,
    }
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
