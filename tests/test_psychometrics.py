"""Reliability: coefficient alpha, the reliability of a mean, omega and the one entry point."""

import numpy as np
import pandas as pd
import pytest
from reference_cases import load_case

from semlang import datasets
from semlang.errors import DataError, DataWarning, OptionError
from semlang.micromacro import generate_micro_macro
from semlang.psychometrics import (
    coefficient_alpha,
    mean_reliability,
    omega,
    omega_from_estimates,
    reliability,
)


def _alpha_from_covariance(cov: np.ndarray) -> float:
    """alpha = k / (k - 1) * (1 - trace(C) / sum(C)), from the items' covariance matrix."""
    k = cov.shape[0]
    return k / (k - 1) * (1 - np.trace(cov) / cov.sum())


def test_alpha_of_the_agreeableness_items() -> None:
    items = datasets.load("bigfive_agree")
    expected = _alpha_from_covariance(np.cov(items.to_numpy(), rowvar=False))
    assert coefficient_alpha(items) == pytest.approx(expected, rel=1e-12)
    # the ML fit of the parallel model averages the sample variances and covariances, so its
    # reliability psi / (psi + theta / 5) (lavaan's estimates) is alpha again
    est = pd.DataFrame(load_case("bigfive_agree_equal")["estimates"])
    psi = est.query("lhs == 'agree' and op == '~~'")["est"].iloc[0]
    theta = est.query("lhs == 'A1' and op == '~~'")["est"].iloc[0]
    assert coefficient_alpha(items) == pytest.approx(mean_reliability(psi, theta, 5), abs=1e-6)
    # average covariance form: k c / (v + (k - 1) c)
    cov = items.cov().to_numpy()
    v, c = np.diag(cov).mean(), cov[~np.eye(5, dtype=bool)].mean()
    assert coefficient_alpha(items.to_numpy()) == pytest.approx(5 * c / (v + 4 * c), rel=1e-12)


def test_alpha_recovers_the_population_value_of_congeneric_items() -> None:
    loadings, residual = np.array([0.4, 0.7, 1.0, 1.3]), np.array([1.0, 0.5, 2.0, 1.5])
    sigma = np.outer(loadings, loadings) + np.diag(residual)
    population = _alpha_from_covariance(sigma)  # about 0.72
    data = np.random.default_rng(8).multivariate_normal(np.zeros(4), sigma, size=200_000)
    assert coefficient_alpha(data) == pytest.approx(population, abs=0.005)  # se about 0.001


def test_mean_reliability_of_the_published_design() -> None:
    assert mean_reliability(1.0, 9.0, 10) == pytest.approx(10 / 19)
    assert round(mean_reliability(1.0, 9.0, 10), 3) == 0.526
    assert mean_reliability(1.0, 4.0, 10) == pytest.approx(0.714, abs=5e-4)
    assert mean_reliability(1.0, 1.0, 10) == pytest.approx(0.909, abs=5e-4)
    np.testing.assert_allclose(mean_reliability(1.0, 9.0, np.array([1, 10])), [0.1, 10 / 19])


def test_mean_alpha_over_simulated_groups_is_about_052() -> None:
    """Members 1..10 as items over the 100 groups of each data set (the wide layout)."""
    alphas = [
        coefficient_alpha(generate_micro_macro(seed=seed).wide.loc[:, "x1":"x10"])
        for seed in range(300)
    ]
    # Feldt: (1 - alpha) / (1 - alpha_hat) ~ F(G - 1, (G - 1)(k - 1)), so
    # E[alpha_hat] = 1 - (1 - alpha) (G - 1) / (G - 3) with alpha = 10/19 and G = 100
    expected = 1 - (1 - 10 / 19) * 99 / 97
    assert np.mean(alphas) == pytest.approx(expected, abs=0.012)  # 0.517, Monte Carlo se 0.004
    assert np.mean(alphas) == pytest.approx(0.52, abs=0.015)  # the published mean


def test_alpha_drops_incomplete_rows() -> None:
    wide = datasets.load("micro_macro_unbalanced_wide").loc[:, "x1":"x15"]
    complete = wide.dropna()
    with pytest.warns(DataWarning, match="incomplete rows"):
        value = coefficient_alpha(wide)
    assert value == pytest.approx(_alpha_from_covariance(np.cov(complete, rowvar=False)))


def test_omega_from_lavaan_estimates_of_parallel_items() -> None:
    est = pd.DataFrame(load_case("bigfive_agree_equal")["estimates"])
    psi = est.query("lhs == 'agree' and op == '~~'")["est"].iloc[0]
    theta = est.query("lhs == 'A1' and op == '~~'")["est"].iloc[0]
    # five unit loadings: omega = 25 psi / (25 psi + 5 theta) = reliability of the mean of 5
    assert omega_from_estimates(est) == pytest.approx(25 * psi / (25 * psi + 5 * theta))
    assert omega_from_estimates(est) == pytest.approx(mean_reliability(psi, theta, 5))


def test_omega_counts_residual_covariances_twice() -> None:
    rows = [
        ("f", "=~", "a", 1.0),
        ("f", "=~", "b", 0.8),
        ("f", "=~", "c", 0.6),
        ("f", "~~", "f", 2.0),
        ("a", "~~", "a", 0.5),
        ("b", "~~", "b", 0.7),
        ("c", "~~", "c", 0.9),
        ("a", "~~", "b", 0.1),
        ("a", "~1", "", 3.0),
    ]
    est = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "est"])
    true_var = 2.4**2 * 2.0
    assert omega_from_estimates(est) == pytest.approx(true_var / (true_var + 2.1 + 0.2))

    class FakeFit:
        def estimates(self) -> pd.DataFrame:
            return est

    assert reliability(fit=FakeFit()) == omega_from_estimates(est)


def test_reliability_entry_point() -> None:
    items = datasets.load("bigfive_agree")
    assert reliability(items) == coefficient_alpha(items)
    assert reliability(sigma2_xi=1.0, sigma2_nu=9.0, n=10) == pytest.approx(10 / 19)
    with pytest.raises(OptionError, match="needs a fitted one-factor model"):
        omega(None)
    with pytest.raises(OptionError, match="exactly one"):
        reliability()
    with pytest.raises(OptionError, match="exactly one"):
        reliability(items, sigma2_xi=1.0, sigma2_nu=9.0, n=10)
    with pytest.raises(OptionError, match="together"):
        reliability(sigma2_xi=1.0, n=10)


def test_user_mistakes() -> None:
    with pytest.raises(DataError, match="at least 2 items"):
        coefficient_alpha(np.ones((10, 1)))
    with pytest.raises(DataError, match="constant"):
        coefficient_alpha(np.ones((10, 3)))
    with pytest.raises(DataError, match="2-d"):
        coefficient_alpha(np.arange(5.0))
    with pytest.raises(OptionError, match="positive"):
        mean_reliability(1.0, 9.0, 0)
