"""Constraints beyond the lavaan references (tests/test_extra_references.py holds those): the
values reported on constraint rows, constraints that can never hold, bounds through an equality,
convergence at active bounds (projected gradient), the QP step and the fallback optimizers."""

import warnings

import numpy as np
import pytest
from scipy import linalg
from scipy import optimize as scipy_optimize

import semlang
from semlang.errors import ModelSpecificationError
from semlang.estimate import optimize
from semlang.estimate.optimize import Constraints, quadratic_program

MEDIATION = """
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60
  dem65 ~ c*ind60 + b*dem60
  indirect := a*b
"""
HS_LABELLED = """
  visual  =~ l1*x1 + a*x2 + b*x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"""


@pytest.fixture(scope="module")
def poldem():
    return semlang.datasets.load("PoliticalDemocracy")


@pytest.fixture(scope="module")
def hs():
    return semlang.datasets.load("HolzingerSwineford1939")


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return function(*args, **kwargs)


def _row(fit, lhs, op, rhs):
    frame = fit.estimates()
    return frame[(frame.lhs == lhs) & (frame.op == op) & (frame.rhs == rhs)].iloc[0]


def test_constraint_rows_report_lavaans_values(poldem):
    fit = _quiet(semlang.sem, MEDIATION + "  a < 1\n  b > 0.5\n  c == 0.4*b\n", poldem)
    est = {(r.lhs, r.op): r.est for r in fit.estimates().itertuples() if r.op != ":="}
    a, b, c = est["dem60", "~"], _row(fit, "dem65", "~", "dem60").est, None
    c = _row(fit, "dem65", "~", "ind60").est
    assert _row(fit, "a", "<", "1").est == pytest.approx(1 - a, abs=1e-12)  # right − left
    assert _row(fit, "b", ">", "0.5").est == pytest.approx(b - 0.5, abs=1e-12)  # left − right
    assert _row(fit, "c", "==", "0.4*b").est == pytest.approx(c - 0.4 * b, abs=1e-12)
    assert abs(c - 0.4 * b) < 1e-12 and a <= 1 + 1e-10
    for lhs, op, rhs in [("a", "<", "1"), ("b", ">", "0.5"), ("c", "==", "0.4*b")]:
        row = _row(fit, lhs, op, rhs)
        assert row.se == 0 and np.isnan(row.z) and np.isnan(row.pvalue)
        assert row.ci_lower == row.ci_upper == row.est


def test_standardized_constraint_rows_use_standardized_parameters(hs):
    fit = semlang.cfa(HS_LABELLED + "  b == a^2\n", hs)
    a, b = _row(fit, "visual", "=~", "x2"), _row(fit, "visual", "=~", "x3")
    row = _row(fit, "b", "==", "a^2")
    assert row.std_all == pytest.approx(b.std_all - a.std_all**2, abs=1e-12)
    assert row.std_lv == pytest.approx(b.std_lv - a.std_lv**2, abs=1e-12)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("l1 == 2", "this equality constraint can never hold"),
        ("l1 > 2", "this inequality constraint can never hold"),
        ("2 == 3", "this equality constraint can never hold"),
    ],
)
def test_constraints_that_can_never_hold_are_located_errors(hs, extra, message):
    with pytest.raises(ModelSpecificationError, match=message) as caught:
        semlang.cfa(HS_LABELLED + f"  {extra}\n", hs)
    assert caught.value.line == 5 and extra in str(caught.value)


def test_a_constraint_on_fixed_values_that_holds_is_dropped(hs):
    plain = semlang.cfa(HS_LABELLED, hs)
    constrained = semlang.cfa(HS_LABELLED + "  l1 < 2\n", hs)
    np.testing.assert_allclose(constrained.theta, plain.theta, rtol=1e-8)
    assert constrained.fit_measures()["npar"] == plain.fit_measures()["npar"]


def test_an_equality_no_parameter_can_be_solved_from_is_imposed_by_the_optimizer(hs):
    fit = semlang.cfa(HS_LABELLED + "  a^2 + b^2 == 1\n", hs)  # lavaan: constraints_circle
    a, b = _row(fit, "visual", "=~", "x2").est, _row(fit, "visual", "=~", "x3").est
    assert fit.converged and a**2 + b**2 == pytest.approx(1.0, abs=1e-10)
    assert fit.model.space.n_equalities == 1 and fit.fit_measures()["npar"] == 20
    assert _row(fit, "a^2+b^2", "==", "1").est == pytest.approx(0.0, abs=1e-10)


