"""Normal log-likelihoods of one group from its sample moments (divisor N).

Input: sample and model-implied moments and the number of rows. Output: floats (nan where the
implied covariance matrix is not positive definite). Used by the likelihood families and by the
fit measures.
"""

from __future__ import annotations

import math

import numpy as np

from semlang import cholesky as lapack  # (numpy's LAPACK: no scipy on the fit's path)
from semlang import cholesky as linalg

_LOG_2PI = math.log(2.0 * math.pi)


def _logdet_and_solve(matrix: np.ndarray, rhs: np.ndarray) -> tuple[float, np.ndarray] | None:
    """log|matrix| and matrix⁻¹ rhs through a Cholesky factor; None if not positive definite."""
    if (matrix.size and matrix.dtype == np.float64 and rhs.dtype == np.float64
            and np.isfinite(matrix).all() and np.isfinite(rhs).all()):  # fmt: skip
        # LAPACK directly: what scipy's cho_factor/cho_solve call, without their checks
        factor, info = lapack.dpotrf(matrix, lower=0, clean=0)
        if info > 0:
            return None
        if info == 0:
            solved, info = lapack.dpotrs(factor, rhs, lower=0)
            if info == 0:
                return 2.0 * float(np.sum(np.log(np.diag(factor)))), solved
    try:
        factor = linalg.cho_factor(matrix)
    except linalg.LinAlgError:
        return None
    logdet = 2.0 * float(np.sum(np.log(np.diag(factor[0]))))
    return logdet, linalg.cho_solve(factor, rhs)


def loglik_normal(
    sample_cov: np.ndarray,
    sample_mean: np.ndarray | None,
    implied_cov: np.ndarray,
    implied_mean: np.ndarray | None,
    nobs: float,
) -> float:
    """Multivariate normal log-likelihood of one group from its sample moments.

    ``sample_cov`` has divisor N. Without a mean structure (``implied_mean`` None) the mean term
    is zero: the likelihood is evaluated at the sample means. nan if Σ is not positive definite.
    """
    sample_cov = np.asarray(sample_cov, dtype=float)
    implied_cov = np.asarray(implied_cov, dtype=float)
    p = sample_cov.shape[0]
    diff = np.zeros(p)
    if implied_mean is not None:
        if sample_mean is None:
            raise ValueError("implied_mean given without sample_mean")
        diff = np.asarray(sample_mean, dtype=float) - np.asarray(implied_mean, dtype=float)
    solved = _logdet_and_solve(implied_cov, np.column_stack([sample_cov, diff]))
    if solved is None:
        return math.nan
    logdet, sol = solved
    trace = float(np.trace(sol[:, :p]))
    quad = float(diff @ sol[:, p])
    return -0.5 * nobs * (p * _LOG_2PI + logdet + trace + quad)


def saturated_loglik(sample_cov: np.ndarray, nobs: float) -> float:
    """Log-likelihood of the unrestricted (saturated) model of one group (``unrestricted.logl``)."""
    sample_cov = np.asarray(sample_cov, dtype=float)
    p = sample_cov.shape[0]
    sign, logdet = np.linalg.slogdet(sample_cov)
    if sign <= 0:
        return math.nan
    return -0.5 * nobs * (p * _LOG_2PI + logdet + p)
