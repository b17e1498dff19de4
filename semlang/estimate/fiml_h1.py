"""The saturated (h1) and independence (baseline) models of incomplete normal data.

Input: :class:`~semlang.estimate.missing_patterns.MissingPatterns`. Output: the unrestricted
ML mean and covariance (:func:`saturated_fit`, or :func:`saturated_em` with its historical name;
the log-likelihood is lavaan's ``unrestricted.logl`` under ``missing = "ml"``), and the
independence model (diagonal covariance, free means; with missing data its likelihood
factorizes per variable, so the estimates are each variable's mean and variance over the rows
observing it).

EM converges at a rate set by the fraction of missing information: with many rarely observed
variables (e.g. a wide layout of groups of unequal size, where the last columns are observed in
a few rows only) it needs thousands of steps. The fit therefore goes, by default:

1. monotone patterns (every pattern's observed set contains the next smaller one): the
   factored likelihood (Little and Rubin, ch. 7) gives the maximum in closed form, one
   regression of each newly observed block of variables on the variables observed more often,
   over the rows observing it;
2. otherwise a few SQUAREM cycles (Varadhan and Roland, 2008) of EM, started from the closed
   form of the data cut down to monotone patterns (each row keeps the longest run of variables,
   in order of decreasing coverage, that it observes) when that exists, else from the
   independence estimates (lavaan's start): for nearly monotone data the cut-down maximum is
   close to the full one;
3. then Newton steps on ``(μ, vech Σ)`` with the analytic gradient and observed information
   (:func:`~semlang.estimate.fiml_hessian.saturated_derivatives`; Fisher scoring where the
   observed information is not positive definite), each with a backtracking line search that
   keeps ``Σ`` positive definite and never lowers the likelihood;
4. should Newton fail, EM (SQUAREM) carries on to ``max_iter``.

Data with pairs of variables never observed together, or with more variables than the Newton
system handles cheaply, go straight to EM.

The likelihood may have no maximum: it grows without bound towards a singular covariance
matrix when the rows observing some set of variables lie on a hyperplane of them (e.g. a wide
layout with more columns than the largest groups have rows, so that a regression fits the last
column exactly). For monotone data the closed form shows it; otherwise it shows when Newton
finds no interior maximum (EM may still stop at one, and then so does Newton). Either way a
warning says so and the result is EM's after 500 evaluations, not converged, as lavaan's EM
stops after 500 iterations.

The E-step works per block of equally sized patterns: with ``H = Σ_{·o} Σ_oo⁻¹`` (``p x k``) a
pattern's completed rows are ``μ + H (y_o - μ_o)`` and their conditional covariance
``C = Σ - H Σ_{o·}``, so the expected centred cross-products are ``n (H W H' + C)`` with
``W = S + (ȳ - μ_o)(ȳ - μ_o)'`` from the pattern's sufficient statistics alone. SQUAREM falls
back to the EM step whenever an extrapolated point lowers the likelihood.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from semlang.errors import DataWarning, EstimationError
from semlang.estimate.fiml import LOG_2PI, block_inverses, fiml_loglik
from semlang.estimate.fiml_hessian import NEWTON_MAX_VARS, saturated_newton, split_moments
from semlang.estimate.missing_patterns import MissingPatterns, vech
from semlang.matrices import nearly_singular


@dataclass(frozen=True, eq=False)
class SaturatedResult:
    """The unrestricted ML estimates and their log-likelihood.

    ``iterations`` counts EM-map evaluations plus Newton steps; ``method`` names the last stage
    that moved the estimates: ``"monotone"``, ``"newton"`` or ``"em"``.
    """

    mean: np.ndarray
    cov: np.ndarray
    loglik: float
    iterations: int
    converged: bool
    method: str = "em"


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


def _loglik(patterns: MissingPatterns, theta: np.ndarray) -> float:
    sigma, mu = split_moments(theta, patterns.n_vars)
    return fiml_loglik(patterns, sigma, mu)


def _squarem_step(
    patterns: MissingPatterns, theta: np.ndarray, loglik: float
) -> tuple[np.ndarray, float]:
    """One SQUAREM cycle (scheme S3) from ``theta``; never lowers the log-likelihood."""
    p = patterns.n_vars
    theta1 = _em_step(patterns, *split_moments(theta, p))
    theta2 = _em_step(patterns, *split_moments(theta1, p))
    r = theta1 - theta
    v = theta2 - theta1 - r
    if not np.any(v):
        return theta2, _loglik(patterns, theta2)
    alpha = min(-np.sqrt(r @ r) / np.sqrt(v @ v), -1.0)
    candidate = theta - 2.0 * alpha * r + alpha**2 * v
    try:
        candidate = _em_step(patterns, *split_moments(candidate, p))
    except EstimationError:
        candidate = None
    if candidate is not None:
        value = _loglik(patterns, candidate)
        if value >= loglik:
            return candidate, value
    return theta2, _loglik(patterns, theta2)


# ---- monotone patterns: the factored likelihood --------------------------------------------


@dataclass(frozen=True, eq=False)
class _Piece:
    """Rows observing (at least) ``observed``: their count, mean and covariance (divisor n)."""

    n: float
    observed: np.ndarray
    mean: np.ndarray
    cov: np.ndarray


@dataclass(frozen=True, eq=False)
class _Chain:
    """The patterns cut to monotone ones: each keeps the longest run of variables, in order of
    decreasing coverage, that it observes; ``exact`` when nothing was cut."""

    pieces: tuple[_Piece, ...]
    exact: bool


def _observed_matrix(patterns: MissingPatterns) -> np.ndarray:
    """``n_patterns x p``: which variables each pattern observes."""
    out = np.zeros((patterns.n_patterns, patterns.n_vars), dtype=bool)
    for block in patterns.blocks:
        out[block.pattern_ids[:, None], block.observed] = True
    return out


def _monotone_chain(patterns: MissingPatterns) -> _Chain:
    """The patterns cut down to monotone ones (see :class:`_Chain`)."""
    order = np.argsort(-patterns.n_observed, kind="stable")
    seen = _observed_matrix(patterns)[:, order]
    lengths = np.where(seen.all(axis=1), len(order), np.argmin(seen, axis=1))
    pieces = []
    for pat, length in zip(patterns.patterns, lengths, strict=True):
        if length == 0:
            continue
        keep = np.sort(order[:length])
        at = np.searchsorted(pat.observed, keep)
        pieces.append(_Piece(float(pat.n), keep, pat.mean[at], pat.cov[np.ix_(at, at)]))
    ks = np.array([pat.k for pat in patterns.patterns])
    return _Chain(tuple(pieces), bool(np.all(lengths == ks)))


def _pooled(pieces: list[_Piece], target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Row count, mean and covariance (divisor n) of ``pieces`` on ``target`` (all observe it)."""
    places = [np.searchsorted(piece.observed, target) for piece in pieces]
    counts = np.array([piece.n for piece in pieces])
    means = np.stack([piece.mean[at] for piece, at in zip(pieces, places, strict=True)])
    covs = np.stack([piece.cov[np.ix_(at, at)] for piece, at in zip(pieces, places, strict=True)])
    n = counts.sum()
    mean = counts @ means / n
    dev = means - mean
    return n, mean, (np.tensordot(counts, covs, axes=1) + (dev.T * counts) @ dev) / n


