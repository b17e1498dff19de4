"""Sample moments of incomplete groups: pairwise covariances with divisor N."""

import numpy as np

from semlang.estimate.data import _pairwise_cov


def test_pairwise_covariance_uses_the_rows_observing_each_pair():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 4))
    x[rng.random(x.shape) < 0.25] = np.nan
    expected = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            both = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
            a, b = x[both, i], x[both, j]
            expected[i, j] = np.mean((a - a.mean()) * (b - b.mean()))
    np.testing.assert_allclose(_pairwise_cov(x), expected, atol=1e-12)


def test_pairwise_covariance_of_complete_data_is_the_ml_covariance():
    x = np.random.default_rng(2).normal(size=(30, 3))
    np.testing.assert_allclose(_pairwise_cov(x), np.cov(x.T, ddof=0), atol=1e-12)
