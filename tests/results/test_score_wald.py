"""Score tests (lavTestScore) and Wald tests (lavTestWald) against lavaan 0.6.14."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

import semlang
from tests.reference_cases import assert_matches

DIAGNOSTICS = Path(__file__).resolve().parents[1] / "reference" / "diagnostics"
HS_DATA = "HolzingerSwineford1939"


def load(name: str) -> dict:
    with open(DIAGNOSTICS / f"modindices_{name}.json") as handle:
        return json.load(handle)


@cache
def hs_fit(groups: bool):
    case = load("score_hs_groups" if groups else "score_hs_add")
    options = {"group": "school", "group_equal": ["loadings", "intercepts"]} if groups else {}
    return semlang.cfa(case["model"], semlang.datasets.load(HS_DATA), **options)


def check_rows(frame, reference, what):
    assert len(frame) == len(reference)
    for (_, row), ref in zip(frame.iterrows(), reference, strict=True):
        assert (row.lhs, row.rhs) == (ref["lhs"], ref["rhs"])
        assert row.df == ref["df"]
        assert_matches("chisq", row.X2, ref["X2"], f"{what} {row.lhs}=={row.rhs}")
        if "epc" in ref:
            assert_matches("est", row.epc, ref["epc"], f"{what} epc {row.lhs}")


def test_score_test_of_added_parameters():
    case = load("score_hs_add")
    out = semlang.score_test(hs_fit(False), add=case["add"], cumulative=True, epc=True)
    test = out["test"].iloc[0]
    assert test.df == case["test"][0]["df"]
    assert_matches("chisq", test.X2, case["test"][0]["X2"], "total")
    check_rows(out["uni"], case["uni"], "uni")
    check_rows(out["cumulative"], case["cumulative"], "cumulative")


@pytest.mark.parametrize("name", ["score_hs_groups", "score_hs_groups_release"])
def test_score_test_of_released_equalities(name):
    case = load(name)
    release = case.get("release", range(1, len(case["uni"]) + 1))
    out = semlang.score_test(hs_fit(True), release=release, cumulative=True)
    assert out["test"].iloc[0].df == case["test"][0]["df"]
    assert_matches("chisq", out["test"].iloc[0].X2, case["test"][0]["X2"], "total")
    check_rows(out["uni"], case["uni"], "uni")
    if "cumulative" in case:
        check_rows(out["cumulative"], case["cumulative"], "cumulative")


def test_score_test_without_constraints_needs_add():
    with pytest.raises(semlang.ModelError, match="no equality constraints to release"):
        semlang.score_test(hs_fit(False))
    with pytest.raises(semlang.ModelError, match="unknown variable 'x99'"):
        semlang.score_test(hs_fit(False), add="x1 ~~ x99")


@pytest.mark.parametrize("name", ["one", "two", "expr", "mlr"])
def test_wald_matches_lavaan(name):
    case = load(f"wald_poldem_{name}")
    fit = semlang.sem(case["model"], semlang.datasets.load("PoliticalDemocracy"), **case["options"])
    out = semlang.wald(fit, case["constraints"])
    assert out["df"] == case["df"] and out["se"] == case["se"]
    assert_matches("chisq", out["stat"], case["stat"], "stat")
    assert abs(out["p_value"] - case["pvalue"]) < 1e-4


def test_wald_unknown_label_is_located():
    case = load("wald_poldem_two")
    fit = semlang.sem(case["model"], semlang.datasets.load("PoliticalDemocracy"))
    with pytest.raises(semlang.ModelError) as error:
        semlang.wald(fit, "b1 == 0; bb2 == b3")
    assert "unknown label 'bb2'" in str(error.value)
    assert "did you mean 'b2'" in str(error.value)
    assert error.value.span.start == 9


def test_score_test_of_a_robust_fit_is_the_ordinary_one_with_lavaans_warning():
    case = load("score_hs_add")
    data = semlang.datasets.load(HS_DATA)
    robust = semlang.cfa(case["model"], data, estimator="MLR")
    with pytest.warns(semlang.errors.SemlangWarning, match="not robust"):
        result = semlang.score_test(robust, add=case["add"])
    ordinary = semlang.score_test(hs_fit(False), add=case["add"])
    assert result["test"].X2.iloc[0] == pytest.approx(ordinary["test"].X2.iloc[0], rel=1e-6)
