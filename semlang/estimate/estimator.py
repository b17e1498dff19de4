"""Compiled model + sample data -> estimates: builds the objective, starts, optimizes.

Input: a :class:`~semlang.compile.CompiledModel`, :class:`~semlang.estimate.data.SampleData` and
the options. Output: an :class:`Estimation` (φ̂, θ̂, the objective at the optimum and the
optimizer's report), from which :class:`~semlang.results.fit.Fit` derives everything else.
Complete data use the sample moments (ML); incomplete data under ``missing='fiml'`` the casewise
likelihood over missing-data patterns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semlang.compile.model import CompiledModel
from semlang.compile.ram import ExoValues
from semlang.estimate.data import SampleData
from semlang.estimate.fiml_objective import FimlDiscrepancy
from semlang.estimate.ml import CompleteDataML
from semlang.estimate.objective import Objective
from semlang.estimate.optimize import OptimizationResult, minimize
from semlang.estimate.start import start_values
from semlang.options import Options


@dataclass(frozen=True)
class Estimation:
    objective: Objective
    optimization: OptimizationResult
    phi: np.ndarray
    theta: np.ndarray
    phi_start: np.ndarray


def build_objective(model: CompiledModel, sample: SampleData, options: Options) -> Objective:
    """The objective of ``model`` on ``sample``."""
    table = model.table
    if table.nlevels > 1:
        from semlang.estimate.twolevel_objective import build_twolevel_objective

        return build_twolevel_objective(model, sample, options)
    ntotal = sample.nobs
    discrepancies, exo = [], []
    for layout, group in zip(model.layouts, sample.groups, strict=True):
        weight = group.nobs / ntotal
        if group.has_missing:
            discrepancy = FimlDiscrepancy.from_group(group, weight, ntotal)
            mean, cov = discrepancy.h1_mean, discrepancy.h1_cov
        else:
            discrepancy = CompleteDataML(
                group.mean, group.cov, group.nobs, weight, table.meanstructure
            )
            mean, cov = group.mean, group.cov
        discrepancies.append(discrepancy)
        exo.append(_exo_values(layout, mean, cov))
    return Objective(model, tuple(discrepancies), tuple(exo), table.meanstructure)


def _exo_values(layout, mean: np.ndarray, cov: np.ndarray) -> ExoValues:
    S = np.array([cov[i, j] for i, j in layout.exo_S], dtype=float)
    m = np.array([mean[i] for i in layout.exo_m], dtype=float)
    return ExoValues(S, m)


def estimate(
    model: CompiledModel,
    sample: SampleData,
    options: Options,
    objective: Objective | None = None,
    phi0: np.ndarray | None = None,
) -> Estimation:
    """Fit ``model`` to ``sample`` by maximum likelihood (from ``phi0`` when given: warm start)."""
    objective = objective or build_objective(model, sample, options)
    space = model.space
    if phi0 is None:
        means = [d.h1_mean if hasattr(d, "h1_mean") else d.mean for d in objective.discrepancies]
        covs = [d.h1_cov if hasattr(d, "h1_cov") else d.cov for d in objective.discrepancies]
        phi0 = space.phi_from_theta(start_values(model, means, covs))
    result = minimize(
        objective,
        phi0,
        bounds=list(space.bounds) if space.has_bounds else None,
        inequalities=space.inequalities if len(space.inequalities) else None,
        max_iterations=options.max_iterations,
    )
    return Estimation(objective, result, result.phi, space.theta(result.phi), phi0)
