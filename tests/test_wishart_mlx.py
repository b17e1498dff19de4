"""The Wishart likelihood (lavaan's ``likelihood="wishart"``) and ``missing="ml.x"`` against
lavaan 0.6.14 (``tests/reference/estimators/``).

Wishart: sample covariances with divisor n_g − 1, χ² = Σ (n_g − 1)·F̂_g, standard errors and
RMSEA with N − G observations, AIC/BIC with N. ``ml.x``: rows missing an exogenous covariate are
kept and the covariates enter the likelihood; with ``ml`` those rows are removed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reference_cases import assert_matches, load_case

import semlang
from semlang.errors import DataWarning, OptionError

MEASURES = {
    "npar": "exact",
    "df": "exact",
    "chisq": "chisq",
    "baseline_chisq": "chisq",
    "logl": "logl",
    "unrestricted_logl": "logl",
    "aic": "logl",
    "bic": "logl",
    "pvalue": "fit_index",
    "cfi": "fit_index",
    "tli": "fit_index",
    "rmsea": "fit_index",
    "rmsea_ci_lower": "fit_index",
    "rmsea_ci_upper": "fit_index",
    "srmr": "fit_index",
}


def poldem_missing_x():
    """PoliticalDemocracy with the reference's missing cells (i the 1-based row number): x1
    where i % 10 == 3, x3 where i % 8 == 5, y5 where i % 12 == 7."""
    data = semlang.datasets.load("PoliticalDemocracy").copy()
    i = np.arange(1, len(data) + 1)
    data.loc[i % 10 == 3, "x1"] = np.nan
    data.loc[i % 8 == 5, "x3"] = np.nan
    data.loc[i % 12 == 7, "y5"] = np.nan
    return data


def fit_case(name: str, **override):
    case = load_case(f"estimators/{name}")
    if case.get("prep") == "poldem_missing_x":
        data = poldem_missing_x()
    else:
        data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    options = {k.replace(".", "_"): v for k, v in case["options"].items()} | override
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return getattr(semlang, case["fun"])(case["model"], data, **options)


def assert_estimates(name: str, fit, columns=("est", "se")) -> None:
    case = load_case(f"estimators/{name}")
    frame = fit.estimates()
    for row in case["estimates"]:
        if row["op"] in ("==", ":=", "<", ">"):
            continue
        same = (frame.lhs == row["lhs"]) & (frame.op == row["op"]) & (frame.rhs == row["rhs"])
        match = frame[same & (frame.group == row.get("group", 1))]
        assert len(match) == 1, (row["lhs"], row["op"], row["rhs"])
        for column in columns:
            if row.get(column) is None:
                continue
            what = f"{name} {row['lhs']} {row['op']} {row['rhs']} (group {row.get('group', 1)})"
            assert_matches(column, float(match[column].iloc[0]), row[column], f"{what} {column}")


def assert_measures(name: str, fit, names=tuple(MEASURES)) -> None:
    reference = {
        k.replace(".", "_"): v for k, v in load_case(f"estimators/{name}")["fit_measures"].items()
    }
    measures = fit.fit_measures()
    for key in names:
        if key in reference:
            assert_matches(MEASURES[key], measures[key], reference[key], f"{name} {key}")


WISHART = ["hs_cfa_ML_wishart", "poldem_ML_wishart", "hs_groups_ML_wishart"]
NORMAL = ["hs_cfa_ML_normal", "poldem_ML_normal", "hs_groups_ML_normal"]


@pytest.mark.parametrize("name", WISHART + NORMAL)
def test_ml_likelihoods_match_lavaan(name):
    fit = fit_case(name)
    assert fit.converged
    assert fit.nobs == sum(load_case(f"estimators/{name}")["nobs"])
    assert_estimates(name, fit)
    assert_measures(name, fit)


def test_wishart_rescales_variances_and_chisq():
    """One group: the variances grow by N/(N − 1), the loadings stay, χ² shrinks by (N − 1)/N."""
    normal, wishart = fit_case("hs_cfa_ML_normal"), fit_case("hs_cfa_ML_wishart")
    a, b = normal.estimates(), wishart.estimates()
    loadings = (a.op == "=~").to_numpy()
    variances = (a.op == "~~").to_numpy()
    np.testing.assert_allclose(b.est[loadings], a.est[loadings], rtol=1e-4)
    np.testing.assert_allclose(b.est[variances], a.est[variances] * 301 / 300, rtol=1e-4)
    chisq = normal.fit_measures()["chisq"], wishart.fit_measures()["chisq"]
    assert chisq[1] == pytest.approx(chisq[0] * 300 / 301, rel=1e-6)
    assert wishart.inference_nobs == 300 and normal.inference_nobs == 301


def test_mlm_wishart_ml_quantities_match_lavaan():
    """MLM's estimates and standard test under the Wishart likelihood (its robust standard
    errors and scaled test are another module's)."""
    fit = fit_case("hs_cfa_MLM_wishart", se="standard", test="standard")
    assert_estimates("hs_cfa_MLM_wishart", fit, columns=("est",))
    assert_measures("hs_cfa_MLM_wishart", fit)


@pytest.mark.parametrize("name", ["poldem_path_missing_x_ml", "poldem_path_missing_x_ml.x"])
def test_missing_covariates_match_lavaan(name):
    fit = fit_case(name)
    assert fit.converged
    assert fit.nobs == sum(load_case(f"estimators/{name}")["nobs"])
    assert_estimates(name, fit)
    assert_measures(name, fit)


def test_ml_drops_rows_missing_a_covariate_and_ml_x_keeps_them():
    model = load_case("estimators/poldem_path_missing_x_ml")["model"]
    data = poldem_missing_x()
    with pytest.warns(DataWarning, match="15 of 75 rows were removed.*missing='ml.x'"):
        dropped = semlang.sem(model, data, missing="ml")
    assert dropped.nobs == 60
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        for alias in ("ml.x", "fiml.x", "direct.x"):
            assert semlang.sem(model, data, missing=alias).nobs == 75


def test_wishart_with_fiml_is_refused():
    data = poldem_missing_x()
    model = load_case("estimators/poldem_path_missing_x_ml")["model"]
    with pytest.raises(OptionError, match="likelihood='wishart': needs complete data"):
        semlang.sem(model, data, missing="ml", likelihood="wishart")
