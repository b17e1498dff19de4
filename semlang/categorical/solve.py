"""One correlation per pair of variables, found for all pairs at once.

Input: a function giving, for a vector of correlations (one per pair), the derivative of each
pair's log-likelihood and its second derivative, and the bounds. Output: the maximizing
correlations. Each pair keeps a bracket [lo, hi] with the derivative positive at lo and negative at
hi (at first the bounds, narrowed by the sign of the derivative at each iterate); Newton steps
that leave the bracket (or meet a non-negative second derivative) become secant steps between the
bracket's ends (bisections while an end's derivative is unknown), so every pair converges, and a
pair whose derivative does not change sign goes to its bound (as a bounded optimizer would).
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
    g_lo = np.full(npairs, np.nan)  # the derivative at lo and hi, once known
    g_hi = np.full(npairs, np.nan)
    rho = np.clip(np.asarray(start, float), -bound, bound)
    done = np.zeros(npairs, dtype=bool)
    for _ in range(max_iter):
        active = ~done
        if not active.any():
            break
        r = rho[active]
        grad, hess = derivatives(r, active)
        up = grad > 0
        a_lo, a_hi = np.where(up, r, lo[active]), np.where(up, hi[active], r)
        ga_lo = np.where(up, grad, g_lo[active])
        ga_hi = np.where(up, g_hi[active], grad)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = r - grad / hess
            secant = a_lo - ga_lo * (a_hi - a_lo) / (ga_hi - ga_lo)
        inside = (hess < 0) & (newton > a_lo) & (newton < a_hi)
        fallback = np.where((secant > a_lo) & (secant < a_hi), secant, (a_lo + a_hi) / 2.0)
        new = np.where(inside, newton, fallback)
        new = np.where(grad == 0, r, new)
        # an end of the bracket that is already a root to within tol (Newton overshot it)
        with np.errstate(divide="ignore", invalid="ignore"):
            end_lo = ~inside & (np.abs(ga_lo / hess) < tol)
            end_hi = ~inside & (np.abs(ga_hi / hess) < tol)
        new = np.where(end_hi, a_hi, np.where(end_lo, a_lo, new))
        lo[active], hi[active] = a_lo, a_hi
        g_lo[active], g_hi[active] = ga_lo, ga_hi
        rho[active] = new
        # a Newton step this small leaves an error of its square: the new point is the root
        small_newton = inside & (np.abs(new - r) < np.sqrt(tol))
        converged = (np.abs(new - r) < tol) | (a_hi - a_lo < tol) | (grad == 0) | end_lo | end_hi
        converged |= small_newton
        idx = np.flatnonzero(active)
        done[idx[converged]] = True
    return rho, done
