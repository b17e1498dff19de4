"""FIML core: missingness patterns, log-likelihood, gradient, scores, EM, baseline, information."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference_cases import assert_matches, fit_measures
from scipy.stats import multivariate_normal, norm

from semlang.datasets import load
from semlang.errors import DataError, DataWarning
from semlang.estimate.missing import (
    MissingPatterns,
    casewise_loglik,
    casewise_scores,
    fiml_gradient,
    fiml_loglik,
    fiml_loglik_and_gradient,
    h1_information_expected,
    h1_information_firstorder,
    h1_information_observed,
    independence_loglik,
    independence_model,
    saturated_em,
    unvech,
    vech,
    vech_gradient,
    vech_indices,
)

BFI_ITEMS = [f"{trait}{i}" for trait in "ACENO" for i in range(1, 6)]


def random_moments(rng: np.random.Generator, p: int) -> tuple[np.ndarray, np.ndarray]:
    a = rng.normal(size=(p, p))
    return a @ a.T / p + np.eye(p), rng.normal(size=p)


def incomplete_data(seed: int, n: int = 60, p: int = 5, rate: float = 0.3) -> np.ndarray:
    """Normal data with cells missing at random, one row missing everywhere."""
    rng = np.random.default_rng(seed)
    sigma, mu = random_moments(rng, p)
    data = rng.multivariate_normal(mu, sigma, size=n)
    data[rng.random(data.shape) < rate] = np.nan
    data[3] = np.nan
    return data


def model_moments(p: int, seed: int = 99) -> tuple[np.ndarray, np.ndarray]:
    return random_moments(np.random.default_rng(seed), p)


def scipy_loglik(data: np.ndarray, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Each non-empty row's log density of its observed part, by scipy."""
    out = []
    for row in data:
        obs = ~np.isnan(row)
        if obs.any():
            out.append(multivariate_normal.logpdf(row[obs], mu[obs], sigma[np.ix_(obs, obs)]))
    return np.array(out)


@pytest.fixture(scope="module")
def bfi_patterns() -> MissingPatterns:
    return MissingPatterns.from_array(load("bfi")[BFI_ITEMS].to_numpy(float))


@pytest.fixture(scope="module")
def bfi_saturated(bfi_patterns):
    return saturated_em(bfi_patterns)


# ---- patterns ---------------------------------------------------------------------------------


def test_patterns_group_rows_by_observed_set():
    data = incomplete_data(0)
    pats = MissingPatterns.from_array(data)
    observed = ~np.isnan(data)
    assert pats.n_dropped_empty == 1
    assert list(pats.empty_rows) == [3]
    assert pats.nobs == len(data) - 1
    assert not pats.complete
    all_rows = np.concatenate([pat.rows for pat in pats.patterns])
    assert sorted(all_rows) == [i for i in range(len(data)) if i != 3]
    np.testing.assert_array_equal(pats.used_rows, np.delete(np.arange(len(data)), 3))
    for pat in pats.patterns:
        assert (observed[pat.rows] == np.isin(np.arange(5), pat.observed)).all()
        values = data[np.ix_(pat.rows, pat.observed)]
        np.testing.assert_allclose(pat.mean, values.mean(axis=0))
        np.testing.assert_allclose(pat.cov, np.cov(values.T, bias=True).reshape(pat.k, pat.k))
        np.testing.assert_allclose(pat.cross_products, values.T @ values)
        assert pat.n == len(pat.rows)
    np.testing.assert_array_equal(pats.coverage_counts, observed.T @ observed.astype(float))
    np.testing.assert_array_equal(pats.n_observed, observed.sum(axis=0))


