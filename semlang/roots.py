"""A root of a function of one variable in a bracket: Brent's method (scipy.optimize's
``brentq``, with its arguments), for the fit measures' non-centralities and quantiles.

Input: f, a bracket [a, b] with f(a) and f(b) of opposite signs (or one of them zero), and the
tolerances. Output: x with |x − root| <= xtol + rtol·|x|; ValueError when the bracket holds no
sign change or the iterations run out. Brent (1973): inverse quadratic interpolation or the
secant step where they stay inside the bracket and shrink it fast enough, bisection otherwise.
"""

from __future__ import annotations

from collections.abc import Callable


def brentq(
    f: Callable[[float], float],
    a: float,
    b: float,
    xtol: float = 2e-12,
    rtol: float = 8.881784197001252e-16,
    maxiter: int = 100,
) -> float:
    fa, fb = f(a), f(b)
    if fa * fb > 0:
        raise ValueError("f(a) and f(b) must have different signs")
    if fa == 0:
        return a
    if fb == 0:
        return b
    c, fc = a, fa  # the other end of the bracket: the root lies between b and c
    d = e = b - a
    for _ in range(maxiter):
        if fb * fc > 0:
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):  # b is the best guess so far
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tolerance = 0.5 * (xtol + rtol * abs(b))
        middle = 0.5 * (c - b)
        if abs(middle) <= tolerance or fb == 0:
            return b
        if abs(e) >= tolerance and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:  # secant
                p, q = 2.0 * middle * s, 1.0 - s
            else:  # inverse quadratic interpolation
                q, r = fa / fc, fb / fc
                p = s * (2.0 * middle * q * (q - r) - (b - a) * (r - 1.0))
                q = (q - 1.0) * (r - 1.0) * (s - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if 2.0 * p < min(3.0 * middle * q - abs(tolerance * q), abs(e * q)):
                e, d = d, p / q
            else:
                d = e = middle
        else:
            d = e = middle
        a, fa = b, fb
        b += d if abs(d) > tolerance else (tolerance if middle > 0 else -tolerance)
        fb = f(b)
    raise ValueError(f"no root within {maxiter} iterations")
