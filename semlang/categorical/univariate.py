"""Stage one of the two-stage method: each variable on its own, with its casewise scores.

Input: one variable's column of a group (category codes 1..K of an ordered variable, or the
values of a continuous one; NaN where missing) and, when the statistics are conditional on
exogenous covariates, their n x q matrix. Output: a :class:`Univariate` — for an ordered variable
its probit thresholds (and slopes on the covariates), for a continuous one its intercept (the mean
without covariates), slopes and residual variance — with each case's bounds on the latent scale
and the casewise scores (derivatives of each case's log-likelihood) of every parameter, which the
asymptotic covariance needs.

Without covariates the thresholds are the normal quantiles of the cumulative proportions (the
maximum-likelihood estimates); with covariates an ordered probit regression is fitted by Newton's
method (its log-likelihood is concave), and a continuous variable by least squares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.special import ndtr, ndtri

from semlang.errors import EstimationError


def _npdf(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
    return np.where(np.isfinite(x), out, 0.0)


@dataclass(frozen=True)
class Univariate:
    """One variable of one group after stage one.

    ``observed`` marks the cases with a value. Ordered variable: ``th`` the K-1 thresholds,
    ``slopes`` (q,), ``y`` the codes 0..K-1 (-1 where missing), ``lower``/``upper`` each case's
    standardized bounds τ_{y-1} - x'β and τ_y - x'β (±inf outside). Continuous variable: ``th``
    holds the intercept, ``var`` the residual variance, ``z`` each case's standardized residual.
    ``scores`` (computed on first use) is n x (parameters) in the order thresholds-or-intercept,
    slopes, [variance].
    """

    ordered: bool
    th: np.ndarray
    slopes: np.ndarray
    var: float
    observed: np.ndarray
    score_fn: Callable[[], np.ndarray] = field(repr=False, compare=False)
    th_nox: np.ndarray
    y: np.ndarray | None = None
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    z: np.ndarray | None = None

    @cached_property
    def scores(self) -> np.ndarray:
        return self.score_fn()

    @property
    def nth(self) -> int:
        return len(self.th)


def ordered_marginal_th(codes: np.ndarray, ncat: int) -> np.ndarray:
    """Probit thresholds from the cumulative proportions of the observed codes (0..K-1)."""
    freq = np.bincount(codes[codes >= 0], minlength=ncat).astype(float)
    return ndtri(np.cumsum(freq)[:-1] / freq.sum())


def fit_ordered(codes: np.ndarray, ncat: int, exo: np.ndarray | None) -> Univariate:
    """Thresholds (and probit slopes on ``exo``) of an ordered variable coded 0..K-1, -1 missing."""
    observed = codes >= 0
    nexo = 0 if exo is None else exo.shape[1]
    th_nox = ordered_marginal_th(codes, ncat)
    if nexo == 0:
        th, beta = th_nox, np.zeros(0)
        eta = np.zeros(len(codes))
    else:
        assert exo is not None  # (nexo > 0)
        th, beta = _ordered_probit(codes[observed], ncat, exo[observed])
        eta = np.where(observed, exo @ beta, 0.0) if nexo else np.zeros(len(codes))
    ext = np.concatenate(([-np.inf], th, [np.inf]))
    y = np.where(observed, codes, 0)
    lower = np.where(observed, ext[y] - eta, np.nan)
    upper = np.where(observed, ext[y + 1] - eta, np.nan)

    def scores():
        return _ordered_scores(y, observed, lower, upper, ncat, exo)

    return Univariate(
        True, th, beta, 1.0, observed, scores, th_nox, np.where(observed, codes, -1), lower, upper
    )


def _cell_prob(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Φ(upper) - Φ(lower), computed in the upper tail where that is more accurate."""
    low_tail = ndtr(upper) - ndtr(lower)
    high_tail = ndtr(-lower) - ndtr(-upper)
    return np.where(lower > 0, high_tail, low_tail)


def _ordered_scores(y, observed, lower, upper, ncat, exo) -> np.ndarray:
    n, nth = len(y), ncat - 1
    prob = _cell_prob(np.where(observed, lower, 0.0), np.where(observed, upper, 1.0))
    d_up = _npdf(np.where(observed, upper, 0.0)) / prob
    d_lo = _npdf(np.where(observed, lower, 0.0)) / prob
    d_up[~observed] = 0.0
    d_lo[~observed] = 0.0
    th_scores = np.zeros((n, nth))
    rows = np.arange(n)
    up = observed & (y < nth)
    th_scores[rows[up], y[up]] += d_up[up]
    lo = observed & (y > 0)
    th_scores[rows[lo], y[lo] - 1] -= d_lo[lo]
    if exo is None or exo.shape[1] == 0:
        return th_scores
    slope_scores = -np.where(observed, 1.0, 0.0)[:, None] * np.nan_to_num(exo)
    slope_scores *= (d_up - d_lo)[:, None]
    return np.hstack([th_scores, slope_scores])


