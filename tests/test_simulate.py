"""semlang.simulate (semlang.simulation): simulateData's reading of the model text, exact draws."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import semlang
from semlang.errors import ModelSpecificationError, OptionError, SemlangWarning
from semlang.simulation import population_moments, simulate

# Model-implied moments of lavaan 0.6.14's simulateData(model, return.fit = TRUE): fitted(fit)
CASES = {
    "regression_and_defaults": (
        "f =~ x1 + 0.8*x2 + 0.6*x3\ny ~ 0.5*f + x4\nx4 ~~ 2*x4",
        ("x1", "x2", "x3", "y", "x4"),
        [[2.00, 0.80, 0.60, 0.50, 0.0],
         [0.80, 1.64, 0.48, 0.40, 0.0],
         [0.60, 0.48, 1.36, 0.30, 0.0],
         [0.50, 0.40, 0.30, 1.25, 0.0],
         [0.00, 0.00, 0.00, 0.00, 2.0]],
        [0.0, 0.0, 0.0, 0.0, 0.0],
    ),
    "latent_regression_intercept_residual_covariance": (
        "f1 =~ a1 + a2\nf2 =~ b1 + b2\nf2 ~ 0.4*f1\na1 ~ 1.5*1\nb1 ~~ 0.3*b2",
        ("a1", "a2", "b1", "b2"),
        [[2.0, 1.0, 0.40, 0.40],
         [1.0, 2.0, 0.40, 0.40],
         [0.4, 0.4, 2.16, 1.46],
         [0.4, 0.4, 1.46, 2.16]],
        [1.5, 0.0, 0.0, 0.0],
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_population_moments_are_lavaans(name) -> None:
    model, names, cov, mean = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemlangWarning)
        observed, [(mu, sigma)] = population_moments(model)
    assert observed == names
    np.testing.assert_allclose(sigma, cov, atol=1e-12)
    np.testing.assert_allclose(mu, mean, atol=1e-12)


def test_unspecified_regressions_are_zero_with_a_warning() -> None:
    with pytest.warns(SemlangWarning, match="y~x4"):
        simulate(CASES["regression_and_defaults"][0], n=10, seed=1)


def test_empirical_draws_have_the_population_moments_exactly() -> None:
    model, names, cov, mean = CASES["latent_regression_intercept_residual_covariance"]
    data = simulate(model, n=50, seed=3, empirical=True)
    assert list(data.columns) == list(names) and len(data) == 50
    np.testing.assert_allclose(data.mean(), mean, atol=1e-12)
    np.testing.assert_allclose(data.cov(ddof=0), cov, atol=1e-12)


def test_draws_are_reproducible_and_follow_the_model() -> None:
    model = "f =~ x1 + 0.7*x2 + 0.5*x3 + 0.9*x4\nx2 ~~ 0.5*x2"
    a = simulate(model, n=20000, seed=11)
    np.testing.assert_array_equal(a, simulate(model, n=20000, rng=np.random.default_rng(11)))
    assert not np.allclose(a, simulate(model, n=20000, seed=12))
    fit = semlang.cfa("f =~ x1 + x2 + x3 + x4", a, std_lv=True)
    est = fit.estimates().set_index(["lhs", "op", "rhs"])
    truth = {("f", "=~", "x1"): 1.0, ("f", "=~", "x2"): 0.7, ("f", "=~", "x4"): 0.9,
             ("x2", "~~", "x2"): 0.5, ("x3", "~~", "x3"): 1.0}  # fmt: skip
    for key, value in truth.items():
        assert abs(est.loc[key, "est"] - value) < 4 * est.loc[key, "se"], key


def test_start_values_are_population_values_and_groups_are_stacked() -> None:
    data = simulate("f =~ x1 + start(0.5)*x2\nf ~~ c(1, 4)*f", n=[400, 600], seed=2, empirical=True)
    assert list(data.columns) == ["x1", "x2", "group"]
    assert (data["group"].value_counts().sort_index() == [400, 600]).all()
    second = data[data["group"] == 2][["x1", "x2"]].cov(ddof=0).to_numpy()
    np.testing.assert_allclose(second, [[5.0, 2.0], [2.0, 2.0]], atol=1e-12)


def test_mistakes() -> None:
    with pytest.raises(ModelSpecificationError, match="not positive definite"):
        simulate("f =~ x1 + x2\nx1 ~~ -2*x1", n=10, seed=1)
    for bad in (0, -3, 2.5, [10, 0], "100", True):
        with pytest.raises(OptionError):
            simulate("f =~ x1 + x2", n=bad)
    with pytest.raises(OptionError, match="fixed_x"):
        simulate("y ~ 0.5*x", n=10, fixed_x=True)
    with pytest.raises(OptionError, match="not both"):
        simulate("f =~ x1 + x2", n=10, seed=1, rng=np.random.default_rng(1))
    with pytest.raises(OptionError, match="more rows than variables"):
        simulate("f =~ x1 + x2 + x3", n=3, empirical=True)


def test_the_package_exports_the_function() -> None:
    import semlang

    np.testing.assert_array_equal(
        semlang.simulate("f =~ x1 + x2", n=5, seed=4), simulate("f =~ x1 + x2", 5, 4)
    )
