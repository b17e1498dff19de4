"""The objective's derivatives against finite differences.

* The analytic gradient in φ equals Richardson-extrapolated central differences of F at random
  points near the optimum — for every reference model and for models with linear and nonlinear
  ``==`` constraints, fixed.x covariates, mean structures, several groups and FIML.
* The analytic observed information (½∇²F) equals central differences of the analytic gradient.
* The expected information equals half the numerical Hessian of F on a perfect-fit data set
  (sample moments = the implied moments at θ̂), where observed and expected information agree: an
  independent check of ``Objective.information``.
"""

import warnings

import numpy as np
import pytest
from reference_cases import SINGLE_LEVEL_CASES, fit_reference, load_case

import semlang
from semlang.estimate.ml import CompleteDataML
from semlang.estimate.objective import Objective

REFERENCE = list(SINGLE_LEVEL_CASES)
MORE = [
    "extra/constraints_linear",  # a == b
    "extra/constraints_nonlinear",  # b == a^2: θ = g(φ) nonlinear
    "fitting/constraints_sum",  # a + b == 1
    "extra/mimic_hs",  # fixed.x covariates
    "fitting/path_random_x_meanstructure",  # fixed_x=False, mean structure
    "extra/growth_covariates",  # mean structure, time-varying covariates
    "extra/hs_invariance_strong",  # two groups, equal loadings and intercepts
    "fitting/bfi_mimic_fiml_random_x",  # FIML with a missing covariate
]
HS_MODEL = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""


def _reference(name: str) -> dict:
    return load_case(name)


def _fit(name: str):
    return fit_reference(name)


def _hs_fiml_two_groups():
    """HS by school with 10% of the indicator cells deleted at random: FIML in two groups."""
    data = semlang.datasets.load("HolzingerSwineford1939").copy()
    rng = np.random.default_rng(7)
    columns = [f"x{k}" for k in range(1, 10)]
    values = data[columns].to_numpy(copy=True)
    values[rng.random(values.shape) < 0.1] = np.nan
    data[columns] = values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return semlang.cfa(HS_MODEL, data, missing="fiml", group="school")


@pytest.fixture(scope="module", params=REFERENCE + MORE + ["hs_fiml_two_groups"])
def fitted(request):
    if request.param == "hs_fiml_two_groups":
        return request.param, _hs_fiml_two_groups()
    return request.param, _fit(request.param)


def richardson(f, x: np.ndarray, k: int, h: float) -> np.ndarray:
    """df/dx_k by Richardson extrapolation of central differences (error O(h⁴))."""
    unit = np.zeros(len(x))
    unit[k] = h

    def central(step):
        return (np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2.0 * np.linalg.norm(step))

    return (4.0 * central(unit) - central(2.0 * unit)) / 3.0


