"""The result of a factor-score regression or of sam(): an immutable estimates table.

Input: the parts a method fitted and the numbers it computed. Output: :class:`FsrResult`, whose
``estimates()`` has the columns of a fit's (lhs, op, rhs, group, label, est, se, z, pvalue,
ci_lower, ci_upper, std_lv, std_all), so structural coefficients read the same way whichever
way they were estimated; ``summary()`` prints the structural part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from semlang.results.standardized import standardize_row
from semlang.syntax.ast import Op

COLUMNS = ["lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue", "ci_lower",
           "ci_upper", "std_lv", "std_all", "std_nox"]  # fmt: skip


@dataclass(frozen=True, eq=False)
class FsrResult:
    """Structural estimates after measurement: factor-score regression or ``sam()``.

    ``blocks``: the latent variables of each measurement block; ``measurement``: the fitted
    measurement model(s); ``fit_structural``: gives the structural model fitted to ``moments``
    (the covariance matrix of the structural variables it was fitted to — the corrected one for
    Croon and sam), the :attr:`structural` fit; ``nobs``: observations used.
    """

    method: str
    nobs: int
    table: pd.DataFrame
    blocks: tuple[tuple[str, ...], ...]
    measurement: tuple[Any, ...]
    fit_structural: Callable[[], Any]
    moment_matrix: np.ndarray
    variables: tuple[str, ...]

    @cached_property
    def structural(self) -> Any:
        """The structural model fitted to ``moments`` (a Fit; fitted on first use where the
        method had its estimates in closed form)."""
        return self.fit_structural()

    @cached_property
    def moments(self) -> pd.DataFrame:
        """The covariance matrix the structural model was fitted to, labelled."""
        names = list(self.variables)
        return pd.DataFrame(self.moment_matrix, index=names, columns=names)

    def estimates(self) -> pd.DataFrame:
        """The estimates table (a copy)."""
        return self.table.copy()

    def summary(self) -> str:
        """The structural rows as text."""
        frame = self.table[self.table["op"].isin(["~", "~~", "~1", ":="])]
        frame = frame[frame["lhs"].isin(self.moments.columns) | (frame["op"] == ":=")]
        blocks = " | ".join(", ".join(block) for block in self.blocks)
        lines = [
            f"semlang {self.method}, N = {self.nobs}",
            f"measurement blocks: {blocks}",
            "",
            f"{'':<24}{'est':>10}{'se':>10}{'z':>9}{'pvalue':>9}{'std_all':>9}",
        ]
        for row in frame.itertuples():
            name = f"{row.lhs} {row.op} {row.rhs}".strip()
            lines.append(
                f"{name:<24}{row.est:>10.3f}{_num(row.se, 10, 3)}{_num(row.z, 9, 3)}"
                f"{_num(row.pvalue, 9, 3)}{_num(row.std_all, 9, 3)}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<semlang FsrResult: {self.method}, N = {self.nobs}>"


def _num(value: float, width: int, digits: int) -> str:
    if value is None or not np.isfinite(value):
        return " " * width
    return f"{value:>{width}.{digits}f}"


def wald(est: np.ndarray, se: np.ndarray, level: float = 0.95) -> dict[str, np.ndarray]:
    """z, two-sided p-value and normal confidence limits (NaN where se is 0 or missing)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    half = np.where(se > 0, special.ndtri(0.5 + level / 2) * se, 0.0)
    return {"z": z, "pvalue": 2 * special.ndtr(-np.abs(z)), "ci_lower": est - half,
            "ci_upper": est + half}  # fmt: skip


def estimates_with_standard_errors(fit: Any, se: np.ndarray) -> pd.DataFrame:
    """A fit's estimates table with the standard errors ``se`` (one per row of its parameter
    table) and the Wald columns that follow."""
    from semlang.results.table import estimate_columns

    rows = fit.table.rows
    columns = estimate_columns(fit)
    est, se = columns["est"], np.asarray(se, dtype=float)
    return pd.DataFrame({
        "lhs": [r.lhs for r in rows], "op": [r.op.value for r in rows],
        "rhs": [r.rhs for r in rows], "group": [r.group for r in rows],
        "label": [r.label for r in rows], "est": est, "se": se, **wald(est, se),
        "std_lv": columns["std_lv"], "std_all": columns["std_all"],
        "std_nox": columns["std_nox"],
    })  # fmt: skip


def structural_standard_errors(fit: Any, vcov: np.ndarray) -> np.ndarray:
    """se of every row of a structural fit from vcov over its θ (:= rows by the delta method)."""
    se = np.zeros(len(fit.table.rows))
    for k, row in enumerate(fit.table.rows):
        if row.is_model_parameter and row.is_free:
            se[k] = np.sqrt(max(vcov[row.free - 1, row.free - 1], 0.0))
    definition_rows = [k for k, r in enumerate(fit.table.rows) if r.op is Op.DEFINED]
    if definition_rows:
        jacobian = fit.model.space.definitions.jacobian(fit.theta)
        variances = np.diag(jacobian @ vcov @ jacobian.T)
        se[definition_rows] = np.sqrt(np.clip(variances, 0.0, None))
    return se


def standardized(rows, est: np.ndarray, moments: Any) -> tuple[np.ndarray, ...]:
    """(std_lv, std_all, std_nox) of parameter rows from implied moments (lavaan's
    definitions; std_nox leaves the observed covariates of regressions in their units)."""
    names = moments.layout.variables
    latent = set(moments.layout.latent)
    total = dict(zip(names, np.diag(moments.total_cov), strict=True))
    residual = dict(zip(names, np.diag(moments.S), strict=True))
    outcomes = {r.lhs for r in rows if r.op is Op.REGRESSION}
    outcomes |= {r.rhs for r in rows if r.op is Op.MEASURED}
    covariates = {r.rhs for r in rows if r.op is Op.REGRESSION} - outcomes - latent
    out = tuple(np.full(len(rows), np.nan) for _ in range(3))
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, row in enumerate(rows):
            if row.is_model_parameter:
                out[0][k] = standardize_row(row, est[k], total, residual, latent, True)
                out[1][k] = standardize_row(row, est[k], total, residual, latent, False)
                out[2][k] = standardize_row(
                    row, est[k], total, residual, latent, False, frozenset(covariates)
                )
    return out
