"""The saturated (h1) fit of incomplete data: the monotone closed form and EM + Newton reach the
same maximum as EM alone; the batched Newton system equals the pattern-by-pattern information."""

from __future__ import annotations

import numpy as np
import pytest
from reference_cases import assert_matches, fit_measures

import semlang
from semlang.compile.ram import collapse
from semlang.datasets import load
from semlang.errors import DataWarning
from semlang.estimate.fiml_h1 import monotone_moments, saturated_fit
from semlang.estimate.fiml_hessian import fiml_entry_information, saturated_derivatives
from semlang.estimate.missing import (
    MissingPatterns,
    fiml_loglik_and_gradient,
    h1_information_expected,
    h1_information_observed,
    saturated_em,
    vech_gradient,
)

BFI_ITEMS = [f"{trait}{i}" for trait in "ACENO" for i in range(1, 6)]
ITEMS = [f"x{i}" for i in range(1, 16)]
# lavaan 0.6.14: lav_mvnorm_missing_h1_estimate_moments(x1..x15, max.iter = 3e6, tol = 1e-10),
# plain EM run until no parameter moved by 1e-10 (80 seconds)
LAVAAN_LONG_EM_LOGL = -3903.2539738771


def wide_micro_macro(keep=()) -> np.ndarray:
    long = load("micro_macro_unbalanced_long")
    wide = semlang.data.widen(long, id="group", item="member", value="x", keep=list(keep))
    return wide[ITEMS + list(keep)].to_numpy(float).copy()


def assert_same_maximum(a, b, loglik=1e-8, moments=1e-6):
    assert abs(a.loglik - b.loglik) < loglik
    np.testing.assert_allclose(a.mean, b.mean, rtol=0, atol=moments)
    np.testing.assert_allclose(a.cov, b.cov, rtol=0, atol=moments)


def assert_is_maximum(patterns, result, tol=1e-7):
    """Zero gradient and positive definite observed information at ``result``."""
    _, grad_sigma, grad_mu = fiml_loglik_and_gradient(patterns, result.cov, result.mean)
    scale = patterns.nobs
    assert np.abs(grad_mu).max() < tol * scale
    assert np.abs(vech_gradient(grad_sigma)).max() < tol * scale
    info = h1_information_observed(patterns, result.cov, result.mean)
    assert np.linalg.eigvalsh(info).min() > 0


def monotone_data(seed: int, n: int = 120, p: int = 6) -> np.ndarray:
    """Normal data with dropout: a row missing variable j misses all later ones."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(p, p))
    data = rng.multivariate_normal(rng.normal(size=p), a @ a.T / p + np.eye(p), size=n)
    stop = rng.integers(2, p + 1, size=n)  # number of observed leading variables
    data[np.arange(p)[None, :] >= stop[:, None]] = np.nan
    return data


def random_missing(seed: int, n: int = 150, p: int = 7, rate: float = 0.4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(p, p))
    data = rng.multivariate_normal(rng.normal(size=p), a @ a.T / p + np.eye(p), size=n)
    data[rng.random(data.shape) < rate] = np.nan
    return data


def sequential_regressions(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ML moments of dropout data, independently: x_j on x_1..x_{j-1} by least squares over
    the rows observing x_j; μ = T⁻¹a, Σ = T⁻¹ D T⁻ᵀ with T unit lower triangular."""
    p = data.shape[1]
    t, a, d = np.eye(p), np.zeros(p), np.zeros(p)
    for j in range(p):
        rows = ~np.isnan(data[:, j])
        design = np.column_stack([np.ones(rows.sum()), data[rows, :j]])
        coef, *_ = np.linalg.lstsq(design, data[rows, j], rcond=None)
        a[j], t[j, :j] = coef[0], -coef[1:]
        d[j] = np.mean((data[rows, j] - design @ coef) ** 2)
    t_inv = np.linalg.inv(t)
    return t_inv @ a, t_inv @ np.diag(d) @ t_inv.T


# ---- the same maximum --------------------------------------------------------------------------