def _columns(n: int, limit: int = 40) -> np.ndarray:
    """All coordinates of small models, a fixed random subset of large ones."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=limit, replace=False))


def _near_optimum(fit, seed: int) -> np.ndarray:
    phi = fit.estimation.phi
    rng = np.random.default_rng(seed)
    return phi + 0.02 * (np.abs(phi) + 0.1) * rng.standard_normal(len(phi))


@pytest.mark.parametrize("seed", [1, 2])
def test_gradient_matches_finite_differences(fitted, seed):
    name, fit = fitted
    objective = fit.estimation.objective
    phi = _near_optimum(fit, seed)
    value, gradient = objective.value_and_gradient(phi)
    assert np.isfinite(value)
    scale = max(1.0, float(np.max(np.abs(gradient))))
    for k in _columns(len(phi)):
        h = 1e-4 * max(1.0, abs(phi[k]))
        numeric = richardson(objective.value, phi, k, h)
        assert abs(gradient[k] - numeric) <= 1e-7 * scale, (
            f"{name}: dF/dφ[{k}] analytic {gradient[k]!r}, numeric {numeric!r}"
        )


def test_observed_information_is_half_the_hessian(fitted):
    name, fit = fitted
    if not fit.model.space.is_linear:
        pytest.skip(
            "θ = g(φ) is nonlinear: the Hessian in φ also has Σ_k ∂F/∂θ_k ∂²θ_k/∂φ², which the "
            "information leaves out (as lavaan's); checked in θ by the next test"
        )
    objective = fit.estimation.objective
    phi = _near_optimum(fit, 3)
    analytic = 2.0 * objective.observed_information(phi)
    scale = max(1.0, float(np.max(np.abs(analytic))))
    for k in _columns(len(phi), limit=25):
        h = 1e-4 * max(1.0, abs(phi[k]))
        column = richardson(lambda x: objective.value_and_gradient(x)[1], phi, k, h)
        np.testing.assert_allclose(analytic[:, k], column, rtol=0, atol=1e-6 * scale,
                                   err_msg=f"{name}: column {k} of the Hessian")  # fmt: skip


def test_observed_information_in_theta_for_nonlinear_constraints():
    fit = _fit("extra/constraints_nonlinear")
    objective = fit.estimation.objective
    assert not fit.model.space.is_linear
    theta = fit.theta * 1.01
    analytic = objective.hessian_theta(theta)
    scale = float(np.max(np.abs(analytic)))
    for k in range(len(theta)):
        h = 1e-4 * max(1.0, abs(theta[k]))
        column = richardson(lambda x: objective.value_and_gradient_theta(x)[1], theta, k, h)
        np.testing.assert_allclose(analytic[:, k], column, rtol=0, atol=1e-6 * scale)


def test_theta_of_phi_jacobian_for_nonlinear_constraints():
    fit = _fit("extra/constraints_nonlinear")
    space = fit.model.space
    phi = fit.estimation.phi * 1.05
    J = space.jacobian(phi)
    for k in range(len(phi)):
        np.testing.assert_allclose(J[:, k], richardson(space.theta, phi, k, 1e-4), atol=1e-9)


def _perfect_fit_objective(fit) -> Objective:
    """The fit's objective with each group's sample moments replaced by the implied ones."""
    objective = fit.estimation.objective
    discrepancies = tuple(
        CompleteDataML(moments.mu.copy(), moments.sigma.copy(), d.nobs, d.weight,
                       objective.meanstructure)
        for moments, d in zip(fit.implied, objective.discrepancies, strict=True)
    )  # fmt: skip
    return Objective(objective.model, discrepancies, objective.exo, objective.meanstructure)


def test_expected_information_is_the_hessian_at_perfect_fit(fitted):
    name, fit = fitted
    perfect = _perfect_fit_objective(fit)
    phi = fit.estimation.phi
    value, gradient = perfect.value_and_gradient(phi)
    assert abs(value) < 1e-10 and np.max(np.abs(gradient)) < 1e-8
    expected = perfect.information(phi)
    scale = max(1.0, float(np.max(np.abs(expected))))
    for k in _columns(len(phi), limit=25):
        h = 1e-4 * max(1.0, abs(phi[k]))
        column = richardson(lambda x: perfect.value_and_gradient(x)[1], phi, k, h) / 2.0
        np.testing.assert_allclose(expected[:, k], column, rtol=0, atol=1e-6 * scale,
                                   err_msg=f"{name}: column {k} of the information")  # fmt: skip


def test_expected_information_is_the_hessian_of_f_values_at_perfect_fit():
    """The same check from F alone (second differences of values, no gradient involved)."""
    fit = _fit("growth_linear")
    perfect = _perfect_fit_objective(fit)
    phi = fit.estimation.phi
    expected = perfect.information(phi)
    n, h = len(phi), 1e-3
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.eye(n)[i] * h, np.eye(n)[j] * h
            second = (
                perfect.value(phi + ei + ej) - perfect.value(phi + ei - ej)
                - perfect.value(phi - ei + ej) + perfect.value(phi - ei - ej)
            ) / (4 * h * h)  # fmt: skip
            assert abs(second / 2.0 - expected[i, j]) <= 1e-4 * max(1.0, abs(expected[i, j]))
