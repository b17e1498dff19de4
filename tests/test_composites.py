"""Composites ('f <~ x1 + x2 + x3', formative indicators) as lavaan 0.6.14 fits them: a latent
variable regressed on its indicators with its residual variance fixed to 0."""

import warnings

import pytest

import semlang
from tests.esem_reference import assert_case, fit_case


@pytest.fixture(scope="module")
def fit():
    return fit_case("composite_poldem")


def test_composite_model_matches_lavaan(fit):
    assert_case(fit, "composite_poldem")


def test_composite_in_several_groups_matches_lavaan():
    assert_case(fit_case("composite_hs_groups"), "composite_hs_groups")


def test_composite_rows_of_the_parameter_table(fit):
    frame = fit.table.to_frame()
    weights = frame[frame.op == "<~"]
    assert list(weights.rhs) == ["x1", "x2", "x3"]
    assert list(weights.free) == [0, 1, 2]  # the first weight fixed by the user (1*x1)
    variance = frame[(frame.lhs == "ind60") & (frame.op == "~~")]
    assert variance.free.tolist() == [0] and variance.value.tolist() == [0.0]
    assert fit.table.blocks[0].observed_exogenous == ("x1", "x2", "x3")


def test_summary_has_a_composites_section(fit):
    text = str(fit.summary())
    assert "Composites:" in text
    assert text.index("Latent Variables:") < text.index("Composites:") < text.index("Regressions:")
    assert "  ind60 <~" in text


def test_composite_of_itself_is_refused():
    with pytest.raises(semlang.ModelSpecificationError, match="cannot be a composite of itself"):
        semlang.sem("f <~ f + x1", semlang.datasets.load("PoliticalDemocracy"))


def test_a_composite_without_a_fixed_weight_is_warned_about():
    model = "ind60 <~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\ndem60 ~ ind60"
    with pytest.warns(semlang.IdentificationWarning, match="'ind60' has no fixed weight"):
        semlang.parameter_table(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error", semlang.IdentificationWarning)
        semlang.parameter_table(model, std_lv=True)
        semlang.parameter_table(model.replace("x1 +", "1*x1 +"))
