"""Symmetric-matrix helpers: inverses judged on the unit-diagonal form, the symmetric product."""

import numpy as np
import pytest

from semlang.matrices import symmetric_cross_product, well_conditioned_inverse


def test_symmetric_cross_product_is_ztz():
    z = np.random.default_rng(3).normal(size=(40, 6))
    np.testing.assert_allclose(symmetric_cross_product(z), z.T @ z, rtol=1e-12)


def test_inverse_whatever_the_scales():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(30, 5))
    matrix = a.T @ a * np.outer([1e6, 1, 1e-4, 1, 1], [1e6, 1, 1e-4, 1, 1])
    inverse = well_conditioned_inverse(matrix)
    np.testing.assert_allclose(inverse, np.linalg.inv(matrix), rtol=1e-8)


@pytest.mark.parametrize(
    "matrix",
    [
        np.array([[1.0, 1.0], [1.0, 1.0]]),  # singular
        np.array([[1.0, 2.0], [2.0, 1.0]]),  # indefinite
        np.array([[0.0, 0.0], [0.0, 1.0]]),  # a zero variance
        np.array([[1.0, np.nan], [np.nan, 1.0]]),
    ],
)
def test_no_inverse_where_not_positive_definite(matrix):
    assert well_conditioned_inverse(matrix) is None
