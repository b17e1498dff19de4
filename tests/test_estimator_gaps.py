"""Three combinations against lavaan 0.6.14 (references of tools/gaps_reference.R):
likelihood='wishart' with estimator='MLR' (HS CFA, Political Democracy SEM), cluster= with
missing='fiml' and with several groups (single-level MIMIC on Demo.twolevel, MLR), and
lrt()'s Satorra (2000) scaled-and-shifted difference test of nested MLMV, MLMVS and MLM fits."""

from __future__ import annotations

import math
import warnings
from functools import cache

import numpy as np
import pandas as pd
import pytest
from reference_cases import FIT_MEASURE_KIND, assert_matches, load_case

import semlang
from semlang.errors import NotSupportedError, SemlangWarning

FIT_CASES = (
    "hs_cfa_MLR_wishart",
    "poldem_MLR_wishart",
    "twolevel_cluster_MLR_fiml",
    "twolevel_cluster_groups_MLR",
)
LRT_CASES = (
    "hs_lrt_MLMV",
    "hs_lrt_MLMVS",
    "hs_lrt_MLM_satorra.2000",
    "hs_groups_lrt_loadings_MLMV",
    "hs_groups_lrt_intercepts_MLMV",
)


def _twolevel_holes(data: pd.DataFrame) -> pd.DataFrame:
    """As the reference's prep_text: with i the 1-based row number, y1 missing where
    i % 7 == 0 and y3 where i % 11 == 5."""
    data = data.copy()
    i = np.arange(1, len(data) + 1)
    data.loc[i % 7 == 0, "y1"] = np.nan
    data.loc[i % 11 == 5, "y3"] = np.nan
    return data


def _twolevel_halves(data: pd.DataFrame) -> pd.DataFrame:
    """As the reference's prep_text: half = 'odd' for odd cluster ids, else 'even'."""
    return data.assign(half=np.where(data["cluster"] % 2 == 1, "odd", "even"))


PREPS = {"twolevel_holes": _twolevel_holes, "twolevel_halves": _twolevel_halves}


def _data(case: dict) -> pd.DataFrame:
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    return PREPS[case["prep"]](data) if case.get("prep") else data


def _options(options: dict) -> dict:
    return {k.replace(".", "_"): v for k, v in options.items()}


