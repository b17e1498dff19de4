"""Two fits of nested models -> Satorra's (2000) scaled-and-shifted difference test, lavaan's
``lavTestLRT(..., method = "satorra.2000")`` (its default for MLMV and MLMVS fits).

Input: the less restricted fit (model 1, fewer df) and the more restricted one (model 0), both
ML on complete data. Output: :class:`Satorra2000` (statistic, df, scale a and shift b).

What is computed, all about model 1 (moments m = (μ, vech Σ) per group, Δ_g = dm_g/dφ at
model 1's estimates, f_g = n_g/N):

* the restrictions: H = Δ1⁺ Δ0 (Δ1, Δ0 the two models' Δ_g stacked, each at its own estimates;
  ⁺ the pseudo-inverse) spans model 0's directions in model 1's parameters, and the rows of A,
  an orthonormal basis of the orthogonal complement of H's columns, are the Jacobian of the
  r0 − r1 constraints that turn model 1 into model 0 (rows with A P⁻¹ Aᵀ zero are dropped);
* P the unit information of model 1 (its options' information), M = P⁻¹ Aᵀ (A P⁻¹ Aᵀ)⁺ A P⁻¹;
* U = V Δ1 M Δ1ᵀ V with V = ⊕_g W_g (W_g: the family's weights, for ML the h1 information at
  model 1's implied moments) and
  Γ = ⊕_g f_g Γ_g (Γ_g the ADF covariance of the moments); t1 = tr(UΓ), t2 = tr((UΓ)²);
* with m = r0 − r1: a = √(m/t2), b = m − a·t1 and the statistic (T0 − T1)·a + b on m df.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import null_space

from semlang.matrices import block_diagonal
from semlang.results.robust import _bread_inverse, _gamma, _groups

__all__ = ["Satorra2000", "satorra_2000"]

_EMPTY = np.finfo(float).eps ** 0.5


@dataclass(frozen=True)
class Satorra2000:
    """The scaled-and-shifted difference: statistic, df, scale (a) and shift (b)."""

    stat: float
    df: float
    scale: float
    shift: float


def constraint_jacobian(less, more) -> np.ndarray:
    """A: rows orthogonal to model 0's directions H = Δ1⁺ Δ0 in model 1's parameters."""
    delta1 = np.vstack([g.delta for g in _groups(less)])
    delta0 = np.vstack([g.delta for g in _groups(more)])
    h = np.linalg.pinv(delta1) @ delta0
    return null_space(h.T).T


def _projection(a: np.ndarray, p_inv: np.ndarray) -> np.ndarray:
    """M = P⁻¹ Aᵀ (A P⁻¹ Aᵀ)⁺ A P⁻¹, the rows of A that P⁻¹ leaves empty dropped."""
    apa = a @ p_inv @ a.T
    empty = (np.abs(apa.sum(axis=0)) < _EMPTY) & (np.abs(apa.sum(axis=1)) < _EMPTY)
    a = a[~empty]
    pa = p_inv @ a.T
    return pa @ np.linalg.pinv(a @ pa) @ pa.T


def traces(less, more) -> tuple[float, float]:
    """tr(UΓ) and tr((UΓ)²) of the difference (see the module docstring)."""
    if hasattr(less.family, "difference_traces"):  # a family with statistics of its own
        return less.family.difference_traces(less, more)
    groups = _groups(less)
    m = _projection(constraint_jacobian(less, more), _bread_inverse(less))
    v = block_diagonal(*less.moment_weights)
    delta = np.vstack([g.delta for g in groups])
    vd = v @ delta
    u = vd @ m @ vd.T
    gamma = block_diagonal(*[g.weight * _gamma(g) for g in groups])
    product = u @ gamma
    return float(np.trace(product)), float(np.sum(product * product.T))


def satorra_2000(less, more, chisq_less: float, chisq_more: float, df: float) -> Satorra2000:
    """Satorra's (2000) scaled-and-shifted test of ``more`` against ``less`` on ``df`` (= r0 − r1)
    degrees of freedom, from the unscaled statistics of the two fits."""
    if df == 0:
        return Satorra2000(chisq_more - chisq_less, df, math.nan, math.nan)
    t1, t2 = traces(less, more)
    a = math.sqrt(df / t2)
    b = df - a * t1
    return Satorra2000((chisq_more - chisq_less) * a + b, df, a, b)
