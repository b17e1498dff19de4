"""The CFA with loadings 1 and equal residual variances is the random-intercept mixed model.

Held against lme4 (tests/reference/mixed_models_lme4.json) and against statsmodels' MixedLM fit
here, on the Big Five agreeableness items and on the micro-macro data (balanced and unbalanced).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from reference_cases import assert_matches, load_case

import semlang
from semlang.data import lengthen, widen
from semlang.errors import DataError, OptionError
from semlang.models import random_intercept

smf = pytest.importorskip("statsmodels.formula.api")

LME4 = load_case("mixed_models_lme4")


def _estimate(fit, lhs, op, rhs=""):
    est = fit.estimates()
    return float(est[(est.lhs == lhs) & (est.op == op) & (est.rhs == rhs)].est.iloc[0])


@pytest.fixture(scope="module")
def bigfive():
    wide = semlang.datasets.load("bigfive_agree")
    fit = semlang.cfa(
        random_intercept(list(wide.columns), latent="agree"), wide, meanstructure=True
    )
    return wide, fit


@pytest.fixture(scope="module")
def micro_balanced():
    long = semlang.datasets.load("micro_macro_long")
    wide = widen(long, id="group", item="member", value="x", keep=["Z", "y"])
    items = [f"x{k}" for k in range(1, 11)]
    model = random_intercept(items, latent="xi", intercepts="common")
    return long, semlang.sem(model, wide, meanstructure=True)


def _mixedlm(formula, data, groups):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return smf.mixedlm(formula, data, groups=data[groups]).fit(reml=False)


def test_bigfive_equals_lme4(bigfive):
    _, fit = bigfive
    ref = LME4["bigfive"]
    assert_matches("est", _estimate(fit, "agree", "~~", "agree"), ref["variances"]["id"], "psi")
    assert_matches("est", _estimate(fit, "A1", "~~", "A1"), ref["variances"]["Residual"], "theta")
    for item, value in ref["fixed"].items():
        name = item.removeprefix("variable")
        assert_matches("est", _estimate(fit, name, "~1"), value, f"intercept {name}")
    assert_matches("logl", fit.fit_measures()["logl"], ref["logLik"], "logLik")


def test_bigfive_factor_scores_are_lme4_blups(bigfive):
    _, fit = bigfive
    scores = fit.predict()["agree"].to_numpy()
    ref = LME4["bigfive"]
    np.testing.assert_allclose(scores[:20], ref["blup_first20"], atol=1e-3)
    np.testing.assert_allclose(scores[-5:], ref["blup_last5"], atol=1e-3)
    published = [-0.453, -0.312, -0.594, -0.031, -0.453, -0.031]
    np.testing.assert_allclose(scores[:6], published, atol=6e-4)


def test_bigfive_equals_statsmodels(bigfive):
    wide, fit = bigfive
    long = lengthen(wide, items=list(wide.columns), id="person", item="item", value="value")
    mixed = _mixedlm("value ~ 0 + C(item)", long, "person")
    assert _estimate(fit, "agree", "~~", "agree") == pytest.approx(
        mixed.cov_re.iloc[0, 0], abs=1e-4
    )
    assert _estimate(fit, "A1", "~~", "A1") == pytest.approx(mixed.scale, abs=1e-4)
    intercepts = [_estimate(fit, f"A{k}", "~1") for k in range(1, 6)]
    np.testing.assert_allclose(intercepts, mixed.fe_params.to_numpy(), atol=1e-4)
    assert fit.fit_measures()["logl"] == pytest.approx(mixed.llf, abs=0.02)
    blups = np.array([mixed.random_effects[k].iloc[0] for k in sorted(mixed.random_effects)])
    np.testing.assert_allclose(fit.predict()["agree"].to_numpy(), blups, atol=1e-3)


def test_micro_macro_equals_lme4(micro_balanced):
    _, fit = micro_balanced
    ref = LME4["micro_macro"]
    assert_matches("est", _estimate(fit, "xi", "~~", "xi"), ref["variances"]["group"], "psi")
    assert_matches("est", _estimate(fit, "x1", "~~", "x1"), ref["variances"]["Residual"], "theta")
    assert_matches("est", _estimate(fit, "x1", "~1"), ref["fixed"]["(Intercept)"], "intercept")
    assert_matches("logl", fit.fit_measures()["logl"], ref["logLik"], "logLik")
    scores = fit.predict()["xi"].to_numpy()
    np.testing.assert_allclose(scores[:20], ref["blup_first20"], atol=1e-3)


def test_micro_macro_equals_statsmodels(micro_balanced):
    long, fit = micro_balanced
    mixed = _mixedlm("x ~ 1", long, "group")
    assert _estimate(fit, "xi", "~~", "xi") == pytest.approx(mixed.cov_re.iloc[0, 0], rel=1e-3)
    assert _estimate(fit, "x1", "~~", "x1") == pytest.approx(mixed.scale, rel=1e-3)
    assert fit.fit_measures()["logl"] == pytest.approx(mixed.llf, abs=0.02)


def test_unbalanced_fiml_wide_equals_mixed_model_long():
    long = semlang.datasets.load("micro_macro_unbalanced_long")
    wide = widen(long, id="group", item="member", value="x")
    items = [c for c in wide.columns if c.startswith("x")]
    assert len(items) == 15 and wide[items].isna().any().any()
    model = random_intercept(items, latent="xi", intercepts="common")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        fit = semlang.sem(model, wide, missing="fiml")
    mixed = _mixedlm("x ~ 1", long, "group")
    assert _estimate(fit, "xi", "~~", "xi") == pytest.approx(mixed.cov_re.iloc[0, 0], rel=1e-3)
    assert _estimate(fit, "x1", "~~", "x1") == pytest.approx(mixed.scale, rel=1e-3)
    assert _estimate(fit, "x1", "~1") == pytest.approx(mixed.fe_params.iloc[0], abs=1e-4)
    assert fit.fit_measures()["logl"] == pytest.approx(mixed.llf, abs=0.02)
    blups = np.array([mixed.random_effects[k].iloc[0] for k in sorted(mixed.random_effects)])
    np.testing.assert_allclose(fit.predict()["xi"].to_numpy(), blups, atol=1e-3)


def test_heterogeneous_variances_free_each_residual():
    model = random_intercept(["a", "b", "c"], heterogeneous_variances=True)
    table = semlang.parameter_table(model, "cfa", meanstructure=True)
    variances = [r for r in table.rows if r.op.value == "~~" and r.lhs in "abc"]
    assert len({r.free for r in variances}) == 3 and all(r.is_free for r in variances)
    equal = semlang.parameter_table(random_intercept(["a", "b", "c"]), "cfa", meanstructure=True)
    assert len({r.free for r in equal.rows if r.op.value == "~~" and r.lhs in "abc"}) == 1


@pytest.mark.parametrize("intercepts", ["item", "common", "none"])
def test_random_intercept_model_strings_parse(intercepts):
    model = random_intercept(["x1", "x2", "x3"], intercepts=intercepts)
    table = semlang.parameter_table(model, "cfa", meanstructure=True)
    loadings = [r for r in table.rows if r.op.value == "=~"]
    assert all(not r.is_free and r.value == 1.0 for r in loadings)
    free_intercepts = {r.free for r in table.rows if r.op.value == "~1" and r.is_free}
    assert len(free_intercepts) == {"item": 3, "common": 1, "none": 0}[intercepts]


def test_random_intercept_rejects_bad_options():
    with pytest.raises(OptionError):
        random_intercept(["x1"])
    with pytest.raises(OptionError):
        random_intercept(["x1", "x2"], intercepts="some")
    # names the model text could not hold, and a string taken for a list of its characters
    with pytest.raises(OptionError, match="item 'item 1' is not a usable variable name"):
        random_intercept(["item 1", "item2"])
    with pytest.raises(OptionError, match="not the string 'x1'"):
        random_intercept("x1")
    with pytest.raises(OptionError, match="more than once: x1"):
        random_intercept(["x1", "x2", "x1"])


def test_widen_and_lengthen_round_trip():
    long = semlang.datasets.load("micro_macro_unbalanced_long")
    wide = widen(long, id="group", item="member", value="x", keep=["Z", "y"])
    assert list(wide.columns[:2]) == ["group", "x1"] and len(wide) == long.group.nunique()
    items = [c for c in wide.columns if c.startswith("x")]
    back = lengthen(wide, items=items, id="group", item="member", value="x", keep=["Z", "y"])
    back["member"] = back.member.str.removeprefix("x").astype(int)
    merged = long.merge(back, on=["group", "member"], suffixes=("", "_back"))
    assert len(merged) == len(long) == len(back)
    np.testing.assert_allclose(merged.x, merged.x_back)


def test_widen_reports_duplicates_and_varying_columns():
    long = pd.DataFrame({"id": [1, 1, 2], "item": [1, 1, 1], "v": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match=r"^id 1 has item 1 more than once"):
        widen(long, id="id", item="item", value="v")
    long = pd.DataFrame({"id": [1, 1], "item": [1, 2], "v": [1.0, 2.0], "z": [0.0, 1.0]})
    with pytest.raises(DataError, match="varies within"):
        widen(long, id="id", item="item", value="v", keep=["z"])
