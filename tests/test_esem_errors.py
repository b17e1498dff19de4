"""Efa blocks that cannot be fitted as lavaan means them: located errors with a hint, never a
traceback. (tests/reference/esem/esem_error_*.json record what lavaan 0.6.14 does with the same
models: it fits them, warning at most that the standard errors are not available.)"""

import pytest

import semlang
from semlang.errors import ModelSpecificationError, ModelSyntaxError, OptionError
from tests.esem_reference import load

HS = semlang.datasets.load("HolzingerSwineford1939")
BLOCK = 'efa("b")*f1 + efa("b")*f2 =~ x1 + x2 + x3 + x4 + x5 + x6'


def _error(model, cls=ModelSpecificationError, **options):
    with pytest.raises(cls) as info:
        semlang.cfa(model, HS, **options)
    return str(info.value)


def test_more_factors_than_the_indicators_identify():
    model = load("esem_error_few_indicators")["model"]
    assert any("standard errors" in w for w in load("esem_error_few_indicators")["warnings"])
    text = _error(model)
    assert "has 3 factors but only 4 indicators" in text
    assert "need at least 6 indicators" in text
    assert "hint: use fewer factors" in text


def test_fixed_loading_in_a_block():
    text = _error(load("esem_error_fixed_loading")["model"])
    assert "the loading 'f1 =~ x1' of the efa block 'b' cannot be fixed" in text
    assert "<model>:1:30:" in text  # located at the modifier


def test_label_equal_to_the_block_name():
    text = _error(load("esem_error_label_block")["model"])
    assert "cannot be labelled (and 'b' is the block's name)" in text
    elsewhere = BLOCK + "\nx7 ~ b*x8"
    assert "the label 'b' is also the name of an efa block" in _error(elsewhere)


def test_efa_on_a_regression():
    text = _error(load("esem_error_regression")["model"], ModelSyntaxError)
    assert "efa() marks the factors left of '=~', not a term on the right-hand side" in text
    text = _error('efa("b")*x7 ~ x1', ModelSyntaxError)
    assert "not the left-hand side of '~'" in text


def test_block_factor_measured_outside_its_block():
    text = _error(BLOCK + "\nf1 =~ x7")
    assert "'f1' is a factor of the efa block 'b'; it cannot also load on 'x7'" in text


def test_block_split_over_statements():
    text = _error('efa("b")*f1 =~ x1 + x2 + x3\nefa("b")*f2 =~ x4 + x5 + x6')
    assert "every factor loads on every indicator, but 'f1' does not load on 'x4'" in text


def test_factor_in_two_blocks():
    model = BLOCK + '\nefa("c")*f1 + efa("c")*f3 =~ x7 + x8 + x9'
    assert "the factor 'f1' is in two efa blocks, 'b' and 'c'" in _error(model)


def test_unknown_rotation_and_rotation_args():
    assert "did you mean 'geomin'" in _error(BLOCK, OptionError, rotation="geomni")
    text = _error(BLOCK, OptionError, rotation_args={"rstart": 5})
    assert "unknown rotation_args entry 'rstart'" in text and "'rstarts'" in text
    assert "rotation_args must be a dict" in _error(BLOCK, OptionError, rotation_args="oblimin")


def test_first_order_standard_errors_are_refused():
    text = _error(BLOCK, OptionError, se="first.order")
    assert "not available for a model with efa blocks" in text


def test_orthogonal_rotation_of_groups_with_equal_loadings():
    with pytest.raises(semlang.NotSupportedError, match="orthogonal rotation"):
        semlang.cfa(BLOCK, HS, group="school", group_equal=["loadings"], rotation="varimax")


STRUCTURAL = BLOCK + "\nspeed =~ x7 + x8 + x9\n"


@pytest.mark.parametrize(
    "extra, how",
    [
        ("speed ~ p*f1 + q*f2\np == q", "equated"),
        ("speed ~ a*f1 + a*f2", "equated"),
        ("speed ~ 0.2*f1 + f2", "fixed"),
        ("speed ~ f1 + f2\nf1 ~~ 0.3*f2", "fixed"),
    ],
)
def test_constraints_on_parameters_the_rotation_transforms(extra, how):
    text = _error(STRUCTURAL + extra)
    assert "involves a factor of an efa block and cannot be " + how in text


def test_labels_used_in_definitions_are_fine():
    fit = semlang.sem(STRUCTURAL + "speed ~ p*f1 + q*f2\ntotal := p + q", HS)
    frame = fit.estimates()
    assert frame.loc[frame.op == ":=", "se"].iloc[0] > 0


def test_two_level_rotation_is_refused():
    data = semlang.datasets.load("Demo.twolevel")
    model = (
        'level: 1\nefa("w")*fw1 + efa("w")*fw2 =~ y1 + y2 + y3 + y4 + y5 + y6\n'
        "level: 2\nfb =~ y1 + y2 + y3"
    )
    with pytest.raises(semlang.NotSupportedError, match="two-level model"):
        semlang.sem(model, data, cluster="cluster")
