"""Objective -> minimum: Newton's method with a Fisher-scoring safeguard, scipy as fallback.

Input: an :class:`~semlang.estimate.objective.Objective`, φ₀, bounds and inequality constraints.
Output: :class:`OptimizationResult` (φ̂, F(φ̂), iterations, evaluations, convergence, message).

Each iteration solves the quadratic model ``min gᵀd + ½dᵀHd`` and halves the step until F
decreases enough (Armijo). The first iterations use twice the expected information (Fisher
scoring: always positive definite, the safe choice far from the optimum); after them H is the
analytic Hessian of F (twice the observed information) when it is positive definite — Newton's
method, quadratic convergence near the optimum — and the expected one otherwise. After a full
Newton step the previous Hessian still serves to test convergence (its step would no longer
change F), which saves computing the Hessian once more at the optimum. Where a Hessian costs many
evaluations of F (FIML: a pass over all missing-data patterns), that Hessian also takes the next
steps while their predicted decrease shrinks a thousandfold per step (a chord step: each cuts the
error by a constant factor instead of squaring it, so the converged point gets one step of it
more). Bounds
(``lower()``/``upper()``, ``label > number``) and general inequalities ``c(φ) >= 0`` enter
the quadratic model linearized, which makes each iteration a small convex QP
(sequential quadratic programming), solved exactly by Lawson and Hanson's least-distance
programming through non-negative least squares. Typical models converge in 5-10 iterations.
Should this stall (a singular information matrix, a failing line search), the fallbacks continue
from the best point: scipy's trust-region Newton (``trust-exact``, expected information) without
constraints, L-BFGS-B with bounds, SLSQP with inequalities — both quasi-Newton methods on
variables scaled by the information's diagonal and restarted while they make progress.

Convergence is decided by the first-order conditions, not by an optimizer's flag: the largest
projected gradient (the gradient minus its part balanced by active bounds and inequalities, with
non-negative multipliers) must be small, and the constraints must hold.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from semlang import cholesky as lapack  # (numpy's LAPACK: no scipy on the fit's path)
from semlang import cholesky as linalg
from semlang.estimate.objective import Objective
from semlang.lazy import LazyModule
from semlang.records import dataclass

optimize = LazyModule("scipy.optimize")  # the fallbacks and constrained steps only

if TYPE_CHECKING:
    from semlang.compile.symbolic import CompiledExpressions

DECREMENT_TOLERANCE = 1e-13  # converged when the scoring step would lower F by less (× max(1, F))
PROJECTED_GRADIENT_TOLERANCE = 1e-4  # ... and the largest projected gradient is below this
FEASIBILITY_TOLERANCE = 1e-8
MAX_HALVINGS = 40
MAX_DAMPINGS = 12  # damping 1e-3 ... 1e8 before plain step halving
FISHER_STEPS = 3  # first iterations use the expected Hessian (Fisher scoring), then Newton
SCORING_GAIN = 0.1  # scoring steps stop once one lowers F by less than this share
CHORD_SHRINK = 1e-3  # a costly Hessian is reused while its step's decrement shrinks this fast
START_GRADIENT = 1e-12  # a start this flat is the optimum already (closed-form starts)
RESTARTS = 50  # of a fallback method that stops early
DIVERGENCE = 1e8  # a gradient this many times the start's: the search runs into a singularity
DIVERGING = "the gradient grows without bound: the estimates run toward a singular model"


@dataclass(frozen=True)
class OptimizationResult:
    phi: np.ndarray
    value: float
    iterations: int
    evaluations: int
    converged: bool
    method: str
    message: str
    gradient_norm: float  # largest projected gradient at φ̂


@dataclass(frozen=True)
class Constraints:
    """Bounds and inequalities c(φ) >= 0 as linearizable rows: ``A(φ) d >= b(φ)``."""

    lower: np.ndarray
    upper: np.ndarray
    inequalities: CompiledExpressions | None  # value() and jacobian(), or None

    @classmethod
    def build(cls, n: int, bounds, inequalities) -> Constraints:
        lower = np.full(n, -np.inf)
        upper = np.full(n, np.inf)
        if bounds is not None:
            lower = np.array([b[0] for b in bounds], dtype=float)
            upper = np.array([b[1] for b in bounds], dtype=float)
        if inequalities is not None and len(inequalities) == 0:
            inequalities = None
        return cls(lower, upper, inequalities)

    @cached_property
    def has_bounds(self) -> bool:
        return bool(np.isfinite(self.lower).any() or np.isfinite(self.upper).any())

    @cached_property
    def empty(self) -> bool:
        return not self.has_bounds and self.inequalities is None

    def clip(self, phi: np.ndarray) -> np.ndarray:
        if not self.has_bounds:
            return np.array(phi, dtype=float)  # what clipping to ±inf gives
        return np.clip(phi, self.lower, self.upper)

    def values(self, phi: np.ndarray) -> np.ndarray:
        """All constraint values (>= 0 when satisfied): bounds, then inequalities."""
        parts = [(phi - self.lower)[np.isfinite(self.lower)]]
        parts.append((self.upper - phi)[np.isfinite(self.upper)])
        if self.inequalities is not None:
            parts.append(np.asarray(self.inequalities.value(phi), dtype=float))
        return np.concatenate(parts)

    def jacobian(self, phi: np.ndarray) -> np.ndarray:
        n = len(phi)
        eye = np.eye(n)
        parts = [eye[np.isfinite(self.lower)], -eye[np.isfinite(self.upper)]]
        if self.inequalities is not None:
            jac = np.asarray(self.inequalities.jacobian(phi), dtype=float)
            parts.append(jac.reshape(len(self.inequalities), n))
        return np.vstack(parts)

    def violation(self, phi: np.ndarray) -> float:
        if self.empty:
            return 0.0
        values = self.values(phi)
        return float(np.sum(np.maximum(-values, 0.0))) if values.size else 0.0


def minimize(
    objective: Objective,
    phi0: np.ndarray,
    bounds=None,
    inequalities=None,
    max_iterations: int = 10000,
) -> OptimizationResult:
    """Minimize F(φ) from φ₀ subject to bounds and inequalities."""
    constraints = Constraints.build(len(phi0), bounds, inequalities)
    phi0 = constraints.clip(np.asarray(phi0, dtype=float))
    from semlang.estimate.optimize_large import quasi_newton_scoring, takes_large_path

    if takes_large_path(objective, len(phi0), constraints):  # thousands of parameters
        result = quasi_newton_scoring(objective, phi0, constraints, max_iterations)
    else:
        result = newton_scoring(objective, phi0, constraints, max_iterations)
    if result.converged or result.iterations >= max_iterations or result.message == DIVERGING:
        return result  # (a diverging search would diverge in the fallbacks too, only slower)
    start = result.phi if np.isfinite(result.value) else phi0
    remaining = max_iterations - result.iterations
    if constraints.inequalities is not None:
        fallback = _slsqp(objective, start, constraints, remaining)
    elif constraints.has_bounds:
        fallback = _lbfgsb(objective, start, constraints, remaining)
    else:
        fallback = _trust_region(objective, start, constraints, remaining)
    fallback = replace(
        fallback,
        iterations=fallback.iterations + result.iterations,
        evaluations=fallback.evaluations + result.evaluations,
    )
    if fallback.converged or fallback.value < result.value:
        return fallback
    return result


# ---- Newton / Fisher scoring (SQP) ---------------------------------------------------------------


def newton_scoring(
    objective: Objective, phi0: np.ndarray, constraints: Constraints, max_iterations: int
) -> OptimizationResult:
    """Fisher scoring for the first steps, then Newton steps (scoring where the Hessian is not
    positive definite), damped à la Levenberg-Marquardt while full steps fail; each step a QP
    under the linearized constraints."""
    phi = phi0.copy()
    value, gradient = objective.value_and_gradient(phi)
    evaluations, iterations, penalty, damping = 1, 0, 0.0, 0.0
    message = "maximum number of iterations reached"
    if not np.isfinite(value):
        return _finish(objective, constraints, phi, "newton-scoring", 0, 1, False,
                       "the starting values give no finite objective")  # fmt: skip
    if constraints.empty and float(np.max(np.abs(gradient), initial=0.0)) < START_GRADIENT:
        message = "the starting values are the optimum"
        return _finish(objective, constraints, phi, "newton-scoring", 0, 1, True, message,
                       evaluated=(value, gradient))  # fmt: skip
    scoring = True
    previous_newton = None  # the Hessian of the last full Newton step, while it still fits
    reuse = bool(getattr(objective, "costly_hessian", False))
    decrement, reused = np.inf, False
    gradient_limit = DIVERGENCE * max(1.0, float(np.max(np.abs(gradient), initial=0.0)))
    while iterations < max_iterations:
        if float(np.max(np.abs(gradient), initial=0.0)) > gradient_limit:
            message = DIVERGING  # e.g. a variance shrinking toward 0 as the likelihood grows
            break
        tolerance = DECREMENT_TOLERANCE * max(1.0, abs(value))
        chord = None
        if previous_newton is not None and constraints.empty:
            # after a full Newton step the Hessian barely changes: if its step would no longer
            # change F, the point is the optimum, without computing the Hessian again
            step = _scoring_step(previous_newton, 0.0, phi, gradient, constraints)[0]
            if abs(float(gradient @ step)) < tolerance:
                message = "the Newton step no longer changes the objective"
                again = previous_newton if reused else None  # (its step only shrinks the error)
                return _converged(objective, constraints, phi, value, gradient, step,
                                  iterations, evaluations, message, again)  # fmt: skip
            if reuse and abs(float(gradient @ step)) < CHORD_SHRINK * decrement:
                chord = previous_newton  # the steps shrink fast: its step will do as well
        reused = chord is not None
        if chord is not None:
            hessian = chord
        elif scoring and iterations < FISHER_STEPS:  # far from the optimum scoring is safer
            hessian = _fisher_hessian(objective, phi)
        else:
            hessian = _newton_hessian(objective, phi)
        step, multipliers = _scoring_step(hessian, 0.0, phi, gradient, constraints)
        if step is None:
            message = "the linearized constraints cannot be met"
            break
        decrement = abs(float(gradient @ step))  # F's predicted change along the step
        if decrement < tolerance and constraints.violation(phi) < 1e-10:
            message = "the scoring step no longer changes the objective"
            return _converged(objective, constraints, phi, value, gradient, step,
                              iterations, evaluations, message)  # fmt: skip
        if multipliers.size:
            penalty = max(penalty, 2.0 * float(np.max(multipliers)) + 1.0)
        iterations += 1
        search = _Search(objective, phi, value, gradient, constraints, penalty)
        accepted = search.damped(hessian, step, damping)  # (φ, F, gradient, next damping)
        full_step = accepted is not None and damping == 0.0 and accepted[3] == 0.0  # undamped
        accepted = accepted or search.halved(step)
        evaluations += search.evaluations
        if accepted is None:
            message = "the line search could not lower the objective"
            break
        previous = value
        phi, value, gradient, damping = accepted
        previous_newton = hessian if full_step and hessian.observed else None
        if scoring and previous - value < SCORING_GAIN * max(previous, 1e-12):
            scoring = False  # close to the optimum: Newton converges faster
    return _finish(objective, constraints, phi, "newton-scoring", iterations, evaluations,
                   False, message, hit_limit=iterations >= max_iterations)  # fmt: skip


def _converged(
    objective, constraints, phi, value, gradient, step, iterations, evaluations, message,
    again: _Hessian | None = None,
) -> OptimizationResult:  # fmt: skip
    """The result at the optimum φ, after the last (tiny) step if it does not raise F; with
    ``again`` (a Hessian made some steps back, whose steps shrink the error by a constant
    factor rather than squaring it) one more step of it from there, on the same terms."""
    kept = phi
    phi, value, gradient = _polish(objective, phi, value, gradient, step, constraints)
    evaluations += 1
    if again is not None and phi is not kept:
        step = _scoring_step(again, 0.0, phi, gradient, constraints)[0]
        phi, value, gradient = _polish(objective, phi, value, gradient, step, constraints)
        evaluations += 1
    return _finish(objective, constraints, phi, "newton-scoring", iterations, evaluations,
                   True, message, evaluated=(value, gradient))  # fmt: skip


def _polish(objective, phi, value, gradient, step, constraints):
    """Take the last (tiny) Newton step too unless it raises F: near the optimum it squares
    the error, for the price of one evaluation. Returns (φ, F, gradient) of the point kept."""
    trial = constraints.clip(phi + step)
    trial_value, trial_gradient = objective.value_and_gradient(trial)
    if np.isfinite(trial_value) and trial_value <= value and constraints.violation(trial) < 1e-10:
        return trial, trial_value, trial_gradient
    return phi, value, gradient


@dataclass(frozen=True)
class _Hessian:
    matrix: np.ndarray
    factor: tuple  # Cholesky factor of matrix (lower)
    observed: bool = False  # the analytic Hessian of F (else the expected one)

    def damped(self, damping: float) -> tuple:
        """Cholesky factor of H + damping·diag(H) (Marquardt's scale-free damping)."""
        if damping == 0.0:
            return self.factor
        diagonal = np.abs(np.diag(self.matrix))
        return _positive_definite(self.matrix + damping * np.diag(diagonal))


def _newton_hessian(objective, phi) -> _Hessian:
    """The observed Hessian of F if positive definite, else the expected one (made PD)."""
    try:
        observed = objective.observed_information(phi)
        observed *= 2.0  # (in place: thousands of parameters make it tens of megabytes)
        if np.all(np.isfinite(observed)):
            return _Hessian(observed, _cho_factor(observed), observed=True)
    except (np.linalg.LinAlgError, ArithmeticError, NotImplementedError):
        pass
    return _fisher_hessian(objective, phi)


def _fisher_hessian(objective, phi) -> _Hessian:
    """The expected Hessian of F (twice the expected information), made positive definite."""
    expected = _information(objective, phi)
    expected *= 2.0
    factor, matrix = _shifted_positive_definite(expected)
    return _Hessian(matrix, factor)


def _scoring_step(hessian: _Hessian, damping: float, phi, gradient, constraints):
    """(step d, multipliers of the active linearized constraints); (None, None) if infeasible."""
    factor = hessian.damped(damping)
    if constraints.empty:
        return -_cho_solve(factor, gradient), np.zeros(0)
    A = constraints.jacobian(phi)
    b = -constraints.values(phi)
    step = quadratic_program(factor, gradient, A, b)
    if step is None:
        return None, None
    active = A @ step <= b + 1e-9 * (1.0 + np.abs(b))
    multipliers = np.zeros(0)
    if active.any():
        residual = _hessian_times(factor, step) + gradient
        multipliers = optimize.nnls(A[active].T, residual)[0]
    return step, multipliers


def _information(objective, phi) -> np.ndarray:
    try:
        info = objective.information(phi)
    except (np.linalg.LinAlgError, ArithmeticError):
        return np.eye(len(phi))
    if not np.all(np.isfinite(info)):
        return np.eye(len(phi))
    return info


def _positive_definite(hessian: np.ndarray):
    """Cholesky factor of H, or of H + τI with the smallest τ (×10 steps) that makes it PD."""
    return _shifted_positive_definite(hessian)[0]


def _shifted_positive_definite(hessian: np.ndarray) -> tuple[tuple, np.ndarray]:
    """(Cholesky factor, the matrix factored): H, or H + τI with the smallest τ (×10 steps)
    that makes it positive definite (a multiple of I if none does)."""
    scale = max(float(np.max(np.abs(np.diag(hessian)))), 1e-12) if hessian.size else 1.0
    tau = 0.0
    for _ in range(30):
        try:
            shifted = hessian if tau == 0.0 else hessian + tau * np.eye(len(hessian))
            return _cho_factor(shifted), shifted
        except linalg.LinAlgError:
            tau = max(10.0 * tau, 1e-10 * scale)
    fallback = np.eye(len(hessian)) * scale
    return linalg.cho_factor(fallback, lower=True), fallback


def _cho_factor(matrix: np.ndarray) -> tuple:
    """scipy's ``cho_factor(matrix, lower=True)`` (LAPACK potrf) without its per-call checks
    where they cannot fail: a finite, non-empty matrix of floats."""
    if matrix.size == 0 or matrix.dtype != np.float64 or not np.isfinite(matrix).all():
        return linalg.cho_factor(matrix, lower=True)
    factor, info = lapack.dpotrf(matrix, lower=1, clean=0)
    if info > 0:
        raise linalg.LinAlgError(f"{info}-th leading minor of the array is not positive definite")
    if info < 0:
        return linalg.cho_factor(matrix, lower=True)  # scipy's error
    return factor, True


def _cho_solve(factor: tuple, vector: np.ndarray) -> np.ndarray:
    """scipy's ``cho_solve(factor, vector)`` (LAPACK potrs) without its per-call checks where
    they cannot fail: a finite, non-empty vector of floats."""
    c, lower = factor
    if vector.size == 0 or vector.dtype != np.float64 or not np.isfinite(vector).all():
        return linalg.cho_solve(factor, vector)
    out, info = lapack.dpotrs(c, vector, lower=lower)
    if info != 0:
        return linalg.cho_solve(factor, vector)  # scipy's error
    return out


def _hessian_times(factor, vector: np.ndarray) -> np.ndarray:
    L = np.tril(factor[0])
    return L @ (L.T @ vector)


def quadratic_program(factor, g: np.ndarray, A: np.ndarray, b: np.ndarray):
    """argmin ½dᵀHd + gᵀd subject to A d >= b, with H = L Lᵀ given by its Cholesky factor.

    Lawson and Hanson's reduction: with d = d₀ + L⁻ᵀe (d₀ = −H⁻¹g) the problem is the least
    distance program min ‖e‖² s.t. (A L⁻ᵀ) e >= b − A d₀, solved by non-negative least squares.
    None when the constraints cannot all hold.
    """
    L = np.tril(factor[0])
    d0 = -_cho_solve(factor, g)
    if A.size == 0 or np.all(A @ d0 >= b - 1e-12 * (1.0 + np.abs(b))):
        return d0
    G = linalg.solve_triangular(L, A.T, lower=True).T  # A L⁻ᵀ
    h = b - A @ d0
    n = len(g)
    E = np.vstack([G.T, h[None, :]])
    f = np.zeros(n + 1)
    f[-1] = 1.0
    u = optimize.nnls(E, f, maxiter=50 * (n + len(b) + 1))[0]
    r = E @ u - f
    if abs(r[-1]) < 1e-12:
        return None
    e = -r[:n] / r[-1]
    return d0 + linalg.solve_triangular(L.T, e, lower=False)


class _Search:
    """Finding an acceptable next point: the merit F + penalty·violation must drop (Armijo)."""

    def __init__(self, objective, phi, value, gradient, constraints, penalty):
        self.objective, self.phi, self.gradient = objective, phi, gradient
        self.constraints, self.penalty = constraints, penalty
        self.violation = constraints.violation(phi)
        self.merit = value + penalty * self.violation
        self.evaluations = 0

    def _try(self, step: np.ndarray, alpha: float):
        trial = self.constraints.clip(self.phi + alpha * step)
        value, gradient = self.objective.value_and_gradient(trial)
        self.evaluations += 1
        if not np.isfinite(value):
            return None
        merit = value + self.penalty * self.constraints.violation(trial)
        slope = min(float(self.gradient @ step) - self.penalty * self.violation, 0.0)
        if merit <= self.merit + 1e-4 * alpha * slope or (merit < self.merit and alpha < 1.0):
            return trial, value, gradient
        return None

    def damped(self, hessian: _Hessian, step: np.ndarray, damping: float):
        """Full steps, raising the damping (×10) until one is accepted; lowered after success."""
        for _ in range(MAX_DAMPINGS):
            if damping > 0.0:
                step = _scoring_step(hessian, damping, self.phi, self.gradient, self.constraints)[0]
                if step is None:
                    return None
            accepted = self._try(step, 1.0)
            if accepted is not None:
                return (*accepted, damping / 10.0 if damping > 1e-6 else 0.0)
            damping = max(10.0 * damping, 1e-3)
        return None

    def halved(self, step: np.ndarray):
        """The undamped step, halved until accepted."""
        alpha = 0.5
        for _ in range(MAX_HALVINGS):
            accepted = self._try(step, alpha)
            if accepted is not None:
                return (*accepted, 0.0)
            alpha /= 2.0
        return None


# ---- convergence --------------------------------------------------------------------------------


def projected_gradient(
    gradient: np.ndarray, phi: np.ndarray, constraints: Constraints, tolerance: float = 1e-6
) -> np.ndarray:
    """The gradient minus its part balanced by active constraints (non-negative multipliers)."""
    if constraints.empty or not len(gradient):
        return gradient
    values = constraints.values(phi)
    active = values <= tolerance * (1.0 + np.abs(values))
    if not active.any():
        return gradient
    A = constraints.jacobian(phi)[active]
    multipliers = optimize.nnls(A.T, gradient)[0]
    return gradient - A.T @ multipliers


def _finish(
    objective, constraints, x, method, nit, nfev, success, message, hit_limit=False, evaluated=None
) -> OptimizationResult:
    """The result at x; never converged when the iteration limit stopped the search (a tiny
    gradient there can be a drift along a flat direction, as toward a Heywood case).
    ``evaluated``: (F, gradient) at x when the caller has them already."""
    x = np.asarray(x, dtype=float)
    value, gradient = evaluated if evaluated is not None else objective.value_and_gradient(x)
    projected = projected_gradient(gradient, x, constraints)
    norm = float(np.max(np.abs(projected))) if len(projected) else 0.0
    feasible = constraints.violation(x) <= FEASIBILITY_TOLERANCE
    converged = bool(
        np.isfinite(value) and feasible and norm < PROJECTED_GRADIENT_TOLERANCE
        and (success or norm < 1e-6) and not hit_limit
    )  # fmt: skip
    return OptimizationResult(x, float(value), int(nit), int(nfev), converged, method,
                              str(message), norm)  # fmt: skip


# ---- fallbacks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scaled:
    """φ = φ₀ + u / D with D = √diag(expected Hessian at φ₀): in u every direction has about unit
    curvature, which quasi-Newton methods (whose first Hessian guess is I) need."""

    objective: Objective
    origin: np.ndarray
    scale: np.ndarray

    @classmethod
    def at(cls, objective: Objective, phi0: np.ndarray) -> _Scaled:
        diagonal = np.abs(np.diag(2.0 * _information(objective, phi0)))
        scale = np.sqrt(np.where(np.isfinite(diagonal) & (diagonal > 1e-12), diagonal, 1.0))
        return cls(objective, phi0, scale)

    def phi(self, u: np.ndarray) -> np.ndarray:
        return self.origin + u / self.scale

    def u(self, phi: np.ndarray) -> np.ndarray:
        return (phi - self.origin) * self.scale

    def __call__(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = self.objective.value_and_gradient(self.phi(u))
        if not np.isfinite(value):
            return 1e20, np.zeros_like(u)
        return value, gradient / self.scale

    def bounds(self, constraints: Constraints):
        lower = self.u(constraints.lower)
        upper = self.u(constraints.upper)
        return [
            (lo if math.isfinite(lo) else None, hi if math.isfinite(hi) else None)
            for lo, hi in zip(lower, upper, strict=True)
        ]


def _trust_region(objective: Objective, phi0, constraints, max_iterations) -> OptimizationResult:
    def hess(phi):
        return 2.0 * _information(objective, phi)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = optimize.minimize(
            objective.value_and_gradient, phi0, jac=True, hess=hess, method="trust-exact",
            options={"gtol": 1e-9, "maxiter": max(max_iterations, 1)},
        )  # fmt: skip
    return _finish(objective, constraints, result.x, "trust-exact", result.nit, result.nfev,
                   result.success, result.message)  # fmt: skip


def _restarted(method, objective: Objective, phi0, constraints, max_iterations):
    """Run a scipy method, restarting it (fresh scaling and memory) from where it stopped while
    it keeps lowering F: a quasi-Newton line search that runs into a region where Σ is not
    positive definite gives up early."""
    phi, best, iterations, evaluations = constraints.clip(phi0), None, 0, 0
    for _ in range(RESTARTS):
        result = method(objective, phi, constraints, max(max_iterations - iterations, 1))
        iterations += result.iterations
        evaluations += result.evaluations
        improved = best is None or result.value < best.value - 1e-14 * (1.0 + abs(best.value))
        if improved:
            best = result
        if result.converged or not improved or iterations >= max_iterations:
            break
        phi = result.phi
    assert best is not None  # the first result is always the best so far
    return replace(best, iterations=iterations, evaluations=evaluations)


def _lbfgsb(objective: Objective, phi0, constraints, max_iterations) -> OptimizationResult:
    return _restarted(_lbfgsb_once, objective, phi0, constraints, max_iterations)


def _slsqp(objective: Objective, phi0, constraints, max_iterations) -> OptimizationResult:
    return _restarted(_slsqp_once, objective, phi0, constraints, max_iterations)


def _lbfgsb_once(objective: Objective, phi0, constraints, max_iterations) -> OptimizationResult:
    scaled = _Scaled.at(objective, phi0)
    result = optimize.minimize(
        scaled, np.zeros(len(phi0)), jac=True, method="L-BFGS-B",
        bounds=scaled.bounds(constraints),
        options={"maxiter": max_iterations, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 30},
    )  # fmt: skip
    return _finish(objective, constraints, constraints.clip(scaled.phi(result.x)), "L-BFGS-B",
                   result.nit, result.nfev, result.success, result.message)  # fmt: skip


def _slsqp_once(objective: Objective, phi0, constraints, max_iterations) -> OptimizationResult:
    scaled = _Scaled.at(objective, phi0)
    inequalities = constraints.inequalities
    constraint = {
        "type": "ineq",
        "fun": lambda u: inequalities.value(scaled.phi(u)),
        "jac": lambda u: inequalities.jacobian(scaled.phi(u)) / scaled.scale,
    }
    result = optimize.minimize(
        scaled, np.zeros(len(phi0)), jac=True, method="SLSQP",
        bounds=scaled.bounds(constraints), constraints=[constraint],
        options={"maxiter": max_iterations, "ftol": 1e-15},
    )  # fmt: skip
    return _finish(objective, constraints, constraints.clip(scaled.phi(result.x)), "SLSQP",
                   result.nit, result.nfev, result.success, result.message)  # fmt: skip
