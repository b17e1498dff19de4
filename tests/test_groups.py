"""Several groups: every ``group_equal`` word, ``group_partial``, ``c()`` modifiers, labels shared
across groups, fixed.x covariates and bad grouping columns, against lavaan 0.6.14
(``tests/reference/groups/``, made by ``tools/groups_reference.R``).

The helpers at the top (data preparations named in the reference files, fitting a case and
comparing it) are shared with ``test_mlr.py``, ``test_fiml_more.py`` and ``test_lrt.py``.
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_cases import FIT_MEASURE_KIND, assert_matches, row_key

import semlang
from semlang.errors import DataError, DataWarning, OptionError

GROUPS_DIR = Path(__file__).parent / "reference" / "groups"
HS_MODEL = """
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"""
HS_ITEMS = [f"x{k}" for k in range(1, 10)]


# ---------------------------------------------------------------- data preparations (see R)


def punch_holes(frame: pd.DataFrame) -> pd.DataFrame:
    """With i the 1-based row number: x1 missing where i % 7 == 0, x4 where i % 9 == 2, x8 where
    i % 11 == 4, x3 where i % 13 == 1 and i is odd."""
    out = frame.copy()
    i = np.arange(1, len(out) + 1)
    out.loc[i % 7 == 0, "x1"] = np.nan
    out.loc[i % 9 == 2, "x4"] = np.nan
    out.loc[i % 11 == 4, "x8"] = np.nan
    out.loc[(i % 13 == 1) & (i % 2 == 1), "x3"] = np.nan
    return out


def _empty_rows(frame: pd.DataFrame) -> pd.DataFrame:
    out = punch_holes(frame)
    out.loc[[2, 49, 199], HS_ITEMS] = np.nan
    return out


def _missing_x(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.loc[0:9, "ageyr"] = np.nan
    out.loc[10:19, "x1"] = np.nan
    return out


def _school_na(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["school"] = out["school"].astype(object)
    out.loc[[4, 8], "school"] = np.nan
    return out


def _school_sex(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(g4=frame["school"] + " " + frame["sex"].astype(str))


def _halves(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(half=np.where(np.arange(1, len(frame) + 1) <= 38, "first", "second"))


PREPS = {
    "hs_holes": punch_holes,
    "hs_holes_empty": _empty_rows,
    "hs_missing_x": _missing_x,
    "hs_school_na": _school_na,
    "hs_school_sex": _school_sex,
    "poldem_halves": _halves,
}


# ---------------------------------------------------------------- cases


@cache
def load_group_case(name: str) -> dict:
    with open(GROUPS_DIR / f"{name}.json") as handle:
        return json.load(handle)


def case_data(name: str) -> pd.DataFrame:
    case = load_group_case(name)
    frame = semlang.datasets.load(case["data"].removesuffix(".csv"))
    return PREPS[case["prep"]](frame) if case["prep"] else frame


def case_options(name: str) -> dict:
    options = load_group_case(name)["options"] or {}
    return {key.replace(".", "_"): value for key, value in options.items()}


@cache
def fit_group_case(name: str):
    """The case fitted by semlang (warnings silenced; tests of warnings fit on their own)."""
    case = load_group_case(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return getattr(semlang, case["fun"])(case["model"], case_data(name), **case_options(name))


def assert_estimates_match(name: str, fit, reference: dict | None = None) -> None:
    """est, se and std.all of every row of lavaan's parameterEstimates()."""
    reference = reference or load_group_case(name)
    ours = {(r.lhs, r.op, r.rhs, r.group): r for r in fit.estimates().itertuples()}
    assert len(ours) == len(reference["estimates"])
    for row in reference["estimates"]:
        mine = ours[row_key(row)]
        what = f"{name} {row['lhs']} {row['op']} {row['rhs']} group {row.get('group')}"
        assert_matches("est", mine.est, row["est"], what + " est")
        assert_matches("se", mine.se, row["se"], what + " se")
        if row.get("std.all") is not None:
            assert_matches("std_all", mine.std_all, row["std.all"], what + " std_all")


def measure_kind(key: str) -> str:
    """Tolerance kind of a fit measure: χ²-like statistics as chisq, df exactly, the rest as
    fit indices."""
    if key in FIT_MEASURE_KIND:
        return FIT_MEASURE_KIND[key]
    if key.startswith(("df_", "baseline_df")):
        return "exact"
    if "chisq" in key and "scaling" not in key:
        return "chisq"
    return "fit_index"


def assert_measures_match(name: str, ours: dict, skip=(), reference: dict | None = None) -> None:
    reference = reference or load_group_case(name)
    for key, value in reference["fit_measures"].items():
        key = key.replace(".", "_")
        if key in skip:
            continue
        assert key in ours, f"{name}: no fit measure {key}"
        assert_matches(measure_kind(key), ours[key], value, f"{name} {key}")


# ---------------------------------------------------------------- lavaan's numbers

GROUP_CASES = [
    "hs_configural",
    "hs_loadings",
    "hs_intercepts_only",
    "hs_strong",
    "hs_means",
    "hs_residuals",
    "hs_lv_variances",
    "hs_lv_covariances",
    "hs_all_equal",
    "hs_residual_covariances",
    "hs_regressions",
    "hs_partial",
    "hs_stdlv_loadings",
    "hs_cvector",
    "hs_shared_labels",
    "hs_fixed_in_one",
    "hs_four_groups",
    "poldem_halves",
    "hs_school_na",
    "mimic_fixedx_false",
]


