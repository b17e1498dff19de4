"""Fit -> the estimates table (lavaan's ``parameterEstimates()`` with standardized columns).

Input: a :class:`~semlang.results.fit.Fit`. Output: one row per parameter-table row — fixed
parameters (se 0), free ones, ``:=`` rows (delta-method standard errors) and constraint rows
(lavaan's value: left − right, right − left for ``<``; se 0) — with est, se, z, pvalue,
ci_lower, ci_upper, std_lv, std_all. Standardized ``:=`` and constraint rows are their
expressions evaluated at the standardized free parameters, as lavaan's ``standardizedSolution()``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from semlang.options import StandardErrors
from semlang.results import inference
from semlang.results.standardized import standardize
from semlang.syntax.ast import Op

TINY_SE = float(np.sqrt(np.finfo(float).eps))


def estimate_columns(fit) -> dict[str, np.ndarray]:
    table = fit.table
    rows = table.rows
    n = len(rows)
    est = np.zeros(n)
    se = np.zeros(n)
    vcov = fit.vcov
    pinned = _pinned(fit)
    for k, row in enumerate(rows):
        if row.is_model_parameter:
            est[k] = fit.row_estimate(row)
            if row.is_free:
                variance = vcov[row.free - 1, row.free - 1]
                usable = variance >= 0 and not pinned[row.free - 1]
                se[k] = np.sqrt(variance) if usable else np.nan
    space = fit.model.space
    definition_rows = [k for k, row in enumerate(rows) if row.op is Op.DEFINED]
    if definition_rows:
        values = space.definitions.value(fit.theta)
        jac = space.definitions.jacobian(fit.theta)
        variances = np.diag(inference.delta_method(jac, vcov))
        est[definition_rows] = values
        # a defined parameter held by an active inequality has no SE (lavaan: NA), like a pinned θ
        active = inference.active_constraint_rows(space, fit.estimation.phi).size > 0
        held = active & (np.abs(variances) < TINY_SE**2)
        se[definition_rows] = np.sqrt(np.where((variances >= 0) & ~held, variances, np.nan))
    constraint_rows = [k for k, row in enumerate(rows) if row.op in (Op.EQUAL, Op.LESS, Op.GREATER)]
    if constraint_rows:
        est[constraint_rows] = space.constraint_values.value(fit.theta)
    se = np.where(se < TINY_SE, 0.0, se)  # as lavaan: a numerically zero se is 0, with no z
    std_lv, std_all = _standardized(fit, est)
    columns = {"est": est, "se": se, **inference.wald_columns(est, se)}
    if fit.options.se is StandardErrors.BOOTSTRAP:  # percentile CIs, := from draws
        from semlang.results.bootstrap import bootstrap_columns

        columns = bootstrap_columns(fit, columns)
    for k, row in enumerate(rows):  # lavaan: no p-value for a parameter at its lower()/upper()
        if row.is_free and min(abs(est[k] - row.lower), abs(est[k] - row.upper)) < TINY_SE:
            columns["pvalue"][k] = np.nan
    for k in constraint_rows:  # lavaan: se 0, no test, the interval collapsed on the value
        columns["z"][k] = columns["pvalue"][k] = np.nan
        columns["ci_lower"][k] = columns["ci_upper"][k] = est[k]
    columns["std_lv"] = std_lv
    columns["std_all"] = std_all
    return columns


def _pinned(fit) -> np.ndarray:
    """θ held in place by active bounds/inequalities: no standard error (as lavaan)."""
    if fit.options.se in (StandardErrors.BOOTSTRAP, StandardErrors.NONE):
        return np.zeros(fit.model.n_theta, dtype=bool)
    space, phi = fit.model.space, fit.estimation.phi
    active = inference.active_constraint_rows(space, phi)
    return inference.pinned_parameters(space, phi, active)


def _standardized(fit, est: np.ndarray):
    table = fit.table
    implied_by_block, residual_by_block = {}, {}
    for layout, moments in zip(fit.model.layouts, fit.implied, strict=True):
        total = np.diag(moments.total_cov)
        implied_by_block[layout.block] = dict(zip(layout.variables, total, strict=True))
        residual_by_block[layout.block] = dict(
            zip(layout.variables, np.diag(moments.S), strict=True)
        )
    std_lv, std_all = standardize(table, est, implied_by_block, residual_by_block)
    space = fit.model.space
    definition_rows = [k for k, row in enumerate(table.rows) if row.op is Op.DEFINED]
    constraint_rows = [
        k for k, row in enumerate(table.rows) if row.op in (Op.EQUAL, Op.LESS, Op.GREATER)
    ]
    for std in (std_lv, std_all):
        theta = _standardized_theta(table, std, fit.model.n_theta)
        if definition_rows:
            std[definition_rows] = space.definitions.value(theta)
        if constraint_rows:
            std[constraint_rows] = space.constraint_values.value(theta)
    return std_lv, std_all


def _standardized_theta(table, std: np.ndarray, n_theta: int) -> np.ndarray:
    """θ with each entry replaced by the standardized value of its first row (lavaan evaluates
    ``:=`` and constraint rows there; labelled fixed parameters keep their raw value)."""
    theta = np.full(n_theta, np.nan)
    for k, row in enumerate(table.rows):
        if row.is_model_parameter and row.is_free and np.isnan(theta[row.free - 1]):
            theta[row.free - 1] = std[k]
    return theta


def estimates_frame(fit) -> pd.DataFrame:
    rows = fit.table.rows
    data: dict[str, list | np.ndarray] = {
        "lhs": [r.lhs for r in rows],
        "op": [r.op.value for r in rows],
        "rhs": [r.rhs for r in rows],
        "group": [r.group for r in rows],
    }
    if fit.table.nlevels > 1:
        data["level"] = [r.level for r in rows]
    data["label"] = [r.label for r in rows]
    data.update(fit._columns)
    return pd.DataFrame(data)
