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
   in order of decreasing coverage, that it observes) when that exists and has the higher
   likelihood, else from the independence estimates (lavaan's start): for nearly monotone data
   the cut-down maximum is close to the full one, while where few rows reach deep into the
   chain its regressions can be far off;
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

import numpy as np

from semlang.errors import DataWarning, EstimationError
from semlang.estimate.fiml import LOG_2PI, fiml_loglik, fiml_loglik_and_gradient, inverted_blocks
from semlang.estimate.fiml_hessian import NEWTON_MAX_VARS, saturated_newton, split_moments
from semlang.estimate.missing_patterns import MissingPatterns, vech
from semlang.matrices import nearly_singular
from semlang.records import dataclass


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
    # unit observed information of (μ, vech Σ) at the estimates, when Newton's last step made it
    information: np.ndarray | None = None


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
    count = patterns.n_observed
    total = np.zeros(p)
    for block in patterns.blocks:
        total += np.bincount(block.observed.ravel(), (block.n[:, None] * block.mean).ravel(),
                             minlength=p)  # fmt: skip
    mean = total / count
    spread = np.zeros(p)
    for block in patterns.blocks:
        dev = block.mean - mean[block.observed]
        within = dev**2
        within[block.multi] += np.diagonal(block.multi_cov, axis1=1, axis2=2)
        spread += np.bincount(block.observed.ravel(), (block.n[:, None] * within).ravel(),
                              minlength=p)  # fmt: skip
    var = spread / count
    with np.errstate(divide="ignore"):
        loglik = -0.5 * float(count @ (LOG_2PI + np.log(var) + 1.0))
    return IndependenceResult(mean, var, loglik)


def independence_loglik(patterns: MissingPatterns) -> float:
    """Log-likelihood of the baseline (independence) model at its ML estimates."""
    return independence_model(patterns).loglik


def _em_step(
    patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray, fast: bool = False
) -> np.ndarray:
    """One EM update of ``(μ, vech Σ)`` as a flat vector (block by block of patterns).

    ``fast``: from the gradient ``(G, g)`` of the log-likelihood, ``μ + Σ g / N`` and
    ``Σ + 2 Σ G Σ / N − (Σ g / N)(Σ g / N)'`` (the same map, without a ``k x p`` product per
    pattern); near a singular ``Σ`` it rounds worse, so it serves the warm-up only."""
    if fast:
        return _em_step_and_loglik(patterns, sigma, mu)[0]
    p = patterns.n_vars
    shift = np.zeros(p)
    cross = np.zeros((p, p))
    for block, inv in inverted_blocks(patterns, sigma):
        if inv is None:
            raise EstimationError(
                "the EM estimate of the covariance matrix became singular",
                hint="look for constant or perfectly collinear variables",
            )
        idx, n = block.observed, block.n
        dev = block.mean - mu[idx]
        sigma_oa = sigma[idx]
        hat_t = inv.inverse @ sigma_oa
        weighted_hat = n[:, None, None] * hat_t
        shift += np.tensordot(dev, weighted_hat, axes=([0, 1], [0, 1]))
        # Σ n H'(S + d d')H − n H'Σ_o·, the d d' part as (H'd)(H'd)' (S = 0 for one row)
        projected = np.einsum("mkp,mk->mp", hat_t, dev)
        cross += n.sum() * sigma + (projected.T * n) @ projected
        cross -= np.tensordot(weighted_hat, sigma_oa, axes=([0, 1], [0, 1]))
        multi = block.multi
        if len(multi):
            spread = block.multi_cov @ hat_t[multi]
            cross += np.tensordot(weighted_hat[multi], spread, axes=([0, 1], [0, 1]))
    shift /= patterns.nobs
    cov = cross / patterns.nobs - np.outer(shift, shift)
    return np.concatenate([mu + shift, vech(0.5 * (cov + cov.T))])


def _em_step_and_loglik(
    patterns: MissingPatterns, sigma: np.ndarray, mu: np.ndarray
) -> tuple[np.ndarray, float]:
    """The fast EM update (see :func:`_em_step`) and the log-likelihood at ``(Σ, μ)``, from one
    pass over the patterns."""
    loglik, grad_sigma, grad_mu = fiml_loglik_and_gradient(patterns, sigma, mu)
    if not np.isfinite(loglik):
        raise EstimationError(
            "the EM estimate of the covariance matrix became singular",
            hint="look for constant or perfectly collinear variables",
        )
    shift = sigma @ grad_mu / patterns.nobs
    cov = sigma + 2.0 * (sigma @ grad_sigma @ sigma) / patterns.nobs - np.outer(shift, shift)
    return np.concatenate([mu + shift, vech(0.5 * (cov + cov.T))]), loglik


def _loglik(patterns: MissingPatterns, theta: np.ndarray) -> float:
    sigma, mu = split_moments(theta, patterns.n_vars)
    return fiml_loglik(patterns, sigma, mu)


class _EmMap:
    """The EM map and the log-likelihood of ``(μ, vech Σ)`` (``fast``: see :func:`_em_step`).
    The fast map's pass gives the log-likelihood too, so a fast log-likelihood keeps the map's
    step from its point: SQUAREM evaluates the point it accepts, then steps from it."""

    def __init__(self, patterns: MissingPatterns, fast: bool):
        self.patterns, self.fast = patterns, fast
        self._kept: tuple[np.ndarray, np.ndarray] | None = None  # (θ, the step from θ)

    def step(self, theta: np.ndarray) -> np.ndarray:
        if self._kept is not None and np.array_equal(self._kept[0], theta):
            return self._kept[1]
        return _em_step(self.patterns, *split_moments(theta, self.patterns.n_vars), self.fast)

    def loglik(self, theta: np.ndarray) -> float:
        if not self.fast:
            return _loglik(self.patterns, theta)
        try:
            step, value = _em_step_and_loglik(
                self.patterns, *split_moments(theta, self.patterns.n_vars)
            )
        except EstimationError:  # (the log-likelihood is not finite there)
            return -np.inf
        self._kept = (theta, step)
        return value


def _squarem_step(em: _EmMap, theta: np.ndarray, loglik: float) -> tuple[np.ndarray, float]:
    """One SQUAREM cycle (scheme S3) from ``theta``; never lowers the log-likelihood."""
    theta1 = em.step(theta)
    theta2 = em.step(theta1)
    r = theta1 - theta
    v = theta2 - theta1 - r
    if not np.any(v):
        return theta2, em.loglik(theta2)
    alpha = min(-np.sqrt(r @ r) / np.sqrt(v @ v), -1.0)
    candidate = theta - 2.0 * alpha * r + alpha**2 * v
    try:
        candidate = em.step(candidate)
    except EstimationError:
        candidate = None
    if candidate is not None:
        value = em.loglik(candidate)
        if value >= loglik:
            return candidate, value
    return theta2, em.loglik(theta2)


# ---- monotone patterns: the factored likelihood --------------------------------------------


@dataclass(frozen=True, eq=False)
class _Chain:
    """The patterns cut to monotone ones: each keeps the longest run of variables, in order of
    decreasing coverage (``order``), that it observes (``lengths``, per pattern); ``exact`` when
    nothing was cut."""

    order: np.ndarray
    lengths: np.ndarray
    exact: bool


def _monotone_chain(patterns: MissingPatterns) -> _Chain:
    """The patterns cut down to monotone ones (see :class:`_Chain`)."""
    order = np.argsort(-patterns.n_observed, kind="stable")
    seen = patterns.masks[:, order]
    lengths = np.where(seen.all(axis=1), len(order), np.argmin(seen, axis=1))
    return _Chain(order, lengths, bool(np.all(lengths == patterns.sizes)))


def _places(block, pick: np.ndarray, target: np.ndarray, p: int) -> np.ndarray:
    """Where the variables ``target`` sit in the observed sets of patterns ``pick`` of a block
    (each observes them all)."""
    position = np.zeros((len(pick), p), dtype=np.intp)
    position[np.arange(len(pick))[:, None], block.observed[pick]] = np.arange(block.k)
    return position[:, target]


def _pooled(patterns: MissingPatterns, chosen: np.ndarray, target: np.ndarray):
    """Row count, mean and covariance (divisor n) of the patterns ``chosen`` (a mask) on the
    variables ``target`` (which they all observe)."""
    p, width = patterns.n_vars, len(target)
    count, total = 0.0, np.zeros(width)
    for block in patterns.blocks:
        pick = np.flatnonzero(chosen[block.pattern_ids])
        at = _places(block, pick, target, p)
        count += block.n[pick].sum()
        total += block.n[pick] @ np.take_along_axis(block.mean[pick], at, axis=1)
    mean = total / count
    scatter = np.zeros((width, width))
    for block in patterns.blocks:
        pick = np.flatnonzero(chosen[block.pattern_ids])
        at = _places(block, pick, target, p)
        n = block.n[pick]
        dev = np.take_along_axis(block.mean[pick], at, axis=1) - mean
        rows = np.arange(len(pick))[:, None, None]
        covs = block.cov[pick][rows, at[:, :, None], at[:, None, :]]
        scatter += np.tensordot(n, covs, axes=1) + (dev.T * n) @ dev
    return count, mean, scatter / count


def _level_moments(patterns: MissingPatterns, chain: _Chain, levels: np.ndarray):
    """:func:`_pooled` of every level at once (a start value, so rounding may differ): for each
    level ``L`` of ``levels`` (ascending), the row count, mean and covariance (``p``-sized, valid
    on the variables ``chain.order[:L]``) of the patterns cut to at least ``L`` variables. Each
    pattern is added to the sums of its own level, one pass over the blocks, and the sums are
    then accumulated from the top level down; the scatter is taken about the variables' means
    over all rows, then moved to each level's mean."""
    p, count = patterns.n_vars, len(levels)
    rank = np.empty(p, dtype=np.intp)
    rank[chain.order] = np.arange(p)
    center = independence_model(patterns).mean
    counts, sums, cross = np.zeros(count), np.zeros((count, p)), np.zeros((count, p, p))
    for block in patterns.blocks:
        length = chain.lengths[block.pattern_ids]
        level = np.searchsorted(levels, length)
        inside = (rank[block.observed] < length[:, None]) & (length > 0)[:, None]
        n, rows = block.n, np.arange(len(length))[:, None]
        dev = np.zeros((len(n), p))
        dev[rows, block.observed] = np.where(inside, block.mean - center[block.observed], 0.0)
        for at in np.unique(level[length > 0]):
            pick = np.flatnonzero((level == at) & (length > 0))
            weighted = dev[pick].T * n[pick]
            counts[at] += n[pick].sum()
            sums[at] += weighted.sum(axis=1)
            cross[at] += weighted @ dev[pick]
        multi = block.multi
        if len(multi):
            cut = inside[multi]
            covs = block.multi_cov * (cut[:, :, None] & cut[:, None, :]) * n[multi, None, None]
            pairs = level[multi, None, None] * (p * p) + block.flat_of(multi)
            cross += np.bincount(pairs.ravel(), covs.ravel(), minlength=count * p * p).reshape(
                count, p, p
            )
    counts = np.cumsum(counts[::-1])[::-1]
    sums = np.cumsum(sums[::-1], axis=0)[::-1] / counts[:, None]
    cross = np.cumsum(cross[::-1], axis=0)[::-1] / counts[:, None, None]
    cov = cross - sums[:, :, None] * sums[:, None, :]
    return counts, sums + center, cov


def _level_counts(patterns: MissingPatterns, chain: _Chain, levels: np.ndarray) -> np.ndarray:
    """The rows of the patterns cut to at least each of ``levels`` variables (the counts of
    :func:`_level_moments`, without the moments)."""
    at = np.searchsorted(levels, chain.lengths)
    counts = np.bincount(at[chain.lengths > 0], patterns.counts[chain.lengths > 0],
                         minlength=len(levels))  # fmt: skip
    return np.cumsum(counts[::-1])[::-1]


def _factored(
    patterns: MissingPatterns, chain: _Chain, names: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray] | str:
    """ML moments of monotone data by the factored likelihood: the variables observed by every
    row first, then each block of variables observed less often regressed on all variables
    observed more often, over the rows observing it. A string (why) when a block has no
    positive definite residual covariance, i.e. no more rows than variables: the likelihood
    then has no maximum."""
    p = patterns.n_vars
    mu, sigma = np.zeros(p), np.zeros((p, p))
    known = np.zeros(0, dtype=np.intp)
    levels = np.unique(chain.lengths[chain.lengths > 0])
    if not chain.exact and np.any(_level_counts(patterns, chain, levels) <= levels):
        return "a level of the cut-down patterns has too few rows"  # (before its moments)
    pooled = None if chain.exact else _level_moments(patterns, chain, levels)
    for at, level in enumerate(levels):
        observed = np.sort(chain.order[:level])
        if pooled is None:
            n, mean, cov = _pooled(patterns, chain.lengths >= level, observed)
        else:
            n, mean = pooled[0][at], pooled[1][at, observed]
            cov = pooled[2][at][np.ix_(observed, observed)]
        e = np.isin(observed, known)
        v = ~e
        if n <= level or nearly_singular(cov):
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
    if not chain.exact or chain.lengths[0] < patterns.n_vars:
        return None
    found = _factored(patterns, chain)
    return None if isinstance(found, str) else found


# ---- the saturated model ---------------------------------------------------------------------

_WARMUP_CYCLES = 5  # SQUAREM cycles before Newton
_NEWTON_STEPS = 200
_UNBOUNDED_EVALUATIONS = 500  # EM budget when the likelihood is known to have no maximum


def _squarem(
    patterns: MissingPatterns,
    theta: np.ndarray,
    tol: float,
    max_evals: int,
    accelerate: bool,
    fast: bool = False,
) -> tuple[np.ndarray, int, bool]:
    """EM (SQUAREM cycles when ``accelerate``) until no element of ``(μ, vech Σ)`` moves by more
    than ``tol * (1 + |value|)``; returns the point, EM-map evaluations and convergence
    (``fast``: see :func:`_em_step`)."""
    p = patterns.n_vars
    em = _EmMap(patterns, fast)
    loglik = em.loglik(theta)
    evaluations = 0
    while evaluations < max_evals:
        if accelerate:
            new, loglik = _squarem_step(em, theta, loglik)
            evaluations += 3
        else:
            new = _em_step(patterns, *split_moments(theta, p), fast)
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


def _short_pattern(patterns: MissingPatterns) -> tuple[int, int] | None:
    """The first pattern whose variables are all observed by no more rows than there are of
    them, with that count; None if there is none. Only patterns that could be short are looked
    at (their own rows and the complete rows being few), a bounded number at a time."""
    flags = patterns.masks.astype(float)
    sizes, counts = patterns.sizes, patterns.counts.astype(float)
    complete = float(counts[sizes == patterns.n_vars].sum())
    lower = counts + np.where(sizes == patterns.n_vars, 0.0, complete)
    candidates = np.flatnonzero(lower <= sizes)
    step = max(1, (1 << 22) // max(1, len(flags)))
    for start in range(0, len(candidates), step):
        ids = candidates[start : start + step]
        within = (flags[ids] @ flags.T >= sizes[ids, None] - 0.5) @ counts
        short = np.flatnonzero(within <= sizes[ids])
        if len(short):
            return int(ids[short[0]]), int(within[short[0]])
    return None


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
    observed = patterns.masks
    short = _short_pattern(patterns)
    if short is not None:
        t, within = short
        return (
            f"only {within} rows observe all of the {int(observed[t].sum())} variables "
            f"{_labels(np.flatnonzero(observed[t]), names)}"
        )
    center = independence_model(patterns).mean
    n_j = patterns.n_observed
    sums_j, squares_j = np.zeros((p, p)), np.zeros((p, p * p))
    for block in patterns.blocks:
        obs, n = block.observed, block.n
        flags = observed[block.pattern_ids].astype(float)
        dev = block.mean - center[obs]
        rows = np.arange(len(n))[:, None]
        sums = np.zeros((len(n), p))
        sums[rows, obs] = n[:, None] * dev
        products = block.cov + dev[:, :, None] * dev[:, None, :]
        squares = np.zeros((len(n), p, p))
        squares[rows[:, :, None], obs[:, :, None], obs[:, None, :]] = n[:, None, None] * products
        sums_j += flags.T @ sums
        squares_j += flags.T @ squares.reshape(len(n), p * p)
    cubes_j = squares_j.reshape(p, p, p)
    for j in range(p):
        common = observed[observed[:, j]].all(axis=0)
        common[j] = False
        others = np.flatnonzero(common)
        mean = sums_j[j] / n_j[j]
        cov = cubes_j[j] / n_j[j] - np.outer(mean, mean)
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
        found = _factored(patterns, chain, names)
        if chain.exact:
            if isinstance(found, str):
                return _without_maximum(patterns, found, tol, max_iter)
            theta = np.concatenate([found[0], vech(found[1])])
            return _result(patterns, theta, 0, True, "monotone")
        if not isinstance(found, str):
            cut = np.concatenate([found[0], vech(found[1])])
            if _loglik(patterns, cut) > _loglik(patterns, theta):  # (a few rows deep in the
                theta = cut  # chain can make the cut-down maximum a poor start)
    if patterns.n_vars > NEWTON_MAX_VARS:
        return _result(patterns, *_squarem(patterns, theta, tol, max_iter, True), "em")
    budget = min(max_iter, 3 * _WARMUP_CYCLES)
    theta, evaluations, converged = _squarem(patterns, theta, tol, budget, True, fast=True)
    if converged:
        return _result(patterns, theta, evaluations, True, "em")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        theta, steps, converged, at = saturated_newton(patterns, theta, tol, _NEWTON_STEPS)
    singular = nearly_singular(split_moments(theta, patterns.n_vars)[0])
    if converged and not singular:
        if at is None:
            return _result(patterns, theta, evaluations + steps, True, "newton")
        sigma, mu = split_moments(theta, patterns.n_vars)  # (Newton's last pass was here)
        return SaturatedResult(mu, sigma, at.loglik, evaluations + steps, True, "newton",
                               at.information / patterns.nobs)  # fmt: skip
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
    ``tol * (1 + |value|)`` in one cycle, Newton at a point whose full step would move none by
    more than that; ``max_iter`` bounds the EM-map evaluations. ``names`` (of the variables)
    serve warnings.

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