def _factored(
    pieces: tuple[_Piece, ...], p: int, names: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray] | str:
    """ML moments of monotone data by the factored likelihood: the variables observed by every
    row first, then each block of variables observed less often regressed on all variables
    observed more often, over the rows observing it. A string (why) when a block has no
    positive definite residual covariance, i.e. no more rows than variables: the likelihood
    then has no maximum."""
    levels = sorted({tuple(piece.observed) for piece in pieces}, key=len)
    mu, sigma = np.zeros(p), np.zeros((p, p))
    known = np.zeros(0, dtype=np.intp)
    for level in levels:
        observed = np.array(level)
        n, mean, cov = _pooled([q for q in pieces if len(q.observed) >= len(level)], observed)
        e = np.isin(observed, known)
        v = ~e
        if n <= len(level) or nearly_singular(cov):
            return (
                f"only {int(n)} rows observe {_labels(observed[v], names)}, all of them with "
                f"the same {int(e.sum())} other variables: too few rows for a regression on those"
            )
        slopes = np.linalg.solve(cov[np.ix_(e, e)], cov[np.ix_(e, v)]) if e.any() else None
        residual = cov[np.ix_(v, v)] - (0.0 if slopes is None else cov[np.ix_(v, e)] @ slopes)
        old, new = observed[e], observed[v]
        if slopes is None:
            mu[new], sigma[np.ix_(new, new)] = mean, residual
        else:
            sigma_old = sigma[np.ix_(old, old)]
            mu[new] = mean[v] + slopes.T @ (mu[old] - mean[e])
            sigma[np.ix_(new, old)] = slopes.T @ sigma_old
            sigma[np.ix_(old, new)] = sigma[np.ix_(new, old)].T
            sigma[np.ix_(new, new)] = residual + slopes.T @ sigma_old @ slopes
        known = observed
    if len(known) < p:
        return "some variables are observed by no monotone piece"
    return mu, 0.5 * (sigma + sigma.T)


