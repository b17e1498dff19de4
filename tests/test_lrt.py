"""Likelihood-ratio tests of nested models (lavaan's ``lavTestLRT``): measurement invariance by
school (configural, equal loadings, equal intercepts, equal means), ML and MLR (the scaled
Satorra-Bentler 2001 difference), against lavaan 0.6.14 (``tests/reference/groups/lrt_*``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_groups import fit_group_case, load_group_case

from semlang.errors import DataError, OptionError, SemlangWarning
from semlang.results import compare
from semlang.results.compare import lrt

LRT_CASES = ["lrt_invariance", "lrt_invariance_unsorted", "lrt_invariance_mlr", "lrt_means"]
TOLERANCE = {"Df": 0.0, "Df diff": 0.0, "Pr(>Chisq)": 1e-4, "RMSEA": 1e-4}


def _models(case: dict) -> list[str]:
    return case["call"].removeprefix("lavTestLRT(").removesuffix(")").split(", ")


@pytest.mark.parametrize("name", LRT_CASES)
def test_matches_lavaan(name):
    case = load_group_case(name)
    models = _models(case)
    table = lrt(*[fit_group_case(m) for m in models], names=models)
    assert list(table.columns) == case["columns"]
    assert list(table.index) == [row["model"] for row in case["rows"]]
    for row in case["rows"]:
        for column in case["columns"]:
            ours, reference = table.loc[row["model"], column], row[column]
            if reference is None:
                assert math.isnan(ours), (row["model"], column)
            else:
                tolerance = TOLERANCE.get(column, 0.02 + 1e-5 * abs(reference))
                assert abs(ours - reference) <= tolerance, (row["model"], column, ours)


def test_heading_names_the_method():
    mlr = lrt(fit_group_case("hs_configural_mlr"), fit_group_case("hs_loadings_mlr"))
    assert "satorra.bentler.2001" in mlr.attrs["heading"]
    ml = lrt(fit_group_case("hs_configural"), fit_group_case("hs_loadings"))
    assert ml.attrs["heading"] == "Chi-Squared Difference Test"
    assert list(ml.index) == ["model1", "model2"]


def test_scaled_difference_by_hand():
    """(T0 − T1)/cd with cd = (r0 c0 − r1 c1)/(r0 − r1), from the fits' own numbers."""
    less, more = fit_group_case("hs_configural_mlr"), fit_group_case("hs_strong_mlr")
    table = lrt(more, less, names=["strong", "configural"])
    values = [f.fit_measures() | robust_measures(f) for f in (less, more)]
    (t1, r1, c1), (t0, r0, c0) = [(v["chisq"], v["df"], v["scaling_factor"]) for v in values]
    expected = (t0 - t1) / ((r0 * c0 - r1 * c1) / (r0 - r1))
    assert table.loc["strong", "Chisq diff"] == pytest.approx(expected, rel=1e-12)


def robust_measures(fit) -> dict:
    from semlang.results.robust import scaled_test

    return scaled_test(fit, fit.fit_measures())


def test_same_degrees_of_freedom_gives_no_p_value():
    with pytest.warns(SemlangWarning, match="same degrees of freedom"):
        table = lrt(fit_group_case("hs_loadings"), fit_group_case("hs_intercepts_only"))
    assert np.isnan(table["Pr(>Chisq)"].iloc[1])


def test_a_restricted_model_that_fits_better_is_reported():
    with pytest.warns(SemlangWarning, match="not nested"):
        compare._check_nesting(np.array([np.nan, 3.0, -1.0]))


def test_one_fit_is_an_error():
    with pytest.raises(OptionError, match="two or more fits"):
        lrt(fit_group_case("hs_configural"))


def test_something_else_than_a_fit_is_an_error():
    with pytest.raises(OptionError, match="argument 2 is a str"):
        lrt(fit_group_case("hs_configural"), "model.sem")


def test_mixed_estimators_are_an_error():
    with pytest.raises(OptionError, match="scaled test statistics"):
        lrt(fit_group_case("hs_configural"), fit_group_case("hs_loadings_mlr"))


def test_different_data_is_an_error():
    with pytest.raises(DataError, match="different data"):
        lrt(fit_group_case("hs_configural"), fit_group_case("hs_school_na"))


def test_mean_structures_must_agree():
    with pytest.raises(OptionError, match="mean structure"):
        lrt(fit_group_case("hs_cfa_mlr"), fit_group_case("hs_cfa_mlr_meanstructure"))


def test_bad_method_and_names():
    fits = fit_group_case("hs_configural"), fit_group_case("hs_loadings")
    with pytest.raises(OptionError, match=r"satorra\.bentler\.2010"):
        lrt(*fits, method="satorra.bentler.2010")
    with pytest.raises(OptionError, match="distinct names"):
        lrt(*fits, names=["a"])


def test_a_list_of_fits_is_accepted():
    fits = [fit_group_case("hs_configural"), fit_group_case("hs_loadings")]
    assert lrt(fits).shape == (2, 8)