def test_bfi_fast_fit_matches_lavaan_and_em():
    patterns = MissingPatterns.from_array(load("bfi")[BFI_ITEMS].to_numpy(float))
    fast = saturated_em(patterns)
    em = saturated_fit(patterns, method="squarem")
    newton = saturated_fit(patterns, method="newton")
    reference = fit_measures("bfi_5factor_fiml")
    assert fast.converged and em.converged and newton.converged
    assert_matches("logl", fast.loglik, reference["unrestricted_logl"], "h1 logl")
    assert_same_maximum(fast, em)
    assert_same_maximum(newton, em)


def test_wide_micro_macro_closed_form_is_the_maximum():
    patterns = MissingPatterns.from_array(wide_micro_macro())
    closed = saturated_em(patterns)
    newton = saturated_fit(patterns, method="newton")
    assert closed.method == "monotone" and closed.converged and closed.iterations == 0
    assert newton.method == "newton" and newton.converged
    assert_same_maximum(closed, newton)
    assert_is_maximum(patterns, closed)
    assert closed.loglik == pytest.approx(LAVAAN_LONG_EM_LOGL, abs=1e-8)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_monotone_closed_form_equals_sequential_regressions(seed):
    data = monotone_data(seed)
    patterns = MissingPatterns.from_array(data)
    mu, sigma = monotone_moments(patterns)
    mu_ref, sigma_ref = sequential_regressions(data)
    np.testing.assert_allclose(mu, mu_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(sigma, sigma_ref, rtol=1e-10, atol=1e-10)
    closed = saturated_fit(patterns)
    assert closed.method == "monotone"
    assert_same_maximum(closed, saturated_fit(patterns, method="squarem", max_iter=100_000))
    assert_same_maximum(closed, saturated_fit(patterns, method="newton"))


def test_monotone_closed_form_with_variables_in_any_column_order():
    data = monotone_data(5, p=5)
    order = np.array([3, 0, 4, 1, 2])
    shuffled = MissingPatterns.from_array(data[:, order])
    mu, sigma = monotone_moments(shuffled)
    mu_ref, sigma_ref = sequential_regressions(data)
    np.testing.assert_allclose(mu, mu_ref[order], atol=1e-10)
    np.testing.assert_allclose(sigma, sigma_ref[np.ix_(order, order)], atol=1e-10)


@pytest.mark.parametrize(("seed", "p", "rate"), [(0, 5, 0.3), (1, 7, 0.4), (2, 8, 0.5)])
def test_random_missingness_newton_equals_em(seed, p, rate):
    patterns = MissingPatterns.from_array(random_missing(seed, p=p, rate=rate))
    assert monotone_moments(patterns) is None
    fast = saturated_em(patterns)
    em = saturated_fit(patterns, method="squarem", tol=1e-12, max_iter=100_000)
    plain = saturated_em(patterns, accelerate=False, max_iter=100_000)
    assert fast.converged and em.converged
    assert_same_maximum(fast, em)
    assert_same_maximum(fast, plain, loglik=1e-7, moments=1e-5)
    assert_is_maximum(patterns, fast)


def test_near_monotone_data_take_newton_from_the_monotone_start():
    """Holes in the first items of the smaller groups break monotonicity; the cut-down monotone
    data give the start, Newton the maximum, the same as Newton from the independence start."""
    data = wide_micro_macro()
    rng = np.random.default_rng(1)
    holes = rng.random(data.shape) < 0.05
    holes[:, 5:] = False
    holes[~np.isnan(data[:, 11])] = False
    data[holes] = np.nan
    patterns = MissingPatterns.from_array(data)
    fast = saturated_em(patterns)
    slow_start = saturated_fit(patterns, method="newton")
    assert fast.method == "newton" and fast.converged
    assert_same_maximum(fast, slow_start)
    assert_is_maximum(patterns, fast)


# ---- no maximum --------------------------------------------------------------------------------


def test_wide_data_with_as_many_columns_as_rows_have_no_maximum():
    """16 groups of 15 observe x15, and with y and Z they observe 16 other variables: a
    regression fits x15 exactly, so the likelihood grows without bound."""
    data = wide_micro_macro(keep=["Z", "y"])
    patterns = MissingPatterns.from_array(data)
    with pytest.warns(DataWarning, match="no maximum-likelihood estimate.*'x15'"):
        result = saturated_em(patterns, names=[*ITEMS, "Z", "y"])
    assert not result.converged and result.iterations <= 501
    assert np.isfinite(result.loglik)
    assert np.all(np.linalg.eigvalsh(result.cov) > 0)


def test_no_maximum_found_without_monotone_patterns():
    data = wide_micro_macro(keep=["Z", "y"])
    data[np.random.default_rng(3).random(data.shape[0]) < 0.1, 15] = np.nan  # some Z missing
    patterns = MissingPatterns.from_array(data)
    assert monotone_moments(patterns) is None
    with pytest.warns(DataWarning, match="no maximum-likelihood estimate"):
        result = saturated_em(patterns)
    assert not result.converged and result.iterations <= 501


def test_constant_variable_has_no_maximum():
    data = random_missing(7, n=60, p=4, rate=0.2)
    data[:, 2] = np.where(np.isnan(data[:, 2]), np.nan, 0.1)
    with pytest.warns(DataWarning, match="'c' is constant over the"):
        result = saturated_em(MissingPatterns.from_array(data), names=list("abcd"))
    assert not result.converged


def test_exact_linear_relation_has_no_maximum():
    """x4 = x1 + x2 in every row observing x4, all of which observe x1 and x2."""
    data = random_missing(8, n=60, p=4, rate=0.0)
    data[:, 3] = data[:, 0] + data[:, 1]
    data[::4, 3] = np.nan
    data[1::4, 2] = np.nan
    with pytest.warns(DataWarning, match="regression on those fits it exactly"):
        result = saturated_em(MissingPatterns.from_array(data))
    assert not result.converged


# ---- the Newton system ------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "p"), [(4, 3), (5, 6)])
def test_saturated_derivatives_match_the_pattern_formulas(seed, p):
    patterns = MissingPatterns.from_array(random_missing(seed, n=80, p=p, rate=0.35))
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(p, p))
    sigma, mu = a @ a.T / p + np.eye(p), rng.normal(size=p)
    found = saturated_derivatives(patterns, sigma, mu)
    loglik, grad_sigma, grad_mu = fiml_loglik_and_gradient(patterns, sigma, mu)
    assert found.loglik == pytest.approx(loglik, rel=1e-12)
    np.testing.assert_allclose(
        found.gradient, np.concatenate([grad_mu, vech_gradient(grad_sigma)]), atol=1e-10
    )
    n = patterns.nobs
    np.testing.assert_allclose(
        found.information, n * h1_information_observed(patterns, sigma, mu), atol=1e-9
    )
    expected = saturated_derivatives(patterns, sigma, mu, expected=True).information
    np.testing.assert_allclose(expected, n * h1_information_expected(patterns, sigma), atol=1e-9)
    assert saturated_derivatives(patterns, -sigma, mu) is None