def _ordered_probit(y: np.ndarray, ncat: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood ordered probit: thresholds and slopes (Newton, halving steps)."""
    nth, nexo = ncat - 1, x.shape[1]
    theta = np.concatenate((ndtri(np.arange(1, ncat) / ncat), np.zeros(nexo)))
    if nth == 1:
        theta[0] = 0.0

    def pieces(theta):
        ext = np.concatenate(([-np.inf], theta[:nth], [np.inf]))
        eta = x @ theta[nth:]
        lo, up = ext[y] - eta, ext[y + 1] - eta
        return lo, up, _cell_prob(lo, up)

    def loglik(theta):
        th = theta[:nth]
        if nth > 1 and np.any(np.diff(th) <= 0):
            return -np.inf
        return float(np.sum(np.log(np.maximum(pieces(theta)[2], 1e-300))))

    current = loglik(theta)
    for _ in range(200):
        lo, up, prob = pieces(theta)
        grad_rows, hess = _probit_derivatives(y, nth, x, lo, up, prob)
        grad = grad_rows.sum(axis=0)
        try:
            step = np.linalg.solve(hess, -grad)
        except np.linalg.LinAlgError:
            step = grad / max(1.0, float(np.abs(grad).max()))
        for _ in range(60):
            trial = theta + step
            value = loglik(trial)
            if value >= current - 1e-12:
                break
            step = step / 2.0
        else:
            break
        theta, previous, current = trial, current, value
        if np.max(np.abs(step)) < 1e-10 or abs(current - previous) < 1e-14 * (1 + abs(current)):
            break
    if not np.all(np.isfinite(theta)):
        raise EstimationError("the probit regression of an ordered variable failed")
    return theta[:nth], theta[nth:]


def _probit_derivatives(y, nth, x, lo, up, prob):
    """Casewise gradient and the summed Hessian of the ordered-probit log-likelihood."""
    n = len(y)
    f_up, f_lo = _npdf(up), _npdf(lo)
    g_up = -np.where(np.isfinite(up), up, 0.0) * f_up
    g_lo = -np.where(np.isfinite(lo), lo, 0.0) * f_lo
    # d pi / d theta for each case: thresholds (upper +, lower -), slopes -x (f_up - f_lo)
    dpi = np.zeros((n, nth + x.shape[1]))
    d2_diag = np.zeros((n, nth))  # second derivative of pi on its own threshold
    rows = np.arange(n)
    has_up = y < nth
    dpi[rows[has_up], y[has_up]] += f_up[has_up]
    d2_diag[rows[has_up], y[has_up]] += g_up[has_up]
    has_lo = y > 0
    dpi[rows[has_lo], y[has_lo] - 1] -= f_lo[has_lo]
    d2_diag[rows[has_lo], y[has_lo] - 1] -= g_lo[has_lo]
    dpi[:, nth:] = -x * (f_up - f_lo)[:, None]
    grad = dpi / prob[:, None]
    hess = -(grad.T @ grad)
    # the second derivatives of pi: thresholds (own), slope-threshold and slope-slope terms
    d2 = np.zeros((n, nth + x.shape[1], nth + x.shape[1]))
    d2[:, np.arange(nth), np.arange(nth)] = d2_diag
    cross_up = np.zeros((n, nth))
    cross_up[rows[has_up], y[has_up]] = g_up[has_up]
    cross_lo = np.zeros((n, nth))
    cross_lo[rows[has_lo], y[has_lo] - 1] = g_lo[has_lo]
    cross = -(cross_up - cross_lo)[:, :, None] * x[:, None, :]
    d2[:, :nth, nth:] = cross
    d2[:, nth:, :nth] = cross.transpose(0, 2, 1)
    d2[:, nth:, nth:] = (g_up - g_lo)[:, None, None] * x[:, :, None] * x[:, None, :]
    hess += np.einsum("nij,n->ij", d2, 1.0 / prob)
    return grad, hess


def fit_continuous(values: np.ndarray, exo: np.ndarray | None) -> Univariate:
    """Intercept (the mean without covariates), slopes and residual variance (divisor n)."""
    observed = ~np.isnan(values)
    exo = np.zeros((len(values), 0)) if exo is None else exo
    nexo = exo.shape[1]
    y = values[observed]
    design = np.ones((len(y), 1)) if nexo == 0 else np.hstack([np.ones((len(y), 1)), exo[observed]])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ beta
    var = float(resid @ resid / len(y))
    res_full = np.zeros(len(values))
    res_full[observed] = resid

    def scores():
        full_design = np.ones((len(values), 1))
        if nexo:
            full_design = np.hstack([full_design, np.nan_to_num(exo)])
        out = np.hstack(
            [
                full_design * (res_full / var)[:, None],
                (-0.5 / var + 0.5 * res_full**2 / var**2)[:, None],
            ]
        )
        out[~observed] = 0.0
        return out

    z = np.where(observed, res_full / np.sqrt(var), np.nan)
    return Univariate(
        False,
        beta[:1],
        beta[1:],
        var,
        observed,
        scores,
        np.array([float(np.mean(y))]),
        z=z,
    )
