"""The optimizer's path for thousands of parameters gives the Newton path's estimates.

:func:`~semlang.estimate.optimize_large.quasi_newton_scoring` (Fisher scoring, then quasi-Newton
steps on one kept expected Hessian, solved through its Kronecker block) is taken from
:data:`LARGE_MODEL` parameters on by models with such a block; with the thresholds lowered, the
10-factor reference CFA (245 parameters, a block of 55) must end where Newton's method ends, to
1e-7 (the gradient's rounding, ~1e-8 on this data set, limits how exactly either path finds the
optimum), and so match lavaan — also with the formed Hessian, and when Newton's method takes
over from stalled steps — while models without the block (groups, equal labels, FIML) keep
Newton's method. The block's solve and inverse equal the dense ones.
"""

import numpy as np
import pytest
from reference_cases import assert_matches, fit_reference, load_case, row_key

from semlang.estimate import kronecker_hessian as kronecker
from semlang.estimate import optimize_large
from semlang.estimate.kronecker_hessian import kronecker_hessian
from semlang.options import Information
from semlang.results.inference import structured_vcov

CASES = [
    "poldem_sem",  # regressions, equal labels, residual covariances
    "large_cfa_p100",  # 10 correlated factors: 245 parameters
    "bfi_5factor_fiml",  # FIML
    "extra/hs_invariance_strong",  # groups, equal loadings and intercepts, latent means
]


def _columns(fit) -> tuple[np.ndarray, np.ndarray]:
    est = fit.estimates()
    return est["est"].to_numpy(), est["se"].to_numpy()


@pytest.fixture
def large(monkeypatch):
    """Every model large, and a block of 50 parameters enough for the Kronecker form."""
    monkeypatch.setattr(optimize_large, "LARGE_MODEL", 1)
    monkeypatch.setattr(kronecker, "SMALLEST_BLOCK", 50)


@pytest.mark.parametrize("name", CASES)
def test_only_models_with_a_kronecker_block_take_the_large_path(name, large):
    fit = fit_reference(name)
    method = "quasi-newton-scoring" if name == "large_cfa_p100" else "newton-scoring"
    assert fit.estimation.optimization.method == method


def test_the_large_path_ends_where_newton_ends(monkeypatch):
    newton = fit_reference("large_cfa_p100")
    assert newton.estimation.optimization.method == "newton-scoring"
    monkeypatch.setattr(optimize_large, "LARGE_MODEL", 1)
    monkeypatch.setattr(kronecker, "SMALLEST_BLOCK", 50)
    large = fit_reference("large_cfa_p100")
    optimization = large.estimation.optimization
    assert optimization.converged
    assert optimization.method == "quasi-newton-scoring"
    for ours, theirs in zip(_columns(large), _columns(newton), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-10)


def test_the_formed_hessian_serves_when_the_kronecker_one_fails(monkeypatch):
    newton = fit_reference("large_cfa_p100")
    monkeypatch.setattr(optimize_large, "LARGE_MODEL", 1)
    monkeypatch.setattr(kronecker, "SMALLEST_BLOCK", 50)
    monkeypatch.setattr(optimize_large, "kronecker_hessian", lambda objective, phi: None)
    dense = fit_reference("large_cfa_p100")
    assert dense.estimation.optimization.method == "quasi-newton-scoring"
    for ours, theirs in zip(_columns(dense), _columns(newton), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-10)


def test_the_large_path_matches_lavaan(large):
    fit = fit_reference("large_cfa_p100")
    rows = {row_key(row): row for row in load_case("large_cfa_p100")["estimates"]}
    est = fit.estimates()
    for row in est.itertuples():
        reference = rows[(row.lhs, row.op, row.rhs, row.group if "group" in est else 1)]
        assert_matches("est", row.est, reference["est"], f"{row.lhs}{row.op}{row.rhs}")
        assert_matches("se", row.se, reference["se"], f"{row.lhs}{row.op}{row.rhs} se")


def test_newton_takes_over_when_the_steps_stall(monkeypatch):
    newton = fit_reference("large_cfa_p100")
    monkeypatch.setattr(optimize_large, "LARGE_MODEL", 1)
    monkeypatch.setattr(kronecker, "SMALLEST_BLOCK", 50)
    monkeypatch.setattr(optimize_large, "SLOW_RATE", 0.0)  # every quasi-Newton step is slow
    handed = fit_reference("large_cfa_p100")
    optimization = handed.estimation.optimization
    assert optimization.converged
    assert optimization.method == "newton-scoring"
    for ours, theirs in zip(_columns(handed), _columns(newton), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-10)


def test_the_kronecker_solve_equals_the_dense_one(monkeypatch):
    monkeypatch.setattr(kronecker, "SMALLEST_BLOCK", 50)
    fit = fit_reference("large_cfa_p100")  # 10 factors: 55 variances and covariances
    objective, phi = fit.estimation.objective, fit.estimation.phi
    for point in (fit.estimation.phi_start, phi):
        objective.value_and_gradient(point)
        hessian = kronecker_hessian(objective, point)
        assert hessian is not None and len(hessian.block) == 55 and len(hessian.rest) == 190
        gradient = np.random.default_rng(1).standard_normal(len(point))
        dense = np.linalg.solve(2.0 * objective.information(point), gradient)
        np.testing.assert_allclose(
            hessian.solve(gradient), dense, rtol=0, atol=1e-12 * np.abs(dense).max()
        )


def test_models_without_a_large_complete_block_have_no_kronecker_hessian():
    for name in ("hs_cfa", "large_cfa_p100", "extra/hs_invariance_strong", "bfi_5factor_fiml"):
        fit = fit_reference(name)
        assert kronecker_hessian(fit.estimation.objective, fit.estimation.phi) is None


def test_the_standard_errors_from_the_kronecker_block_equal_the_dense_ones(monkeypatch):
    dense = fit_reference("large_cfa_p100")
    monkeypatch.setattr(optimize_large, "LARGE_MODEL", 1)
    monkeypatch.setattr(kronecker, "SMALLEST_BLOCK", 50)
    objective, phi = dense.estimation.objective, dense.estimation.phi
    inverse = kronecker.information_inverse(objective, phi)
    assert inverse is not None
    expected = np.linalg.inv(objective.information(phi))
    scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
    assert np.max(np.abs(inverse - expected) / scale) < 1e-12
    structured = fit_reference("large_cfa_p100")
    np.testing.assert_allclose(structured.estimates()["se"], dense.estimates()["se"], rtol=1e-7)


def test_the_kronecker_inverse_is_not_used_for_observed_information(monkeypatch):
    monkeypatch.setattr(optimize_large, "LARGE_MODEL", 1)
    monkeypatch.setattr(kronecker, "SMALLEST_BLOCK", 50)
    fit = fit_reference("large_cfa_p100")
    objective, phi = fit.estimation.objective, fit.estimation.phi
    assert structured_vcov(objective, phi, Information.OBSERVED, 1000) is None
    assert structured_vcov(objective, phi, Information.EXPECTED, 1000) is not None