def test_entry_information_is_half_the_fiml_hessian_of_a_linear_model():
    """Σ(θ) and μ(θ) of a random-intercept factor model are linear in θ, so ∇²F is the
    first-order part alone: 2 Jᵀ (Δ H Δᵀ / N) J, against differences of the analytic gradient."""
    loadings = " + ".join(f"1*{x}" for x in ITEMS)
    model = "\n".join(
        [f"xi =~ {loadings}"] + [f"{x} ~~ v*{x}" for x in ITEMS] + [f"{x} ~ m*1" for x in ITEMS]
    )
    wide = semlang.data.widen(
        load("micro_macro_unbalanced_long"), id="group", item="member", value="x"
    )
    fitted = semlang.sem(model, wide, missing="fiml")
    objective = fitted.estimation.objective
    phi = fitted.estimation.phi
    (moments,) = fitted.implied
    (discrepancy,) = objective.discrepancies
    pa, pb, pc, index = moments.entry_vectors()
    entries = fiml_entry_information(
        discrepancy.patterns, moments.sigma, moments.mu, (pa, pb, pc), discrepancy.ntotal
    )
    jac = objective.model.space.jacobian(phi)
    hessian = 2.0 * jac.T @ collapse(entries, index, objective.model.n_theta) @ jac
    np.testing.assert_allclose(hessian, objective.hessian_numeric(phi), rtol=1e-6, atol=1e-8)
