"""The factored information of the free RAM entries against the dense one.

:class:`~semlang.compile.ram.EntryFactors` gives every product of two entries' derivative
vectors as an entry of ZᵀWZ; the expected information and the first-order part of the Hessian
built that way must equal the ones built from the dense entry vectors (which
``test_gradient.py`` checks against finite differences), for complete data with and without a
mean structure, groups with equal loadings and intercepts (latent means in A's mean part),
regressions and FIML. Summing entries into θ by index scatter must equal the product with the
0/1 matrix it replaces, shared θ included.
"""

import numpy as np
import pytest
from reference_cases import fit_reference

from semlang.compile.ram import collapse, collapse_into

CASES = [
    "hs_cfa",
    "poldem_sem",  # regressions, residual covariances
    "extra/hs_invariance_strong",  # groups, equal loadings and intercepts, latent means
    "fitting/path_random_x_meanstructure",
    "fitting/bfi_mimic_fiml_random_x",  # FIML: one piece per missing-data pattern
]


@pytest.fixture(scope="module", params=CASES)
def fitted(request):
    return fit_reference(request.param)


def test_factored_entries_equal_dense_entries(fitted):
    objective = fitted.estimation.objective
    ms = objective.meanstructure
    n = fitted.model.n_theta
    for moments, discrepancy in zip(fitted.implied, objective.discrepancies, strict=True):
        Pa, Pb, Pc, index = moments.entry_vectors()
        factors, order = moments.entry_factors, moments.entry_order
        np.testing.assert_array_equal(factors.theta, index[order])
        np.testing.assert_array_equal(
            np.vstack(factors.dense()), np.vstack([Pa[order], Pb[order], Pc[order]])
        )
        dense = discrepancy.expected_entries(moments, Pa, Pb, Pc, ms)
        factored = discrepancy.factored_expected_entries(moments, factors, ms)
        np.testing.assert_array_equal(factored, factored.T)
        scale = np.max(np.abs(dense))
        np.testing.assert_allclose(factored, dense[np.ix_(order, order)], atol=1e-12 * scale)
        np.testing.assert_allclose(
            collapse(factored, factors.theta, n), collapse(dense, index, n), atol=1e-12 * scale
        )
        dense = discrepancy.first_order_hessian_entries(moments, Pa, Pb, Pc, ms)
        factored = discrepancy.factored_first_order_entries(moments, factors, ms)
        np.testing.assert_array_equal(factored, factored.T)
        scale = np.max(np.abs(dense))
        np.testing.assert_allclose(factored, dense[np.ix_(order, order)], atol=1e-12 * scale)


def test_collapse_by_scatter_equals_the_zero_one_product():
    rng = np.random.default_rng(3)
    entries = rng.standard_normal((7, 7))
    for theta in (np.array([4, 0, 2, 5, 1, 3, 6]), np.array([2, 0, 2, 5, 1, 0, 2])):
        J = np.zeros((7, 8))
        J[np.arange(7), theta] = 1.0
        np.testing.assert_allclose(collapse(entries, theta, 8), J.T @ entries @ J, atol=1e-14)
    out = np.ones((8, 8))
    collapse_into(out, entries, theta)
    np.testing.assert_allclose(out, 1.0 + J.T @ entries @ J, atol=1e-14)
