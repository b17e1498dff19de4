"""semlang.simulate(fit, n) from a fitted two-level model: clustered rows whose within and
between moments are the fit's implied ones."""

import numpy as np
import pytest

import semlang
from semlang.errors import OptionError
from semlang.estimate.twolevel_data import TwoLevelData

MODEL = """
level: 1
  fw =~ y1 + y2 + y3
  fw ~ x1 + x2 + x3
level: 2
  fb =~ y1 + y2 + y3
  fb ~ w1 + w2
"""


@pytest.fixture(scope="module")
def fit():
    return semlang.sem(MODEL, semlang.datasets.load("Demo.twolevel"), cluster="cluster")


def test_default_draw_has_the_fitted_clusters(fit):
    frame = semlang.simulate(fit, seed=1)
    assert list(frame.columns) == ["y1", "y2", "y3", "x1", "x2", "x3", "w1", "w2", "cluster"]
    assert len(frame) == 2500 and frame["cluster"].nunique() == 200
    sizes = frame.groupby("cluster").size().to_numpy()
    assert np.array_equal(np.sort(sizes), np.sort(fit.sample.data.cluster_size))
    # a between-only variable is constant within each cluster
    assert (frame.groupby("cluster")["w1"].nunique() == 1).all()
    assert len(semlang.simulate(fit, 1000, seed=1)) == 1000
    assert (
        semlang.simulate(fit, [3, 4, 5], seed=1)["cluster"].tolist() == [1] * 3 + [2] * 4 + [3] * 5
    )


def test_large_draw_has_the_implied_moments(fit):
    size, clusters = 20, 2000
    frame = semlang.simulate(fit, [size] * clusters, seed=5)
    within, between = fit.implied
    w_names, b_names = list(within.layout.observed), list(between.layout.observed)
    means = frame.groupby("cluster")[w_names].transform("mean")
    pooled = np.cov((frame[w_names] - means).to_numpy().T, ddof=0) * size / (size - 1)
    sd = np.sqrt(np.diag(within.sigma))
    se = np.sqrt((np.outer(sd, sd) ** 2 + within.sigma**2) / len(frame))
    assert np.all(np.abs(pooled - within.sigma) <= 5 * se)
    # cluster means of the level-2 variables: Σ_B (+ Σ_W / size where a variable has a within part)
    level2 = frame.groupby("cluster")[b_names].mean().to_numpy()
    expected = between.sigma.copy()
    both = [k for k, name in enumerate(b_names) if name in w_names]
    w_index = [w_names.index(b_names[k]) for k in both]
    expected[np.ix_(both, both)] += within.sigma[np.ix_(w_index, w_index)] / size
    sd = np.sqrt(np.diag(expected))
    se = np.sqrt((np.outer(sd, sd) ** 2 + expected**2) / clusters)
    assert np.all(np.abs(np.cov(level2.T, ddof=0) - expected) <= 5 * se)
    total = within.mu[w_index] + between.mu[both]
    assert np.all(
        np.abs(level2[:, both].mean(axis=0) - total)
        <= 5 * np.sqrt(np.diag(expected)[both] / clusters)
    )


def test_bad_requests(fit):
    with pytest.raises(OptionError, match="cluster sizes"):
        semlang.simulate(fit, [3, 0])
    with pytest.raises(OptionError, match="more than 8 clusters of each size"):
        semlang.simulate(fit, [5] * 8 + [6] * 20, empirical=True)


@pytest.mark.parametrize("n", [None, [4] * 30 + [7] * 40])
def test_empirical_draw_has_the_implied_statistics(fit, n):
    frame = semlang.simulate(fit, n, seed=3, empirical=True)
    within, between = fit.implied
    w_names, b_names = list(within.layout.observed), list(between.layout.observed)
    data = TwoLevelData.from_data(frame, "cluster", w_names, b_names)
    assert np.allclose(data.pooled_within_cov, within.sigma, atol=1e-10)
    # per cluster size: [between-only values, cluster means] with mean μ, covariance Σ_B + Σ_W/n
    z = [v for v in b_names if v not in w_names]
    pos = [z.index(v) if v in z else len(z) + w_names.index(v) for v in b_names]
    mu = np.concatenate([np.zeros(len(z)), within.mu])
    mu[pos] += between.mu
    for size, mean, cov in zip(data.sizes, data.size_means, data.size_covs, strict=True):
        expected = np.zeros_like(cov)
        expected[np.ix_(pos, pos)] = between.sigma
        expected[len(z) :, len(z) :] += within.sigma / size
        assert np.allclose(mean, mu, atol=1e-10) and np.allclose(cov, expected, atol=1e-10)


def test_empirical_draw_refits_to_the_estimates(fit):
    refit = semlang.sem(MODEL, semlang.simulate(fit, seed=4, empirical=True), cluster="cluster")
    assert np.allclose(refit.params, fit.params, atol=1e-7)
    assert refit.fit_measures()["chisq"] == pytest.approx(0.0, abs=1e-6)
    ours, implied = refit.inspect("sampstat"), fit.inspect("implied")
    for level in ("within", "cluster"):  # the unrestricted moments (EM) within its tolerance
        assert np.allclose(ours[level]["cov"], implied[level]["cov"], atol=5e-4)
