"""Reliability coefficients of a sum or mean score.

Input: item scores (a DataFrame or an (n, k) array), variance components, or the estimates of a
fitted one-factor model. Output: a reliability coefficient (a float, or an array for several group
sizes).

- :func:`coefficient_alpha`: Cronbach's alpha ``k / (k - 1) (1 - sum s_i^2 / s_total^2)``.
- :func:`mean_reliability`: the reliability of a mean of n parallel measurements,
  ``sigma2_xi / (sigma2_xi + sigma2_nu / n)`` (generalizability theory; equals the population
  alpha of n parallel items).
- :func:`omega`: McDonald's omega of a one-factor model,
  ``(sum lambda)^2 psi / ((sum lambda)^2 psi + sum theta)``, where ``sum theta`` adds up all
  entries of the residual covariance matrix of the indicators (their variances, and twice any
  residual covariance).
- :func:`reliability`: one entry point choosing among them by the arguments given.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from semlang.errors import DataError, DataWarning, OptionError

__all__ = ["coefficient_alpha", "mean_reliability", "omega", "omega_from_estimates", "reliability"]


def _items(data: object) -> np.ndarray:
    """Numeric (n, k) item matrix with incomplete rows dropped (with a warning)."""
    try:
        values = np.asarray(data, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"items must be numeric: {exc}") from None
    if values.ndim != 2:
        raise DataError(f"items must form a 2-d table (rows x items), got shape {values.shape}")
    complete = np.isfinite(values).all(axis=1)
    if not complete.all():
        warnings.warn(
            f"{int((~complete).sum())} incomplete rows dropped", DataWarning, stacklevel=3
        )
        values = values[complete]
    if values.shape[1] < 2 or values.shape[0] < 2:
        raise DataError(
            f"alpha needs at least 2 items and 2 complete rows, got {values.shape[1]} items "
            f"and {values.shape[0]} rows"
        )
    return values


def coefficient_alpha(data: pd.DataFrame | np.ndarray) -> float:
    """Cronbach's alpha of the items (columns) of ``data``, on its complete rows."""
    values = _items(data)
    k = values.shape[1]
    item_var = values.var(axis=0, ddof=1).sum()
    total_var = values.sum(axis=1).var(ddof=1)
    if total_var <= 0:
        raise DataError("the total score is constant: alpha is undefined")
    return float(k / (k - 1) * (1.0 - item_var / total_var))


def mean_reliability(
    sigma2_xi: float, sigma2_nu: float, n: float | np.ndarray
) -> float | np.ndarray:
    """Reliability of the mean of ``n`` measurements x_i = xi + nu_i: s2_xi / (s2_xi + s2_nu / n).

    ``n`` may be an array (for example every group's size); the result then has its shape.
    """
    sizes = np.asarray(n, dtype=float)
    if np.any(sizes <= 0):
        raise OptionError("n must be positive")
    if sigma2_xi < 0 or sigma2_nu < 0 or sigma2_xi + sigma2_nu <= 0:
        raise OptionError("the variances must be non-negative and not both zero")
    value = sigma2_xi / (sigma2_xi + sigma2_nu / sizes)
    return float(value) if value.ndim == 0 else value


def omega_from_estimates(estimates: pd.DataFrame) -> float:
    """McDonald's omega from a one-factor model's estimates (columns ``lhs, op, rhs, est``)."""
    loadings = estimates[estimates["op"] == "=~"]
    factors = loadings["lhs"].unique()
    if len(factors) != 1:
        raise OptionError(f"omega needs a one-factor model, the model has {len(factors)} factors")
    factor, indicators = factors[0], set(loadings["rhs"])
    cov = estimates[estimates["op"] == "~~"]
    psi = cov[(cov["lhs"] == factor) & (cov["rhs"] == factor)]["est"]
    if psi.shape[0] != 1:
        raise OptionError(f"the variance of {factor!r} is missing from the estimates")
    resid = cov[cov["lhs"].isin(indicators) & cov["rhs"].isin(indicators)]
    twice = np.where(resid["lhs"] == resid["rhs"], 1.0, 2.0)
    true_var = float(loadings["est"].sum()) ** 2 * float(psi.iloc[0])
    return true_var / (true_var + float(twice @ resid["est"].to_numpy(dtype=float)))


def omega(fit: Any) -> float:
    """McDonald's omega of a fitted one-factor model: (sum lambda)^2 psi / (... + sum theta)."""
    if fit is None or not callable(getattr(fit, "estimates", None)):
        raise OptionError(
            "omega needs a fitted one-factor model",
            hint="fit the model first, e.g. fit = semlang.cfa('f =~ x1 + x2 + x3', data)",
        )
    return omega_from_estimates(fit.estimates())


def reliability(
    data: pd.DataFrame | np.ndarray | None = None,
    *,
    fit: object = None,
    sigma2_xi: float | None = None,
    sigma2_nu: float | None = None,
    n: float | np.ndarray | None = None,
) -> float | np.ndarray:
    """Reliability by one of three routes, chosen by the arguments.

    ``data`` (items as columns): coefficient alpha. ``fit`` (a fitted one-factor model, also
    when given first): omega.
    ``sigma2_xi``, ``sigma2_nu`` and ``n``: the reliability of a mean of n measurements.
    """
    from semlang.results.fit import Fit

    if isinstance(data, Fit) and fit is None:  # reliability(fit): omega
        data, fit = None, data
    components = (sigma2_xi, sigma2_nu, n)
    routes = [data is not None, fit is not None, any(v is not None for v in components)]
    if sum(routes) != 1:
        raise OptionError(
            "give exactly one of: data, fit, or sigma2_xi with sigma2_nu and n",
            hint="reliability(items) for alpha; reliability(fit=fit) for omega",
        )
    if data is not None:
        return coefficient_alpha(data)
    if fit is not None:
        return omega(fit)
    if sigma2_xi is None or sigma2_nu is None or n is None:
        raise OptionError("the mean reliability needs sigma2_xi, sigma2_nu and n together")
    return mean_reliability(sigma2_xi, sigma2_nu, n)
