"""Fit measures against lavaan 0.6.14's ``fitMeasures()`` and against direct computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference_cases import (
    FIT_MEASURE_KIND,
    assert_matches,
    case_names,
    fit_measures,
    load_case,
)
from scipy import stats

from semlang import datasets
from semlang.results import measures

CASES = [name for name in case_names() if "fit_measures" in load_case(name)]


def _inputs(name: str) -> tuple[dict, float, int]:
    """The case's fit measures, its total N and its number of groups."""
    nobs = load_case(name)["nobs"]
    groups = nobs if isinstance(nobs, list) else [nobs]
    return fit_measures(name), float(sum(groups)), len(groups)


def _check(name: str, measure: str, value: float, reference: dict) -> None:
    assert_matches(FIT_MEASURE_KIND[measure], value, reference[measure], f"{name} {measure}")


def test_cases_found() -> None:
    assert {"hs_cfa", "hs_multigroup", "micro_macro_twolevel", "bfi_5factor_fiml"} <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_chisq_based_measures(name: str) -> None:
    fm, nobs, ngroups = _inputs(name)
    chisq, df = fm["chisq"], fm["df"]
    base = (fm["baseline_chisq"], fm["baseline_df"])
    _check(name, "pvalue", measures.chisq_pvalue(chisq, df), fm)
    _check(name, "cfi", measures.cfi(chisq, df, *base), fm)
    _check(name, "tli", measures.tli(chisq, df, *base), fm)
    _check(name, "rmsea", measures.rmsea(chisq, df, nobs, ngroups), fm)
    lower, upper = measures.rmsea_ci(chisq, df, nobs, ngroups)
    _check(name, "rmsea_ci_lower", lower, fm)
    _check(name, "rmsea_ci_upper", upper, fm)
    _check(name, "rmsea_pvalue", measures.rmsea_pvalue(chisq, df, nobs, ngroups), fm)


@pytest.mark.parametrize("name", CASES)
def test_information_criteria(name: str) -> None:
    fm, nobs, _ = _inputs(name)
    _check(name, "aic", measures.aic(fm["logl"], fm["npar"]), fm)
    _check(name, "bic", measures.bic(fm["logl"], fm["npar"], nobs), fm)


def test_multigroup_rmsea_scales_with_sqrt_groups() -> None:
    fm, nobs, ngroups = _inputs("hs_multigroup")
    assert ngroups == 2
    single = measures.rmsea(fm["chisq"], fm["df"], nobs)
    assert measures.rmsea(fm["chisq"], fm["df"], nobs, 2) == pytest.approx(single * math.sqrt(2))
    # without the correction the reference is missed
    assert abs(single - fm["rmsea"]) > 0.02


# --------------------------------------------------------------------- implied moments of CFAs


