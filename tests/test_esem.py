"""Exploratory SEM (efa blocks in model strings) against lavaan 0.6.14: the rotated loadings,
factor correlations and structural part, their standard errors (lavaan's bordered ones), the
standardized solution and the fit measures."""

import numpy as np
import pytest

import semlang
from tests.esem_reference import assert_case, fit_case, load
from tests.reference_cases import assert_matches, row_key

CASES = (
    "esem_hs_geomin",
    "esem_hs_oblimin",
    "esem_hs_varimax",
    "esem_hs_structural",
    "esem_hs_mimic",
    "esem_hs_mlr",
    "esem_hs_mlm",
    "esem_hs_uls",
    "esem_hs_target",
    "esem_hs_structural_stdlv",
)


@pytest.mark.parametrize("name", CASES)
def test_rotated_solution_matches_lavaan(name):
    assert_case(fit_case(name), name)


def test_several_groups_rotate_each_group():
    assert_case(fit_case("esem_hs_groups"), "esem_hs_groups")


def test_rotation_none_gives_the_unrotated_solution():
    fit = fit_case("esem_hs_geomin", rotation="none")
    frame = fit.estimates()
    ours = {(r.lhs, r.op, r.rhs): r.est for r in frame.itertuples()}
    for ref in load("esem_hs_geomin")["unrotated"]:
        # the echelon pattern identifies the factors up to their signs: lavaan's are taken
        assert_matches("est", ours[ref["lhs"], ref["op"], ref["rhs"]], ref["est"], str(ref))


def test_fit_measures_count_the_unrotated_parameters():
    fit = fit_case("esem_hs_geomin")
    assert fit.fit_measures()["npar"] == 33
    assert fit.table.n_free == 39  # the rotated table: echelon zeros and correlations freed
    assert np.isclose(fit.fit_measures()["chisq"], fit.unrotated.fit_measures()["chisq"])


def test_a_model_without_efa_blocks_ignores_the_rotation():
    data = semlang.datasets.load("HolzingerSwineford1939")
    fit = semlang.cfa("f =~ x1 + x2 + x3", data, rotation="oblimin")
    assert type(fit).__name__ == "Fit"


def test_summary_as_lavaan():
    text = str(fit_case("esem_hs_oblimin").summary())
    assert "  Number of model parameters                        33\n" in text
    assert "  Rotation method                      OBLIMIN OBLIQUE\n" in text
    assert "  Oblimin gamma                                      0\n" in text
    assert "  Rotation algorithm (rstarts)                GPA (30)\n" in text
    assert "  Row weights                                     None\n" in text
    assert "  f1 =~ efa1\n" in text and "  f3 =~ efa1\n" in text
    plain = str(fit_case("esem_hs_geomin", rotation="none").summary())
    assert "  Rotation method                                 NONE\n" in plain


def test_several_groups_with_equal_loadings():
    # lavaan rotates each group on its own: the rotated loadings differ a little by group
    fit = fit_case("esem_hs_groups_equal")
    assert_case(fit, "esem_hs_groups_equal")
    frame = fit.estimates()
    variances = frame[(frame.op == "~~") & (frame.lhs == "f3") & (frame.rhs == "f3")]
    assert variances.se.tolist()[0] == 0 and variances.se.tolist()[1] > 0


@pytest.mark.parametrize(
    "name", ["esem_hs_geomin", "esem_hs_varimax", "esem_hs_structural", "esem_hs_mimic"]
)
def test_factor_scores_of_the_rotated_factors(name):
    scores = fit_case(name).predict()
    for k, ref in enumerate(load(name)["scores_regression"]):
        for factor, value in ref.items():
            assert_matches("score", float(scores[factor].iloc[k]), value, f"{name} {k} {factor}")


def test_command_line_rotation(tmp_path, capsys):
    from semlang.cli import main

    model = tmp_path / "esem.sem"
    model.write_text(load("esem_hs_oblimin")["model"] + "\n")
    code = main(["fit", "--cfa", "--rotation", "oblimin", str(model), "HolzingerSwineford1939.csv"])
    text = capsys.readouterr().out
    assert code == 0
    assert "  Rotation method                      OBLIMIN OBLIQUE\n" in text


STANDARDIZED_CASES = (*CASES, "esem_hs_groups", "esem_hs_groups_equal")


@pytest.mark.parametrize("name", STANDARDIZED_CASES)
def test_standardized_solution_and_its_standard_errors(name):
    """lavaan's standardizedSolution(): its standard errors by forward differences through the
    rotation from the unrotated parameters (kind se_std_rotated: lavaan's numerical noise)."""
    std = fit_case(name).standardized_solution()
    ours = {row_key(row): row for row in std.to_dict("records")}
    for ref in load(name)["standardized"]:
        key, what = row_key(ref), f"{name} {row_key(ref)}"
        assert_matches("std_all", ours[key]["est_std"], ref["est_std"], what + " est_std")
        assert_matches("se_std_rotated", ours[key]["se"], ref["se"], what + " se")
