"""Fit -> the estimates table (lavaan's ``parameterEstimates()`` with standardized columns).

Input: a :class:`~semlang.results.fit.Fit`. Output: one row per parameter-table row — fixed
parameters (se 0), free ones, ``:=`` rows (delta-method standard errors) and constraint rows
(lavaan's value: left − right, right − left for ``<``; se 0) — with est, se, z, pvalue,
ci_lower, ci_upper, std_lv, std_all, std_nox. Standardized ``:=`` and constraint rows are their
expressions evaluated at the standardized free parameters, as lavaan's ``standardizedSolution()``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from semlang.errors import OptionError
from semlang.options import StandardErrors
from semlang.records import dataclass
from semlang.results import inference
from semlang.results.standardized_solution import scales, standardized_values
from semlang.syntax.ast import Op

TINY_SE = float(np.sqrt(np.finfo(float).eps))


def estimate_columns(fit) -> dict[str, np.ndarray]:
    table = fit.table
    rows = table.rows
    plan = _row_plan(table)
    n = len(rows)
    est = np.zeros(n)
    se = np.zeros(n)
    vcov = fit.vcov
    pinned = _pinned(fit)
    for k in plan.fixed:
        est[k] = fit.row_estimate(rows[k])
    est[plan.free] = fit.theta[plan.free_index]
    variance = np.diagonal(vcov)[plan.free_index]
    usable = (variance >= 0) & ~pinned[plan.free_index]
    with np.errstate(invalid="ignore"):
        se[plan.free] = np.where(usable, np.sqrt(variance), np.nan)
    space = fit.model.space
    definition_rows = plan.definitions
    if definition_rows:
        with np.errstate(all="ignore"):  # a NaN or Inf value: warned about at the fit
            values = space.definitions.value(fit.theta)
            jac = space.definitions.jacobian(fit.theta)
            variances = np.diag(inference.delta_method(jac, vcov))
        est[definition_rows] = values
        # a defined parameter held by an active inequality has no SE (lavaan: NA), like a pinned θ
        active = inference.active_constraint_rows(space, fit.estimation.phi).size > 0
        held = active & (np.abs(variances) < TINY_SE**2)
        usable = (variances >= 0) & ~held & np.isfinite(values)  # no SE for a NaN or Inf value
        se[definition_rows] = np.sqrt(np.where(usable, variances, np.nan))
    constraint_rows = plan.constraints
    if constraint_rows:
        est[constraint_rows] = space.constraint_values.value(fit.theta)
    se = np.where(se < TINY_SE, 0.0, se)  # as lavaan: a numerically zero se is 0, with no z
    std_lv, std_all, std_nox = _standardized(fit, est)
    columns = {"est": est, "se": se, **inference.wald_columns(est, se)}
    if fit.options.se is StandardErrors.BOOTSTRAP:  # percentile CIs, := from draws
        from semlang.results.bootstrap import bootstrap_columns

        columns = bootstrap_columns(fit, columns)
    # lavaan: no p-value for a parameter at its lower()/upper()
    at_bound = np.minimum(np.abs(est[plan.free] - plan.lower), np.abs(est[plan.free] - plan.upper))
    columns["pvalue"][plan.free[at_bound < TINY_SE]] = np.nan
    for k in constraint_rows:  # lavaan: se 0, no test, the interval collapsed on the value
        columns["z"][k] = columns["pvalue"][k] = np.nan
        columns["ci_lower"][k] = columns["ci_upper"][k] = est[k]
    columns["std_lv"] = std_lv
    columns["std_all"] = std_all
    columns["std_nox"] = std_nox
    return columns


@dataclass(frozen=True)
class _RowPlan:
    """Where a table's rows go in the estimates columns (made once a table)."""

    free: np.ndarray  # positions of the free rows
    free_index: np.ndarray  # their θ index
    lower: np.ndarray  # their bounds
    upper: np.ndarray
    fixed: tuple[int, ...]  # model-parameter rows that are not free
    definitions: list[int]  # := rows
    constraints: list[int]  # ==, <, > rows
    text: dict  # the columns that describe the rows (lhs, op, rhs, group, level, label) as arrays


