"""Options: lavaan's names and values are accepted, anything else is a clear error; model
options and fit options are kept apart."""

import pytest

import semlang
from semlang.errors import NotSupportedError, OptionError
from semlang.options import (
    Estimator,
    Information,
    Missing,
    StandardErrors,
    Test,
    make_fit_options,
    make_options,
)

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def test_lavaan_spellings_and_aliases():
    options = make_options("sem", **{"std.lv": True, "missing": "ml"})
    assert options.std_lv and not options.auto_fix_first  # std.lv frees the first loadings
    assert options.missing is Missing.FIML
    fit = make_fit_options(options, se="robust")
    assert fit.se is StandardErrors.ROBUST_HUBER_WHITE  # lavaan: robust with missing data
    assert fit.information is Information.OBSERVED  # as lavaan for robust SEs
    complete = make_options("sem")
    assert make_fit_options(complete, se="robust").se is StandardErrors.ROBUST_SEM  # lavaan
    assert make_fit_options(complete, estimator="mlr").se is StandardErrors.ROBUST_HUBER_WHITE
    assert make_fit_options(complete, estimator="MLR").estimator is Estimator.MLR


@pytest.mark.parametrize(
    "estimator, se, test, information",
    [
        ("ML", "standard", ("standard",), "expected"),
        ("MLM", "robust.sem", ("standard", "satorra.bentler"), "expected"),
        ("MLMV", "robust.sem", ("standard", "scaled.shifted"), "expected"),
        ("MLMVS", "robust.sem", ("standard", "mean.var.adjusted"), "expected"),
        ("MLF", "first.order", ("standard",), "expected"),
        ("MLR", "robust.huber.white", ("standard", "yuan.bentler.mplus"), "observed"),
        ("GLS", "standard", ("standard",), "expected"),
        ("WLS", "standard", ("standard",), "expected"),
        ("DWLS", "standard", ("standard",), "expected"),
        ("ULS", "standard", ("standard",), "expected"),
    ],
)
def test_each_estimator_has_lavaans_defaults(estimator, se, test, information):
    options = make_fit_options(make_options("sem"), estimator=estimator)
    assert options.se.value == se
    assert tuple(t.value for t in options.test) == test
    assert options.information.value == information


def test_several_tests_and_the_first_scaled_one():
    options = make_fit_options(make_options("sem"), test=["scaled.shifted", "satorra.bentler"])
    assert options.test == (Test.STANDARD, Test.SCALED_SHIFTED, Test.SATORRA_BENTLER)
    assert options.scaled_test is Test.SCALED_SHIFTED


@pytest.mark.parametrize(
    "options, message",
    [
        ({"std_lvv": True}, "unknown option 'std_lvv'"),
        ({"std_lv": "yes"}, "must be True or False"),
        ({"meanstructure": "sometimes"}, "True, False or None"),
        ({"group": 3}, "column name"),
        ({"start": "simple"}, "'start' can only be 'default'"),
        ({"estimator": "MLR"}, "option of the fit, not of the model"),
    ],
)
def test_bad_model_options_are_refused(options, message):
    with pytest.raises(OptionError, match=message):
        make_options("sem", **options)


@pytest.mark.parametrize(
    "model, options, message",
    [
        ({}, {"estimator": "GLX"}, "(?s)cannot be 'GLX'.*did you mean 'GLS'"),
        ({}, {"test": "satora.bentler"}, "did you mean 'satorra.bentler'"),
        ({}, {"bootstrap": 0}, "positive whole number"),
        ({}, {"seed": -1}, "whole number >= 0"),
        ({}, {"test": ["none", "satorra.bentler"]}, "cannot be combined"),
        ({"missing": "fiml"}, {"estimator": "GLS"}, "needs a likelihood"),
        ({"missing": "fiml"}, {"estimator": "ULS"}, "needs a likelihood"),
        ({"missing": "fiml"}, {"estimator": "MLM"}, "needs complete data"),
        ({"missing": "fiml"}, {"test": "bollen.stine"}, "needs complete data"),
        ({}, {"estimator": "GLS", "se": "robust.huber.white"}, "not available with"),
        ({}, {"estimator": "ULS", "likelihood": "wishart"}, "no meaning"),
        ({}, {"estimator": "WLS", "test": "yuan.bentler"}, "needs a likelihood"),
    ],
)
def test_bad_fit_options_are_refused(model, options, message):
    with pytest.raises(OptionError, match=message):
        make_fit_options(make_options("sem", **model), **options)


def test_fit_options_go_to_fit_and_model_options_to_compile():
    data = semlang.datasets.load("HolzingerSwineford1939")
    compiled = semlang.compile_model(HS, "cfa")
    with pytest.raises(OptionError, match="'std_lv' shapes the model"):
        semlang.fit(compiled, data, std_lv=True)
    with pytest.raises(OptionError, match="'progress' must be True, False or None"):
        semlang.fit(compiled, data, progress="yes")
    with pytest.raises(OptionError, match="option of the fit"):
        semlang.compile_model(HS, "cfa", estimator="MLR")


def test_one_compiled_model_refits_under_another_estimator():
    data = semlang.datasets.load("HolzingerSwineford1939")
    compiled = semlang.compile_model(HS, "cfa")
    ml = semlang.fit(compiled, data)
    mlr = semlang.fit(compiled, data, estimator="MLR")
    assert mlr.model is ml.model  # no second compile
    assert mlr.fit_measures()["chisq"] == pytest.approx(ml.fit_measures()["chisq"], rel=1e-8)
    assert "chisq_scaled" in mlr.fit_measures() and "chisq_scaled" not in ml.fit_measures()
    assert mlr.options.estimator is Estimator.MLR and ml.options.estimator is Estimator.ML


def test_two_level_models_refuse_other_estimators():
    data = semlang.datasets.load("Demo.twolevel")
    model = "level: 1\nfw =~ y1 + y2 + y3\nlevel: 2\nfb =~ y1 + y2 + y3"
    with pytest.raises(NotSupportedError, match="two-level"):
        semlang.sem(model, data, cluster="cluster", estimator="MLM")


@pytest.mark.parametrize(
    "estimator, test, expected",
    [  # lavaan 0.6.14's names(fit@test)
        ("MLR", "browne.residual.adf", ("standard", "yuan.bentler.mplus", "browne.residual.adf")),
        ("MLM", "scaled.shifted", ("standard", "satorra.bentler", "scaled.shifted")),
        ("MLMV", "satorra.bentler", ("standard", "scaled.shifted", "satorra.bentler")),
        ("ULSM", "browne.residual.adf", ("standard", "satorra.bentler", "browne.residual.adf")),
        ("ML", "satorra.bentler", ("standard", "satorra.bentler")),
    ],
)
def test_a_robust_estimator_keeps_its_own_test_beside_the_ones_asked_for(estimator, test, expected):
    options = make_fit_options(make_options("sem"), estimator=estimator, test=test)
    assert tuple(t.value for t in options.test) == expected