def _labels(indices: np.ndarray, names: Sequence[str] | None) -> str:
    shown = ", ".join(_label(i, names) for i in indices[:6])
    return shown + (", ..." if len(indices) > 6 else "")


def _label(index: int, names: Sequence[str] | None) -> str:
    return repr(names[index]) if names is not None else f"#{index + 1}"


def monotone_moments(patterns: MissingPatterns) -> tuple[np.ndarray, np.ndarray] | None:
    """ML mean and covariance in closed form when the patterns are monotone (each pattern's
    observed set contains the next smaller one); None when they are not, or when the likelihood
    has no maximum."""
    chain = _monotone_chain(patterns)
    if not chain.exact or len(chain.pieces[0].observed) < patterns.n_vars:
        return None
    found = _factored(chain.pieces, patterns.n_vars)
    return None if isinstance(found, str) else found


# ---- the saturated model ---------------------------------------------------------------------

_WARMUP_CYCLES = 5  # SQUAREM cycles before Newton
_NEWTON_STEPS = 200
_UNBOUNDED_EVALUATIONS = 500  # EM budget when the likelihood is known to have no maximum


def _squarem(
    patterns: MissingPatterns, theta: np.ndarray, tol: float, max_evals: int, accelerate: bool
) -> tuple[np.ndarray, int, bool]:
    """EM (SQUAREM cycles when ``accelerate``) until no element of ``(μ, vech Σ)`` moves by more
    than ``tol * (1 + |value|)``; returns the point, EM-map evaluations and convergence."""
    p = patterns.n_vars
    loglik = _loglik(patterns, theta)
    evaluations = 0
    while evaluations < max_evals:
        if accelerate:
            new, loglik = _squarem_step(patterns, theta, loglik)
            evaluations += 3
        else:
            new = _em_step(patterns, *split_moments(theta, p))
            evaluations += 1
        step = np.max(np.abs(new - theta) / (1.0 + np.abs(theta)))
        theta = new
        if step < tol:
            return theta, evaluations, True
    return theta, evaluations, False


def _independence_start(patterns: MissingPatterns) -> np.ndarray:
    start = independence_model(patterns)
    var = np.where(np.isfinite(start.var) & (start.var > 0), start.var, 1.0)
    return np.concatenate([start.mean, vech(np.diag(var))])


