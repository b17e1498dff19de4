"""semlang.efa.rotate against lavaan 0.6.14's lav_matrix_rotate (tests/reference/efa/rotations.json,
tools/efa_reference.R): one unrotated loading matrix under every criterion, orthogonal and
oblique, with row weights and the pairwise algorithm; and rotate()'s own guarantees."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from semlang.efa import rotate, stationarity
from semlang.errors import ConvergenceWarning, OptionError
from tests.reference_cases import assert_matches, load_case

REF = load_case("efa/rotations")
A = np.array(REF["A"]["values"])


def matrix(entry) -> np.ndarray:
    return np.array(entry["values"], dtype=float)


def rotated(name: str):
    case = REF["cases"][name]
    target = matrix(REF["target_pst"] if case["method"] == "pst" else REF["target"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return rotate(
            A,
            case["method"],
            orthogonal=case["orthogonal"],
            row_weights=case["row_weights"],
            algorithm=case["algorithm"],
            oblimin_gamma=case["oblimin_gamma"],
            orthomax_gamma=case["orthomax_gamma"],
            target=target,
        )


# criteria so flat near their minimum that lavaan's stopping rule (projected gradient < 1e-5)
# leaves the loadings uncertain beyond the estimates' tolerance although the criterion agrees to
# 1e-9: there the loadings are compared within this absolute tolerance (simplimax, piecewise,
# has several minima of the same value: only its criterion is compared)
FLAT = {"bentler": 5e-3, "biquartimin": 1e-3, "simplimax": None}


SLOW = ("simplimax",)  # its piecewise criterion takes thousands of GPA steps


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=(pytest.mark.slow,) if n in SLOW else ()) for n in sorted(REF["cases"])],
)
def test_rotation_as_lavaan(name):
    case = REF["cases"][name]
    result = rotated(name)
    np.testing.assert_allclose(result.loadings @ result.factor_cor @ result.loadings.T, A @ A.T,
                               atol=1e-10)  # fmt: skip
    if case["criterion"][0] is not None and case["algorithm"] == "gpa":
        assert_matches("est", result.criterion, case["criterion"][0], f"{name} criterion")
    if case["method"] in FLAT:
        tolerance = FLAT[case["method"]]
        if tolerance is not None:
            np.testing.assert_allclose(result.loadings, matrix(case["loadings"]), atol=tolerance)
        return
    for (i, j), value in np.ndenumerate(matrix(case["loadings"])):
        assert_matches("est", result.loadings[i, j], value, f"{name} loading {i + 1},{j + 1}")
    for (i, j), value in np.ndenumerate(matrix(case["phi"])):
        assert_matches("est", result.factor_cor[i, j], value, f"{name} phi {i + 1},{j + 1}")


def test_random_starts_are_reproducible_from_the_seed():
    first = rotate(A, "geomin", rstarts=5, seed=7)
    again = rotate(A, "geomin", rstarts=5, seed=7)
    np.testing.assert_array_equal(first.loadings, again.loadings)
    generator = rotate(A, "geomin", rstarts=5, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(first.loadings, generator.loadings)


def test_stationarity_vanishes_at_the_rotated_solution():
    for method, orthogonal in (("geomin", False), ("varimax", True), ("oblimin", False)):
        result = rotate(A, method, orthogonal=orthogonal, gpa_tol=1e-8, rstarts=2)
        conditions = stationarity(result.loadings, result.factor_cor, result)
        assert np.abs(conditions).max() < 1e-7, method


def test_unknown_rotation_names_the_closest():
    with pytest.raises(OptionError, match="unknown rotation 'geomni'") as error:
        rotate(A, "geomni")
    assert "did you mean 'geomin'" in str(error.value)


def test_target_of_the_wrong_shape():
    with pytest.raises(
        OptionError, match=r"the target matrix is 9 × 2, but the loadings are 9 × 3"
    ):
        rotate(A, "target", target=np.zeros((9, 2)))
    with pytest.raises(OptionError, match="needs a target matrix"):
        rotate(A, "target")


def test_no_convergence_from_any_start_warns_naming_the_rotation():
    with pytest.warns(ConvergenceWarning, match="the geomin rotation .* did not converge after 3 "
                      "iterations from any of the 4 random starts"):  # fmt: skip
        result = rotate(A, "geomin", rstarts=4, max_iter=3)
    assert not result.converged


def test_one_factor_and_none_are_returned_as_they_are():
    one = rotate(A[:, :1], "geomin")
    np.testing.assert_array_equal(one.loadings, A[:, :1])
    none = rotate(A, "none")
    np.testing.assert_array_equal(none.loadings, A)
