"""Fit -> lavaan's LISREL matrices (lambda, theta, psi, beta, nu, alpha) of each block.

Input: a :class:`~semlang.results.fit.Fit` and a value for each parameter row (its estimate,
standard error, free-parameter number or start). Output: per block (group, level) a dict of
labelled DataFrames as ``lavInspect(fit, "est")``. An observed variable in a regression (or
covarying with one, or with a latent variable) is a phantom latent variable, as in lavaan: a
column of lambda (loading 1 for estimates and starts), its (co)variances in psi, its intercept
in alpha.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from semlang.syntax.ast import Op

__all__ = ["block_names", "model_matrices", "phantoms", "row_values"]


def block_names(fit, layout) -> tuple[list[str], list[str]]:
    """The observed and the latent variables of a block (its layout)."""
    observed = list(layout.observed)
    latent = [v for v in layout.variables if v not in observed]
    return observed, latent


def phantoms(rows, observed: list[str], latent: list[str]) -> list[str]:
    """The observed variables lavaan's LISREL form turns into phantom latent variables (in
    the observed order): those in regressions, those covarying with one of them (and the
    partners of those covariances' variables), and those covarying with a latent variable."""
    covariances = [r for r in rows if r.op is Op.COVARIANCE]
    names = {n for r in rows if r.op is Op.REGRESSION for n in (r.lhs, r.rhs)} - set(latent)
    linked = [r for r in covariances if r.lhs in names or r.rhs in names]
    lhs, rhs = {r.lhs for r in linked}, {r.rhs for r in linked}
    linked += [r for r in covariances if r.lhs in lhs or r.rhs in rhs]
    names |= {n for r in linked for n in (r.lhs, r.rhs)}
    names |= {r.lhs for r in covariances if r.lhs in observed and r.rhs in latent}
    names |= {r.rhs for r in covariances if r.lhs in latent and r.rhs in observed}
    return [v for v in observed if v in names]


def model_matrices(fit, values: dict, unit_phantoms: bool = True) -> list[dict[str, pd.DataFrame]]:
    """Per group lavaan's LISREL matrices (lambda, theta, psi, beta, nu, alpha) filled with
    ``values[row.id]`` (the estimate, SE, free index or start of each parameter row). Observed
    variables in regressions are phantom latent variables, as lavaan (their loading 1 where
    ``unit_phantoms``, their variances in psi, their intercepts in alpha)."""
    out = []
    for layout in fit.model.layouts:
        rows = [r for r in fit.table.rows if r.block == layout.block and r.op in _MATRIX_OPS]
        observed, latent = block_names(fit, layout)
        latent = latent + phantoms(rows, observed, latent)
        mats = {
            "lambda": pd.DataFrame(0.0, index=observed, columns=latent),
            "theta": pd.DataFrame(0.0, index=observed, columns=observed),
            "psi": pd.DataFrame(0.0, index=latent, columns=latent),
            "beta": pd.DataFrame(0.0, index=latent, columns=latent),
            "nu": pd.DataFrame(0.0, index=observed, columns=["intercept"]),
            "alpha": pd.DataFrame(0.0, index=latent, columns=["intercept"]),
        }
        for row in rows:
            _place(mats, row, values[row.id], latent)
        if unit_phantoms:
            for name in latent:
                if name in observed:
                    mats["lambda"].loc[name, name] = 1.0
        higher = any(r.op is Op.MEASURED and r.rhs in latent for r in rows)
        if not higher and not any(r.op is Op.REGRESSION for r in rows):
            del mats["beta"]
        if not fit.table.meanstructure:
            del mats["nu"], mats["alpha"]
        out.append(mats)
    return out


_MATRIX_OPS = (Op.MEASURED, Op.COVARIANCE, Op.REGRESSION, Op.INTERCEPT)


def _place(mats: dict, row, value: float, latent: list[str]) -> None:
    if row.op is Op.MEASURED:
        if row.rhs in latent:  # a latent (or phantom) indicator
            mats["beta"].loc[row.rhs, row.lhs] = value
        else:
            mats["lambda"].loc[row.rhs, row.lhs] = value
    elif row.op is Op.REGRESSION:
        mats["beta"].loc[row.lhs, row.rhs] = value
    elif row.op is Op.INTERCEPT:
        mats["alpha" if row.lhs in latent else "nu"].loc[row.lhs, "intercept"] = value
    else:
        name = "psi" if row.lhs in latent else "theta"
        mats[name].loc[row.lhs, row.rhs] = value
        mats[name].loc[row.rhs, row.lhs] = value


def row_values(fit, kind: str) -> dict:
    """Per parameter row id: its estimate ("est"), free-parameter number ("free"), standard error
    ("se") or start value ("start")."""
    if kind == "est":
        return {row.id: fit.row_estimate(row) for row in fit.table.rows}
    if kind == "free":
        numbers, k = {}, 0
        for row in fit.table.rows:
            if row.is_free:
                k += 1
            numbers[row.id] = float(k) if row.is_free else 0.0
        return numbers
    if kind == "se":
        se = np.sqrt(np.clip(np.diag(fit.vcov), 0.0, None))
        return {row.id: float(se[row.free - 1]) if row.is_free else 0.0 for row in fit.table.rows}
    start = fit.model.space.theta(fit.estimation.phi_start)
    return {
        row.id: float(start[row.free - 1]) if row.is_free else fit.row_estimate(row)
        for row in fit.table.rows
    }
