"""The lavaan references of tests/reference/diagnostics/residuals_*.json (and gaps14*_*.json, of
the same layout) and their fits."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pandas as pd
from reference_cases import REFERENCE_DIR
from test_groups import punch_holes

import semlang


def _high(data):
    """The 'high' column of the gaps14 references: x1 above its median or not."""
    data = data.copy()
    data["high"] = np.where(data["x1"] > data["x1"].median(), "high", "low")
    return data


PREPS = {"hs_holes": punch_holes, "high": _high}


@cache
def load(name: str) -> dict:
    file = name if name.startswith("gaps14") else f"residuals_{name}"
    return json.loads((REFERENCE_DIR / "diagnostics" / f"{file}.json").read_text())


@cache
def fit_case(name: str):
    ref = load(name)
    data = semlang.datasets.load(ref["data"].removesuffix(".csv"))
    if ref.get("prep"):
        data = PREPS[ref["prep"]](data)
    options = {key.replace(".", "_"): value for key, value in ref["options"].items()}
    return getattr(semlang, ref["fun"])(ref["model"], data, **options)


def matrix(entry: dict) -> pd.DataFrame:
    values = np.array([[np.nan if v is None else v for v in row] for row in entry["values"]])
    return pd.DataFrame(values.reshape(len(entry["rows"]), -1), index=entry["rows"],
                        columns=entry["cols"])  # fmt: skip


def vector(entry: dict) -> pd.Series:
    values = [np.nan if v is None else v for v in entry["values"]]
    names = [entry["names"]] if isinstance(entry["names"], str) else entry["names"]
    return pd.Series(values, index=names, dtype=float)


def per_group(fit, entry):
    """The reference's per-group entries as {label: entry} (one group: {None: entry})."""
    if fit.table.ngroups == 1:
        return {None: entry}
    return entry


def assert_close(actual, reference, absolute: float, relative: float, what: str = "") -> None:
    a = np.asarray(actual, dtype=float)
    r = np.asarray(reference, dtype=float)
    assert a.shape == r.shape, what
    both_nan = np.isnan(a) & np.isnan(r)
    diff = np.where(both_nan, 0.0, np.abs(a - r))
    bound = absolute + relative * np.abs(np.nan_to_num(r))
    worst = np.nanargmax(diff - bound) if diff.size else 0
    assert np.all(diff <= bound), f"{what}: {a.flat[worst]} vs {r.flat[worst]}"
