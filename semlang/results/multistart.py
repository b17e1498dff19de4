"""Fit -> refits from random starting values (``starts=K``): is there a better optimum?

Input: a :class:`~semlang.results.fit.Fit` whose options ask for ``starts`` > 0 (and ``seed``
for reproducible draws). Output: :class:`RandomStarts` — the objective reached from each start,
whether one is better than the fit's, and the fit at the best point (:meth:`RandomStarts.best_fit`);
:func:`warn_if_better` warns (:class:`~semlang.errors.LocalOptimumWarning`) when one is.

Each start perturbs the fit's own starting values, θ₀, by the kind of parameter: a variance is
multiplied by e^u (u uniform on [−1, 1]); a loading or regression gets a normal deviate with
standard deviation max(|θ₀|, 0.5); a covariance is drawn uniformly within ±0.5 of the product of
the two (perturbed) standard deviations; intercepts, means and all other parameters keep θ₀. A
draw at which the objective is not finite is drawn again (at most :data:`DRAWS` times). The fit
itself is never changed: an optimum counts as better when it lowers the objective by more than
:data:`TOLERANCE` in χ² units (N · ΔF), among the refits that converged.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from semlang.errors import LocalOptimumWarning
from semlang.syntax.ast import Op

if TYPE_CHECKING:
    from semlang.estimate.estimator import Estimation
    from semlang.results.fit import Fit

DRAWS = 20
TOLERANCE = 1e-3


@dataclass(frozen=True)
class RandomStarts:
    """The refits of ``starts=K``: the objective F of each (NaN when it did not converge)."""

    fit: Fit
    values: tuple[float, ...]
    best: Estimation | None  # the Estimation of the best converged refit

    @property
    def n_starts(self) -> int:
        return len(self.values)

    @property
    def n_converged(self) -> int:
        return sum(not math.isnan(v) for v in self.values)

    @property
    def improvement(self) -> float:
        """N · (F̂ − F of the best refit), in χ² units (0 when no refit did better)."""
        if self.best is None:
            return 0.0
        return max(0.0, self.fit.nobs * (self.fit.objective_value - self.best.optimization.value))

    @property
    def better(self) -> bool:
        """Whether a refit reached a better optimum than the fit's."""
        return self.improvement > TOLERANCE

    def best_fit(self):
        """The fit at the best optimum found (the fit itself when none was better)."""
        if not self.better:
            return self.fit
        from semlang.results.fit import Fit

        fit, best = self.fit, self.best
        assert best is not None  # (better)
        options = replace(fit.options, starts=0)
        return Fit(fit.model, fit.sample, options, best, fit.run)


def _kinds(table) -> dict[int, tuple]:
    """θ index -> (kind, row) for the free parameters."""
    out: dict[int, tuple] = {}
    for row in table.parameters:
        if not row.is_free or row.free - 1 in out:
            continue
        if row.op is Op.COVARIANCE:
            kind = "variance" if row.lhs == row.rhs else "covariance"
        elif row.op in (Op.MEASURED, Op.REGRESSION):
            kind = "path"
        else:
            kind = "fixed"
        out[row.free - 1] = (kind, row)
    return out


def _draw(theta0: np.ndarray, kinds: dict, rng: np.random.Generator) -> np.ndarray:
    theta = theta0.copy()
    sd: dict[tuple[str, int], float] = {}
    for k, (kind, row) in kinds.items():
        if kind == "variance":
            theta[k] = theta0[k] * math.exp(rng.uniform(-1.0, 1.0))
            sd[(row.lhs, row.block)] = math.sqrt(abs(theta[k]))
        elif kind == "path":
            theta[k] = theta0[k] + rng.normal() * max(abs(theta0[k]), 0.5)
    for k, (kind, row) in kinds.items():
        if kind == "covariance":
            a, b = sd.get((row.lhs, row.block)), sd.get((row.rhs, row.block))
            scale = a * b if a is not None and b is not None else abs(theta0[k])
            theta[k] = rng.uniform(-0.5, 0.5) * scale
    return theta


def random_starts(fit) -> RandomStarts:
    """Refit ``fit`` from ``fit.options.starts`` random starting values (seed: ``fit.options``)."""
    from semlang.estimate.estimator import estimate

    model, estimation = fit.model, fit.estimation
    objective, space = estimation.objective, model.space
    rng = np.random.default_rng(fit.options.seed)
    theta0 = space.theta(estimation.phi_start)
    kinds = _kinds(fit.table)
    values: list[float] = []
    best = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(fit.options.starts):
            phi0 = _finite_start(objective, space, theta0, kinds, rng)
            if phi0 is None:
                values.append(math.nan)
                continue
            result = estimate(model, fit.sample, fit.options, objective=objective, phi0=phi0)
            value = result.optimization.value
            converged = result.optimization.converged and math.isfinite(value)
            values.append(value if converged else math.nan)
            if converged and (best is None or value < best.optimization.value):
                best = result
    return RandomStarts(fit, tuple(values), best)


def _finite_start(objective, space, theta0, kinds, rng) -> np.ndarray | None:
    for _ in range(DRAWS):
        phi = space.phi_from_theta(_draw(theta0, kinds, rng))
        try:
            if math.isfinite(objective.value(phi)):
                return phi
        except (ArithmeticError, ValueError, np.linalg.LinAlgError):
            continue
    return None


def warn_if_better(fit) -> None:
    starts = fit.random_starts
    if starts is None or not starts.better:
        return
    warnings.warn(
        f"a refit from random starting values reached a better optimum than the fit's "
        f"(χ² lower by {starts.improvement:.3f}; {starts.n_converged} of {starts.n_starts} "
        "refits converged): the estimates are at a local optimum; fit.random_starts.best_fit() "
        "is the fit at the better one",
        LocalOptimumWarning,
        stacklevel=5,
    )


def summary_rows(fit) -> list[tuple[str, str]]:
    """The summary's lines about the random starts (none without ``starts``)."""
    starts = fit.random_starts
    if starts is None:
        return []
    found = f"yes (chisq {-starts.improvement:.3f})" if starts.better else "no"
    return [
        ("Number of random starts (converged)", f"{starts.n_starts} ({starts.n_converged})"),
        ("Better optimum from random starts", found),
    ]
