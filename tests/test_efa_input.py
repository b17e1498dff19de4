"""semlang.efa() on bad input (lavaan's messages in tests/reference/efa/errors.json), and its
varimax/promax beside psych::fa and stats::factanal (tests/reference/efa/other_packages.json)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import semlang
from semlang.errors import IdentificationError, NotSupportedError, OptionError
from tests.reference_cases import load_case

ERRORS = load_case("efa/errors")
HS = semlang.datasets.load("hs")[[f"x{i}" for i in range(1, 10)]]


def test_more_factors_than_the_data_identify():
    with pytest.raises(IdentificationError) as error:
        semlang.efa(HS, nfactors=6)
    assert error.value.message == ERRORS["too_many_factors"].removeprefix("lavaan ERROR: ")
    assert "df < 0" in str(error.value)
    with pytest.raises(IdentificationError, match="maximum number of factors is 5"):
        semlang.efa(HS, nfactors=range(1, 7))


def test_unknown_rotation_names_the_closest():
    assert "geomni" in ERRORS["unknown_rotation"]
    with pytest.raises(OptionError, match="unknown rotation 'geomni'") as error:
        semlang.efa(HS, nfactors=3, rotation="geomni")
    assert "hint: did you mean 'geomin'?" in str(error.value)


def test_target_of_the_wrong_shape():
    assert ERRORS["target_wrong_shape"] == "lavaan ERROR: ncol(target) != ncol(A)"
    with pytest.raises(OptionError, match="the target matrix is 9 × 2, but the loadings are 9 × 3"):
        semlang.efa(HS, nfactors=3, rotation="target", rotation_args={"target": np.zeros((9, 2))})


def test_unknown_rotation_argument():
    with pytest.raises(OptionError, match=r"unknown rotation_args entry 'geomin\.eps'") as error:
        semlang.efa(HS, nfactors=2, rotation_args={"geomin.eps": 0.01})
    assert "did you mean 'geomin_epsilon'" in str(error.value)


def test_continuous_items_declared_ordered_and_other_estimators_are_refused():
    with pytest.raises(semlang.DataError, match="'x1' has a category that is not a whole"):
        semlang.efa(HS, nfactors=2, ordered=["x1"])
    with pytest.raises(NotSupportedError, match=r"ML, ULS, MLR, .*, not 'WLSMV'") as error:
        semlang.efa(HS, nfactors=2, estimator="WLSMV")
    assert "ordered=" in error.value.hint


def test_a_rotation_that_never_converges_warns_and_says_so():
    with pytest.warns(semlang.ConvergenceWarning, match="the geomin rotation"):
        result = semlang.efa(HS, nfactors=3, rotation_args={"max_iter": 2, "rstarts": 3})
    assert not result[3].rotation.converged


def _matched(mine: np.ndarray, other: np.ndarray) -> float:
    """The largest difference after the best order and signs of the columns."""
    best = np.inf
    for order in itertools.permutations(range(mine.shape[1])):
        cols = mine[:, list(order)]
        cols = cols * np.sign(np.sum(cols * other, axis=0))
        best = min(best, float(np.abs(cols - other).max()))
    return best


@pytest.mark.parametrize("rotation", ["varimax", "promax"])
def test_beside_psych_and_factanal(rotation):
    """varimax agrees with psych::fa(fm = "ml") and factanal to their ML optimizer's precision;
    promax with factanal (psych's promax normalizes differently and differs from lavaan)."""
    others = load_case("efa/other_packages")[f"hs_{rotation}"]
    mine = semlang.efa(HS, nfactors=3, rotation=rotation)[3].loadings.to_numpy()
    assert _matched(mine, np.array(others["factanal"]["values"])) < 1e-3
    psych = _matched(mine, np.array(others["psych_fa"]["values"]))
    assert psych < 1e-3 if rotation == "varimax" else psych > 1e-2