def _result(patterns: MissingPatterns, theta, iterations, converged, method) -> SaturatedResult:
    sigma, mu = split_moments(theta, patterns.n_vars)
    loglik = fiml_loglik(patterns, sigma, mu)
    return SaturatedResult(mu, sigma, loglik, iterations, converged, method)


def _warn_no_maximum(reason: str) -> None:
    warnings.warn(
        f"the saturated model of the incomplete data has no maximum-likelihood estimate "
        f"({reason}); its log-likelihood grows without bound towards a singular covariance "
        "matrix, so the chi-square test and the other measures built on it are not meaningful",
        DataWarning,
        stacklevel=4,
    )


def _no_maximum(patterns: MissingPatterns, names: Sequence[str] | None = None) -> str | None:
    """Why the likelihood grows without bound, if it provably does; else None.

    It does when the rows observing all of some set ``S`` of variables lie on an affine
    hyperplane of ``S``: the covariance matrix can then shrink to singular along its normal
    while those rows' densities grow without bound and the others' stay finite. Checked for
    each pattern's observed set (its rows and those of larger patterns containing it: no more
    rows than variables) and for each variable ``j`` with the variables ``E`` observed by every
    row observing it (``j`` constant, or fitted exactly by a regression on ``E``). EM may still
    stop at an interior local maximum of such a likelihood; this explains why it does not.
    """
    p = patterns.n_vars
    observed = _observed_matrix(patterns)
    counts = np.array([pat.n for pat in patterns.patterns], dtype=float)
    flags = observed.astype(float)
    sizes = flags.sum(axis=1)
    rows_within = (flags @ flags.T >= sizes[:, None] - 0.5) @ counts
    short = np.flatnonzero(rows_within <= sizes)
    if len(short):
        t = short[0]
        return (
            f"only {int(rows_within[t])} rows observe all of the {int(sizes[t])} variables "
            f"{_labels(patterns.patterns[t].observed, names)}"
        )
    center = independence_model(patterns).mean
    sums = np.zeros((patterns.n_patterns, p))
    squares = np.zeros((patterns.n_patterns, p, p))
    for block in patterns.blocks:
        ids, obs, n = block.pattern_ids, block.observed, block.n
        dev = block.mean - center[obs]
        sums[ids[:, None], obs] = n[:, None] * dev
        products = block.cov + dev[:, :, None] * dev[:, None, :]
        squares[ids[:, None, None], obs[:, :, None], obs[:, None, :]] = n[:, None, None] * products
    n_j = flags.T @ counts
    sums_j = flags.T @ sums
    squares_j = (flags.T @ squares.reshape(len(counts), p * p)).reshape(p, p, p)
    for j in range(p):
        common = observed[observed[:, j]].all(axis=0)
        common[j] = False
        others = np.flatnonzero(common)
        mean = sums_j[j] / n_j[j]
        cov = squares_j[j] / n_j[j] - np.outer(mean, mean)
        spread = cov[j, j]
        if len(others):
            slopes = np.linalg.lstsq(cov[np.ix_(others, others)], cov[others, j], rcond=None)[0]
            spread -= cov[j, others] @ slopes
        if cov[j, j] <= 1e-14 * center[j] ** 2:
            return f"{_label(j, names)} is constant over the {int(n_j[j])} rows observing it"
        if spread <= 1e-10 * cov[j, j]:
            return (
                f"the {int(n_j[j])} rows observing {_label(j, names)} all observe the same "
                f"{len(others)} other variables, and a regression on those fits it exactly"
            )
    return None


def _without_maximum(
    patterns: MissingPatterns, reason: str, tol: float, max_iter: int
) -> SaturatedResult:
    """Warn, and return EM's estimates after at most 500 evaluations (not converged)."""
    _warn_no_maximum(reason)
    budget = min(max_iter, _UNBOUNDED_EVALUATIONS)
    theta, evaluations, _ = _squarem(patterns, _independence_start(patterns), tol, budget, True)
    return _result(patterns, theta, evaluations, False, "em")


