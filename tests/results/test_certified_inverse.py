"""The information's inverse through a Cholesky factor certified not singular.

``certified_inverse`` must give the inverse (exactly symmetric) of a positive definite matrix
whatever its scales, and decline (None, so that the eigenvalues decide) where the unit-diagonal
form is singular or too close to it for its norm bound to certify it — the matrices for which
the standard errors are NaN with an identification warning.
"""

import numpy as np

from semlang.matrices import SINGULAR, smallest_scaled_eigenvalue
from semlang.results.inference import certified_inverse


def test_inverse_of_a_badly_scaled_positive_definite_matrix():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((600, 600))
    scales = np.geomspace(1e-3, 1e3, 600)
    matrix = (a @ a.T + 5.0 * np.eye(600)) * np.outer(scales, scales)
    inverse = certified_inverse(matrix)
    np.testing.assert_array_equal(inverse, inverse.T)
    unit = np.outer(scales, scales)
    np.testing.assert_allclose((inverse * unit) @ (matrix / unit), np.eye(600), atol=1e-10)


def test_declines_singular_and_nearly_singular_matrices():
    assert certified_inverse(np.array([[1.0, 1.0], [1.0, 1.0 + 1e-13]])) is None
    assert certified_inverse(np.array([[1.0, 2.0], [2.0, 1.0]])) is None  # indefinite
    assert certified_inverse(np.array([[1.0, 0.0], [0.0, 0.0]])) is None
    near = np.array([[1.0, 1.0 - 2e-11], [1.0 - 2e-11, 1.0]])  # λmin/λmax = 1e-11
    assert smallest_scaled_eigenvalue(near) <= SINGULAR
    assert certified_inverse(near) is None
