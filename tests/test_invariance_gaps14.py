"""semlang.invariance with missing="fiml" (ML and MLR) and with group_partial against lavaan
0.6.14 and semTools' compareFit (tests/reference/diagnostics/gaps14_invariance_*.json)."""

import json

import numpy as np
import pandas as pd
import pytest
from test_groups import punch_holes

import semlang
from tests.reference_cases import REFERENCE_DIR

DATA = semlang.datasets.load("HolzingerSwineford1939")
MEASURES = {"npar": 0, "df": 0, "chisq": 0.02, "cfi": 1e-3, "tli": 1e-3, "rmsea": 1e-3,
            "srmr": 1e-3, "aic": 0.02, "bic": 0.02, "cfi_robust": 1e-3, "rmsea_robust": 1e-3,
            "chisq_scaled": 0.02, "cfi_scaled": 1e-3, "rmsea_scaled": 1e-3}  # fmt: skip
CASES = ["fiml_ml", "fiml_mlr", "partial", "partial_mlr"]


def _ref(name):
    path = REFERENCE_DIR / "diagnostics" / f"gaps14_invariance_{name}.json"
    return json.loads(path.read_text())


@pytest.fixture(scope="module", params=CASES)
def case(request):
    ref = _ref(request.param)
    options = {key.replace(".", "_"): value for key, value in ref["options"].items()}
    data = punch_holes(DATA) if ref.get("prep") == "hs_holes" else DATA
    return ref, semlang.invariance(ref["model"], data, group="school", **options)


def test_each_step_matches_lavaan(case):
    ref, result = case
    assert result.steps == ("configural", "metric", "scalar", "strict")
    for step, fit in result.fits.items():
        mine = fit.fit_measures()
        for name, tol in MEASURES.items():
            theirs = ref["fit_measures"][step].get(name.replace("_", "."))
            if theirs is None:
                continue
            assert abs(mine[name] - theirs) <= tol + 1e-5 * abs(theirs), f"{step} {name}"


def test_estimates_match_lavaan(case):
    ref, result = case
    keys = ["lhs", "op", "rhs", "group"]
    for step, fit in result.fits.items():
        theirs = pd.DataFrame(ref["estimates"][step])
        both = theirs.merge(fit.estimates(), on=keys, how="left", suffixes=("_ref", ""))
        assert len(both) == len(theirs), step
        assert np.allclose(both.est, both.est_ref, atol=2e-3, rtol=1e-3), step
        assert np.allclose(both.se, both.se_ref, atol=2e-3, rtol=5e-3), step


def test_lrt_table_matches_lavaan(case):
    ref, result = case
    for row in ref["lrt"]:
        mine = result.lrt.loc[row["step"]]
        assert mine["Df"] == row["Df"]
        assert abs(mine["Chisq"] - row["Chisq"]) <= 0.02
        if row["Chisq diff"] is not None:
            assert abs(mine["Chisq diff"] - row["Chisq diff"]) <= 0.02, row["step"]
            assert mine["Df diff"] == row["Df diff"]
            assert abs(mine["Pr(>Chisq)"] - row["Pr(>Chisq)"]) <= 1e-3


def test_fit_differences_match_compare_fit(case):
    ref, result = case
    assert len(result.deltas) == len(ref["compare_fit_diff"]) == 3
    for (label, mine), theirs in zip(result.deltas.iterrows(), ref["compare_fit_diff"],
                                     strict=True):  # fmt: skip
        for name in mine.index:
            tol = 0.02 if name in ("aic", "bic") else 1e-3
            assert abs(mine[name] - theirs[name.replace("_", ".")]) <= tol, f"{label} {name}"


def test_group_partial_frees_the_parameter_in_every_step():
    ref = _ref("partial")
    result = semlang.invariance(ref["model"], DATA, group="school",
                                group_partial="visual =~ x2")  # fmt: skip
    for step in ("metric", "scalar", "strict"):
        rows = result.fits[step].estimates()
        x2 = rows[(rows.lhs == "visual") & (rows.rhs == "x2")]
        x3 = rows[(rows.lhs == "visual") & (rows.rhs == "x3")]
        assert x2.est.iloc[0] != pytest.approx(x2.est.iloc[1], abs=1e-3), step
        assert x3.est.iloc[0] == pytest.approx(x3.est.iloc[1], abs=1e-9), step
