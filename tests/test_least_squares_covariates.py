"""The least-squares estimators (GLS, WLS, DWLS, ULS) with observed exogenous covariates against
lavaan 0.6.14: under lavaan's default for these estimators (fixed.x = FALSE: the covariates'
variances, covariances and means are free parameters) and with fixed.x = TRUE; a MIMIC model in
one and two groups and a path model. Estimates, standard errors and every fit measure lavaan
reports; WLS refused where lavaan finds Γ not positive definite; a compiled model with the
default fixed_x refused for these estimators."""

from functools import cache

import numpy as np
import pytest
from reference_cases import assert_matches, fit_reference, load_case, row_key
from results.test_all_fit_measures import KNOWN_GAPS, _check, reference

import semlang
from semlang.errors import EstimationError, OptionError

ESTIMATORS = ("GLS", "WLS", "DWLS", "ULS")
CASES = [f"{base}_{est}" for base in ("hs_mimic", "hs_mimic_groups", "poldem_path")
         for est in ESTIMATORS if (base, est) != ("hs_mimic_groups", "WLS")]  # fmt: skip
CASES += [f"{base}_{est}_fixed.x" for base in ("hs_mimic", "poldem_path") for est in ESTIMATORS]


@cache
def fitted(name: str):
    return fit_reference(f"estimators/{name}")


@pytest.mark.parametrize("name", CASES)
def test_estimates_and_standard_errors(name):
    fit = fitted(name)
    assert fit.converged
    ours = {(r.lhs, r.op, r.rhs, r.group): r for r in fit.estimates().itertuples()}
    rows = load_case(f"estimators/{name}")["estimates"]
    assert len(ours) == len(rows)
    for row in rows:
        mine = ours[row_key(row)]
        what = f"{name} {row['lhs']} {row['op']} {row['rhs']} group {row.get('group')}"
        assert_matches("est", mine.est, row["est"], what + " est")
        if row["se"] is not None:
            assert_matches("se", mine.se, row["se"], what + " se")


PLAIN = [f"{base}_{est}" for base in ("hs_cfa", "poldem", "growth", "hs_groups")
         for est in ESTIMATORS]  # fmt: skip


@pytest.mark.parametrize("name", CASES + PLAIN)
def test_every_fit_measure(name):
    actual, expected = fitted(name).fit_measures(), reference(name)
    missing = [key for key in expected if key not in actual and key not in KNOWN_GAPS]
    assert not missing, f"{name}: not computed: {missing}"
    for key, value in expected.items():
        _check(name, key, actual[key], value)


def test_covariates_are_free_by_default_and_fixed_on_request():
    free, fixed = fitted("hs_mimic_WLS"), fitted("hs_mimic_WLS_fixed.x")
    assert free.table.options.fixed_x is False and fixed.table.options.fixed_x is True
    assert free.fit_measures()["npar"] == fixed.fit_measures()["npar"] + 3


def test_wls_refused_where_lavaan_finds_gamma_singular():
    case = load_case("estimators/hs_mimic_groups_WLS")
    assert "not positive-definite" in case["error"]
    with pytest.raises(EstimationError, match="not positive definite"):
        fit_reference("estimators/hs_mimic_groups_WLS")


def test_compiled_default_fixed_x_refused_for_least_squares():
    data = semlang.datasets.load("HolzingerSwineford1939")
    model = "visual =~ x1 + x2 + x3\nvisual ~ ageyr + sex"
    with pytest.raises(OptionError, match="fixed_x=False"):
        semlang.fit(semlang.compile_model(model), data, estimator="GLS")
    compiled = semlang.compile_model(model, fixed_x=False)
    fit = semlang.fit(compiled, data, estimator="GLS")
    expected = reference("hs_mimic_GLS")["chisq"]
    assert_matches("chisq", fit.fit_measures()["chisq"], expected, "compiled GLS chisq")


ROBUST = [f"{base}_{est}" for base in ("hs_cfa", "hs_groups", "hs_mimic", "poldem_path")
          for est in ("ULSM", "ULSMV", "ULSMVS", "WLSM", "WLSMV", "WLSMVS")]  # fmt: skip


@pytest.mark.parametrize("name", [*ROBUST[:6], "hs_cfa_DWLS_robust_scaled.shifted"])
def test_robust_least_squares_take_lavaans_defaults(name):
    """lavaan's own defaults for the robust names: robust.sem and their scaled test."""
    used = load_case(f"estimators/{name}")["lavaan_options"]
    options = semlang.options.make_fit_options(
        semlang.options.ModelOptions(), **load_case(f"estimators/{name}")["options"]
    )
    assert options.se.value == used["se"]
    assert [t.value for t in options.test if t.value != "standard"] == [
        t for t in np.atleast_1d(used["test"]) if t != "standard"
    ]


@pytest.mark.parametrize(
    "name", ["error_hs_cfa_GLS_robust.sem", "error_hs_cfa_WLS_satorra.bentler"]
)
def test_robust_gls_and_wls_refused(name):
    assert "invalid value" in load_case(f"estimators/{name}")["error"]
    with pytest.raises(semlang.errors.SemlangError):
        fit_reference(f"estimators/{name}")
