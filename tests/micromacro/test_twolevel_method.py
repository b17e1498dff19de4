"""The two-level micro-macro SEM as a method on long data, against lavaan's two-level fit."""

import warnings

import pytest
from reference_cases import assert_matches, load_case

import semlang
from semlang.micromacro import Method, micro_macro, model_string


def test_model_string_writes_the_twolevel_model():
    text = model_string("x", ["Z"], "y", form="twolevel")
    reference = load_case("micro_macro_twolevel")["model"]
    assert text.split() == reference.split()
    with pytest.raises(semlang.OptionError):
        model_string("x", ["Z"], "y", form="long")


def test_two_level_method_equals_lavaan_on_unbalanced_long_data():
    long = semlang.datasets.load("micro_macro_unbalanced_long")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        result = micro_macro(
            long, group="group", x="x", z="Z", y="y", methods=[Method.SEM_TWOLEVEL]
        )
    estimate = result.estimates[Method.SEM_TWOLEVEL]
    rows = {
        (r["lhs"], r["op"], r["rhs"]): r
        for r in load_case("micro_macro_twolevel")["estimates"]
        if r["level"] == 2
    }
    for term, key in [
        ("Intercept", ("y", "~1", "")),
        ("x", ("y", "~", "x")),
        ("Z", ("y", "~", "Z")),
    ]:
        k = estimate.terms.index(term)
        assert_matches("est", estimate.est[k], rows[key]["est"], f"{term} est")
        assert_matches("se", estimate.se["ML"][k], rows[key]["se"], f"{term} se")
