"""Robust standard errors and scaled tests of ML with complete data (lavaan's estimators MLM,
MLMV, MLMVS, MLF and the se= / test= options) against lavaan 0.6.14
(``tests/reference/estimators/``): estimates, standard errors, every test of
``lavInspect(fit, "test")`` and the scaled and robust fit measures."""

from __future__ import annotations

import json
import math
import warnings
from functools import cache

import pytest
from reference_cases import REFERENCE_DIR, assert_matches
from test_groups import measure_kind

import semlang
from semlang.options import StandardErrors, Test
from semlang.results import tests as test_registry

ESTIMATOR_CASES = [
    f"{data}_{estimator}"
    for data in ("hs_cfa", "poldem", "growth", "hs_groups")
    for estimator in ("ML", "MLM", "MLMV", "MLMVS", "MLF")
]
TEST_CASES = [
    *(f"hs_test_{t}" for t in ("satorra.bentler", "mean.var.adjusted", "scaled.shifted",
                               "yuan.bentler", "yuan.bentler.mplus", "browne.residual.adf",
                               "browne.residual.nt", "browne.residual.adf.model",
                               "browne.residual.nt.model", "standard", "none", "three")),
    *(f"poldem_test_{t}" for t in ("satorra.bentler", "mean.var.adjusted", "scaled.shifted",
                                   "yuan.bentler", "browne.residual.adf")),
    "hs_groups_test_satorra.bentler",
    "hs_groups_test_scaled.shifted",
]  # fmt: skip
SE_CASES = [
    f"hs_se_{se}"
    for se in ("robust", "robust.sem_expected", "robust.sem_observed", "first.order", "standard",
               "robust.huber.white_expected", "robust.huber.white_observed", "none")
]  # fmt: skip
ALL_CASES = ESTIMATOR_CASES + TEST_CASES + SE_CASES
# the measures of the scaled test lavaan reports (each must be there and match)
ROBUST_WORDS = ("scaled", "robust", "scaling", "shift")


@cache
def load(name: str) -> dict:
    with open(REFERENCE_DIR / "estimators" / f"{name}.json") as f:
        return json.load(f)