def test_complete_data_is_one_pattern():
    data = np.random.default_rng(1).normal(size=(30, 4))
    pats = MissingPatterns.from_array(data)
    assert pats.complete and pats.n_patterns == 1 and pats.nobs == 30
    assert pats.n_dropped_empty == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.array([1.0, 2.0]), "2-D"),
        (np.array([[1.0, np.inf]]), "infinite"),
        (np.full((3, 2), np.nan), "no row"),
        (np.array([["a", "b"]]), "numeric"),
    ],
)
def test_bad_data_raises_data_error(data, message):
    with pytest.raises(DataError, match=message):
        MissingPatterns.from_array(data)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        float,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12),
        elements=st.one_of(st.just(np.nan), st.floats(-1e3, 1e3)),
    )
)
def test_patterns_partition_the_rows(data):
    observed = ~np.isnan(data)
    if not observed.any():
        with pytest.raises(DataError):
            MissingPatterns.from_array(data)
        return
    pats = MissingPatterns.from_array(data)
    assert pats.nobs + pats.n_dropped_empty == len(data)
    assert sum(pat.n for pat in pats.patterns) == pats.nobs
    assert len({tuple(pat.observed) for pat in pats.patterns}) == pats.n_patterns
    assert sum(len(block.n) for block in pats.blocks) == pats.n_patterns


# ---- log-likelihood, gradient, scores ------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loglik_equals_sum_of_observed_part_densities(seed):
    data = incomplete_data(seed)
    sigma, mu = model_moments(5)
    pats = MissingPatterns.from_array(data)
    expected = scipy_loglik(data, sigma, mu)
    assert fiml_loglik(pats, sigma, mu) == pytest.approx(expected.sum(), rel=1e-12)
    np.testing.assert_allclose(casewise_loglik(pats, sigma, mu), expected, rtol=1e-12)
    assert fiml_loglik_and_gradient(pats, sigma, mu)[0] == pytest.approx(expected.sum(), rel=1e-12)


def test_loglik_complete_data():
    rng = np.random.default_rng(5)
    sigma, mu = model_moments(4)
    data = rng.normal(size=(40, 4))
    pats = MissingPatterns.from_array(data)
    expected = multivariate_normal.logpdf(data, mu, sigma).sum()
    assert fiml_loglik(pats, sigma, mu) == pytest.approx(expected, rel=1e-12)


def test_not_positive_definite_gives_minus_infinity():
    pats = MissingPatterns.from_array(incomplete_data(0))
    sigma, mu = model_moments(5)
    sigma[0, 1] = sigma[1, 0] = 10 * np.sqrt(sigma[0, 0] * sigma[1, 1])
    assert fiml_loglik(pats, sigma, mu) == -np.inf
    value, grad_sigma, grad_mu = fiml_loglik_and_gradient(pats, sigma, mu)
    assert value == -np.inf and np.isnan(grad_sigma).all() and np.isnan(grad_mu).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_matches_central_differences(seed):
    pats = MissingPatterns.from_array(incomplete_data(seed))
    sigma, mu = model_moments(5)
    grad_sigma, grad_mu = fiml_gradient(pats, sigma, mu)
    np.testing.assert_allclose(grad_sigma, grad_sigma.T)
    rng = np.random.default_rng(seed + 10)
    h = 1e-5
    for _ in range(3):
        e = rng.normal(size=(5, 5))
        e = e + e.T
        d = rng.normal(size=5)
        up = fiml_loglik(pats, sigma + h * e, mu + h * d)
        down = fiml_loglik(pats, sigma - h * e, mu - h * d)
        directional = np.sum(grad_sigma * e) + grad_mu @ d
        assert (up - down) / (2 * h) == pytest.approx(directional, rel=1e-6, abs=1e-6)


def vech_parameters(pats: MissingPatterns, sigma: np.ndarray, mu: np.ndarray):
    """Finite-difference helpers in (μ, vech Σ) coordinates."""
    p = pats.n_vars
    theta = np.concatenate([mu, vech(sigma)])

    def moments(t):
        return unvech(t[p:]), t[:p]

    return theta, moments


def fd_jacobian(fun, theta: np.ndarray, h: float = 1e-5) -> np.ndarray:
    columns = []
    for j in range(len(theta)):
        step = np.zeros_like(theta)
        step[j] = h
        columns.append((fun(theta + step) - fun(theta - step)) / (2 * h))
    return np.stack(columns, axis=-1)


