"""Fit -> the estimates table (lavaan's ``parameterEstimates()`` with standardized columns).

Input: a :class:`~semlang.results.fit.Fit`. Output: one row per parameter-table row — fixed
parameters (se 0), free ones, ``:=`` rows (delta-method standard errors) and constraint rows
(the value of left − right) — with est, se, z, pvalue, ci_lower, ci_upper, std_lv, std_all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from semlang.results import inference
from semlang.results.standardized import standardize
from semlang.syntax.ast import Op


def estimate_columns(fit) -> dict[str, np.ndarray]:
    table = fit.table
    rows = table.rows
    n = len(rows)
    est = np.zeros(n)
    se = np.zeros(n)
    vcov = fit.vcov
    for k, row in enumerate(rows):
        if row.is_model_parameter:
            est[k] = fit.row_estimate(row)
            if row.is_free:
                variance = vcov[row.free - 1, row.free - 1]
                se[k] = np.sqrt(variance) if variance >= 0 else np.nan
    space = fit.model.space
    definition_rows = [k for k, row in enumerate(rows) if row.op is Op.DEFINED]
    if definition_rows:
        values = space.definitions.value(fit.theta)
        jac = space.definitions.jacobian(fit.theta)
        variances = np.diag(inference.delta_method(jac, vcov))
        est[definition_rows] = values
        se[definition_rows] = np.sqrt(np.where(variances >= 0, variances, np.nan))
    constraint_rows = [k for k, row in enumerate(rows) if row.op in (Op.EQUAL, Op.LESS, Op.GREATER)]
    if constraint_rows:
        est[constraint_rows] = space.constraint_values.value(fit.theta)
        se[constraint_rows] = np.nan
    std_lv, std_all = _standardized(fit, est)
    columns = {"est": est, "se": se, **inference.wald_columns(est, se)}
    for k in constraint_rows:
        for name in ("z", "pvalue", "ci_lower", "ci_upper"):
            columns[name][k] = np.nan
    columns["std_lv"] = std_lv
    columns["std_all"] = std_all
    return columns


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
    definition_rows = [k for k, row in enumerate(table.rows) if row.op is Op.DEFINED]
    if definition_rows:
        space = fit.model.space
        for std in (std_lv, std_all):
            labels = _label_values(table, std, space.label_names)
            std[definition_rows] = space.definitions_of_labels.value(labels)
    return std_lv, std_all


def _label_values(table, values: np.ndarray, names) -> np.ndarray:
    first: dict[str, float] = {}
    for k, row in enumerate(table.rows):
        if not row.is_model_parameter:
            continue
        if row.label:
            first.setdefault(row.label, values[k])
        first.setdefault(row.plabel, values[k])
    return np.array([first[name] for name in names], dtype=float)


def estimates_frame(fit) -> pd.DataFrame:
    table = fit.table
    columns = fit._columns
    frame = pd.DataFrame(
        {
            "lhs": [r.lhs for r in table.rows],
            "op": [r.op.value for r in table.rows],
            "rhs": [r.rhs for r in table.rows],
            "group": [r.group for r in table.rows],
            "label": [r.label for r in table.rows],
        }
    )
    if table.nlevels > 1:
        frame.insert(4, "level", [r.level for r in table.rows])
    for name, values in columns.items():
        frame[name] = values
    return frame
