"""OLS with classical, HC0 and HC3 covariances against statsmodels on the micro-macro data."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from semlang import datasets
from semlang.errors import DataError, DataWarning, OptionError
from semlang.micromacro import ols


def _group_data(name: str) -> pd.DataFrame:
    """One row per group: y, Z and the observed group mean of x."""
    long = datasets.load(name)
    per_group = long.groupby("group", sort=True)
    return pd.DataFrame(
        {"y": per_group["y"].first(), "x_mean": per_group["x"].mean(), "Z": per_group["Z"].first()}
    )


@pytest.mark.parametrize("name", ["micro_macro_long", "micro_macro_unbalanced_long"])
@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC3"])
def test_matches_statsmodels(name: str, cov_type: str) -> None:
    data = _group_data(name)
    ours = ols(data["y"], data[["x_mean", "Z"]], cov_type=cov_type)
    ref = sm.OLS(data["y"], sm.add_constant(data[["x_mean", "Z"]])).fit(
        cov_type=cov_type, use_t=True
    )
    table = ours.table
    assert list(table["term"]) == ["Intercept", "x_mean", "Z"]
    np.testing.assert_allclose(table["est"], ref.params, rtol=1e-10)
    np.testing.assert_allclose(table["se"], ref.bse, rtol=1e-10)
    np.testing.assert_allclose(table["z"], ref.tvalues, rtol=1e-10)
    np.testing.assert_allclose(table["pvalue"], ref.pvalues, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(table[["ci_lower", "ci_upper"]], ref.conf_int(), rtol=1e-10)
    np.testing.assert_allclose(ours.vcov, ref.cov_params(), rtol=1e-10)
    assert ours.r_squared == pytest.approx(ref.rsquared, rel=1e-10)
    assert ours.sigma2 == pytest.approx(ref.scale, rel=1e-10)
    assert ours.df_resid == ref.df_resid


def test_normal_reference_matches_statsmodels_default_for_hc() -> None:
    data = _group_data("micro_macro_long")
    ours = ols(data["y"], data[["x_mean", "Z"]], cov_type="HC0", use_t=False)
    ref = sm.OLS(data["y"], sm.add_constant(data[["x_mean", "Z"]])).fit(cov_type="HC0")
    assert ref.use_t is False
    np.testing.assert_allclose(ours.table["pvalue"], ref.pvalues, rtol=1e-8)


def test_hc0_by_hand_and_balanced_estimates() -> None:
    data = _group_data("micro_macro_long")
    X = np.column_stack([np.ones(len(data)), data["x_mean"], data["Z"]])
    y = data["y"].to_numpy()
    beta = np.linalg.inv(X.T @ X) @ X.T @ y
    e = y - X @ beta
    bread = np.linalg.inv(X.T @ X)
    hc0 = bread @ (X.T * e**2) @ X @ bread
    fit = ols(y, X[:, 1:], names=["x_mean", "Z"], cov_type="HC0")
    np.testing.assert_allclose(fit.params, beta, rtol=1e-10)
    np.testing.assert_allclose(fit.vcov, hc0, rtol=1e-10)
    # the attenuated mean effect of the shipped data set (true value .3)
    assert fit.coef()["x_mean"] == pytest.approx(0.11918, abs=1e-5)


def test_without_intercept_and_array_names() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 2))
    y = X @ [1.0, -2.0] + rng.normal(size=50)
    fit = ols(y, X, intercept=False)
    ref = sm.OLS(y, X).fit()
    assert fit.names == ("x1", "x2")
    np.testing.assert_allclose(fit.params, ref.params, rtol=1e-10)
    np.testing.assert_allclose(fit.se, ref.bse, rtol=1e-10)


def test_missing_rows_are_dropped_with_a_warning() -> None:
    data = _group_data("micro_macro_long")
    holed = data.copy()
    holed.iloc[[3, 10], 1] = np.nan
    with pytest.warns(DataWarning, match="2 rows"):
        fit = ols(holed["y"], holed[["x_mean", "Z"]])
    complete = data.drop(index=data.index[[3, 10]])
    np.testing.assert_allclose(
        fit.params, ols(complete["y"], complete[["x_mean", "Z"]]).params, rtol=1e-12
    )
    assert fit.nobs == 98


def test_user_mistakes() -> None:
    data = _group_data("micro_macro_long")
    with pytest.raises(OptionError, match="cov_type"):
        ols(data["y"], data[["Z"]], cov_type="HC1")
    with pytest.raises(DataError, match="collinear"):
        ols(data["y"], np.column_stack([data["Z"], 2 * data["Z"]]))
    with pytest.raises(DataError, match="shape"):
        ols(data["y"].to_numpy()[:-1], data[["Z"]])
    with pytest.raises(OptionError, match="names"):
        ols(data["y"], data[["Z", "x_mean"]], names=["a"])
