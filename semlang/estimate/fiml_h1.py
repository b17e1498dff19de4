"""The saturated (h1) and independence (baseline) models of incomplete normal data.

Input: :class:`~semlang.estimate.missing_patterns.MissingPatterns`. Output: the unrestricted
mean and covariance by EM (:func:`saturated_em`, whose log-likelihood is lavaan's
``unrestricted.logl`` under ``missing = "ml"``), the independence model (diagonal covariance,
free means; with missing data its likelihood factorizes per variable, so the estimates are each
variable's mean and variance over the rows observing it).

The E-step works per block of equally sized patterns: with ``H = Σ_{·o} Σ_oo⁻¹`` (``p x k``) a
pattern's completed rows are ``μ + H (y_o - μ_o)`` and their conditional covariance
``C = Σ - H Σ_{o·}``, so the expected centred cross-products are ``n (H W H' + C)`` with
``W = S + (ȳ - μ_o)(ȳ - μ_o)'`` from the pattern's sufficient statistics alone. The plain EM map
is accelerated by SQUAREM (Varadhan and Roland, 2008), falling back to the EM step whenever an
extrapolated point lowers the likelihood.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from semlang.errors import DataWarning, EstimationError
from semlang.estimate.fiml import LOG_2PI, block_inverses, fiml_loglik
from semlang.estimate.missing_patterns import MissingPatterns, unvech, vech


@dataclass(frozen=True, eq=False)
class SaturatedResult:
    """The unrestricted ML estimates and their log-likelihood."""

    mean: np.ndarray
    cov: np.ndarray
    loglik: float
    iterations: int
    converged: bool


@dataclass(frozen=True, eq=False)
class IndependenceResult:
    """The independence model: per-variable means and variances (divisor = rows observed)."""

    mean: np.ndarray
    var: np.ndarray
    loglik: float

    @property
    def cov(self) -> np.ndarray:
        return np.diag(self.var)


def independence_model(patterns: MissingPatterns) -> IndependenceResult:
    """ML estimates and log-likelihood of the baseline model (diagonal Σ, free means)."""
    p = patterns.n_vars
    count = np.zeros(p)
    total = np.zeros(p)
    for pat in patterns.patterns:
        count[pat.observed] += pat.n
        total[pat.observed] += pat.n * pat.mean
    mean = total / count
    spread = np.zeros(p)
    for pat in patterns.patterns:
        dev = pat.mean - mean[pat.observed]
        spread[pat.observed] += pat.n * (pat.cov.diagonal() + dev**2)
    var = spread / count
    with np.errstate(divide="ignore"):
        loglik = -0.5 * float(count @ (LOG_2PI + np.log(var) + 1.0))
    return IndependenceResult(mean, var, loglik)


def independence_loglik(patterns: MissingPatterns) -> float:
    """Log-likelihood of the baseline (independence) model at its ML estimates."""
    return independence_model(patterns).loglik


def _em_step(patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """One EM update of ``(μ, vech Σ)`` as a flat vector."""
    inverses = block_inverses(patterns, sigma)
    if inverses is None:
        raise EstimationError(
            "the EM estimate of the covariance matrix became singular",
            hint="look for constant or perfectly collinear variables",
        )
    p = patterns.n_vars
    shift = np.zeros(p)
    cross = np.zeros((p, p))
    for block, inv in zip(patterns.blocks, inverses, strict=True):
        idx = block.observed
        dev = block.mean - mu[idx]
        weighted = block.cov + dev[:, :, None] * dev[:, None, :]
        sigma_oa = sigma[idx]
        hat_t = inv.inverse @ sigma_oa
        weighted_hat = block.n[:, None, None] * hat_t
        shift += np.tensordot(dev, weighted_hat, axes=([0, 1], [0, 1]))
        residual = weighted @ hat_t - sigma_oa
        cross += block.n.sum() * sigma + np.tensordot(weighted_hat, residual, axes=([0, 1], [0, 1]))
    shift /= patterns.nobs
    cov = cross / patterns.nobs - np.outer(shift, shift)
    return np.concatenate([mu + shift, vech(0.5 * (cov + cov.T))])


def _split(theta: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    return unvech(theta[p:]), theta[:p]


def _loglik(patterns: MissingPatterns, theta: np.ndarray) -> float:
    sigma, mu = _split(theta, patterns.n_vars)
    return fiml_loglik(patterns, sigma, mu)


def _squarem_step(
    patterns: MissingPatterns, theta: np.ndarray, loglik: float
) -> tuple[np.ndarray, float]:
    """One SQUAREM cycle (scheme S3) from ``theta``; never lowers the log-likelihood."""
    p = patterns.n_vars
    theta1 = _em_step(patterns, *_split(theta, p))
    theta2 = _em_step(patterns, *_split(theta1, p))
    r = theta1 - theta
    v = theta2 - theta1 - r
    if not np.any(v):
        return theta2, _loglik(patterns, theta2)
    alpha = min(-np.sqrt(r @ r) / np.sqrt(v @ v), -1.0)
    candidate = theta - 2.0 * alpha * r + alpha**2 * v
    try:
        candidate = _em_step(patterns, *_split(candidate, p))
    except EstimationError:
        candidate = None
    if candidate is not None:
        value = _loglik(patterns, candidate)
        if value >= loglik:
            return candidate, value
    return theta2, _loglik(patterns, theta2)


def saturated_em(
    patterns: MissingPatterns,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    accelerate: bool = True,
) -> SaturatedResult:
    """Unrestricted mean and covariance of incomplete normal data by EM.

    Starts from the independence estimates (lavaan's start). Converged when no element of
    ``(μ, vech Σ)`` moves by more than ``tol * (1 + |value|)`` in one cycle; ``iterations``
    counts EM-map evaluations. With ``accelerate`` each cycle is a SQUAREM step.
    """
    p = patterns.n_vars
    if np.any(patterns.coverage_counts == 0):
        warnings.warn(
            "some pairs of variables are never observed together; their covariance is not "
            "identified and EM leaves it near its start value",
            DataWarning,
            stacklevel=2,
        )
    start = independence_model(patterns)
    var = np.where(np.isfinite(start.var) & (start.var > 0), start.var, 1.0)
    theta = np.concatenate([start.mean, vech(np.diag(var))])
    loglik = _loglik(patterns, theta)
    evaluations = 0
    converged = False
    while evaluations < max_iter:
        if accelerate:
            new, loglik = _squarem_step(patterns, theta, loglik)
            evaluations += 3
        else:
            new = _em_step(patterns, *_split(theta, p))
            evaluations += 1
        step = np.max(np.abs(new - theta) / (1.0 + np.abs(theta)))
        theta = new
        if step < tol:
            converged = True
            break
    sigma, mu = _split(theta, p)
    return SaturatedResult(mu, sigma, fiml_loglik(patterns, sigma, mu), evaluations, converged)
