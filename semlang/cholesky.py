"""Cholesky factors, solves and inverses in numpy, called as scipy.linalg and its LAPACK
wrappers are (``cho_factor``, ``cho_solve``, ``solve_triangular``, ``dpotrf``, ``dpotrs``,
``dpotri``).

Input: float matrices (a positive definite one, or its factor) and right-hand sides. Output: the
factor, solutions and inverse, with ``info`` (0, or > 0 when the matrix is not positive definite)
where the LAPACK routine returns one. Every fit factors its Hessian and implied covariance
matrices; done with numpy's LAPACK (``numpy.linalg``), an ordinary fit needs no scipy, whose
import costs more than the whole fit of a small model. Modules import this one under the names
they used for scipy's (``from semlang import cholesky as linalg``).

Matrices of :data:`LARGE` rows or more go to scipy's LAPACK (imported then): numpy has no
triangular solve nor ``potri``, and what stands in for them (``numpy.linalg.solve`` and
``inv``: LU factorizations of the triangular factor) costs O(n³) where a triangular solve
costs O(n²); for a model that large scipy's import is a small part of the work. Below it, unlike
LAPACK with ``clean=0``, the factor's other triangle is zero, and the solves give the same
solution to rounding.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

LinAlgError = np.linalg.LinAlgError
LARGE = 100  # rows from which scipy's LAPACK does the work


def _scipy_lapack() -> Any:
    from scipy.linalg import lapack

    return lapack


def _finite(*arrays: np.ndarray) -> None:
    for array in arrays:
        if not np.isfinite(array).all():
            raise ValueError("array must not contain infs or NaNs")


@functools.cache
def _lower_mask(n: int) -> np.ndarray:
    """Where the lower triangle of an n x n matrix is (made once per n: ``np.tril`` makes it
    on each call, which costs more than a small solve)."""
    mask = np.tri(n, dtype=bool)
    mask.flags.writeable = False
    return mask


def _tril(a: np.ndarray) -> np.ndarray:
    """``np.tril(a)`` of a square matrix."""
    return np.where(_lower_mask(len(a)), a, 0.0)


def _lower(factor: np.ndarray, lower: bool | int) -> np.ndarray:
    """L of A = L Lᵀ from a factor held in its lower (or, as Uᵀ, its upper) triangle."""
    return _tril(factor if lower else factor.T)


# ---- LAPACK's calling convention (scipy.linalg.lapack) ----------------------------------------


def dpotrf(
    a: np.ndarray, lower: bool | int = 0, clean: bool | int = 1, overwrite_a: bool | int = 0
) -> tuple[Any, int]:
    """(L, 0) with A = L Lᵀ (``lower``) or (U, 0) with A = UᵀU; (A, k > 0) when A is not
    positive definite."""
    if len(a) >= LARGE:
        return _scipy_lapack().dpotrf(a, lower=lower, clean=clean, overwrite_a=overwrite_a)
    try:
        factor = np.linalg.cholesky(a)
    except LinAlgError:
        return np.array(a, dtype=float), 1
    return (factor if lower else np.ascontiguousarray(factor.T)), 0


def dpotrs(c: np.ndarray, b: np.ndarray, lower: bool | int = 0) -> tuple[np.ndarray, int]:
    """(A⁻¹b, 0) from the factor of :func:`dpotrf`."""
    if len(c) >= LARGE:
        return _scipy_lapack().dpotrs(c, b, lower=lower)
    factor = _lower(c, lower)
    try:
        return np.linalg.solve(factor.T, np.linalg.solve(factor, b)), 0
    except LinAlgError:
        return np.array(b, dtype=float), 1


def dpotri(
    c: np.ndarray, lower: bool | int = 0, overwrite_c: bool | int = 0
) -> tuple[np.ndarray, int]:
    """(A⁻¹, 0) from the factor of :func:`dpotrf` (LAPACK fills one triangle, which is all its
    callers read; below :data:`LARGE` rows the whole matrix)."""
    if len(c) >= LARGE:
        return _scipy_lapack().dpotri(c, lower=lower, overwrite_c=overwrite_c)
    try:
        inverse = np.linalg.inv(_lower(c, lower))
    except LinAlgError:
        return np.array(c, dtype=float), 1
    return inverse.T @ inverse, 0


# ---- scipy.linalg's ---------------------------------------------------------------------------


def cho_factor(a: np.ndarray, lower: bool = False, check_finite: bool = True) -> tuple:
    """(factor, lower) of a positive definite matrix; LinAlgError when it is not one."""
    a = np.asarray(a, dtype=float)
    if check_finite:
        _finite(a)
    factor, info = dpotrf(a, lower=lower)
    if info:
        raise LinAlgError("the leading minor of the array is not positive definite")
    return factor, lower


def cho_solve(c_and_lower: tuple, b: np.ndarray, check_finite: bool = True) -> np.ndarray:
    """A⁻¹b from the ``(factor, lower)`` of :func:`cho_factor`."""
    c, lower = c_and_lower
    b = np.asarray(b, dtype=float)
    if check_finite:
        _finite(c, b)
    solved, info = dpotrs(c, b, lower=lower)
    if info:
        raise LinAlgError("singular factor")
    return solved


def solve_triangular(a: np.ndarray, b: np.ndarray, lower: bool = False) -> np.ndarray:
    """x with T x = b, T the lower (or upper) triangle of ``a``."""
    if len(a) >= LARGE:
        from scipy.linalg import solve_triangular as scipys

        return scipys(a, b, lower=lower)
    return np.linalg.solve(_tril(a) if lower else _tril(a.T).T, b)
