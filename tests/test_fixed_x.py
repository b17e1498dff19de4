"""Observed exogenous covariates (``y ~ x``, MIMIC): fixed_x True and False, with and without a
mean structure. The lavaan numbers are in tests/reference/fitting/path_*.json, mimic_*.json and
growth_covariates*.json (tests/test_extra_references.py); here the relations between the two
treatments are checked against independent computations."""

import numpy as np
import pytest
from scipy import stats

import semlang

PATH = """
  y1 ~ x1 + x2
  y5 ~ y1 + x1 + x3
"""
COVARIATES = ["x1", "x2", "x3"]


@pytest.fixture(scope="module")
def poldem():
    return semlang.datasets.load("PoliticalDemocracy")


@pytest.fixture(scope="module", params=[False, True], ids=["no_means", "meanstructure"])
def pair(request, poldem):
    fixed = semlang.sem(PATH, poldem, meanstructure=request.param)
    free = semlang.sem(PATH, poldem, meanstructure=request.param, fixed_x=False)
    return fixed, free


def _marginal_loglik(data) -> float:
    """Log-likelihood of the covariates at their ML (divisor N) mean and covariance."""
    values = data[COVARIATES].to_numpy()
    mean = values.mean(axis=0)
    cov = np.cov(values.T, ddof=0)
    return float(stats.multivariate_normal(mean, cov).logpdf(values).sum())


def test_fixed_x_likelihood_is_conditional_on_the_covariates(pair, poldem):
    fixed, free = pair
    marginal = _marginal_loglik(poldem)
    a, b = fixed.fit_measures(), free.fit_measures()
    assert a["logl"] == pytest.approx(b["logl"] - marginal, abs=1e-8)
    assert a["unrestricted_logl"] == pytest.approx(b["unrestricted_logl"] - marginal, abs=1e-8)
    assert a["chisq"] == pytest.approx(b["chisq"], abs=1e-7)
    assert a["df"] == b["df"]
    assert a["npar"] == b["npar"] - 6 - (3 if fixed.table.meanstructure else 0)


def test_baseline_keeps_the_covariates_block(pair, poldem):
    # independence model: y's uncorrelated with everything, the covariates' block saturated
    fixed, free = pair
    a, b = fixed.fit_measures(), free.fit_measures()
    assert a["baseline_chisq"] == pytest.approx(b["baseline_chisq"], abs=1e-7)
    values = poldem[["y1", "y5", *COVARIATES]].to_numpy()
    cov = np.cov(values.T, ddof=0)
    independent = np.diag(np.diag(cov))
    independent[2:, 2:] = cov[2:, 2:]
    n = len(values)
    chisq = n * (np.linalg.slogdet(independent)[1] - np.linalg.slogdet(cov)[1])
    assert a["baseline_chisq"] == pytest.approx(chisq, abs=1e-7)
    # 2 variances of y1, y5 (and 2 means) against 15 - 6 moments (and 5 - 3 means) with
    # fixed_x; 5 variances and 3 covariate covariances (and 5 means) against 15 (and 5) without
    assert a["baseline_df"] == b["baseline_df"] == 7


def test_structural_estimates_do_not_depend_on_fixed_x(pair):
    fixed, free = pair
    a = fixed.estimates().set_index(["lhs", "op", "rhs"])
    b = free.estimates().set_index(["lhs", "op", "rhs"])
    for key in [("y1", "~", "x1"), ("y1", "~", "x2"), ("y5", "~", "y1"), ("y5", "~", "x3"),
                ("y1", "~~", "y1"), ("y5", "~~", "y5")]:  # fmt: skip
        assert a.loc[key, "est"] == pytest.approx(b.loc[key, "est"], rel=1e-7)
        assert a.loc[key, "se"] == pytest.approx(b.loc[key, "se"], rel=1e-6)


def test_fixed_covariate_rows_hold_the_sample_moments(pair, poldem):
    fixed, free = pair
    frame = fixed.estimates().set_index(["lhs", "op", "rhs"])
    cov = poldem[COVARIATES].cov(ddof=0)
    for i, a in enumerate(COVARIATES):
        for b in COVARIATES[i:]:
            row = (
                frame.loc[(a, "~~", b)] if (a, "~~", b) in frame.index else frame.loc[(b, "~~", a)]
            )
            assert row.est == pytest.approx(cov.loc[a, b], rel=1e-12)
            assert row.se == 0
    if fixed.table.meanstructure:
        for name in COVARIATES:
            assert frame.loc[(name, "~1", ""), "est"] == pytest.approx(poldem[name].mean())
    free_frame = free.estimates().set_index(["lhs", "op", "rhs"])
    assert free_frame.loc[("x1", "~~", "x1"), "se"] > 0  # a free parameter without fixed_x


def test_orthogonal_factors_have_no_covariances():
    data = semlang.datasets.load("HolzingerSwineford1939")
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    fit = semlang.cfa(model, data, orthogonal=True)
    covariances = fit.estimates().query("op == '~~' and lhs != rhs")
    assert len(covariances) == 3 and (covariances.est == 0).all() and (covariances.se == 0).all()
    assert fit.fit_measures()["df"] == 27
