"""Two-level models with estimator='MLR' against lavaan 0.6.14
(tests/reference/estimators/*twolevel*_MLR.json, tools/twolevel_mlr_reference.R): Huber-White
standard errors from the clusters' scores, the Yuan-Bentler (Mplus) scaled test and the options
lavaan settles on. Every fit measure is checked in tests/results/test_all_fit_measures.py."""

from __future__ import annotations

import json
import warnings
from functools import cache

import numpy as np
import pytest
from reference_cases import REFERENCE_DIR, assert_matches

import semlang
from semlang.errors import NotSupportedError
from semlang.results import tests as test_registry

CASES = ["twolevel_demo_MLR", "twolevel_within_only_MLR", "micro_macro_twolevel_MLR"]


@cache
def load(name: str) -> dict:
    return json.loads((REFERENCE_DIR / "estimators" / f"{name}.json").read_text())


@cache
def fit_case(name: str, **extra):
    case = load(name)
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return semlang.sem(case["model"], data, **(case["options"] | extra))


@pytest.mark.parametrize("name", CASES)
def test_estimates_and_robust_standard_errors(name):
    table = fit_case(name).estimates()
    ours = {(r.lhs, r.op, r.rhs, r.level): r for r in table.itertuples()}
    for row in load(name)["estimates"]:
        key = (row["lhs"], row["op"], row["rhs"], row["level"])
        what = f"{name} {key}"
        assert_matches("est", ours[key].est, row["est"], what + " est")
        if row["se"]:
            assert_matches("se", ours[key].se, row["se"], what + " se")


@pytest.mark.parametrize("name", CASES)
def test_options_are_lavaans(name):
    used = load(name)["used_options"]
    options = fit_case(name).options
    assert options.se.value == used["se"]
    assert [t.value for t in options.test] == ["standard", used["test"]]
    assert options.information.value == used["information"][0]


@pytest.mark.parametrize("name", CASES)
def test_each_test(name):
    """lavInspect(fit, "test"): the standard and the Yuan-Bentler (Mplus) test."""
    reference = load(name)["tests"]
    results = test_registry.test_results(fit_case(name))
    assert [r.test.value for r in results] == list(reference)
    for result in results:
        ref = reference[result.test.value]
        what = f"{name} {result.test.value}"
        assert_matches("chisq", result.stat, ref["stat"], what + " stat")
        assert result.df == ref["df"]
        if ref.get("pvalue") is not None:
            assert_matches("fit_index", result.pvalue, ref["pvalue"], what + " pvalue")
        if ref.get("scaling.factor") is not None:
            assert_matches("scaling", result.scaling_factor, ref["scaling.factor"], what)


def test_scaled_test_traces():
    """tr(UΓ) = tr(A1⁻¹B1) − tr(E⁻¹B0), lavaan's trace.UGamma, with its h1 and h0 parts."""
    from semlang.results.twolevel_robust import traces

    name = "twolevel_demo_MLR"
    fit, case = fit_case(name), load(name)
    t = traces(fit)
    assert t.h1_ndat == 30
    measures = case["fit_measures"]
    assert_matches("scaling", t.h1 / t.h1_ndat, measures["scaling.factor.h1"], "h1")
    assert_matches("scaling", t.h0 / 20, measures["scaling.factor.h0"], "h0")
    trace = case["tests"]["yuan.bentler.mplus"]["trace.UGamma"]
    assert_matches("chisq", t.h1 - t.h0, trace, "trace.UGamma")


def test_ml_with_huber_white_standard_errors_is_mlrs():
    """se='robust.huber.white' with ML: MLR's standard errors, the standard test only."""
    mlr = fit_case("twolevel_demo_MLR")
    ml = fit_case("twolevel_demo_MLR", se="robust.huber.white", estimator="ML")
    np.testing.assert_allclose(ml.estimates().se, mlr.estimates().se, rtol=1e-10)
    assert [t.value for t in ml.options.test] == ["standard"]
    assert "chisq_scaled" not in ml.fit_measures()


@pytest.mark.parametrize(
    "options, word",
    [
        ({"estimator": "MLM"}, "estimator='MLM'"),
        ({"se": "robust.sem"}, "se='robust.sem'"),
        ({"test": "satorra.bentler"}, "test='satorra.bentler'"),
        ({"se": "first.order"}, "se='first.order'"),
    ],
)
def test_what_two_level_models_do_not_have_is_refused(options, word):
    case = load("micro_macro_twolevel_MLR")
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    with pytest.raises(NotSupportedError, match=word):
        semlang.sem(case["model"], data, cluster="group", **options)


def test_scaled_difference_test_of_nested_fits():
    """lavTestLRT(fit, nested): MLR's scaled difference (Satorra-Bentler 2001) from the two
    fits' scaling factors."""
    name = "twolevel_demo_MLR"
    case = load(name)
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        nested = semlang.sem(case["nested"], data, **case["options"])
    table = semlang.lrt(fit_case(name), nested)
    ref = case["lrt"]
    assert list(table.Df) == ref["Df"]
    for column, kind in (("AIC", "logl"), ("BIC", "logl"), ("Chisq", "chisq")):
        for ours, theirs in zip(table[column], ref[column], strict=True):
            assert_matches(kind, ours, theirs, column)
    assert_matches("chisq", table["Chisq diff"].iloc[1], ref["Chisq diff"][1], "Chisq diff")
    assert table["Df diff"].iloc[1] == ref["Df diff"][1]
    assert_matches("fit_index", table["Pr(>Chisq)"].iloc[1], ref["Pr(>Chisq)"][1], "p")


def test_free_covariates_are_refused_with_robust_inference():
    """With fixed_x=False lavaan's robust standard errors of the level-1 covariates' means and
    its scaling factor differ from the clusters' scores (0.959 against 0.969 here): refused."""
    case = load("twolevel_demo_MLR")
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    with pytest.raises(NotSupportedError, match="fixed_x=False"):
        semlang.sem(case["model"], data, cluster="cluster", estimator="MLR", fixed_x=False)
    fit = semlang.sem(case["model"], data, cluster="cluster", fixed_x=False)  # ML is fine
    assert fit.fit_measures()["chisq"] == pytest.approx(
        load("twolevel_demo_MLR")["tests"]["standard"]["stat"], abs=0.02
    )
