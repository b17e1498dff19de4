"""Fit -> lavaan's ``standardizedSolution()`` as a table.

Input: a :class:`~semlang.results.fit.Fit`, the type ("std.all", "std.lv", "std.nox") and the
confidence level. Output: a DataFrame with lhs, op, rhs, group (level for two-level models),
label, est_std, se, z, pvalue, ci_lower, ci_upper. Standard errors by the delta method: the
analytic Jacobian of the standardized values (:mod:`semlang.results.standardized_solution`) times
the fit's covariance matrix of θ̂ (whatever standard-error type the fit used; a rotated model:
the Jacobian in its unrotated parameters and their covariance, :mod:`semlang.esem.standardized`).
As lavaan: a negative variance of the delta method gives no se, an se below ε^¼ is 0 (no z, no
p-value, the interval collapsed on the value); constraint rows are dropped unless asked for.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from semlang.errors import OptionError
from semlang.options import StandardErrors
from semlang.results import inference
from semlang.results.standardized_solution import TYPES, standardized_values
from semlang.results.table import check_level
from semlang.syntax.ast import Op

ZERO_SE = np.finfo(float).eps ** 0.25  # lavaan's threshold below which an se is 0


def standardized_solution(
    fit, kind: str, level: float, remove_eq: bool, remove_ineq: bool, remove_def: bool
) -> pd.DataFrame:
    if kind not in TYPES:
        raise OptionError(
            f"unknown standardization type {kind!r}", hint="use 'std.all', 'std.lv' or 'std.nox'"
        )
    check_level(level)
    est = fit._columns["est"]
    with_se = fit.options.se is not StandardErrors.NONE
    derived = getattr(fit, "standardized_jacobian", None)  # values derived from θ (categorical)
    # (J, V) in other parameters than θ (a rotated model: the unrotated ones)
    delta = getattr(fit, "standardized_delta", None)
    analytic = with_se and derived is None and delta is None
    values, jac = standardized_values(fit, est, kind, gradient=analytic)
    columns = {"est_std": values}
    if with_se:
        if delta is not None:
            jac, vcov = delta(kind)
        else:
            jac, vcov = jac if derived is None else derived(kind), fit.vcov
        columns |= _inference(values, jac, vcov, level)
    table = fit.table
    rows = table.rows
    data = {
        "lhs": [r.lhs for r in rows],
        "op": [r.op.value for r in rows],
        "rhs": [r.rhs for r in rows],
        "group": [r.group for r in rows],
    }
    if table.nlevels > 1:
        data["level"] = [r.level for r in rows]
    data["label"] = [r.label for r in rows]
    frame = pd.DataFrame({**data, **columns})
    drop = set()
    if remove_eq:
        drop.add(Op.EQUAL)
    if remove_ineq:
        drop |= {Op.LESS, Op.GREATER}
    if remove_def:
        drop.add(Op.DEFINED)
    keep = [r.op not in drop for r in rows]
    return frame[keep].reset_index(drop=True)


def _inference(values: np.ndarray, jac: np.ndarray, vcov: np.ndarray, level: float) -> dict:
    finite = np.where(np.isfinite(jac), jac, 0.0)
    variance = np.einsum("ij,jk,ik->i", finite, vcov, finite)
    variance = np.where(np.isfinite(jac).all(axis=1), variance, np.nan)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.where(variance >= 0, variance, np.nan))
    se = np.where(se < ZERO_SE, 0.0, se)
    return {"se": se, **inference.wald_columns(values, se, level)}
