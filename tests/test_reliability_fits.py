"""Reliability from fitted models: omega of a one-factor fit, against independent computations."""

import numpy as np
import pytest

import semlang
from semlang.errors import OptionError
from semlang.models import random_intercept
from semlang.psychometrics import coefficient_alpha, mean_reliability


@pytest.fixture(scope="module")
def agree():
    return semlang.datasets.load("bigfive_agree")


def test_omega_of_the_parallel_model_is_alpha(agree):
    fit = semlang.cfa(random_intercept(list(agree.columns), latent="f"), agree, meanstructure=True)
    est = fit.estimates()
    psi = est.query("lhs == 'f' and op == '~~'").est.iloc[0]
    theta = est.query("lhs == 'A1' and op == '~~'").est.iloc[0]
    omega = semlang.reliability(fit=fit)
    assert omega == pytest.approx(mean_reliability(psi, theta, 5), abs=1e-12)
    # for parallel items the ML omega and the sample alpha coincide
    assert omega == pytest.approx(coefficient_alpha(agree), abs=1e-6)
    assert omega == pytest.approx(0.703756, abs=1e-6)


def test_omega_is_the_share_of_true_variance_in_the_sum_score(agree):
    fit = semlang.cfa("f =~ A1 + A2 + A3 + A4 + A5", agree)
    moments = fit.implied[0]
    loadings = moments.A[:5, 5]
    psi = moments.S[5, 5]
    ones = np.ones(5)
    expected = (ones @ loadings) ** 2 * psi / (ones @ moments.sigma @ ones)
    assert semlang.reliability(fit=fit) == pytest.approx(expected, rel=1e-10)
    assert semlang.reliability(fit) == semlang.reliability(fit=fit)  # a fit given first: omega
    assert 0.6 < expected < 0.8


def test_omega_needs_one_factor():
    data = semlang.datasets.load("HolzingerSwineford1939")
    fit = semlang.cfa("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", data)
    with pytest.raises(OptionError, match="one-factor"):
        semlang.reliability(fit=fit)


def test_reliability_of_a_mean_of_ten_noisy_measurements():
    assert semlang.reliability(sigma2_xi=1, sigma2_nu=9, n=10) == pytest.approx(0.526, abs=5e-4)
