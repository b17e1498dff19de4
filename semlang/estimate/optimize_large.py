"""Objective of thousands of parameters -> minimum: scoring, then quasi-Newton steps on one factor.

Input: an :class:`~semlang.estimate.objective.Objective` and φ₀ of a model without bounds or
inequalities. Output: :class:`~semlang.estimate.optimize.OptimizationResult`.

Every iteration of :func:`~semlang.estimate.optimize.newton_scoring` forms and factors an
n × n Hessian, O(n³): a 300-variable CFA has n = 2370 parameters, and each such iteration costs
ten to twenty times one evaluation of F and its gradient. Here the first iterations are the same
Fisher-scoring steps (twice the expected information, while each lowers F by at least a tenth);
then the last expected Hessian is kept and preconditions limited-memory BFGS steps (the
two-loop recursion with H₀⁻¹ that Hessian's solve), each one evaluation and one solve. The
path is taken where the model has a large block of free variances and covariances (correlated
factors): the expected Hessian is then solved through that block's Kronecker form and a Schur
complement of the other parameters (:mod:`~semlang.estimate.kronecker_hessian`), never formed
whole (formed and factored only should the complement not be positive definite). Without such a
block the formed Hessian's quasi-Newton steps were slower than Newton's (a 300-variable CFA with
its factor variances fixed), and Newton's method is used.
Near the optimum the expected Hessian differs from the observed one by the
model's misfit, so these steps converge linearly, fast where the model fits: they continue until
a step would move no estimate by more than :data:`STEP_TOLERANCE` (relative), tighter than the
Newton path's test on the decrease of F, so that both paths give the same estimates to about
1e-10 (or until the gradient's rounding is all that is left: progress stalls below
:data:`STALL_TOLERANCE`). Should the steps stall before (a failed line search, or progress
slower than :data:`SLOW_RATE` twice in a row: a poor fit), Newton's method continues from the
best point.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from semlang.estimate import optimize as newton
from semlang.estimate.kronecker_hessian import kronecker_hessian, kronecker_structure
from semlang.estimate.objective import Objective

LARGE_MODEL = 1000  # parameters from which this path is taken (without bounds or inequalities)
MEMORY = 8  # (s, y) pairs of the quasi-Newton update
STEP_TOLERANCE = 1e-10  # converged once no estimate would move by more (× max(1, |φ|))
FLOOR = 1e-22  # ... or the decrement is below this × max(1, F): F's rounding is all that is left
SLOW_RATE = 0.25  # a decrement above this share of the previous one is slow progress
STALL_TOLERANCE = 1e-15  # slow progress below this decrement (× max(1, F)): the rounding floor


def takes_large_path(objective: Objective, n_phi: int, constraints: newton.Constraints) -> bool:
    """Whether :func:`quasi_newton_scoring` fits this problem: many parameters, no bounds or
    inequalities, and a Kronecker block (formed and factored, the expected Hessian of a model
    without one — a CFA whose factor variances are fixed — guides the quasi-Newton steps too
    poorly to beat Newton's method)."""
    if n_phi < LARGE_MODEL or not constraints.empty:
        return False
    return kronecker_structure(objective) is not None


class _Dense:
    """Twice the expected information, formed and factored (:func:`optimize._fisher_hessian`)."""

    def __init__(self, hessian):
        self.hessian = hessian

    def solve(self, vector: np.ndarray) -> np.ndarray:
        return newton._cho_solve(self.hessian.factor, vector)


def expected_hessian(objective: Objective, phi: np.ndarray):
    """Twice the expected information at φ, with ``solve``: through its Kronecker block where
    the model has one (:mod:`~semlang.estimate.kronecker_hessian`), else formed and factored."""
    structured = kronecker_hessian(objective, phi)
    return structured if structured is not None else _Dense(newton._fisher_hessian(objective, phi))


class _Memory:
    """The last (s, y) pairs of steps and gradient changes, for the two-loop recursion."""

    def __init__(self, size: int):
        self.size = size
        self.pairs: list[tuple[np.ndarray, np.ndarray, float]] = []

    def clear(self) -> None:
        self.pairs.clear()

    def add(self, s: np.ndarray, y: np.ndarray) -> None:
        """Keep the pair if it has positive curvature (else it would spoil the update)."""
        sy = float(s @ y)
        if sy > 1e-12 * float(np.sqrt((s @ s) * (y @ y))):
            self.pairs.append((s, y, 1.0 / sy))
            if len(self.pairs) > self.size:
                self.pairs.pop(0)

    def direction(self, solve, gradient: np.ndarray) -> np.ndarray:
        """−H⁻¹g with H the BFGS update of H₀ (``solve``: H₀⁻¹) by the kept pairs."""
        q = gradient.copy()
        alphas = []
        for s, y, rho in reversed(self.pairs):
            alpha = rho * float(s @ q)
            q -= alpha * y
            alphas.append(alpha)
        r = solve(q)
        for (s, y, rho), alpha in zip(self.pairs, reversed(alphas), strict=True):
            r += s * (alpha - rho * float(y @ r))
        return -r


def quasi_newton_scoring(
    objective: Objective, phi0: np.ndarray, constraints: newton.Constraints, max_iterations: int
) -> newton.OptimizationResult:
    """Fisher scoring while it gains, then quasi-Newton steps preconditioned by the last expected
    Hessian; Newton's method (:func:`~semlang.estimate.optimize.newton_scoring`) from the best
    point should they stall."""
    phi = phi0.copy()
    value, gradient = objective.value_and_gradient(phi)
    if not np.isfinite(value) or float(np.max(np.abs(gradient))) < newton.START_GRADIENT:
        return newton.newton_scoring(objective, phi0, constraints, max_iterations)
    evaluations, iterations, damping, slow = 1, 0, 0.0, 0
    scoring, hessian, previous_decrement = True, None, np.inf
    memory = _Memory(MEMORY)
    gradient_limit = newton.DIVERGENCE * max(1.0, float(np.max(np.abs(gradient))))
    while iterations < max_iterations:
        if float(np.max(np.abs(gradient))) > gradient_limit:
            break  # (Newton's method says so, from here)
        if scoring or hessian is None:
            hessian = expected_hessian(objective, phi)
            memory.clear()
        step = memory.direction(hessian.solve, gradient)
        decrement = abs(float(gradient @ step))
        size = float(np.max(np.abs(step) / np.maximum(1.0, np.abs(phi))))
        floor = decrement < FLOOR * max(1.0, abs(value))
        if not scoring:
            slow = slow + 1 if decrement > SLOW_RATE * previous_decrement else 0
            if slow >= 2 and not decrement < STALL_TOLERANCE * max(1.0, abs(value)):
                break  # slow far from the optimum: Newton's method converges faster
            floor = floor or slow >= 2  # stalled where only rounding is left
        if size < STEP_TOLERANCE or floor:
            message = "the quasi-Newton step no longer changes the estimates"
            result = newton._converged(objective, constraints, phi, value, gradient, step,
                                       iterations, evaluations, message)  # fmt: skip
            return replace(result, method="quasi-newton-scoring")
        previous_decrement = decrement
        iterations += 1
        search = newton._Search(objective, phi, value, gradient, constraints, 0.0)
        if scoring and isinstance(hessian, _Dense):
            accepted = search.damped(hessian.hessian, step, damping) or search.halved(step)
        else:
            full = search._try(step, 1.0)
            accepted = (*full, 0.0) if full is not None else search.halved(step)
        evaluations += search.evaluations
        if accepted is None and decrement < STALL_TOLERANCE * max(1.0, abs(value)):
            message = "the quasi-Newton step no longer lowers the objective"
            return newton._finish(objective, constraints, phi, "quasi-newton-scoring",
                                  iterations, evaluations, True, message,
                                  evaluated=(value, gradient))  # fmt: skip
        if accepted is None:
            break
        previous = value
        new_phi, value, new_gradient, damping = accepted
        if not scoring:
            memory.add(new_phi - phi, new_gradient - gradient)
        phi, gradient = new_phi, new_gradient
        if scoring and (previous - value < newton.SCORING_GAIN * max(previous, 1e-12)
                        or iterations >= newton.FISHER_STEPS):  # fmt: skip
            scoring = False  # close to the optimum: keep this expected Hessian's factor
    if iterations >= max_iterations:
        return newton._finish(objective, constraints, phi, "quasi-newton-scoring", iterations,
                              evaluations, False, "maximum number of iterations reached",
                              hit_limit=True)  # fmt: skip
    rest = newton.newton_scoring(objective, phi, constraints, max_iterations - iterations)
    return replace(rest, iterations=rest.iterations + iterations,
                          evaluations=rest.evaluations + evaluations)  # fmt: skip