@cache
def _fit(name: str):
    case = load_case(f"estimators/{name}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemlangWarning)
        return getattr(semlang, case["fun"])(
            case["model"], _data(case), **_options(case["options"])
        )


def _kind(name: str) -> str:
    if name in FIT_MEASURE_KIND:
        return FIT_MEASURE_KIND[name]
    if "chisq" in name and "factor" not in name:
        return "chisq"
    return "logl" if name in ("bic2", "unrestricted_logl") else "fit_index"


# --------------------------------------------------------------------------- fits


@pytest.mark.parametrize("name", FIT_CASES)
def test_estimates_and_standard_errors(name):
    reference = load_case(f"estimators/{name}")["estimates"]
    est = _fit(name).estimates()
    assert len(est) == len(reference)
    for row, ref in zip(est.itertuples(), reference, strict=True):
        what = f"{name} {row.lhs}{row.op}{row.rhs} group {row.group}"
        assert (row.lhs, row.op, row.rhs) == (ref["lhs"], ref["op"], ref["rhs"])
        assert_matches("est", row.est, ref["est"], what)
        if ref["se"] is not None and ref["se"] > 0:
            assert_matches("se", row.se, ref["se"], what)


@pytest.mark.parametrize("name", FIT_CASES)
def test_every_fit_measure(name):
    """Every measure lavaan reports (the scaled and robust ones included)."""
    reference = load_case(f"estimators/{name}")["fit_measures"]
    ours = _fit(name).fit_measures()
    compared = 0
    for key, value in reference.items():
        key = key.replace(".", "_")
        if value is None or key in ("ntotal", "fmin"):
            continue
        assert key in ours, f"{name}: {key} missing"
        assert_matches(_kind(key), ours[key], value, f"{name} {key}")
        compared += 1
    assert compared > 60


@pytest.mark.parametrize("name", FIT_CASES)
def test_scaled_test(name):
    reference = load_case(f"estimators/{name}")["tests"]["yuan.bentler.mplus"]
    ours = _fit(name).fit_measures()
    assert_matches("chisq", ours["chisq_scaled"], reference["stat"], name)
    assert_matches("fit_index", ours["chisq_scaling_factor"], reference["scaling.factor"], name)
    assert ours["df_scaled"] == reference["df"]


def test_wishart_mlr_standard_errors_use_n_minus_one():
    """With N = 75 the Wishart sandwich's SEs are √(75/74) times those over N (0.7% apart,
    outside the SE tolerance: the reference tells the two apart)."""
    fit, case = _fit("poldem_MLR_wishart"), load_case("estimators/poldem_MLR_wishart")
    ratio = case["estimates"][1]["se"] / fit.estimates()["se"].iloc[1]
    assert ratio == pytest.approx(1.0, abs=1e-4)
    assert fit.inference_nobs == 74


def test_cluster_fits_keep_their_clusters():
    for name in ("twolevel_cluster_MLR_fiml", "twolevel_cluster_groups_MLR"):
        case = load_case(f"estimators/{name}")
        fit = _fit(name)
        assert fit.nobs == sum(case["nobs"])
        assert fit.options.se.value == case["lavaan_options"]["se"]


# --------------------------------------------------------------------------- lrt


@cache
def _lrt(name: str) -> pd.DataFrame:
    case = load_case(f"estimators/{name}")
    data = _data(case)
    fit1 = semlang.cfa(case["model"], data, **_options(case["options"]))
    fit0 = semlang.cfa(case["model0"], data, **_options(case["options0"]))
    method = {"method": "satorra.2000"} if "method" in case["lrt_call"] else {}
    return semlang.lrt(fit1, fit0, names=["fit1", "fit0"], **method)


@pytest.mark.parametrize("name", LRT_CASES)
def test_satorra_2000_difference(name):
    case = load_case(f"estimators/{name}")
    frame = _lrt(name)
    assert f'method = "{case["lrt_method"]}"' in frame.attrs["heading"]
    assert list(frame.index) == [row["model"] for row in case["lrt"]]
    for (_, row), ref in zip(frame.iterrows(), case["lrt"], strict=True):
        assert row["Df"] == ref["Df"]
        assert_matches("chisq", row["Chisq"], ref["Chisq"], f"{name} {ref['model']}")
        assert_matches("logl", row["AIC"], ref["AIC"], f"{name} {ref['model']}")
    last, ref = frame.iloc[1], case["lrt"][1]
    assert_matches("chisq", last["Chisq diff"], ref["Chisq diff"], name)
    assert last["Df diff"] == ref["Df diff"]
    assert_matches("fit_index", last["Pr(>Chisq)"], ref["Pr(>Chisq)"], name)
    assert math.isnan(frame.attrs["scale"][0]) and math.isnan(frame.attrs["shift"][0])
    assert_matches("fit_index", frame.attrs["scale"][1], case["lrt_scale"][1], name)
    assert_matches("fit_index", frame.attrs["shift"][1], case["lrt_shift"][1], name)


def test_satorra_2000_is_not_the_satorra_bentler_2001_difference():
    """The MLM pair: Satorra (2000) and Satorra-Bentler (2001) differ by more than the
    tolerance, so the method really switches."""
    case = load_case("estimators/hs_lrt_MLM_satorra.2000")
    data = _data(case)
    fits = [semlang.cfa(m, data, estimator="MLM") for m in (case["model"], case["model0"])]
    sb = semlang.lrt(*fits)
    assert "satorra.bentler.2001" in sb.attrs["heading"]
    assert abs(sb["Chisq diff"].iloc[1] - case["lrt"][1]["Chisq diff"]) > 0.1


@pytest.mark.parametrize(
    "options, match",
    [
        ({"estimator": "MLR"}, "Satorra-Bentler type"),
        ({"estimator": "MLM", "cluster": "cluster"}, "clustered"),
    ],
)
def test_satorra_2000_refusals(options, match):
    data = semlang.datasets.load("Demo.twolevel")
    model = "fw =~ y1 + y2 + y3\nfw ~ x1 + x2 + x3"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemlangWarning)
        equal = model.replace("y2", "a*y2").replace("y3", "a*y3")
        fits = [semlang.sem(m, data, **options) for m in (model, equal)]
    with pytest.raises(NotSupportedError, match=match):
        semlang.lrt(*fits, method="satorra.2000")


def test_satorra_2000_without_scaled_tests_falls_back_to_the_standard_test():
    data = semlang.datasets.load("HolzingerSwineford1939")
    case = load_case("estimators/hs_lrt_MLMV")
    fits = [semlang.cfa(m, data) for m in (case["model"], case["model0"])]
    with pytest.warns(SemlangWarning, match="standard chi-square difference"):
        frame = semlang.lrt(*fits, method="satorra.2000")
    assert frame.attrs["heading"] == "Chi-Squared Difference Test"
    difference = case["fit_measures0"]["chisq"] - case["fit_measures1"]["chisq"]
    assert_matches("chisq", frame["Chisq diff"].iloc[1], difference, "ML difference")
