"""Estimates -> standardized estimates (``std_lv`` and ``std_all``), as lavaan's
``standardizedSolution()``.

Input: the parameter rows, their estimates and each block's implied moments. Output: two arrays
aligned with the rows. ``std_lv`` scales by the latent variables' standard deviations only;
``std_all`` by every variable's. Variances become proportions of the total variance, covariances
correlations of the (residual) variances they connect, intercepts are divided by the standard
deviation, and ``:=`` rows are their expressions evaluated at the standardized labels.
"""

from __future__ import annotations

import numpy as np

from semlang.syntax.ast import Op


def standardize(table, estimates: np.ndarray, implied_by_block: dict, residual_by_block: dict):
    """(std_lv, std_all) for every model-parameter row; NaN for the others."""
    std_lv = np.full(len(table.rows), np.nan)
    std_all = np.full(len(table.rows), np.nan)
    for k, row in enumerate(table.rows):
        if not row.is_model_parameter:
            continue
        variance = implied_by_block[row.block]
        residual = residual_by_block[row.block]
        latent = set(table.blocks[row.block - 1].latent)
        std_lv[k] = standardize_row(row, estimates[k], variance, residual, latent, True)
        std_all[k] = standardize_row(row, estimates[k], variance, residual, latent, False)
    return std_lv, std_all


def _sd(name: str, variance: dict, latent: set, only_latent: bool, exogenous=frozenset()) -> float:
    if (only_latent and name not in latent) or name in exogenous:
        return 1.0
    value = variance.get(name, np.nan)
    return float(np.sqrt(value)) if value > 0 else np.nan


def standardize_row(
    row, est, variance, residual, latent, only_latent, exogenous=frozenset()
) -> float:
    """One row's standardized value: ``variance`` and ``residual`` map each variable to its
    total and its residual variance; ``only_latent`` gives std_lv, else std_all (std_nox with
    the observed covariates ``exogenous`` left unscaled). As lavaan, a covariance is divided by
    the square roots of the absolute values of the variances it connects."""
    sd = lambda name: _sd(name, variance, latent, only_latent, exogenous)  # noqa: E731
    if row.op is Op.MEASURED:
        return est * sd(row.lhs) / sd(row.rhs)
    if row.op is Op.REGRESSION or row.op is Op.FORMATIVE:
        return est * sd(row.rhs) / sd(row.lhs)
    if row.op is Op.INTERCEPT:
        return est / sd(row.lhs)
    if row.lhs == row.rhs:
        return est / sd(row.lhs) ** 2
    if only_latent and not (row.lhs in latent and row.rhs in latent):
        if row.lhs in latent or row.rhs in latent:
            return est / (sd(row.lhs) * sd(row.rhs))
        return est
    scale_l = 1.0 if row.lhs in exogenous else np.sqrt(abs(residual.get(row.lhs, np.nan)))
    scale_r = 1.0 if row.rhs in exogenous else np.sqrt(abs(residual.get(row.rhs, np.nan)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return est / (scale_l * scale_r)
