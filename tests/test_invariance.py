"""semlang.invariance against lavaan 0.6.14 and semTools' compareFit on Holzinger-Swineford by
school (tests/reference/diagnostics/invariance_hs_{ml,mlr}.json), also with missing="fiml" (ML
and MLR) and with group_partial (gaps14_invariance_*.json)."""

import json

import numpy as np
import pandas as pd
import pytest
from test_groups import punch_holes

import semlang
from semlang.errors import OptionError
from tests.reference_cases import REFERENCE_DIR

DATA = semlang.datasets.load("HolzingerSwineford1939")
MEASURES = {"npar": 0, "df": 0, "chisq": 0.02, "cfi": 1e-3, "tli": 1e-3, "rmsea": 1e-3,
            "srmr": 1e-3, "aic": 0.02, "bic": 0.02, "cfi_robust": 1e-3, "rmsea_robust": 1e-3,
            "chisq_scaled": 0.02, "cfi_scaled": 1e-3, "rmsea_scaled": 1e-3}  # fmt: skip
WITH_ESTIMATES = ["gaps14_invariance_fiml_ml", "gaps14_invariance_fiml_mlr",
                  "gaps14_invariance_partial", "gaps14_invariance_partial_mlr"]  # fmt: skip
CASES = ["invariance_hs_ml", "invariance_hs_mlr", *WITH_ESTIMATES]


def _ref(name):
    path = REFERENCE_DIR / "diagnostics" / f"{name}.json"
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def results():
    """The invariance sequence of each reference, fitted once on first use."""
    fitted = {}

    def get(name):
        if name not in fitted:
            ref = _ref(name)
            options = {"estimator": ref["estimator"]} if "estimator" in ref else {
                key.replace(".", "_"): value for key, value in ref["options"].items()
            }  # fmt: skip
            data = punch_holes(DATA) if ref.get("prep") == "hs_holes" else DATA
            fitted[name] = ref, semlang.invariance(ref["model"], data, group="school", **options)
        return fitted[name]

    return get


@pytest.fixture(params=CASES)
def case(request, results):
    return results(request.param)


@pytest.fixture(params=WITH_ESTIMATES)
def case_with_estimates(request, results):
    return results(request.param)


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


def test_estimates_match_lavaan(case_with_estimates):
    ref, result = case_with_estimates
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
    table = result.table
    assert table.loc["scalar", "delta_cfi"] == pytest.approx(
        ref["compare_fit_diff"][1]["cfi"], abs=1e-3
    )
    assert np.isnan(table.loc["configural", "chisq_diff"])
    text = str(result)
    assert "configural" in text and "strict" in text and "delta_cfi" in text


def test_scaled_differences_with_mlr():
    ref = _ref("invariance_hs_mlr")
    plain = _ref("invariance_hs_ml")
    # the scaled difference of MLR is not the plain one: the test really uses scaling
    assert abs(ref["lrt"][2]["Chisq diff"] - plain["lrt"][2]["Chisq diff"]) > 0.1


def test_bad_steps():
    model = _ref("invariance_hs_ml")["model"]
    with pytest.raises(OptionError, match="unknown invariance step"):
        semlang.invariance(model, DATA, group="school", steps=("configural", "weak"))
    with pytest.raises(OptionError, match="least to the most"):
        semlang.invariance(model, DATA, group="school", steps=("metric", "configural"))
    with pytest.raises(OptionError, match="group_equal"):
        semlang.invariance(model, DATA, group="school", group_equal=["loadings"])


def test_group_partial_frees_the_parameter_in_every_step():
    ref = _ref("gaps14_invariance_partial")
    result = semlang.invariance(ref["model"], DATA, group="school",
                                group_partial="visual =~ x2")  # fmt: skip
    for step in ("metric", "scalar", "strict"):
        rows = result.fits[step].estimates()
        x2 = rows[(rows.lhs == "visual") & (rows.rhs == "x2")]
        x3 = rows[(rows.lhs == "visual") & (rows.rhs == "x3")]
        assert x2.est.iloc[0] != pytest.approx(x2.est.iloc[1], abs=1e-3), step
        assert x3.est.iloc[0] == pytest.approx(x3.est.iloc[1], abs=1e-9), step