def test_chained_equalities(hs):
    fit = semlang.cfa(HS_LABELLED + "  a == b\n  b == 2*a - 0.5\n", hs)  # forces a = b = 0.5
    assert _row(fit, "visual", "=~", "x2").est == pytest.approx(0.5, abs=1e-12)
    assert _row(fit, "visual", "=~", "x3").est == pytest.approx(0.5, abs=1e-12)
    assert fit.fit_measures()["npar"] == 21 - 2


def test_a_bound_on_a_parameter_solved_by_an_equality_still_holds(hs):
    # a == b leaves b = a; upper(0.5) on b must bound a as well (both are 0.65 without it)
    bounded = semlang.cfa(HS_LABELLED.replace("b*x3", "b*x3 + upper(0.5)*x3") + "  a == b\n", hs)
    fixed = semlang.cfa(HS_LABELLED.replace("a*x2 + b*x3", "0.5*x2 + 0.5*x3"), hs)
    assert bounded.converged
    assert _row(bounded, "visual", "=~", "x3").est == pytest.approx(0.5, abs=1e-8)
    assert _row(bounded, "visual", "=~", "x2").est == pytest.approx(0.5, abs=1e-8)
    assert bounded.fit_measures()["chisq"] == pytest.approx(fixed.fit_measures()["chisq"], 1e-7)


def test_convergence_at_an_active_bound_uses_the_projected_gradient(poldem):
    fit = semlang.sem(MEDIATION.replace("a*ind60", "a*ind60 + upper(1)*ind60"), poldem)
    optimization = fit.estimation.optimization
    gradient = fit.estimation.objective.value_and_gradient(fit.estimation.phi)[1]
    k = int(np.argmax(np.abs(gradient)))
    assert fit.estimation.phi[k] == pytest.approx(1.0, abs=1e-12)  # the regression's bound
    assert gradient[k] < -1e-3  # F still falls beyond the bound ...
    assert fit.converged and optimization.gradient_norm < 1e-6  # ... but not along the bound


@pytest.mark.parametrize(
    ("method", "model"),
    [
        ("_trust_region", MEDIATION),
        ("_lbfgsb", MEDIATION.replace("a*ind60", "a*ind60 + upper(1)*ind60")),
        ("_slsqp", MEDIATION + "  a + b < 2\n"),
    ],
)
def test_fallback_optimizers_reach_the_same_optimum_from_the_start(poldem, method, model):
    fit = _quiet(semlang.sem, model, poldem)
    assert fit.estimation.optimization.method == "newton-scoring"
    space = fit.model.space
    inequalities = space.inequalities if len(space.inequalities) else None
    constraints = Constraints.build(space.n_phi, space.bounds, inequalities)
    objective, start = fit.estimation.objective, fit.estimation.phi_start
    result = getattr(optimize, method)(objective, start, constraints, 5000)
    assert result.converged
    assert result.value == pytest.approx(fit.estimation.optimization.value, rel=1e-9)
    np.testing.assert_allclose(result.phi, fit.estimation.phi, rtol=1e-4, atol=1e-5)


def _reference_qp(H, g, A, b):
    """The same program by scipy's SLSQP."""
    result = scipy_optimize.minimize(
        lambda x: 0.5 * x @ H @ x + g @ x, np.zeros(len(g)), jac=lambda x: H @ x + g,
        constraints=[{"type": "ineq", "fun": lambda x: A @ x - b, "jac": lambda x: A}],
        method="SLSQP", options={"ftol": 1e-14, "maxiter": 500},
    )  # fmt: skip
    return result.x


def test_quadratic_program_meets_the_kkt_conditions():
    rng = np.random.default_rng(3)
    for _ in range(20):
        n, m = 6, 4
        X = rng.standard_normal((n, n))
        H = X @ X.T + 0.1 * np.eye(n)
        g = rng.standard_normal(n)
        A = rng.standard_normal((m, n))
        b = rng.standard_normal(m) - 1.0  # d = 0 is feasible: the program is feasible
        d = quadratic_program(linalg.cho_factor(H, lower=True), g, A, b)
        assert np.all(A @ d >= b - 1e-9)
        np.testing.assert_allclose(d, _reference_qp(H, g, A, b), atol=1e-6)


def test_quadratic_program_reports_infeasible_constraints():
    H = np.eye(2)
    A = np.array([[1.0, 0.0], [-1.0, 0.0]])
    b = np.array([1.0, 0.0])  # x >= 1 and x <= 0
    assert quadratic_program(linalg.cho_factor(H, lower=True), np.zeros(2), A, b) is None
