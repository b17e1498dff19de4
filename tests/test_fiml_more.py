"""Missing data beyond the single-group FIML fit: FIML on complete data is plain ML, several
groups, empty rows, fixed.x covariates with missing values, listwise deletion and columns with
no values, against lavaan 0.6.14 (``tests/reference/groups/``) and independent computations."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_groups import (
    HS_MODEL,
    assert_estimates_match,
    assert_measures_match,
    case_data,
    fit_group_case,
    load_group_case,
    punch_holes,
)

import semlang
from semlang.errors import DataError, DataWarning

FIML_CASES = ["hs_fiml_complete", "hs_fiml", "hs_fiml_empty", "hs_fiml_groups"]
FIML_CASES += ["mimic_fiml_missing_x", "hs_listwise"]


def _hs():
    return semlang.datasets.load("HolzingerSwineford1939")


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return function(*args, **kwargs)


@pytest.mark.parametrize("name", FIML_CASES)
def test_matches_lavaan(name):
    fit = fit_group_case(name)
    assert fit.converged
    assert fit.nobs == sum(np.atleast_1d(load_group_case(name)["nobs"]))
    assert_estimates_match(name, fit)
    assert_measures_match(name, fit.fit_measures())


def test_fiml_on_complete_data_is_plain_ml():
    """Same estimates, log-likelihoods and χ² as ML with a mean structure; the standard errors
    are those of the observed information (lavaan's default under missing='ml')."""
    fiml = semlang.cfa(HS_MODEL, _hs(), missing="fiml")
    ml = semlang.cfa(HS_MODEL, _hs(), meanstructure=True, information="observed")
    assert fiml.sample.n_dropped == 0
    np.testing.assert_allclose(fiml.theta, ml.theta, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fiml.estimates()["se"], ml.estimates()["se"], rtol=1e-6, atol=1e-9)
    ours, plain = fiml.fit_measures(), ml.fit_measures()
    for key in ("chisq", "df", "logl", "unrestricted_logl", "baseline_chisq", "cfi", "srmr"):
        assert ours[key] == pytest.approx(plain[key], rel=1e-7, abs=1e-9), key


def test_empty_rows_are_dropped_and_counted():
    with pytest.warns(DataWarning, match="3 of 301 rows.*every model variable"):
        fit = semlang.cfa(HS_MODEL, case_data("hs_fiml_empty"), missing="fiml")
    assert fit.nobs == 298
    assert fit.sample.n_dropped == 3
    assert 2 not in fit.sample.groups[0].rows  # the 0-based position of data row 3


def test_listwise_deletion_says_how_many_rows_it_dropped():
    with pytest.warns(DataWarning, match="102 of 301 rows.*missing values"):
        fit = semlang.cfa(HS_MODEL, punch_holes(_hs()))
    assert fit.nobs == 199
    assert fit.sample.n_dropped == 102


def test_rows_missing_a_fixed_x_covariate_are_dropped():
    """lavaan 0.6.14 with missing='ml' and fixed.x deletes the rows missing a covariate."""
    case = load_group_case("mimic_fiml_missing_x")
    with pytest.warns(DataWarning, match="10 of 301 rows.*ageyr"):
        fit = semlang.sem(case["model"], case_data("mimic_fiml_missing_x"), missing="fiml")
    assert fit.nobs == 291


def test_several_groups_add_up_to_separate_fits():
    """Without equality constraints a multi-group FIML fit is the groups' fits side by side."""
    data = punch_holes(_hs())
    both = _quiet(semlang.cfa, HS_MODEL, data, group="school", missing="fiml")
    logl = 0.0
    for k, label in enumerate(("Pasteur", "Grant-White"), start=1):
        alone = _quiet(semlang.cfa, HS_MODEL, data[data.school == label], missing="fiml")
        logl += alone.fit_measures()["logl"]
        ours = both.estimates().query(f"group == {k}")["est"].to_numpy()
        np.testing.assert_allclose(ours, alone.estimates()["est"].to_numpy(), atol=2e-5)
    assert both.fit_measures()["logl"] == pytest.approx(logl, abs=1e-6)


def test_one_complete_group_and_one_with_holes():
    """A complete group beside an incomplete one gives the same fit as both under FIML."""
    data = _hs()
    holes = punch_holes(data)
    mixed = data.where(data.school == "Pasteur", holes)
    fit = _quiet(semlang.cfa, HS_MODEL, mixed, group="school", missing="fiml")
    assert not fit.sample.groups[0].has_missing and fit.sample.groups[1].has_missing
    first = _quiet(semlang.cfa, HS_MODEL, data[data.school == "Pasteur"], missing="fiml")
    second = _quiet(semlang.cfa, HS_MODEL, holes[holes.school != "Pasteur"], missing="fiml")
    total = first.fit_measures()["chisq"] + second.fit_measures()["chisq"]
    assert fit.fit_measures()["chisq"] == pytest.approx(total, abs=1e-5)


@pytest.mark.parametrize("missing", ["listwise", "fiml"])
def test_a_column_with_no_values_is_named(missing):
    data = _hs().assign(x5=np.nan)
    with pytest.raises(DataError, match="'x5' is missing in every row"):
        semlang.cfa(HS_MODEL, data, missing=missing)