@pytest.mark.parametrize("name", GROUP_CASES)
def test_estimates_match_lavaan(name):
    fit = fit_group_case(name)
    assert fit.converged
    assert_estimates_match(name, fit)


@pytest.mark.parametrize("name", GROUP_CASES)
def test_fit_measures_match_lavaan(name):
    assert_measures_match(name, fit_group_case(name).fit_measures())


@pytest.mark.parametrize("name", ["hs_configural", "hs_four_groups", "poldem_halves"])
def test_groups_in_order_of_first_appearance(name):
    case = load_group_case(name)
    fit = fit_group_case(name)
    assert [g.label for g in fit.sample.groups] == case["group_labels"]
    assert [g.nobs for g in fit.sample.groups] == case["nobs"]


def _rows(fit, lhs, op, rhs):
    return [r for r in fit.table.parameters if (r.lhs, r.op.value, r.rhs) == (lhs, op, rhs)]


def test_equal_to_a_fixed_parameter_is_fixed():
    """c(1, NA)*x5 with equal loadings: lavaan fixes x5's loading to 1 in both groups."""
    rows = _rows(fit_group_case("hs_fixed_in_one"), "textual", "=~", "x5")
    assert [(r.free, r.value) for r in rows] == [(0, 1.0), (0, 1.0)]


def test_covariates_are_not_intercepts_or_residuals():
    """fixed_x=False: the covariates' means and variances stay free in each group."""
    fit = fit_group_case("mimic_fixedx_false")
    for lhs, op, rhs in [("ageyr", "~1", ""), ("ageyr", "~~", "ageyr"), ("ageyr", "~~", "agemo")]:
        first, second = _rows(fit, lhs, op, rhs)
        assert first.free and second.free and first.free != second.free
    first, second = _rows(fit, "visual", "~", "ageyr")
    assert first.free == second.free


def test_partial_releases_one_parameter_in_every_group():
    fit = fit_group_case("hs_partial")
    first, second = _rows(fit, "visual", "=~", "x2")
    assert first.free != second.free
    first, second = _rows(fit, "visual", "=~", "x3")
    assert first.free == second.free


# ---------------------------------------------------------------- bad grouping columns


def _hs() -> pd.DataFrame:
    return semlang.datasets.load("HolzingerSwineford1939")


def test_one_group_is_an_error():
    data = _hs().assign(one="A")
    with pytest.raises(DataError, match="only one group"):
        semlang.cfa(HS_MODEL, data, group="one")


def test_group_column_without_values_is_an_error():
    data = _hs().assign(school=np.nan)
    with pytest.raises(DataError, match="no values"):
        semlang.cfa(HS_MODEL, data, group="school")


def test_unknown_group_column_suggests_a_name():
    with pytest.raises(DataError, match="not in the data") as error:
        semlang.cfa(HS_MODEL, _hs(), group="schol")
    assert "school" in str(error.value.hint)


def test_rows_without_a_group_are_dropped_with_a_warning():
    with pytest.warns(DataWarning, match="2 of 301 rows.*school"):
        fit = semlang.cfa(HS_MODEL, case_data("hs_school_na"), group="school")
    assert fit.nobs == 299
    assert fit.sample.n_dropped == 2


def test_group_smaller_than_the_number_of_variables():
    data = _hs().assign(g=np.where(np.arange(301) < 5, "small", "big"))
    with pytest.raises(DataError, match="only 5 complete rows in group 'small' for 9 variables"):
        semlang.cfa(HS_MODEL, data, group="g")
    with pytest.raises(DataError, match="only 5 rows in group 'small' for 9 variables"):
        semlang.cfa(HS_MODEL, data, group="g", missing="fiml")


@pytest.mark.parametrize("missing", ["listwise", "fiml"])
def test_variable_constant_within_one_group(missing):
    data = _hs()
    data.loc[data.school == "Pasteur", "x2"] = 3.0
    with pytest.raises(DataError, match="'x2' is constant in group 'Pasteur'"):
        semlang.cfa(HS_MODEL, data, group="school", missing=missing)


@pytest.mark.parametrize("missing", ["listwise", "fiml"])
def test_variable_missing_in_one_group(missing):
    data = _hs()
    data.loc[data.school == "Pasteur", "x5"] = np.nan
    with pytest.raises(DataError, match="'x5' is missing in every row of group 'Pasteur'"):
        semlang.cfa(HS_MODEL, data, group="school", missing=missing)


def test_unknown_group_partial_is_an_error():
    with pytest.raises(OptionError, match="visual=~x9") as error:
        semlang.cfa(
            HS_MODEL, _hs(), group="school", group_equal="loadings", group_partial="visual=~x9"
        )
    assert "visual=~x3" in str(error.value.hint)


def test_numeric_group_labels_print_as_lavaan():
    """A numeric group column with a missing value is read as floats; labels stay "2", "1"."""
    data = _hs().assign(g=lambda d: np.where(d.school == "Pasteur", 2.0, 1.0))
    data.loc[3, "g"] = np.nan
    with pytest.warns(DataWarning, match="1 of 301 rows"):
        fit = semlang.cfa(HS_MODEL, data, group="g")
    assert [g.label for g in fit.sample.groups] == ["2", "1"]
    assert [g.nobs for g in fit.sample.groups] == [155, 145]
