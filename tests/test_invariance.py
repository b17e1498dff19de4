"""semlang.invariance against lavaan 0.6.14 and semTools' compareFit on Holzinger-Swineford by
school (tests/reference/diagnostics/invariance_hs_{ml,mlr}.json)."""

import json

import numpy as np
import pytest

import semlang
from semlang.errors import OptionError
from tests.reference_cases import REFERENCE_DIR

DATA = semlang.datasets.load("HolzingerSwineford1939")
MEASURES = {"npar": 0, "df": 0, "chisq": 0.02, "cfi": 1e-3, "tli": 1e-3, "rmsea": 1e-3,
            "srmr": 1e-3, "aic": 0.02, "bic": 0.02, "cfi_robust": 1e-3, "rmsea_robust": 1e-3,
            "chisq_scaled": 0.02}  # fmt: skip


def _ref(estimator):
    path = REFERENCE_DIR / "diagnostics" / f"invariance_hs_{estimator}.json"
    return json.loads(path.read_text())


@pytest.fixture(scope="module", params=["ml", "mlr"])
def case(request):
    ref = _ref(request.param)
    result = semlang.invariance(ref["model"], DATA, group="school", estimator=ref["estimator"])
    return ref, result


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
    ref = _ref("mlr")
    plain = _ref("ml")
    # the scaled difference of MLR is not the plain one: the test really uses scaling
    assert abs(ref["lrt"][2]["Chisq diff"] - plain["lrt"][2]["Chisq diff"]) > 0.1


def test_bad_steps():
    model = _ref("ml")["model"]
    with pytest.raises(OptionError, match="unknown invariance step"):
        semlang.invariance(model, DATA, group="school", steps=("configural", "weak"))
    with pytest.raises(OptionError, match="least to the most"):
        semlang.invariance(model, DATA, group="school", steps=("metric", "configural"))
    with pytest.raises(OptionError, match="group_equal"):
        semlang.invariance(model, DATA, group="school", group_equal=["loadings"])
