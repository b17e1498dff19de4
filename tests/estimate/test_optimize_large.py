"""The optimizer's path for thousands of parameters gives the Newton path's estimates.

:func:`~semlang.estimate.optimize_large.quasi_newton_scoring` (Fisher scoring, then quasi-Newton
steps on one kept factor) is taken from :data:`LARGE_MODEL` parameters on; with the threshold
lowered, reference models of every kind (groups, equal labels, FIML, 390 parameters) must end
where Newton's method ends, to 1e-7 (the gradient's rounding, ~1e-8 on these small data sets,
limits how exactly either path finds the optimum), and so match lavaan; when its steps stall
(a poor fit makes the expected Hessian a poor guide), Newton's method takes over from the best
point.
"""

import numpy as np
import pytest
from reference_cases import assert_matches, fit_reference, load_case, row_key

from semlang.estimate import optimize_large

CASES = [
    "poldem_sem",  # regressions, equal labels, residual covariances
    "large_cfa_p100",  # 20 correlated factors: 390 parameters
    "bfi_5factor_fiml",  # FIML
    "extra/hs_invariance_strong",  # groups, equal loadings and intercepts, latent means
    "hs_cfa",  # a poor fit: Newton's method takes over
]
QUASI_NEWTON = {"poldem_sem", "large_cfa_p100", "bfi_5factor_fiml"}  # to the end


def _columns(fit) -> tuple[np.ndarray, np.ndarray]:
    est = fit.estimates()
    return est["est"].to_numpy(), est["se"].to_numpy()


@pytest.mark.parametrize("name", CASES)
def test_the_large_path_ends_where_newton_ends(name, monkeypatch):
    newton = fit_reference(name)
    assert newton.estimation.optimization.method == "newton-scoring"
    monkeypatch.setattr(optimize_large, "LARGE_MODEL", 1)
    large = fit_reference(name)
    optimization = large.estimation.optimization
    assert optimization.converged
    if name in QUASI_NEWTON:
        assert optimization.method == "quasi-newton-scoring"
    for ours, theirs in zip(_columns(large), _columns(newton), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-10)


def test_the_large_path_matches_lavaan(monkeypatch):
    monkeypatch.setattr(optimize_large, "LARGE_MODEL", 1)
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
    monkeypatch.setattr(optimize_large, "SLOW_RATE", 0.0)  # every quasi-Newton step is slow
    handed = fit_reference("large_cfa_p100")
    optimization = handed.estimation.optimization
    assert optimization.converged
    assert optimization.method == "newton-scoring"
    for ours, theirs in zip(_columns(handed), _columns(newton), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-10)
