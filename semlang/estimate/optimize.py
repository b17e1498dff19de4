"""Objective -> minimum: scipy's optimizers with the analytic gradient.

Input: an :class:`~semlang.estimate.objective.Objective`, φ₀, bounds and inequality constraints.
Output: :class:`OptimizationResult` (φ̂, F(φ̂), iterations, convergence and scipy's message).
Without bounds or inequalities a trust-region Newton method uses the expected information as
its Hessian (Fisher scoring made safe by the trust region); with bounds, L-BFGS-B; with general
inequalities, SLSQP. A final gradient check decides convergence, not only the optimizer's flag.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from semlang.estimate.objective import Objective


@dataclass(frozen=True)
class OptimizationResult:
    phi: np.ndarray
    value: float
    iterations: int
    evaluations: int
    converged: bool
    method: str
    message: str
    gradient_norm: float


def minimize(
    objective: Objective,
    phi0: np.ndarray,
    bounds=None,
    inequalities=None,
    max_iterations: int = 10000,
) -> OptimizationResult:
    """Minimize F(φ) from φ₀."""
    has_bounds = bounds is not None and any(
        math.isfinite(lo) or math.isfinite(hi) for lo, hi in bounds
    )
    has_inequalities = inequalities is not None and len(inequalities) > 0
    if has_inequalities:
        return _slsqp(objective, phi0, bounds, inequalities, max_iterations)
    if has_bounds:
        return _lbfgsb(objective, phi0, bounds, max_iterations)
    result = _trust_region(objective, phi0, max_iterations)
    if not result.converged:
        fallback = _lbfgsb(objective, phi0, None, max_iterations)
        if fallback.converged or fallback.value < result.value:
            return fallback
    return result


def _finish(objective, x, method, nit, nfev, success, message) -> OptimizationResult:
    value, gradient = objective.value_and_gradient(x)
    norm = float(np.max(np.abs(gradient))) if len(gradient) else 0.0
    converged = bool(np.isfinite(value) and (success or norm < 1e-6) and norm < 1e-3)
    return OptimizationResult(
        np.asarray(x, dtype=float), float(value), int(nit), int(nfev), converged, method,
        str(message), norm,
    )  # fmt: skip


def _trust_region(objective: Objective, phi0, max_iterations) -> OptimizationResult:
    def fun(phi):
        return objective.value_and_gradient(phi)

    def hess(phi):
        try:
            return 2.0 * objective.information(phi)
        except (np.linalg.LinAlgError, ArithmeticError):
            return np.eye(len(phi))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = optimize.minimize(
            fun, phi0, jac=True, hess=hess, method="trust-exact",
            options={"gtol": 1e-9, "maxiter": max_iterations},
        )  # fmt: skip
    return _finish(
        objective, result.x, "trust-exact", result.nit, result.nfev, result.success, result.message
    )


def _lbfgsb(objective: Objective, phi0, bounds, max_iterations) -> OptimizationResult:
    def fun(phi):
        value, gradient = objective.value_and_gradient(phi)
        if not np.isfinite(value):
            return 1e20, np.zeros_like(phi)
        return value, gradient

    phi0 = _inside(phi0, bounds)
    result = optimize.minimize(
        fun, phi0, jac=True, method="L-BFGS-B", bounds=bounds,
        options={"maxiter": max_iterations, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 30},
    )  # fmt: skip
    return _finish(
        objective, result.x, "L-BFGS-B", result.nit, result.nfev, result.success, result.message
    )


def _slsqp(objective: Objective, phi0, bounds, inequalities, max_iterations):
    def fun(phi):
        value, gradient = objective.value_and_gradient(phi)
        if not np.isfinite(value):
            return 1e20, np.zeros_like(phi)
        return value, gradient

    constraint = {
        "type": "ineq",
        "fun": inequalities.value,
        "jac": inequalities.jacobian,
    }
    result = optimize.minimize(
        fun, _inside(phi0, bounds), jac=True, method="SLSQP", bounds=bounds,
        constraints=[constraint], options={"maxiter": max_iterations, "ftol": 1e-14},
    )  # fmt: skip
    out = _finish(
        objective, result.x, "SLSQP", result.nit, result.nfev, result.success, result.message
    )
    if result.success:  # at a constrained optimum the gradient need not vanish
        out = OptimizationResult(**{**out.__dict__, "converged": bool(np.isfinite(out.value))})
    return out


def _inside(phi0, bounds):
    if bounds is None:
        return phi0
    lo = np.array([b[0] for b in bounds], dtype=float)
    hi = np.array([b[1] for b in bounds], dtype=float)
    return np.clip(phi0, lo, hi)
