"""Robust standard errors (Huber-White sandwich) and the Yuan-Bentler scaled test (lavaan's
estimator MLR), complete data and FIML, one group and several, against lavaan 0.6.14
(``tests/reference/poldem_mlr.json``, ``tests/reference/groups/``), and the casewise scores
behind them against finite differences of the casewise log-likelihood."""

from __future__ import annotations

import numpy as np
import pytest
from reference_cases import load_case
from test_groups import (
    assert_estimates_match,
    assert_measures_match,
    fit_group_case,
    load_group_case,
)

import semlang
from semlang.estimate.missing import MissingPatterns, casewise_loglik
from semlang.options import Information, StandardErrors
from semlang.results import robust
from semlang.results.robust import robust_vcov_phi, scaled_test

MLR_CASES = [
    "hs_cfa_mlr",
    "hs_cfa_mlr_meanstructure",
    "hs_cfa_mlr_expected",
    "hs_cfa_robust_se",
    "saturated_mlr",
    "mimic_mlr",
    "hs_fiml_mlr",
    "mimic_fiml_mlr",
    "bfi_fiml_mlr",
    "hs_configural_mlr",
    "hs_loadings_mlr",
    "hs_strong_mlr",
    "hs_fiml_groups_mlr",
    "poldem_halves_mlr",
]


def all_measures(fit) -> dict:
    """The fit's measures with the scaled test (whether or not fit_measures includes it)."""
    base = fit.fit_measures()
    return base | scaled_test(fit, base)


@pytest.mark.parametrize("name", MLR_CASES)
def test_robust_standard_errors_match_lavaan(name):
    fit = fit_group_case(name)
    assert fit.converged
    assert fit.options.se is StandardErrors.ROBUST_HUBER_WHITE
    assert_estimates_match(name, fit)


@pytest.mark.parametrize("name", MLR_CASES)
def test_scaled_test_matches_lavaan(name):
    assert_measures_match(name, all_measures(fit_group_case(name)))


def test_poldem_mlr_reference():
    """The project's first MLR reference: chisq.scaled 44.49, scaling factor 0.903."""
    case = load_case("poldem_mlr")
    data = semlang.datasets.load("PoliticalDemocracy")
    fit = semlang.sem(case["model"], data, estimator="MLR")
    assert_estimates_match("poldem_mlr", fit, reference=case)
    assert_measures_match("poldem_mlr", all_measures(fit), reference=case)


def test_fit_measures_report_the_scaled_test():
    ours = fit_group_case("hs_cfa_mlr").fit_measures()
    reference = load_group_case("hs_cfa_mlr")["fit_measures"]
    assert ours["chisq_scaled"] == pytest.approx(reference["chisq.scaled"], abs=0.02)
    assert ours["scaling_factor"] == pytest.approx(reference["scaling.factor"], abs=1e-3)


def test_sandwich_is_the_vcov_of_the_fit():
    fit = fit_group_case("hs_loadings_mlr")
    np.testing.assert_allclose(fit.vcov_phi, robust_vcov_phi(fit), rtol=1e-12)


def test_default_bread_is_the_observed_information():
    """lavaan uses the observed information whenever the standard errors are robust."""
    assert fit_group_case("hs_cfa_mlr").options.information is Information.OBSERVED
    options = fit_group_case("hs_cfa_mlr_expected").options
    assert options.information is Information.EXPECTED


@pytest.mark.parametrize("name", ["hs_cfa_mlr", "hs_fiml_groups_mlr"])
def test_casewise_scores_are_loglik_derivatives(name):
    """Each row's score Δᵀ s_i (the meat's rows) equals the finite-difference derivative of
    that row's log-likelihood with respect to φ (without a mean structure at the sample mean)."""
    fit = fit_group_case(name)
    phi = fit.estimation.phi
    groups = robust._groups(fit)
    step = 1e-6
    for k, group in enumerate(groups):
        analytic = robust._scores(group, group.sigma, group.mu) @ group.delta
        numeric = np.zeros_like(analytic)
        for j in range(len(phi)):
            values = []
            for sign in (1.0, -1.0):
                shifted = phi.copy()
                shifted[j] += sign * step
                theta = fit.model.space.theta(shifted)
                moments = fit.model.implied(theta, fit.estimation.objective.exo)[k]
                mu = moments.mu if group.meanstructure else group.h1_mean
                values.append(casewise_loglik(group.patterns, moments.sigma, mu))
            numeric[:, j] = (values[0] - values[1]) / (2 * step)
        np.testing.assert_allclose(analytic, numeric, atol=1e-5, rtol=1e-5)


def test_first_order_information_of_the_h1_scores_is_gamma():
    """With complete data and no covariates, the first-order information of the scores at the
    sample moments is A1 Γ A1 (the two ways lavaan writes the h1 meat agree)."""
    fit = fit_group_case("hs_cfa_mlr_meanstructure")
    (group,) = robust._groups(fit)
    assert isinstance(group.patterns, MissingPatterns)
    meat = robust._first_order(group, group.h1_cov, group.h1_mean)
    a1 = robust._h1_information(group, group.h1_cov, group.h1_mean, Information.OBSERVED)
    np.testing.assert_allclose(meat, a1 @ robust._gamma(group) @ a1, rtol=1e-8, atol=1e-12)
