"""The lavaan references of tests/reference/esem/ (made by tools/esem_reference.R) and their
comparison with a semlang fit: every estimate, standard error and std.all row, and the fit
measures, within the tolerances of tests/reference_cases.py."""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

from tests.reference_cases import FIT_MEASURE_KIND, assert_matches, row_key

ESEM_DIR = Path(__file__).parent / "reference" / "esem"


@cache
def load(name: str) -> dict:
    with open(ESEM_DIR / f"{name}.json") as f:
        return json.load(f)


def fit_case(name: str, **extra):
    """Fit a case with semlang as lavaan fitted it (function, data, options)."""
    import semlang

    case = load(name)
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    options = {k.replace(".", "_"): v for k, v in (case.get("options") or {}).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return getattr(semlang, case["fun"])(case["model"], data, **options, **extra)


def reference_fit_measures(name: str) -> dict:
    measures = load(name)["fit_measures"]
    pairs = zip(measures["names"], measures["values"], strict=True)
    return {k.replace(".", "_"): v for k, v in pairs}


def assert_case(fit, name: str, columns=("est", "se", "std_all")) -> None:
    """Every row of lavaan's parameterEstimates() against the fit's estimates."""
    frame = fit.estimates()
    ours = {row_key(row): row for row in frame.to_dict("records")}
    for ref in load(name)["estimates"]:
        key = row_key(ref)
        assert key in ours, f"{name}: no row {key}"
        for column in columns:
            kind = "est" if column == "est" else column
            value = ref[column.replace("_", ".")]
            assert_matches(kind, float(ours[key][column]), value, f"{name} {key} {column}")
    measures = fit.fit_measures()
    for key, value in reference_fit_measures(name).items():
        if key in FIT_MEASURE_KIND:
            assert_matches(FIT_MEASURE_KIND[key], measures[key], value, f"{name} {key}")