@cache
def fit_case(name: str):
    case = load(name)
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    options = {k.replace(".", "_"): v for k, v in (case.get("options") or {}).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return getattr(semlang, case["fun"])(case["model"], data, **options)


def _kind(key: str, value: float) -> str:
    """df of the mean and variance adjusted test is not a whole number: a χ²-like tolerance."""
    kind = measure_kind(key)
    if kind == "exact" and value is not None and not float(value).is_integer():
        return "chisq"
    return kind


@pytest.mark.parametrize("name", ALL_CASES)
def test_estimates_and_standard_errors(name):
    fit = fit_case(name)
    ours = {(r.lhs, r.op, r.rhs, getattr(r, "group", 1)): r for r in fit.estimates().itertuples()}
    for row in load(name)["estimates"]:
        mine = ours[(row["lhs"], row["op"], row["rhs"], row.get("group", 1))]
        what = f"{name} {row['lhs']} {row['op']} {row['rhs']} group {row.get('group')}"
        assert_matches("est", mine.est, row["est"], what + " est")
        if "se" not in row:  # se="none": lavaan has no column
            continue
        se = math.nan if row["se"] is None else row["se"]
        if math.isnan(se):
            assert math.isnan(mine.se), what
        else:
            assert_matches("se", mine.se, se, what + " se")


@pytest.mark.parametrize("name", ALL_CASES)
def test_fit_measures(name):
    ours = fit_case(name).fit_measures()
    for key, value in load(name)["fit_measures"].items():
        key = key.replace(".", "_")
        if key not in ours and not any(word in key for word in ROBUST_WORDS):
            continue  # a measure semlang does not report (gfi, ecvi, ...)
        assert key in ours, f"{name}: no fit measure {key}"
        if value is None:
            assert ours[key] is None or math.isnan(ours[key]), f"{name} {key}: {ours[key]}"
            continue
        assert_matches(_kind(key, value), ours[key], value, f"{name} {key}")


@pytest.mark.parametrize("name", ALL_CASES)
def test_each_test(name):
    """lavInspect(fit, "test"): every test's statistic, df, p-value, scaling and shift."""
    reference = load(name)["tests"]
    if isinstance(reference, list):  # test="none": one unnamed entry
        reference = {entry["test"]: entry for entry in reference}
    results = test_registry.test_results(fit_case(name))
    assert [r.test.value for r in results] == list(reference)
    for result in results:
        ref = reference[result.test.value]
        what = f"{name} {result.test.value}"
        if ref["stat"] is None:  # test="none"
            assert math.isnan(result.stat) and math.isnan(result.df), what
            continue
        assert_matches("chisq", result.stat, ref["stat"], what + " stat")
        assert_matches(_kind("df", ref["df"]), result.df, ref["df"], what + " df")
        assert_matches("fit_index", result.pvalue, ref["pvalue"], what + " pvalue")
        for ours, key in ((result.scaling_factor, "scaling.factor"),
                          (result.shift_parameter, "shift.parameter")):  # fmt: skip
            if ref.get(key) is not None:
                assert_matches("fit_index", ours, ref[key], f"{what} {key}")
        assert len(result.stat_groups) == len(ref["stat.group"])
        for ours, theirs in zip(result.stat_groups, ref["stat.group"], strict=True):
            assert_matches("chisq", ours, theirs, what + " stat.group")


@pytest.mark.parametrize(
    ("name", "se"),
    [("hs_cfa_MLM", StandardErrors.ROBUST_SEM), ("hs_cfa_MLF", StandardErrors.FIRST_ORDER),
     ("hs_se_robust", StandardErrors.ROBUST_SEM)],
)  # fmt: skip
def test_standard_error_type(name, se):
    """lavaan's se="robust" means robust.sem with complete data and ML."""
    assert fit_case(name).options.se is se


def test_first_scaled_test_fills_the_scaled_measures():
    fit = fit_case("hs_test_three")
    assert fit.options.scaled_test is Test.SATORRA_BENTLER


# lavaan 0.6.14's summary() of the HS model with test = c("satorra.bentler",
# "mean.var.adjusted", "scaled.shifted")
THREE_TESTS = """\
Model Test User Model:
                                              Standard      Scaled
  Test Statistic                                85.306      80.872
  Degrees of freedom                                24          24
  P-value (Chi-square)                           0.000       0.000
  Scaling correction factor                                  1.055
    Satorra-Bentler correction

  Test Statistic                                85.306      67.228
  Degrees of freedom                                24      19.951
  P-value (Chi-square)                           0.000       0.000
  Scaling correction factor                                  1.269
    mean and variance adjusted correction

  Test Statistic                                85.306      75.853
  Degrees of freedom                                24          24
  P-value (Chi-square)                           0.000       0.000
  Scaling correction factor                                  1.157
  Shift parameter                                            2.118
    simple second-order correction
"""
# ... with test = c("browne.residual.adf", "yuan.bentler")
BROWNE_AND_YB = """\
    Yuan-Bentler correction

  Browne's residual-based (ADF) test
  Test statistic                                82.408
  Degrees of freedom                                24
  P-value (Chi-square)                           0.000
"""
HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def _hs_fit(**options):
    return semlang.cfa(HS, semlang.datasets.load("HolzingerSwineford1939"), **options)


def test_summary_prints_every_test_as_lavaan():
    assert THREE_TESTS in fit_case("hs_test_three").summary()
    text = _hs_fit(test=["browne.residual.adf", "yuan.bentler"]).summary()
    assert BROWNE_AND_YB in text


@pytest.mark.parametrize(
    ("options", "lines"),
    [
        ({"estimator": "MLM"}, ("Standard errors                           Robust.sem",
                                "Information                                 Expected")),
        ({"estimator": "MLF"}, ("Standard errors                             Standard",
                                "Information                              First.order")),
        ({"se": "robust.sem", "information": "observed"},
         ("Standard errors                           Robust.sem",
          "Observed information based on                Hessian")),
    ],
)  # fmt: skip
def test_summary_names_the_standard_errors_as_lavaan(options, lines):
    text = _hs_fit(**options).summary()
    for line in lines:
        assert f"  {line}\n" in text


def test_scaled_difference_test_of_mlm_fits():
    """lavTestLRT of configural and equal-loadings MLM fits: satorra.bentler.2001, 7.1359 on 6
    df, p = 0.3085 (lavaan 0.6.14)."""
    data = semlang.datasets.load("HolzingerSwineford1939")
    configural = semlang.cfa(HS, data, group="school", estimator="MLM")
    loadings = semlang.cfa(HS, data, group="school", group_equal="loadings", estimator="MLM")
    frame = semlang.lrt(configural, loadings)
    assert "satorra.bentler.2001" in frame.attrs["heading"]
    assert_matches("chisq", frame["Chisq diff"].iloc[1], 7.1359)
    assert frame["Pr(>Chisq)"].iloc[1] == pytest.approx(0.3085, abs=1e-4)


def test_satorra_bentler_2001_of_second_order_tests_is_refused():
    data = semlang.datasets.load("HolzingerSwineford1939")
    fits = [semlang.cfa(HS, data, group="school", group_equal=eq, estimator="MLMV")
            for eq in ((), "loadings")]  # fmt: skip
    with pytest.raises(semlang.errors.NotSupportedError, match=r"satorra\.2000"):
        semlang.lrt(*fits, method="satorra.bentler.2001")