def test_casewise_scores_are_row_derivatives_and_sum_to_gradient():
    data = incomplete_data(4, n=40, p=4)
    pats = MissingPatterns.from_array(data)
    sigma, mu = model_moments(4)
    scores = casewise_scores(pats, sigma, mu)
    assert scores.shape == (39, 4 + 10)
    theta, moments = vech_parameters(pats, sigma, mu)
    numeric = fd_jacobian(lambda t: casewise_loglik(pats, *moments(t)), theta)
    np.testing.assert_allclose(scores, numeric, rtol=1e-6, atol=1e-7)
    grad_sigma, grad_mu = fiml_gradient(pats, sigma, mu)
    np.testing.assert_allclose(
        scores.sum(axis=0), np.concatenate([grad_mu, vech_gradient(grad_sigma)])
    )
    # a row's entries for variables it does not observe are zero
    missing = np.isnan(np.delete(data, pats.empty_rows, axis=0))
    assert np.all(scores[:, :4][missing] == 0)


def test_vech_order_runs_down_the_lower_triangle():
    rows, cols = vech_indices(3)
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [
        (0, 0), (1, 0), (2, 0), (1, 1), (2, 1), (2, 2)
    ]  # fmt: skip
    m = np.arange(9.0).reshape(3, 3)
    m = m + m.T
    np.testing.assert_array_equal(unvech(vech(m)), m)
    np.testing.assert_array_equal(vech_gradient(m), vech(m) * [1, 2, 2, 1, 2, 1])


# ---- saturated (EM) and independence models ----------------------------------------------------


def test_em_without_missing_values_is_the_sample_mle():
    data = np.random.default_rng(7).normal(size=(50, 4)) @ np.diag([1.0, 2.0, 0.5, 3.0])
    pats = MissingPatterns.from_array(data)
    result = saturated_em(pats)
    cov = np.cov(data.T, bias=True)
    assert result.converged
    np.testing.assert_allclose(result.mean, data.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(result.cov, cov, rtol=1e-9, atol=1e-12)
    closed_form = -25 * (4 * np.log(2 * np.pi) + np.linalg.slogdet(cov)[1] + 4)
    assert result.loglik == pytest.approx(closed_form, rel=1e-12)


@pytest.mark.parametrize("accelerate", [True, False])
def test_em_solves_the_score_equations(accelerate):
    pats = MissingPatterns.from_array(incomplete_data(3, n=200, p=6, rate=0.45))
    result = saturated_em(pats, accelerate=accelerate)
    assert result.converged
    grad_sigma, grad_mu = fiml_gradient(pats, result.cov, result.mean)
    assert np.abs(grad_sigma).max() < 1e-6 and np.abs(grad_mu).max() < 1e-6
    # a maximum: moving away lowers the likelihood
    assert fiml_loglik(pats, result.cov * 1.01, result.mean) < result.loglik


def test_em_plain_and_accelerated_agree():
    pats = MissingPatterns.from_array(incomplete_data(8, n=150, p=5, rate=0.4))
    plain = saturated_em(pats, accelerate=False)
    fast = saturated_em(pats, accelerate=True)
    np.testing.assert_allclose(fast.cov, plain.cov, rtol=1e-7, atol=1e-9)
    assert fast.loglik == pytest.approx(plain.loglik, abs=1e-8)


def test_em_warns_on_pairs_never_observed_together():
    data = np.random.default_rng(2).normal(size=(20, 3))
    data[:10, 0] = np.nan
    data[10:, 1] = np.nan
    with pytest.warns(DataWarning, match="never observed together"):
        saturated_em(MissingPatterns.from_array(data), max_iter=50)


def test_independence_model_is_per_variable():
    data = incomplete_data(6)
    pats = MissingPatterns.from_array(data)
    result = independence_model(pats)
    np.testing.assert_allclose(result.mean, np.nanmean(data, axis=0))
    np.testing.assert_allclose(result.var, np.nanvar(data, axis=0))
    direct = sum(
        norm.logpdf(col[~np.isnan(col)], m, np.sqrt(v)).sum()
        for col, m, v in zip(data.T, result.mean, result.var, strict=True)
    )
    assert result.loglik == pytest.approx(direct, rel=1e-12)
    assert independence_loglik(pats) == pytest.approx(fiml_loglik(pats, result.cov, result.mean))


def test_bfi_saturated_loglik_matches_lavaan(bfi_patterns, bfi_saturated):
    reference = fit_measures("bfi_5factor_fiml")
    assert bfi_patterns.nobs == 2800 and not bfi_patterns.complete
    assert bfi_saturated.converged
    assert_matches("logl", bfi_saturated.loglik, reference["unrestricted_logl"], "h1 logl")


def test_bfi_baseline_chisq_matches_lavaan(bfi_patterns, bfi_saturated):
    reference = fit_measures("bfi_5factor_fiml")
    chisq = 2 * (bfi_saturated.loglik - independence_loglik(bfi_patterns))
    assert_matches("chisq", chisq, reference["baseline_chisq"], "baseline chisq")
    p = bfi_patterns.n_vars
    assert p + p * (p + 1) // 2 - 2 * p == reference["baseline_df"]


# ---- information matrices ----------------------------------------------------------------


def duplication_matrix(p: int) -> np.ndarray:
    rows, cols = vech_indices(p)
    d = np.zeros((p * p, len(rows)))
    for k, (i, j) in enumerate(zip(rows, cols, strict=True)):
        d[i + j * p, k] = 1.0
        d[j + i * p, k] = 1.0
    return d


def test_observed_information_is_minus_hessian_over_n():
    pats = MissingPatterns.from_array(incomplete_data(9, n=50, p=4))
    sigma, mu = model_moments(4)
    theta, moments = vech_parameters(pats, sigma, mu)

    def gradient(t):
        grad_sigma, grad_mu = fiml_gradient(pats, *moments(t))
        return np.concatenate([grad_mu, vech_gradient(grad_sigma)])

    hessian = fd_jacobian(gradient, theta)
    info = h1_information_observed(pats, sigma, mu)
    np.testing.assert_allclose(info, info.T, atol=1e-12)
    np.testing.assert_allclose(info, -hessian / pats.nobs, rtol=1e-5, atol=1e-7)


def test_expected_information_complete_data_closed_form():
    sigma, _ = model_moments(3)
    pats = MissingPatterns.from_array(np.random.default_rng(3).normal(size=(20, 3)))
    inverse = np.linalg.inv(sigma)
    d = duplication_matrix(3)
    info = h1_information_expected(pats, sigma)
    np.testing.assert_allclose(info[:3, :3], inverse)
    np.testing.assert_allclose(info[3:, 3:], 0.5 * d.T @ np.kron(inverse, inverse) @ d)
    assert np.all(info[:3, 3:] == 0)


def exact_moment_rows(rng, sigma, mu, observed, n):
    """``n`` rows whose observed part has mean ``mu_o`` and covariance ``sigma_oo`` exactly."""
    z = rng.normal(size=(n, len(observed)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T, bias=True)).T)
    values = mu[observed] + z @ np.linalg.cholesky(sigma[np.ix_(observed, observed)]).T
    rows = np.full((n, len(mu)), np.nan)
    rows[:, observed] = values
    return rows