def _cfa_moments(rows: list[dict], observed: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Σ = ΛΦΛ' + Θ and μ = ν + Λα from one group's CFA estimate rows (=~, ~~, ~1)."""
    factors = list(dict.fromkeys(r["lhs"] for r in rows if r["op"] == "=~"))
    index = {name: i for i, name in enumerate(observed)}
    findex = {name: i for i, name in enumerate(factors)}
    lam = np.zeros((len(observed), len(factors)))
    phi = np.zeros((len(factors), len(factors)))
    theta = np.zeros((len(observed), len(observed)))
    nu, alpha = np.zeros(len(observed)), np.zeros(len(factors))
    for r in rows:
        lhs, op, rhs, est = r["lhs"], r["op"], r["rhs"], r["est"]
        if op == "=~":
            lam[index[rhs], findex[lhs]] = est
        elif op == "~~" and lhs in findex:
            phi[findex[lhs], findex[rhs]] = phi[findex[rhs], findex[lhs]] = est
        elif op == "~~":
            theta[index[lhs], index[rhs]] = theta[index[rhs], index[lhs]] = est
        elif op == "~1" and lhs in findex:
            alpha[findex[lhs]] = est
        elif op == "~1":
            nu[index[lhs]] = est
    return lam @ phi @ lam.T + theta, nu + lam @ alpha


def _sample_moments(data) -> tuple[np.ndarray, np.ndarray]:
    """Sample covariance (divisor N) and means."""
    values = data.to_numpy(dtype=float)
    return np.cov(values, rowvar=False, bias=True), values.mean(axis=0)


# (case, data set, observed variables, grouping column, has a mean structure)
HS = [f"x{i}" for i in range(1, 10)]
CFA_CASES = {
    "hs_cfa": ("HolzingerSwineford1939", HS, None, False),
    "hs_cfa_stdlv": ("HolzingerSwineford1939", HS, None, False),
    "bigfive_agree_equal": ("bigfive_agree", ["A1", "A2", "A3", "A4", "A5"], None, True),
    "hs_multigroup": ("HolzingerSwineford1939", HS, "school", True),
}


def _cfa_blocks(name: str) -> list[tuple]:
    """(S, m, Σ, μ or None, n) per group, groups in order of first appearance in the data."""
    data_name, observed, group, meanstructure = CFA_CASES[name]
    data = datasets.load(data_name)
    rows = load_case(name)["estimates"]
    parts = [data] if group is None else [data[data[group] == g] for g in data[group].unique()]
    blocks = []
    for g, part in enumerate(parts, start=1):
        group_rows = [r for r in rows if r.get("group", 1) == g]
        cov, mean = _sample_moments(part[observed])
        implied_cov, implied_mean = _cfa_moments(group_rows, observed)
        blocks.append((cov, mean, implied_cov, implied_mean if meanstructure else None, len(part)))
    return blocks


@pytest.mark.parametrize("name", list(CFA_CASES))
def test_srmr_from_reference_estimates(name: str) -> None:
    blocks = _cfa_blocks(name)
    assert [b[4] for b in blocks] == np.atleast_1d(load_case(name)["nobs"]).tolist()
    _check(name, "srmr", measures.srmr(blocks), fit_measures(name))


@pytest.mark.parametrize("name", list(CFA_CASES))
def test_loglik_from_reference_estimates(name: str) -> None:
    blocks = _cfa_blocks(name)
    fm = fit_measures(name)
    logl = sum(measures.loglik_normal(*block) for block in blocks)
    unrestricted = sum(measures.saturated_loglik(cov, n) for cov, _, _, _, n in blocks)
    _check(name, "logl", logl, fm)
    _check(name, "unrestricted_logl", unrestricted, fm)
    # the likelihood-ratio statistic is twice the difference
    assert_matches("chisq", 2.0 * (unrestricted - logl), fm["chisq"], f"{name} chisq")


def test_srmr_without_means_differs_in_meanstructure_case() -> None:
    blocks = _cfa_blocks("bigfive_agree_equal")
    no_means = [(s, None, sigma, None, n) for s, _, sigma, _, n in blocks]
    assert abs(measures.srmr(no_means) - fit_measures("bigfive_agree_equal")["srmr"]) > 0.005


# ------------------------------------------------------------------- independent computations


def test_loglik_matches_scipy_density() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=(40, 3)) @ np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    cov, mean = np.cov(y, rowvar=False, bias=True), y.mean(axis=0)
    sigma = np.array([[1.2, 0.2, 0.1], [0.2, 1.5, 0.4], [0.1, 0.4, 1.1]])
    mu = np.array([0.1, -0.2, 0.3])
    direct = stats.multivariate_normal(mu, sigma).logpdf(y).sum()
    assert measures.loglik_normal(cov, mean, sigma, mu, 40) == pytest.approx(direct, rel=1e-12)
    at_means = stats.multivariate_normal(mean, sigma).logpdf(y).sum()
    assert measures.loglik_normal(cov, None, sigma, None, 40) == pytest.approx(at_means)
    saturated = stats.multivariate_normal(mean, cov).logpdf(y).sum()
    assert measures.saturated_loglik(cov, 40) == pytest.approx(saturated, rel=1e-12)


def test_loglik_nan_for_non_positive_definite_sigma() -> None:
    cov = np.eye(2)
    assert math.isnan(measures.loglik_normal(cov, None, np.array([[1, 2], [2, 1.0]]), None, 10))
    assert math.isnan(measures.saturated_loglik(np.zeros((2, 2)), 10))


def test_srmr_by_hand() -> None:
    s = np.array([[4.0, 1.0], [1.0, 1.0]])
    sigma = np.array([[4.0, 1.5], [1.5, 0.5]])
    # standardized by sample sds (2, 1): residuals 0, -0.25, 0.5 and means (0.2/2, -0.3/1)
    assert measures.srmr([(s, None, sigma, None, 10)]) == pytest.approx(
        math.sqrt((0.25**2 + 0.5**2) / 3)
    )
    means = (np.array([1.0, 0.0]), np.array([0.8, 0.3]))
    with_means = math.sqrt((0.25**2 + 0.5**2 + 0.1**2 + 0.3**2) / 5)
    assert measures.srmr([(s, means[0], sigma, means[1], 10)]) == pytest.approx(with_means)
    # groups weighted by their size
    two = measures.srmr([(s, None, sigma, None, 30), (s, None, s, None, 10)])
    assert two == pytest.approx(0.75 * math.sqrt((0.25**2 + 0.5**2) / 3))


def test_srmr_leaves_near_zero_moments_unstandardized() -> None:
    s = np.diag([1e-4, 1.0])
    sigma = np.diag([1e-4, 1.0])
    cov_res, mean_res = measures.residuals_cor_bentler(s, np.array([5e-6, 0.0]), sigma, np.zeros(2))
    assert np.allclose(cov_res, 0.0)
    assert mean_res == pytest.approx([5e-6, 0.0])  # not divided by sd 0.01


def test_srmr_twolevel_sums_levels() -> None:
    s_w = np.array([[2.0, 0.6], [0.6, 0.5]])
    sigma_w = np.array([[2.0, 0.4], [0.4, 0.5]])
    s_b = np.array([[1.0, 0.5], [0.5, 1.0]])
    sigma_b = np.array([[4.0, 1.6], [1.6, 1.0]])
    total, within, between = measures.srmr_twolevel([(s_w, sigma_w, s_b, sigma_b, 50)])
    r_w = 0.2 / 1.0  # correlations 0.6 and 0.4 with sd product 1
    assert within == pytest.approx(math.sqrt(r_w**2 / 3))
    assert between == pytest.approx(math.sqrt((0.5 - 0.8) ** 2 / 3))
    assert total == pytest.approx(within + between)


# ------------------------------------------------------------------------------- edge cases


def test_zero_degrees_of_freedom() -> None:
    assert math.isnan(measures.chisq_pvalue(0.0, 0))
    assert measures.rmsea(0.0, 0, 100) == 0.0
    assert measures.rmsea_ci(0.0, 0, 100) == (0.0, 0.0)
    assert math.isnan(measures.rmsea_pvalue(0.0, 0, 100))
    assert measures.cfi(0.0, 0, 30.0, 3) == 1.0
    assert measures.tli(0.0, 0, 30.0, 3) == 1.0


def test_chisq_below_df() -> None:
    assert measures.rmsea(5.0, 10, 200) == 0.0
    assert measures.cfi(5.0, 10, 300.0, 15) == 1.0
    assert measures.tli(5.0, 10, 300.0, 15) == pytest.approx(1 + 5 * 15 / (285 * 10))
    lower, upper = measures.rmsea_ci(5.0, 10, 200)
    assert lower == 0.0 and upper > 0.0
    assert measures.rmsea_ci(0.5, 10, 200) == (0.0, 0.0)  # even λ = 0 puts X² below 5 %


def test_negative_and_baseline_edge_cases() -> None:
    assert measures.chisq_pvalue(-1e-9, 5) == 1.0
    assert measures.rmsea(-1e-9, 5, 100) == 0.0
    assert measures.rmsea_pvalue(-1e-9, 5, 100) == 1.0
    assert measures.cfi(20.0, 5, 0.0, 0) == 0.0  # baseline no better than the model
    assert measures.tli(20.0, 5, 10.0, 0) == 1.0
    assert math.isnan(measures.cfi(math.nan, 5, 10.0, 3))
    assert all(math.isnan(bound) for bound in measures.rmsea_ci(math.inf, 5, 100))


def test_rmsea_ci_bounds_hit_their_quantiles() -> None:
    chisq, df, n = 85.3, 24, 301
    lower, upper = measures.rmsea_ci(chisq, df, n, level=0.90)
    assert stats.ncx2.cdf(chisq, df, lower**2 * n * df) == pytest.approx(0.95, abs=1e-8)
    assert stats.ncx2.cdf(chisq, df, upper**2 * n * df) == pytest.approx(0.05, abs=1e-8)
    wide = measures.rmsea_ci(chisq, df, n, level=0.99)
    assert wide[0] < lower < measures.rmsea(chisq, df, n) < upper < wide[1]


def test_information_criteria_by_hand() -> None:
    assert measures.aic(-100.0, 5) == 210.0
    assert measures.bic(-100.0, 5, math.e**2) == pytest.approx(210.0)
