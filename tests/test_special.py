"""semlang's own distribution functions, root finder and Cholesky routines (which spare an
ordinary fit the import of scipy) against scipy's."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
import scipy.special

from semlang import cholesky, roots, special

RNG = np.random.default_rng(20261207)
DFS = [0.5, 1, 2, 3, 7.3, 24, 100, 1000, 4950.5]


def test_normal_cdf_and_quantile():
    x = np.concatenate([RNG.normal(0, 3, 300), [-37.5, -20, -8.3, 0, 8.3, 20, np.nan]])
    np.testing.assert_allclose(special.ndtr(x), scipy.special.ndtr(x), rtol=1e-12, atol=0)
    p = np.concatenate([RNG.random(300), [1e-300, 1e-20, 0.025, 0.975, 0.995, 1 - 1e-12]])
    np.testing.assert_allclose(special.ndtri(p), scipy.special.ndtri(p), rtol=1e-12, atol=1e-15)
    assert special.ndtri(0.975) == scipy.special.ndtri(0.975)
    assert special.ndtri(0.0) == -math.inf and special.ndtri(1.0) == math.inf
    assert math.isnan(special.ndtri(1.5)) and isinstance(special.ndtr(0.3), float)


@pytest.mark.parametrize("df", DFS)
def test_chi_square_cdf_its_complement_and_quantile(df):
    for x in [1e-3, 0.5, 1, 5, df * 0.5, df, df * 1.3, df * 3, df + 50]:
        assert special.chdtr(df, x) == pytest.approx(scipy.special.chdtr(df, x), abs=1e-12)
        expected = scipy.special.chdtrc(df, x)
        assert special.chdtrc(df, x) == pytest.approx(expected, rel=1e-11, abs=1e-300)
    for q in [0.5, 0.05, 0.01, 1e-6]:
        assert special.chdtri(df, q) == pytest.approx(scipy.special.chdtri(df, q), rel=1e-12)
    assert special.chdtr(df, 0.0) == 0.0 and special.chdtrc(df, 0.0) == 1.0
    assert math.isnan(special.chdtrc(df, math.nan)) and math.isnan(special.chdtrc(0, 1.0))


@pytest.mark.parametrize("df", [1, 3, 24, 100, 1000, 4950])
def test_noncentral_chi_square_cdf(df):
    for ncp in [1e-3, 0.1, 1, 10, 85.3, 500, 3000, 2e4]:
        for x in [0.5, df, df + ncp, df + 0.7 * ncp, df + 1.4 * ncp, 3 * df + ncp]:
            expected = scipy.special.chndtr(x, df, ncp)
            assert special.chndtr(x, df, ncp) == pytest.approx(expected, abs=1e-10)
    assert special.chndtr(7.0, df, 0.0) == special.chdtr(df, 7.0)


def test_brent_finds_roots_as_scipy_does():
    for f, a, b in [
        (lambda x: math.cos(x) - x, 0.0, 1.0),
        (lambda x: x**3 - 2 * x - 5, 2.0, 3.0),
        (lambda x: math.exp(x) - 1e6, 0.0, 100.0),
        (lambda x: special.chndtr(85.3, 24, x) - 0.05, 0.0, 400.0),
    ]:
        expected = scipy.optimize.brentq(f, a, b, xtol=1e-12)
        assert roots.brentq(f, a, b, xtol=1e-12) == pytest.approx(expected, abs=2e-12)
    with pytest.raises(ValueError):
        roots.brentq(lambda x: x * x + 1, -1.0, 1.0)
    assert roots.brentq(lambda x: x, 0.0, 1.0) == 0.0


@pytest.mark.parametrize("n", [12, cholesky.LARGE])  # numpy's LAPACK, then scipy's
def test_cholesky_routines_match_scipys(n):
    a = RNG.normal(size=(n, n))
    spd = a @ a.T + n * np.eye(n)
    b = RNG.normal(size=(n, 3))
    for lower in (0, 1):
        ours, info = cholesky.dpotrf(spd, lower=lower)
        theirs, _ = scipy.linalg.lapack.dpotrf(spd, lower=lower)
        triangle = np.tril if lower else np.triu
        assert info == 0
        np.testing.assert_allclose(triangle(ours), triangle(theirs), rtol=1e-12, atol=1e-14)
        solved, info = cholesky.dpotrs(ours, b, lower=lower)
        np.testing.assert_allclose(solved, np.linalg.solve(spd, b), rtol=1e-10)
        inverse, info = cholesky.dpotri(ours, lower=lower)  # (LAPACK fills one triangle)
        expected = np.linalg.inv(spd)
        np.testing.assert_allclose(triangle(inverse), triangle(expected), rtol=1e-9, atol=1e-14)
    factor = cholesky.cho_factor(spd, lower=True)
    np.testing.assert_allclose(cholesky.cho_solve(factor, b), np.linalg.solve(spd, b), rtol=1e-10)
    x = cholesky.solve_triangular(factor[0], b, lower=True)
    np.testing.assert_allclose(np.tril(factor[0]) @ x, b, atol=1e-12)
    assert cholesky.dpotrf(-spd, lower=1)[1] > 0
    with pytest.raises(cholesky.LinAlgError):
        cholesky.cho_factor(-spd)
    with pytest.raises(ValueError):
        cholesky.cho_factor(np.full((2, 2), np.nan))
