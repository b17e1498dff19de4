"""efa() of continuous items under MLR, MLM and GLS, and ML with missing="fiml", fitted as lavaan
0.6.14's efa() fits them (one exploratory SEM of an efa block): estimates, standard errors and
every fit measure against tests/reference/efa_robust/ (tools/efa_robust_reference.R)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import semlang
from tests.reference_cases import FIT_MEASURE_KIND, assert_matches

REFERENCE = Path(__file__).parent / "reference" / "efa_robust"
DATA = semlang.datasets.load("HolzingerSwineford1939")


def with_holes(frame: pd.DataFrame) -> pd.DataFrame:
    """The data with holes of tools/reference_common.R (punch_holes)."""
    out = frame.copy()
    i = np.arange(1, len(out) + 1)
    out.loc[i % 7 == 0, "x1"] = np.nan
    out.loc[i % 9 == 2, "x4"] = np.nan
    out.loc[i % 11 == 4, "x8"] = np.nan
    out.loc[(i % 13 == 1) & (i % 2 == 1), "x3"] = np.nan
    return out


def fit_case(name: str):
    case = json.loads((REFERENCE / f"hs_geomin_{name}.json").read_text())
    data = DATA[case["variables"]]
    options = {k.replace(".", "_"): v for k, v in case["options"].items()}
    if options.get("missing"):
        data = with_holes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        fits = semlang.efa(data, nfactors=3, **options)
    return case, fits[3]


@pytest.mark.parametrize("estimator", ["mlr", "mlm", "gls", "ml_fiml"])
def test_efa_estimator_as_lavaan(estimator):
    case, fit = fit_case(estimator)
    ours = {(r.lhs, r.op, r.rhs): r for r in fit.estimates().itertuples()}
    for ref in case["estimates"]:
        key = (ref["lhs"], ref["op"], ref["rhs"])
        row = ours.get(key) or ours[(ref["rhs"], ref["op"], ref["lhs"])]
        assert_matches("est", row.est, ref["est"], f"{estimator} {key} est")
        assert_matches("se", row.se, ref["se"], f"{estimator} {key} se")
    measures = fit.fit_measures  # (an EfaFit holds them as a dict)
    names, values = case["fit_measures"]["names"], case["fit_measures"]["values"]
    for name, value in zip(names, values, strict=True):
        key = name.replace(".", "_")
        if value is None:
            assert measures[key] is None or measures[key] != measures[key], key  # NA: None/nan
            continue
        kind = FIT_MEASURE_KIND.get(key, "chisq" if abs(value) > 1 else "fit_index")
        assert_matches(kind, measures[key], value, f"{estimator} {key}")
    assert "Estimator" in str(fit.summary())


def test_efa_estimator_needs_rows():
    cov = DATA[[f"x{i}" for i in range(1, 10)]].cov()
    with pytest.raises(semlang.SemlangError, match="needs the data rows"):
        semlang.efa(sample_cov=cov, sample_nobs=301, nfactors=2, estimator="MLR")
