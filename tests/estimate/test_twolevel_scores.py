"""Two-level ML per cluster: each cluster's log-likelihood against the brute-force normal
density of its stacked rows, and its scores (in the moments and in the model's parameters)
against finite differences of that log-likelihood."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

import semlang
from semlang.estimate.twolevel import twolevel_gradient, twolevel_loglik
from semlang.estimate.twolevel_scores import (
    cluster_loglik,
    cluster_moment_scores,
    cluster_scores,
    first_order_information,
)
from tests.estimate.test_twolevel import (
    demo_data,
    random_moments,
    stacked_loglik,
    synthetic_data,
    synthetic_frame,
)

DEMO_MODEL = """
level: 1
  fw =~ y1 + y2 + y3
  fw ~ x1 + x2 + x3
level: 2
  fb =~ y1 + y2 + y3
  fb ~ w1 + w2
"""


@pytest.mark.parametrize("seed", [3, 4])
def test_cluster_loglik_is_the_stacked_density_of_each_cluster(seed):
    frame = synthetic_frame(seed)
    moments = random_moments(seed)
    data = synthetic_data(frame)
    each = cluster_loglik(data, *moments)
    brute = [stacked_loglik(frame[frame.cl == c], *moments) for c in data.cluster_ids]
    np.testing.assert_allclose(each, brute, rtol=1e-10)
    assert each.sum() - data.loglik_x == pytest.approx(twolevel_loglik(data, *moments))


def test_cluster_moment_scores_add_up_to_the_gradient():
    data = demo_data()  # within-only and between-only covariates, fixed (fixed.x)
    sigma_w = np.eye(6) + 0.2
    sigma_b = np.eye(5) * 0.5 + 0.1
    mu_b, mu_w = np.linspace(-1, 1, 5), np.linspace(0, 0.5, 6)
    scores = cluster_moment_scores(data, sigma_w, sigma_b, mu_b, mu_w)
    total = twolevel_gradient(data, sigma_w, sigma_b, mu_b, mu_w)
    for name in ("sigma_w", "sigma_b", "mu_w", "mu_b"):
        np.testing.assert_allclose(
            getattr(scores, name).sum(axis=0), getattr(total, name), atol=1e-9, err_msg=name
        )


def test_cluster_moment_scores_match_finite_differences():
    """Synthetic data with a between-only variable, a within-only one and two of both levels."""
    frame = synthetic_frame(6)
    data = synthetic_data(frame)
    moments = list(random_moments(6))  # Σ_W, Σ_B, μ_B, μ_W in twolevel_loglik's order
    scores = cluster_moment_scores(data, *moments)
    names = ("sigma_w", "sigma_b", "mu_b", "mu_w")
    step = 1e-6
    for which, name in enumerate(names):
        analytic = getattr(scores, name)
        shape = moments[which].shape
        for index in np.ndindex(shape):
            if len(shape) == 2 and index[0] < index[1]:
                continue
            moved = []
            for sign in (1.0, -1.0):
                changed = [np.array(m, dtype=float) for m in moments]
                changed[which][index] += sign * step
                if len(shape) == 2:
                    changed[which][index[::-1]] = changed[which][index]
                moved.append(cluster_loglik(data, *changed))
            numeric = (moved[0] - moved[1]) / (2 * step)
            both = 1.0 if len(shape) == 1 or index[0] == index[1] else 2.0
            expected = both * analytic[(slice(None), *index)]
            np.testing.assert_allclose(expected, numeric, atol=1e-6, err_msg=f"{name}{index}")


@cache
def demo_fit():
    return semlang.sem(DEMO_MODEL, semlang.datasets.load("Demo.twolevel"), cluster="cluster")


def _moments_and_derivatives(fit, theta):
    model, objective = fit.model, fit.estimation.objective
    within, between = model.implied(theta, objective.exo)
    moments = (within.sigma, between.sigma, within.mu, between.mu)
    d_w, dm_w = within.dsigma_dtheta(model.n_theta)
    d_b, dm_b = between.dsigma_dtheta(model.n_theta)
    return moments, (d_w, d_b, dm_w, dm_b)


def test_parameter_scores_match_finite_differences_and_sum_to_zero_at_the_estimates():
    fit = demo_fit()
    data = fit.estimation.objective.data
    theta = fit.model.space.theta(fit.estimation.phi)
    moments, derivatives = _moments_and_derivatives(fit, theta)
    scores = cluster_scores(data, moments, derivatives)
    assert scores.shape == (data.nclusters, fit.model.n_theta)

    def each(t):
        (sigma_w, sigma_b, mu_w, mu_b), _ = _moments_and_derivatives(fit, t)
        return cluster_loglik(data, sigma_w, sigma_b, mu_b, mu_w)

    step = 1e-6
    for a in range(fit.model.n_theta):
        up, down = theta.copy(), theta.copy()
        up[a] += step
        down[a] -= step
        numeric = (each(up) - each(down)) / (2 * step)
        np.testing.assert_allclose(scores[:, a], numeric, atol=1e-5, err_msg=f"θ{a}")
    # the estimates are a stationary point of the summed log-likelihood
    assert np.abs(scores.sum(axis=0)).max() < 1e-2 * np.abs(scores).sum(axis=0).max()
    info = first_order_information(data, moments, derivatives)
    np.testing.assert_allclose(info, scores.T @ scores / data.nobs)
