"""Ordinary least squares with classical or heteroscedasticity-consistent standard errors.

Input: an outcome vector ``y`` and a predictor matrix ``X`` (arrays or pandas objects). Output: a
frozen :class:`OLSResult` whose ``table`` is a DataFrame in lavaan's vocabulary
(``term, est, se, z, pvalue, ci_lower, ci_upper``).

The group-level regression of the micro-macro methods (an outcome on group means, adjusted means or
factor scores and on group-level covariates) is an OLS fit; White's heteroscedasticity-consistent
covariance (HC0) and its small-sample variant HC3 are the corrections studied for it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from semlang.errors import DataError, DataWarning, OptionError

__all__ = ["CovType", "OLSResult", "ols"]


class CovType(Enum):
    """How the sampling covariance of the coefficients is estimated."""

    NONROBUST = "nonrobust"
    HC0 = "HC0"
    HC3 = "HC3"


@dataclass(frozen=True, eq=False)
class OLSResult:
    """An OLS fit: coefficients, their covariance matrix and the residuals."""

    names: tuple[str, ...]
    params: np.ndarray
    vcov: np.ndarray
    resid: np.ndarray
    fitted: np.ndarray
    df_resid: int
    cov_type: CovType
    use_t: bool

    @property
    def nobs(self) -> int:
        return int(self.resid.shape[0])

    @cached_property
    def sigma2(self) -> float:
        """Residual variance with divisor ``n - k``."""
        return float(self.resid @ self.resid / self.df_resid)

    @cached_property
    def r_squared(self) -> float:
        """Share of the variance of y around its mean that the fit explains."""
        y = self.fitted + self.resid
        total = float(np.sum((y - y.mean()) ** 2))
        return 1.0 - float(self.resid @ self.resid) / total if total > 0 else float("nan")

    @cached_property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))

    def _reference(self) -> stats.rv_continuous:
        return stats.t(self.df_resid) if self.use_t else stats.norm()

    @cached_property
    def table(self) -> pd.DataFrame:
        """One row per term: ``term, est, se, z`` (est/se), ``pvalue``, 95% ``ci_lower/upper``."""
        ref = self._reference()
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.params / self.se
        half = ref.ppf(0.975) * self.se
        return pd.DataFrame(
            {
                "term": list(self.names),
                "est": self.params,
                "se": self.se,
                "z": ratio,
                "pvalue": 2.0 * ref.sf(np.abs(ratio)),
                "ci_lower": self.params - half,
                "ci_upper": self.params + half,
            }
        )

    def coef(self) -> dict[str, float]:
        """The coefficients by term name."""
        return dict(zip(self.names, map(float, self.params), strict=True))


def _design(
    y: object, X: object, names: Sequence[str] | None, intercept: bool
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Numeric y (n,), X (n, k) with the intercept column first, and the term names."""
    if names is None:
        if isinstance(X, pd.DataFrame):
            names = [str(c) for c in X.columns]
        elif isinstance(X, pd.Series) and X.name is not None:
            names = [str(X.name)]
    try:
        yv = np.asarray(y, dtype=float)
        xv = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"y and X must be numeric: {exc}") from None
    if xv.ndim == 1:
        xv = xv[:, None]
    if yv.ndim != 1 or xv.ndim != 2 or xv.shape[0] != yv.shape[0]:
        raise DataError(f"y has shape {yv.shape} and X {xv.shape}: need (n,) and (n, k)")
    names = [f"x{j + 1}" for j in range(xv.shape[1])] if names is None else list(names)
    if len(names) != xv.shape[1]:
        raise OptionError(f"{len(names)} names given for {xv.shape[1]} columns of X")
    if intercept:
        xv = np.column_stack([np.ones(xv.shape[0]), xv])
        names = ["Intercept", *names]
    return yv, xv, tuple(names)


def _complete(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Listwise deletion of rows with a missing value, with a warning when any are dropped."""
    keep = np.isfinite(y) & np.isfinite(X).all(axis=1)
    if not keep.all():
        warnings.warn(
            f"{int((~keep).sum())} rows with missing values dropped (listwise)",
            DataWarning,
            stacklevel=3,
        )
    return y[keep], X[keep]


def _sandwich(X: np.ndarray, bread: np.ndarray, resid: np.ndarray, cov_type: CovType) -> np.ndarray:
    """(X'X)^-1 X' diag(omega) X (X'X)^-1 with omega = e^2 (HC0) or e^2 / (1 - h)^2 (HC3)."""
    omega = resid**2
    if cov_type is CovType.HC3:
        leverage = np.einsum("ij,jk,ik->i", X, bread, X)
        omega = omega / (1.0 - leverage) ** 2
    meat = (X * omega[:, None]).T @ X
    return bread @ meat @ bread


def ols(
    y: object,
    X: object,
    names: Sequence[str] | None = None,
    cov_type: str = "nonrobust",
    *,
    intercept: bool = True,
    use_t: bool = True,
) -> OLSResult:
    """Least-squares regression of ``y`` on ``X`` (plus an ``Intercept`` term unless told not).

    ``cov_type``: ``"nonrobust"`` (sigma^2 (X'X)^-1), ``"HC0"`` (White) or ``"HC3"``. p-values and
    intervals use the t distribution with n - k degrees of freedom (``use_t=False``: the normal).
    Rows with a missing value are dropped with a :class:`~semlang.errors.DataWarning`.
    """
    try:
        kind = CovType(cov_type)
    except ValueError:
        choices = ", ".join(repr(c.value) for c in CovType)
        raise OptionError(f"unknown cov_type {cov_type!r}", hint=f"use one of {choices}") from None
    yv, xv, terms = _design(y, X, names, intercept)
    yv, xv = _complete(yv, xv)
    n, k = xv.shape
    if n <= k:
        raise DataError(f"{n} complete rows for {k} coefficients: need more rows than terms")
    q, r = np.linalg.qr(xv)
    diag = np.abs(np.diag(r))
    if diag.min() <= 1e-10 * max(diag.max(), 1.0):
        raise DataError("the columns of X are linearly dependent (collinear predictors)")
    params = np.linalg.solve(r, q.T @ yv)
    r_inv = np.linalg.solve(r, np.eye(k))
    bread = r_inv @ r_inv.T
    fitted = xv @ params
    resid = yv - fitted
    if kind is CovType.NONROBUST:
        vcov = bread * float(resid @ resid / (n - k))
    else:
        vcov = _sandwich(xv, bread, resid, kind)
    return OLSResult(terms, params, vcov, resid, fitted, n - k, kind, use_t)
