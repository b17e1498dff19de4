"""Compiled model + sample data -> estimates: builds the family's objective, starts, optimizes.

Input: a :class:`~semlang.compile.CompiledModel`, :class:`~semlang.estimate.data.SampleData` and
the fit options. Output: an :class:`Estimation` (the family, φ̂, θ̂, the objective at the optimum
and the optimizer's report), from which :class:`~semlang.results.fit.Fit` derives everything else.
Which discrepancy is minimized is the family's business (:mod:`semlang.estimate.families`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from semlang.compile.model import CompiledModel
from semlang.estimate.data import SampleData
from semlang.estimate.families import EstimationFamily, choose_family
from semlang.estimate.objective import Objective
from semlang.estimate.optimize import OptimizationResult, minimize
from semlang.estimate.start import start_values
from semlang.options import FitOptions
from semlang.records import dataclass

if TYPE_CHECKING:
    from semlang.estimate.twolevel_objective import TwoLevelSample


@dataclass(frozen=True)
class Estimation:
    family: EstimationFamily
    objective: Objective
    optimization: OptimizationResult
    phi: np.ndarray
    theta: np.ndarray
    phi_start: np.ndarray


def build_objective(model: CompiledModel, sample, options: FitOptions) -> Objective:
    """The objective of ``model`` on ``sample`` under the options' estimator."""
    return choose_family(model.table, options).objective(model, sample, options)


def estimate(
    model: CompiledModel,
    sample: SampleData | TwoLevelSample,
    options: FitOptions,
    objective: Objective | None = None,
    phi0: np.ndarray | None = None,
) -> Estimation:
    """Fit ``model`` to ``sample`` under the options' estimator (from ``phi0``: warm start)."""
    family = choose_family(model.table, options)
    objective = objective or family.objective(model, sample, options)
    space = model.space
    if phi0 is None:
        means = [d.h1_mean for d in objective.discrepancies]
        covs = [d.h1_cov for d in objective.discrepancies]
        if hasattr(objective, "h1_blocks"):  # moments of statistics that are not (μ, Σ)
            means, covs = objective.h1_blocks()
        theta0 = start_values(model, means, covs)
        if model.table.efa_sets:  # lavaan's start of efa blocks: an EFA extraction
            from semlang.esem.start import efa_start

            theta0 = efa_start(model, covs, theta0, "ML" if family.likelihood_based else "ULS")
        if hasattr(objective, "start_theta"):  # starting values of parameters not in RAM
            theta0 = objective.start_theta(theta0)
        phi0 = space.phi_from_theta(theta0)
    result = minimize(
        objective,
        phi0,
        bounds=list(space.bounds) if space.has_bounds else None,
        inequalities=space.inequalities if len(space.inequalities) else None,
        max_iterations=options.max_iterations,
    )
    return Estimation(family, objective, result, result.phi, space.theta(result.phi), phi0)
