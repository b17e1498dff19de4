"""One correlation per pair of variables, found for all pairs at once.

Input: a function giving, for a vector of correlations (one per pair), the derivative of each
pair's log-likelihood and its second derivative, and the bounds. Output: the maximizing
correlations. Each pair keeps a bracket [lo, hi] with the derivative positive at lo and negative at
hi (at first the bounds, narrowed by the sign of the derivative at each iterate); Newton steps
that leave the bracket (or meet a non-negative second derivative) become bisections, so every pair
converges, and a pair whose derivative does not change sign goes to its bound (as a bounded
optimizer would).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Derivatives = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def maximize_rho(
    derivatives: Derivatives,
    start: np.ndarray,
    bound: float,
    tol: float = 1e-11,
    max_iter: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """The maximizing rho of each pair and whether it converged.

    ``derivatives(rho, active)`` returns the first and second derivatives for the pairs selected
    by the boolean mask ``active`` (arrays of length ``active.sum()``).
    """
    npairs = len(start)
    lo = np.full(npairs, -bound)
    hi = np.full(npairs, bound)
    rho = np.clip(np.asarray(start, float), -bound, bound)
    done = np.zeros(npairs, dtype=bool)
    for _ in range(max_iter):
        active = ~done
        if not active.any():
            break
        r = rho[active]
        grad, hess = derivatives(r, active)
        a_lo, a_hi = lo[active], hi[active]
        a_lo = np.where(grad > 0, r, a_lo)
        a_hi = np.where(grad > 0, a_hi, r)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = r - grad / hess
        inside = (hess < 0) & (newton > a_lo) & (newton < a_hi)
        new = np.where(inside, newton, (a_lo + a_hi) / 2.0)
        lo[active], hi[active] = a_lo, a_hi
        rho[active] = new
        converged = (np.abs(new - r) < tol) | (a_hi - a_lo < tol) | (grad == 0)
        idx = np.flatnonzero(active)
        done[idx[converged]] = True
    return rho, done
