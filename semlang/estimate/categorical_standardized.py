"""lavaan's ``standardizedSolution()`` standard errors of a categorical fit.

Input: a :class:`~semlang.estimate.categorical_fit.CategoricalFit` and the standardization type.
Output: the Jacobian of every row's standardized value with respect to θ (rows x θ), for the
delta method of :mod:`semlang.results.standardized_frame`.

In a categorical model some values are not parameters but derived from them: in the delta
parameterization the residual variances of the ordered y* (1/Δ² less the explained variance),
in the theta parameterization the scale factors Δ = Σ_jj^(−1/2). They move with θ, and so do
the standardized values built from them (every std.all value, the std.lv residual variances and
scales). As lavaan (which differentiates its standardized values numerically, the derived
values recomputed at each θ) the Jacobian here is by central differences of the standardized
values of the fit at θ ± h, each with its own derived values.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from semlang.results.standardized_solution import standardized_values
from semlang.syntax.ast import Op


def standardized_jacobian(fit, kind: str) -> np.ndarray:
    """d(standardized value)/dθ of every parameter-table row (rows x θ)."""
    theta = np.asarray(fit.theta, dtype=float)
    columns = []
    for k in range(len(theta)):
        step = 1e-6 * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k] += step
        down[k] -= step
        columns.append((_values(fit, up, kind) - _values(fit, down, kind)) / (2.0 * step))
    return np.column_stack(columns) if columns else np.zeros((len(fit.table.rows), 0))


def _values(fit, theta: np.ndarray, kind: str) -> np.ndarray:
    """The standardized values of the fit moved to θ (its derived values recomputed)."""
    moved = dataclasses.replace(fit, estimation=dataclasses.replace(fit.estimation, theta=theta))
    est = np.array([moved.row_estimate(row) if row.is_model_parameter else np.nan
                    for row in fit.table.rows])  # fmt: skip
    definitions = [k for k, row in enumerate(fit.table.rows) if row.op is Op.DEFINED]
    if definitions:
        est[definitions] = fit.model.space.definitions.value(theta)
    return standardized_values(moved, est, kind)[0]