def test_observed_equals_expected_when_pattern_moments_equal_the_model():
    rng = np.random.default_rng(11)
    sigma, mu = model_moments(4)
    sets = [np.arange(4), np.array([0, 2, 3]), np.array([1, 3]), np.array([0, 1, 2])]
    data = np.vstack([exact_moment_rows(rng, sigma, mu, obs, 8) for obs in sets])
    pats = MissingPatterns.from_array(data)
    observed = h1_information_observed(pats, sigma, mu)
    np.testing.assert_allclose(observed, h1_information_expected(pats, sigma), atol=1e-10)


def test_firstorder_information_from_numeric_scores():
    pats = MissingPatterns.from_array(incomplete_data(12, n=30, p=3))
    sigma, mu = model_moments(3)
    theta, moments = vech_parameters(pats, sigma, mu)
    scores = fd_jacobian(lambda t: casewise_loglik(pats, *moments(t)), theta)
    np.testing.assert_allclose(
        h1_information_firstorder(pats, sigma, mu), scores.T @ scores / pats.nobs, rtol=1e-6
    )


def test_bfi_h1_information_at_em_is_positive_definite(bfi_patterns, bfi_saturated):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = h1_information_observed(bfi_patterns, bfi_saturated.cov, bfi_saturated.mean)
    assert info.shape == (25 + 325, 25 + 325)
    assert np.linalg.eigvalsh(info).min() > 0