def _fast_fit(
    patterns: MissingPatterns, tol: float, max_iter: int, closed: bool, names
) -> SaturatedResult:
    """The monotone closed form, or EM warm-up then Newton (see the module docstring)."""
    theta = _independence_start(patterns)
    if closed:
        chain = _monotone_chain(patterns)
        found = _factored(chain.pieces, patterns.n_vars, names)
        if chain.exact:
            if isinstance(found, str):
                return _without_maximum(patterns, found, tol, max_iter)
            theta = np.concatenate([found[0], vech(found[1])])
            return _result(patterns, theta, 0, True, "monotone")
        if not isinstance(found, str):
            theta = np.concatenate([found[0], vech(found[1])])
    if patterns.n_vars > NEWTON_MAX_VARS:
        return _result(patterns, *_squarem(patterns, theta, tol, max_iter, True), "em")
    budget = min(max_iter, 3 * _WARMUP_CYCLES)
    theta, evaluations, converged = _squarem(patterns, theta, tol, budget, True)
    if converged:
        return _result(patterns, theta, evaluations, True, "em")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        theta, steps, converged = saturated_newton(patterns, theta, tol, _NEWTON_STEPS)
    singular = nearly_singular(split_moments(theta, patterns.n_vars)[0])
    if converged and not singular:
        return _result(patterns, theta, evaluations + steps, True, "newton")
    reason = _no_maximum(patterns, names)
    if singular or reason is not None:
        reason = reason or "the estimates approach a singular covariance matrix"
        return _without_maximum(patterns, reason, tol, max_iter)
    theta, more, converged = _squarem(patterns, theta, tol, max_iter - evaluations, True)
    return _result(patterns, theta, evaluations + steps + more, converged, "em")


def saturated_fit(
    patterns: MissingPatterns,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    method: str = "auto",
    names: Sequence[str] | None = None,
) -> SaturatedResult:
    """Unrestricted ML mean and covariance of incomplete normal data.

    ``method``: ``"auto"`` (closed form for monotone patterns, else EM warm-up and Newton; see
    the module docstring), ``"newton"`` (the same from the independence start, never the closed
    form), ``"squarem"`` or ``"em"`` (accelerated or plain EM alone, from the independence
    start). EM stops when no element of ``(μ, vech Σ)`` moves by more than
    ``tol * (1 + |value|)`` in one cycle, Newton when a full step moves none by more than that;
    ``max_iter`` bounds the EM-map evaluations. ``names`` (of the variables) serve warnings.

    When the likelihood has no maximum (see the module docstring), a
    :class:`~semlang.errors.DataWarning` says so and the result is EM's after at most 500
    evaluations, not converged.
    """
    if method not in ("auto", "newton", "squarem", "em"):
        raise ValueError(f"unknown method {method!r}")
    if np.any(patterns.coverage_counts == 0):
        warnings.warn(
            "some pairs of variables are never observed together; their covariance is not "
            "identified and EM leaves it near its start value",
            DataWarning,
            stacklevel=3,
        )
        method = "squarem" if method in ("auto", "newton") else method
    if method in ("auto", "newton"):
        return _fast_fit(patterns, tol, max_iter, method == "auto", names)
    theta = _independence_start(patterns)
    found = _squarem(patterns, theta, tol, max_iter, method == "squarem")
    return _result(patterns, *found, "em")


def saturated_em(
    patterns: MissingPatterns,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    accelerate: bool = True,
    names: Sequence[str] | None = None,
) -> SaturatedResult:
    """Unrestricted mean and covariance of incomplete normal data: :func:`saturated_fit`.

    With ``accelerate`` (the default) the fast path of ``saturated_fit(method="auto")``;
    without, the plain EM map alone from the independence estimates (slow; a reference).
    """
    return saturated_fit(patterns, tol, max_iter, "auto" if accelerate else "em", names)
