"""The vectorized bivariate normal distribution against Plackett's integral and exact cases."""

from __future__ import annotations

import numpy as np
from scipy import integrate
from scipy.special import ndtr

from semlang.categorical.bvn import bvn_cdf, bvn_pdf


def _plackett(h: float, k: float, r: float) -> float:
    """Φ2(h, k; r) = Φ(h)Φ(k) + ∫_0^r φ2(h, k; s) ds, by adaptive quadrature."""

    def density(s):
        return np.exp(-(h * h - 2 * s * h * k + k * k) / (2 * (1 - s * s))) / (
            2 * np.pi * np.sqrt(1 - s * s)
        )

    value, _ = integrate.quad(density, 0.0, r, epsabs=1e-14, epsrel=1e-13, limit=200)
    return float(ndtr(h) * ndtr(k) + value)


def test_cdf_matches_the_integral_to_1e_12_in_every_branch():
    rng = np.random.default_rng(7)
    h = rng.normal(scale=2.0, size=120)
    k = rng.normal(scale=2.0, size=120)
    # |r| below 0.3, 0.75, 0.925 and above: the three quadrature orders and the large-r branch
    r = np.tile([0.1, -0.2, 0.5, -0.7, 0.9, -0.92, 0.95, -0.99, 0.999, -0.999], 12)
    values = bvn_cdf(h, k, r)
    expected = [_plackett(a, b, c) for a, b, c in zip(h, k, r, strict=True)]
    assert np.max(np.abs(values - expected)) < 1e-12


def test_exact_cases():
    assert abs(bvn_cdf(0.0, 0.0, 0.5) - (0.25 + np.arcsin(0.5) / (2 * np.pi))) < 1e-15
    assert abs(bvn_cdf(0.3, -0.4, 0.0) - ndtr(0.3) * ndtr(-0.4)) < 1e-15
    np.testing.assert_allclose(
        bvn_cdf([np.inf, 0.7, -np.inf, np.inf], [0.7, np.inf, 0.2, np.inf], 0.6),
        [ndtr(0.7), ndtr(0.7), 0.0, 1.0],
        atol=1e-16,
    )
    assert bvn_pdf(np.inf, 0.0, 0.3) == 0.0
    assert abs(bvn_pdf(0.0, 0.0, 0.0) - 1 / (2 * np.pi)) < 1e-16