_ROW_PLANS: dict = {}  # id of the table -> (table, plan); a few tables at most


def _row_plan(table) -> _RowPlan:
    hit = _ROW_PLANS.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1]
    rows = table.rows
    free = [k for k, row in enumerate(rows) if row.is_model_parameter and row.is_free]
    plan = _RowPlan(
        free=np.array(free, dtype=np.intp),
        free_index=np.array([rows[k].free - 1 for k in free], dtype=np.intp),
        lower=np.array([rows[k].lower for k in free], dtype=float),
        upper=np.array([rows[k].upper for k in free], dtype=float),
        fixed=tuple(k for k, row in enumerate(rows) if row.is_model_parameter and not row.is_free),
        definitions=[k for k, row in enumerate(rows) if row.op is Op.DEFINED],
        constraints=[k for k, row in enumerate(rows) if row.op in (Op.EQUAL, Op.LESS, Op.GREATER)],
        text=_text_columns(table),
    )
    if len(_ROW_PLANS) >= 48:
        _ROW_PLANS.clear()
    _ROW_PLANS[id(table)] = (table, plan)
    return plan


def _pinned(fit) -> np.ndarray:
    """θ held in place by active bounds/inequalities: no standard error (as lavaan)."""
    if fit.options.se in (StandardErrors.BOOTSTRAP, StandardErrors.NONE):
        return np.zeros(fit.model.n_theta, dtype=bool)
    space, phi = fit.model.space, fit.estimation.phi
    active = inference.active_constraint_rows(space, phi)
    return inference.pinned_parameters(space, phi, active)


def _standardized(fit, est: np.ndarray):
    """std_lv, std_all and std_nox of every row (lavaan's definitions, improper solutions
    included: :mod:`semlang.results.standardized_solution`)."""
    kinds = ("std.lv", "std.all", "std.nox")
    sc = scales(fit, est, gradient=False)  # the same for the three
    return tuple(standardized_values(fit, est, kind, sc=sc)[0] for kind in kinds)


def with_level(fit, columns: dict, level: float) -> dict:
    """The columns with Wald intervals at ``level`` instead of 0.95 (lavaan's ``level=``)."""
    if level == 0.95:
        return columns
    check_level(level)
    if fit.options.se is StandardErrors.BOOTSTRAP:
        raise OptionError(
            "confidence levels other than 0.95 are not available with bootstrap standard errors",
            hint="use level=0.95, or percentile intervals from the bootstrap draws",
        )
    wald = inference.wald_columns(columns["est"], columns["se"], level)
    return {**columns, "ci_lower": wald["ci_lower"], "ci_upper": wald["ci_upper"]}


def check_level(level: float) -> None:
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise OptionError(f"level must be between 0 and 1, not {level!r}", hint="e.g. level=0.90")


def _text_columns(table) -> dict:
    """lhs, op, rhs, group, (level,) label of every row, each as the array pandas makes of it."""
    rows = table.rows
    values = {
        "lhs": [r.lhs for r in rows],
        "op": [r.op.value for r in rows],
        "rhs": [r.rhs for r in rows],
        "group": [r.group for r in rows],
    }
    if table.nlevels > 1:
        values["level"] = [r.level for r in rows]
    values["label"] = [r.label for r in rows]
    return {name: pd.Series(column).array for name, column in values.items()}


def estimates_frame(fit, level: float = 0.95) -> pd.DataFrame:
    # the text columns are made once a table; each frame gets its own copies of every column
    text = _row_plan(fit.table).text
    numbers = with_level(fit, fit._columns, level)
    names = [*text, *numbers]
    arrays = [column.copy() for column in (*text.values(), *numbers.values())]
    build = getattr(pd.DataFrame, "_from_arrays", None)  # pandas's own constructor from columns
    if build is None:  # (a pandas without it: the public, slower way)
        return pd.DataFrame(dict(zip(names, arrays, strict=True)), copy=False)
    return build(arrays, columns=pd.Index(names), index=pd.RangeIndex(len(arrays[0])),
                 verify_integrity=False)  # fmt: skip
