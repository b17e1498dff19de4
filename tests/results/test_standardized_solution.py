"""The standardized solution with inference against lavaan 0.6.14's ``standardizedSolution()``
(std.all, std.lv, std.nox: est.std, se, z, pvalue, ci.lower, ci.upper) on one group, := rows,
several groups with equality constraints, MLR, MLM, FIML and two levels; the ``std_nox`` column
and ``level=0.90`` intervals of ``estimates()``; an improper solution (a negative variance)."""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_groups import punch_holes

import semlang
from tests.reference_cases import assert_matches

REFERENCE = Path(__file__).parents[1] / "reference" / "diagnostics"
CASES = ("hs_cfa", "poldem_mediation", "hs_groups_equal", "hs_mlr", "hs_mlm", "hs_fiml",
         "hs_mimic", "hs_improper", "twolevel")  # fmt: skip
TYPES = ("std.all", "std.lv", "std.nox")


@cache
def load(name: str) -> dict:
    with open(REFERENCE / f"standardized_{name}.json") as f:
        return json.load(f)


@cache
def fit_case(name: str):
    case = load(name)
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    if case.get("prep") == "hs_holes":
        data = punch_holes(data)
    options = {k.replace(".", "_"): v for k, v in (case["options"] or {}).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return getattr(semlang, case["fun"])(case["model"], data, **options)


def _key(frame: pd.DataFrame) -> list[tuple]:
    level = frame["level"] if "level" in frame else [1] * len(frame)
    group = [0 if op == ":=" else g for op, g in zip(frame["op"], frame["group"], strict=True)]
    return list(zip(frame["lhs"], frame["op"], frame["rhs"], group, level, strict=True))


@pytest.mark.parametrize("kind", TYPES)
@pytest.mark.parametrize("name", CASES)
def test_standardized_solution_matches_lavaan(name, kind):
    reference = pd.DataFrame(load(name)["standardized_solution"][kind])
    ours = fit_case(name).standardized_solution(type=kind)
    assert len(ours) == len(reference)
    assert _key(ours) == _key(reference.fillna({"rhs": ""}))
    for k, ref in reference.iterrows():
        what = f"{name} {kind} {ref.lhs}{ref.op}{ref.rhs} g{ref.group}"
        assert_matches("est", ours["est_std"][k], ref["est.std"], what)
        for column in ("se", "ci.lower", "ci.upper"):
            value = None if pd.isna(ref[column]) else ref[column]
            assert_matches("se", ours[column.replace(".", "_")][k], value, f"{what} {column}")
        if ref["se"] > 1e-3:  # z and p follow from est and se
            assert_matches("se", ours["z"][k], ref["z"], f"{what} z")
        else:
            assert np.isnan(ours["z"][k]) == pd.isna(ref["z"]), what


@pytest.mark.parametrize("name", ("hs_mimic", "poldem_mediation", "hs_groups_equal"))
def test_estimates_std_nox_and_level(name):
    reference = pd.DataFrame(load(name)["estimates_level90"])
    ours = fit_case(name).estimates(level=0.90)
    assert len(ours) == len(reference)
    for k, ref in reference.iterrows():
        what = f"{name} {ref.lhs}{ref.op}{ref.rhs} g{ref.group}"
        for column in ("std.lv", "std.all", "std.nox"):
            value = None if pd.isna(ref[column]) else ref[column]
            assert_matches("est", ours[column.replace(".", "_")][k], value, f"{what} {column}")
        for column in ("ci.lower", "ci.upper"):
            assert_matches("se", ours[column.replace(".", "_")][k], ref[column], what)


def test_std_nox_leaves_observed_covariates_in_their_units():
    frame = fit_case("hs_mimic").estimates()
    row = frame[(frame.lhs == "visual") & (frame.op == "~") & (frame.rhs == "sex")].iloc[0]
    assert row.std_nox == pytest.approx(row.std_lv)  # the covariate is not standardized
    assert row.std_all != pytest.approx(row.std_nox)


def test_improper_solution_is_finite_without_numpy_warnings():
    case = load("hs_improper")
    assert case["warnings"] == ["lavaan WARNING: some estimated ov variances are negative"]
    data = semlang.datasets.load("HolzingerSwineford1939")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = semlang.cfa(case["model"], data)
        frame = fit.estimates()
        solution = fit.standardized_solution()
        fit.summary(standardized=True, ci=True)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert any(issubclass(w.category, semlang.HeywoodWarning) for w in caught)
    row = frame[(frame.lhs == "x7") & (frame.op == "~~") & (frame.rhs == "x8")].iloc[0]
    assert_matches("est", row.std_all, -1.897010, "x7~~x8 std.all")
    assert np.isfinite(solution["est_std"]).all()


def test_summary_ci_columns():
    fit = fit_case("hs_cfa")
    text = fit.summary(ci=True, standardized=True)
    assert "ci.lower ci.upper   Std.lv  Std.all" in text
    line = next(s for s in text.splitlines() if s.strip().startswith("x2 "))
    frame = fit.estimates()
    x2 = frame[(frame.op == "=~") & (frame.rhs == "x2")].iloc[0]
    assert f"{x2.ci_lower:.3f}    {x2.ci_upper:.3f}" in line
    fixed = next(s for s in text.splitlines() if s.strip().startswith("x1 "))
    assert fixed.split()[1:3] == ["1.000", "1.000"]  # a fixed row: the interval is the value


def test_bad_type_and_level():
    fit = fit_case("hs_cfa")
    with pytest.raises(semlang.OptionError, match=r"std\.all"):
        fit.standardized_solution(type="std.ov")
    with pytest.raises(semlang.OptionError, match="level"):
        fit.estimates(level=95)
