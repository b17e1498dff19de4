"""Rotation criteria: each maps a loading matrix L (p × m) to the value Q(L) and its gradient dQ/dL.

The gradient projection algorithm (:mod:`semlang.efa.rotation`) minimizes Q over rotations; the
definitions (and their scaling, which matters for the stationarity conditions that the standard
errors use) are those of lavaan 0.6.14 and GPArotation. Every criterion takes the loadings and
the keyword parameters it needs and returns ``(value, gradient)``. Every criterion also takes a
stack of loading matrices (shape (..., p, m)) and then returns one value per matrix, so that many
starting rotations run together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Criterion = Callable[..., tuple[float, np.ndarray]]


def orthomax(L: np.ndarray, *, orthomax_gamma: float = 1.0, **_) -> tuple[float, np.ndarray]:
    """Orthomax family: −¼ Σ L²(L² − γ·column means of L²); γ=0 quartimax, γ=1 varimax."""
    L2 = L * L
    centred = L2 - orthomax_gamma * L2.mean(axis=-2, keepdims=True)
    return -_total(L2 * centred) / 4.0, -L * centred


def quartimax(L: np.ndarray, **_) -> tuple[float, np.ndarray]:
    """Quartimax: −¼ Σ L⁴."""
    L2 = L * L
    return -_total(L2 * L2) / 4.0, -L * L2


def varimax(L: np.ndarray, **_) -> tuple[float, np.ndarray]:
    """Varimax: −¼ |Σ L²(L² − column means of L²)| (lavaan takes the absolute value)."""
    L2 = L * L
    centred = L2 - L2.mean(axis=-2, keepdims=True)
    return -np.abs(_total(L2 * centred)) / 4.0, -L * centred


def _other_columns(L2: np.ndarray) -> np.ndarray:
    """For each entry, the sum of the squared loadings of the same row in the other columns."""
    return L2.sum(axis=-1, keepdims=True) - L2


def _total(x: np.ndarray):
    """The sum over the last two axes: a float for one matrix, an array for a stack."""
    out = x.sum(axis=(-2, -1))
    return float(out) if out.ndim == 0 else out


def quartimin(L: np.ndarray, **_) -> tuple[float, np.ndarray]:
    """Quartimin: ¼ Σ_i Σ_{j≠k} L²_ij L²_ik."""
    L2 = L * L
    LR = _other_columns(L2)
    return _total(L2 * LR) / 4.0, L * LR


def oblimin(L: np.ndarray, *, oblimin_gamma: float = 0.0, **_) -> tuple[float, np.ndarray]:
    """Oblimin(γ): quartimin with the row sums of the other columns centred by γ × their mean."""
    L2 = L * L
    LR = _other_columns(L2)
    centred = LR - oblimin_gamma * LR.mean(axis=-2, keepdims=True)
    return _total(L2 * centred) / 4.0, L * centred


def crawford_ferguson(L: np.ndarray, *, cf_gamma: float = 0.0, **_) -> tuple[float, np.ndarray]:
    """Crawford-Ferguson(κ): (1−κ) × row complexity + κ × column complexity (each ¼ Σ ...)."""
    L2 = L * L
    LR = _other_columns(L2)
    LC = L2.sum(axis=-2, keepdims=True) - L2
    value = (1.0 - cf_gamma) * _total(L2 * LR) / 4.0 + cf_gamma * _total(L2 * LC) / 4.0
    return value, (1.0 - cf_gamma) * L * LR + cf_gamma * L * LC


def geomin(L: np.ndarray, *, geomin_epsilon: float = 0.001, **_) -> tuple[float, np.ndarray]:
    """Geomin(ε): Σ_i (Π_j (L²_ij + ε))^(1/m), each row's geometric mean as exp(log(Π)/m) (one
    logarithm per row; lavaan sums the m logarithms, the same to rounding) or, for ε below
    √machine ε, as Π^(1/m) (Yates's form, as lavaan)."""
    m = L.shape[-1]
    L2 = L * L + geomin_epsilon
    product = _row_products(L2)
    if geomin_epsilon < np.sqrt(np.finfo(float).eps):
        rows = product ** (1.0 / m)
    else:
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            logs = np.log(product)
        if not np.isfinite(np.add.reduce(logs, axis=None)):  # a product beyond double range
            logs = np.log(L2).sum(axis=-1)
        rows = np.exp(logs / m)
    value = rows.sum(axis=-1)
    return (float(value) if value.ndim == 0 else value), (2.0 / m) * L / L2 * rows[..., None]


def _row_products(x: np.ndarray) -> np.ndarray:
    """The product over the last axis, multiplied in order (as numpy's reduction of an axis
    shorter than 8 does, without its cost per row)."""
    if x.shape[-1] >= 8:
        return np.prod(x, axis=-1)
    out = x[..., 0]
    for j in range(1, x.shape[-1]):
        out = out * x[..., j]
    return out


def entropy(L: np.ndarray, **_) -> tuple[float, np.ndarray]:
    """Minimum entropy: −½ Σ L² log L² (zero loadings count as 1)."""
    L2 = L * L
    L2 = np.where(L2 == 0.0, 1.0, L2)
    logs = np.log(L2)
    return -_total(L2 * logs) / 2.0, -L * logs - L


def bentler(L: np.ndarray, **_) -> tuple[float, np.ndarray]:
    """Bentler's invariant pattern simplicity: −¼ (log|L²ᵀL²| − log|diag(L²ᵀL²)|)."""
    L2 = L * L
    cross = np.swapaxes(L2, -1, -2) @ L2
    _, logdet = np.linalg.slogdet(cross)
    diagonal = np.diagonal(cross, axis1=-2, axis2=-1)
    value = -(logdet - np.sum(np.log(diagonal), axis=-1)) / 4.0
    inner = np.linalg.inv(cross) - np.eye(L.shape[-1]) / diagonal[..., None, :]
    return (float(value) if np.ndim(value) == 0 else value), -L * (L2 @ inner)


def oblimax(L: np.ndarray, **_) -> tuple[float, np.ndarray]:
    """Oblimax: −log Σ L⁴ + 2 log Σ L²."""
    L2 = L * L
    s4, s2 = _total(L2 * L2), _total(L2)
    grad = -4.0 * L2 * L / np.expand_dims(s4, (-2, -1)) + 4.0 * L / np.expand_dims(s2, (-2, -1))
    return -np.log(s4) + 2.0 * np.log(s2), grad


def target(L: np.ndarray, *, target: np.ndarray, **_) -> tuple[float, np.ndarray]:
    """Target: Σ (L − target)² over the entries whose target is not NaN."""
    diff = L - target
    free = np.isnan(diff)
    diff = np.where(free, 0.0, diff)
    return _total(diff * diff), 2.0 * diff


def pst(
    L: np.ndarray, *, target: np.ndarray, target_mask: np.ndarray, **_
) -> tuple[float, np.ndarray]:
    """Partially specified target: Σ mask·(L − target)² (mask 1 where the target is specified)."""
    diff = target_mask * L - target_mask * np.nan_to_num(target)
    return _total(diff * diff), 2.0 * diff


def _without_first(criterion: Criterion) -> Criterion:
    def bifactor(L: np.ndarray, **params) -> tuple[float, np.ndarray]:
        value, grad = criterion(L[..., 1:], **params)
        return value, np.concatenate([np.zeros_like(L[..., :1]), grad], axis=-1)

    bifactor.__doc__ = f"Bi-factor {criterion.__name__}: the criterion on all but the first column."
    return bifactor


biquartimin = _without_first(quartimin)
bigeomin = _without_first(geomin)


def simplimax(L: np.ndarray, *, simplimax_k: int | None = None, **_) -> tuple[float, np.ndarray]:
    """Simplimax(k): the sum of the k smallest squared loadings (k = p by default)."""
    L2 = L * L
    k = L.shape[-2] if simplimax_k is None else simplimax_k
    flat = L2.reshape(*L2.shape[:-2], -1)
    small = np.sort(flat, axis=-1)[..., k - 1]
    chosen = (np.expand_dims(small, (-2, -1)) >= L2).astype(float)
    return _total(L2 * chosen), 2.0 * chosen * L


def _plogp(x: np.ndarray) -> float:  # infomax and mccammon take one matrix at a time
    x = x[x > 0]
    return -float(np.sum(x * np.log(x)))


def infomax(L: np.ndarray, **_) -> tuple[float, np.ndarray]:
    """Infomax: log m + H(L²/ΣL²) − H(column shares) − H(row shares), H the entropy."""
    p, m = L.shape
    L2 = L * L
    total, rows, cols = float(L2.sum()), L2.sum(axis=1), L2.sum(axis=0)
    value = np.log(m) + _plogp(L2 / total) - _plogp(cols / total) - _plogp(rows / total)
    h = -(np.log(L2 / total) + 1.0)
    g1 = h / total - float(np.sum(L2 * h)) / total**2
    hc = -(np.log(cols / total) + 1.0)
    g2 = np.broadcast_to(hc / total - float(hc @ cols) / total**2, (p, m))
    hr = -(np.log(rows / total) + 1.0)
    g3 = np.broadcast_to((hr / total - float(rows @ hr) / total**2)[:, None], (p, m))
    return float(value), 2.0 * L * (g1 - g2 - g3)


def mccammon(L: np.ndarray, **_) -> tuple[float, np.ndarray]:
    """McCammon's minimum entropy ratio: log H(within columns) − log H(column shares)."""
    p, m = L.shape
    L2 = L * L
    total, cols = float(L2.sum()), L2.sum(axis=0)
    q1, q2 = _plogp(L2 / cols), _plogp(cols / total)
    h = -(np.log(L2 / cols) + 1.0)
    g1 = h / cols - np.sum(L2 * h, axis=0) / cols**2
    hc = -(np.log(cols / total) + 1.0)
    g2 = np.broadcast_to(hc / total - float(hc @ cols) / total**2, (p, m))
    return float(np.log(q1) - np.log(q2)), 2.0 * L * (g1 / q1 - g2 / q2)


def tandem1(L: np.ndarray, **_) -> tuple[float, np.ndarray]:
    """Comrey's tandem criterion I."""
    L2 = L * L
    LL = L @ L.T
    LL2 = LL * LL
    inner = LL2 @ L2
    grad = -4.0 * L * inner - 4.0 * (LL * (L2 @ L2.T)) @ L
    return -float(np.sum(L2 * inner)), grad


def tandem2(L: np.ndarray, **_) -> tuple[float, np.ndarray]:
    """Comrey's tandem criterion II."""
    L2 = L * L
    LL = L @ L.T
    LL2 = LL * LL
    inner = (1.0 - LL2) @ L2
    grad = 4.0 * L * inner - 4.0 * (LL * (L2 @ L2.T)) @ L
    return float(np.sum(L2 * inner)), grad


def _stacked(criterion: Criterion) -> Criterion:
    """A criterion written for one matrix, applied to each matrix of a stack."""

    def each(L: np.ndarray, **params) -> tuple[Any, np.ndarray]:
        if L.ndim == 2:
            return criterion(L, **params)
        results = [criterion(one, **params) for one in L]
        return np.array([r[0] for r in results]), np.stack([r[1] for r in results])

    each.__doc__ = criterion.__doc__
    return each


CRITERIA: dict[str, Criterion] = {
    "orthomax": orthomax,
    "quartimax": quartimax,
    "varimax": varimax,
    "quartimin": quartimin,
    "oblimin": oblimin,
    "cf": crawford_ferguson,
    "geomin": geomin,
    "entropy": entropy,
    "bentler": bentler,
    "oblimax": oblimax,
    "target": target,
    "pst": pst,
    "biquartimin": biquartimin,
    "bigeomin": bigeomin,
    "simplimax": simplimax,
    "infomax": _stacked(infomax),
    "mccammon": _stacked(mccammon),
    "tandem1": _stacked(tandem1),
    "tandem2": _stacked(tandem2),
}

# the named members of the Crawford-Ferguson family: κ from p (rows) and m (factors)
CF_KAPPA: dict[str, Callable[[int, int], float]] = {
    "cf-quartimax": lambda p, m: 0.0,
    "cf-varimax": lambda p, m: 1.0 / p,
    "cf-equamax": lambda p, m: m / (2.0 * p),
    "cf-parsimax": lambda p, m: (m - 1.0) / (p + m - 2.0),
    "cf-facparsim": lambda p, m: 1.0,
}
