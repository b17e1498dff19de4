"""semlang.efa() against lavaan 0.6.14's efa() (tests/reference/efa/, tools/efa_reference.R):
rotated loadings, unique variances and factor correlations with their standard errors, the fit
measures of each number of factors and the printed summary."""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import pandas as pd
import pytest

import semlang
from tests.reference_cases import REFERENCE_DIR, assert_matches, load_case

CASES = sorted(p.stem for p in (REFERENCE_DIR / "efa").glob("*.json") if "_" in p.stem
               and p.stem not in ("other_packages",))  # fmt: skip
FAST = ("hs_geomin", "hs_oblimin", "hs_quartimin", "hs_varimax", "hs_promax",
        "hs_geomin_orthogonal", "hs_geomin_uls", "hs_nf1to3")  # fmt: skip
MEASURES = ("npar", "chisq", "df", "pvalue", "baseline_chisq", "baseline_df", "cfi", "tli",
            "logl", "unrestricted_logl", "aic", "bic", "rmsea", "rmsea_ci_lower",
            "rmsea_ci_upper", "rmsea_pvalue", "srmr")  # fmt: skip
KIND = {"npar": "exact", "df": "exact", "baseline_df": "exact", "chisq": "chisq",
        "baseline_chisq": "chisq", "logl": "logl", "unrestricted_logl": "logl", "aic": "logl",
        "bic": "logl"}  # fmt: skip


def case(name: str) -> dict:
    return load_case(f"efa/{name}")


def case_data(ref: dict) -> pd.DataFrame:
    data = semlang.datasets.load("hs" if ref["data"].startswith("Holzinger") else "bfi")
    return data[ref["variables"]]


@cache
def fitted(name: str):
    ref = case(name)
    args = {k.replace(".", "_"): v for k, v in (ref["rotation_args"] or {}).items()}
    options = ref["options"] or {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return semlang.efa(
            case_data(ref),
            nfactors=ref["nfactors"],
            rotation=ref["rotation"],
            rotation_args=args,
            estimator=options.get("estimator", "ML"),
        )


def params(name: str):
    mark = () if name in FAST else (pytest.mark.slow,)
    return pytest.param(name, marks=mark)


@pytest.mark.parametrize("name", [params(n) for n in CASES])
def test_estimates_and_standard_errors(name):
    ref = case(name)
    result = fitted(name)
    for key, fit in ref["fits"].items():
        mine = result[int(key.removeprefix("nf"))].estimates().set_index(["lhs", "op", "rhs"])
        for row in fit["estimates"]:
            at = (row["lhs"], row["op"], row["rhs"])
            what = f"{name} {key} {' '.join(at)}"
            assert_matches("est", mine.loc[at, "est"], row["est"], what + " est")
            assert_matches("std_all", mine.loc[at, "std_all"], row["std.all"], what + " std")
            if row.get("se") is not None and ref["rotation"] != "promax":
                assert_matches("se", mine.loc[at, "se"], row["se"], what + " se")


@pytest.mark.parametrize("name", [params(n) for n in CASES])
def test_fit_measures(name):
    ref = case(name)
    result = fitted(name)
    for m, measures in zip(np.atleast_1d(ref["nfactors"]), ref["fit_measures"], strict=True):
        mine = result[int(m)].fit_measures
        for measure in MEASURES:
            reference = measures.get(measure.replace("_", "."))
            if reference is None and measure not in mine:
                continue
            kind = KIND.get(measure, "fit_index")
            assert_matches(kind, mine.get(measure, float("nan")), reference, f"{name} {measure}")


@pytest.mark.parametrize("name", [params(n) for n in CASES])
def test_summary_as_lavaan(name):
    """The printed summary equals lavaan's line for line (after its first line)."""
    ref = case(name)
    mine = fitted(name).summary().splitlines()
    theirs = ref["summary"]
    assert [line.rstrip() for line in mine[1:]] == [line.rstrip() for line in theirs[1:]]


def test_comparison_table_of_nfactors():
    table = fitted("hs_nf1to3").fit_table()
    assert list(table.columns) == ["aic", "bic", "sabic", "chisq", "df", "pvalue", "cfi", "rmsea"]
    assert list(table.index) == ["nfactors = 1", "nfactors = 2", "nfactors = 3"]
    assert list(table["df"]) == [27, 19, 12]
    assert_matches("chisq", table["chisq"].iloc[0], 312.264, "chisq nf1")
