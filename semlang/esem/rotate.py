"""The unrotated ESEM solution -> the rotated one, as lavaan 0.6.14 does it.

Input: a compiled model with efa blocks, its estimates θ̂ (unrotated: the identification of
:mod:`semlang.partable.efa_blocks`), the exo values and the :class:`RotationSettings`. Output:
the compiled model of the rotated table (the identification rows freed) and its θ: each block's
loadings are rotated (:func:`semlang.efa.rotation.rotate`, on the loadings standardized by the
indicators' variances ΛΛᵀ + Θ as lavaan's std.ov, its factors first reflected to lavaan's signs),
and the whole model is carried along: with H the block's rotation matrix (the reflections D
included: DH; identity elsewhere) the latent variables become η* = Hᵀη, so loadings
Λ* = ΛH⁻ᵀ, (co)variances Ψ* = HᵀΨH, regressions B* = HᵀBH⁻ᵀ, means α* = Hᵀα — in RAM form
A* = KAK⁻¹, S* = KSKᵀ, m* = Km with K = diag(I, Hᵀ).

:func:`stationarity` gives the conditions the rotated solution satisfies (the rotation
criterion's first-order conditions, lavaan's ``lav_model_efa_rotate_border_x``), as a function
of θ of the rotated table, whose Jacobian borders the information matrix for the standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from semlang.compile.model import CompiledModel, compile_model
from semlang.compile.ram import fill_matrices
from semlang.esem.settings import RotationSettings
from semlang.partable.efa_blocks import equal_loadings, rotated_table
from semlang.syntax.ast import Op


@dataclass(frozen=True)
class BlockRotation:
    """One efa block of one group: where it sits in the RAM matrices and its rotation."""

    layout: int  # index of the layout (group)
    name: str
    indicators: np.ndarray  # RAM indices of the indicators
    factors: np.ndarray  # RAM indices of the factors
    rotation: Any  # semlang.efa.rotation.Rotation
    # whether its first-order conditions restrict the standard errors (lavaan: not in groups
    # 2, 3, ... with equal loadings, whose rotation group 1's echelon zeros already fix)
    constrained: bool = True


def _sets_of(model: CompiledModel, k: int):
    layout = model.layouts[k]
    index = {name: i for i, name in enumerate(layout.variables)}
    for efa in model.table.efa_sets:
        if efa.level != layout.level or len(efa.factors) < 1:
            continue
        rows = np.array([index[v] for v in efa.indicators], dtype=np.intp)
        cols = np.array([index[f] for f in efa.factors], dtype=np.intp)
        yield efa.name, rows, cols


def _ov_var(A: np.ndarray, S: np.ndarray, rows, cols) -> np.ndarray:
    """lavaan's std.ov variances: diag(ΛΛᵀ + Θ) of the block (Ψ taken as the identity)."""
    L = A[np.ix_(rows, cols)]
    return np.sum(L * L, axis=1) + np.diag(S)[rows]


def _corner_signs(loadings: np.ndarray) -> np.ndarray:
    """±1 per factor, so that the k-th factor's first free loading (its k-th) is positive: the
    signs of lavaan's unrotated solution, which starts from an EFA in that corner form. A
    criterion that is not blind to reflections (a target) depends on them."""
    m = loadings.shape[1]
    head = np.diag(loadings[:m, :m]) if loadings.shape[0] >= m else np.ones(m)
    return np.where(head < 0, -1.0, 1.0)


def rotate_model(model: CompiledModel, theta: np.ndarray, exo, settings: RotationSettings,
                 residuals=None):  # fmt: skip
    """The rotated table's compiled model, its θ, the rotation of every block and the pairs of
    θ indices that are equal (see :func:`~semlang.partable.efa_blocks.rotated_table`).
    ``residuals(k, θ)``: the S matrix of layout k whose diagonal the std.ov variances take (for
    ordered indicators the derived residual variances, as lavaan's), None: the filled S."""
    from semlang.efa.rotation import rotate

    table, pairs = rotated_table(model.table, settings.orthogonal)
    rotated = compile_model(table)
    later_free = equal_loadings(model.table)
    theta_rot = np.full(rotated.n_theta, np.nan)
    blocks: list[BlockRotation] = []
    for k, layout in enumerate(model.layouts):
        A, S, m = fill_matrices(layout, theta, exo[k] if exo is not None else None)
        K = np.eye(layout.n)
        for name, rows, cols in _sets_of(model, k):
            signs = _corner_signs(A[np.ix_(rows, cols)])
            loadings = A[np.ix_(rows, cols)] * signs
            S_var = S if residuals is None else residuals(k, theta)
            ov_var = _ov_var(A, S_var, rows, cols) if settings.std_ov else None
            result = rotate(loadings, settings.method, ov_var=ov_var, **settings.rotate_kwargs())
            K[np.ix_(cols, cols)] = result.rotation_matrix.T * signs
            constrained = not (later_free and layout.group > 1)
            blocks.append(BlockRotation(k, name, rows, cols, result, constrained))
        _carry(K, A, S, m, rotated.layouts[k], theta_rot)
    _copy_unrotated(model.table, table, theta, theta_rot)
    return rotated, theta_rot, tuple(blocks), pairs


def _copy_unrotated(old_table, new_table, theta: np.ndarray, theta_out: np.ndarray) -> None:
    """The free parameters outside the RAM matrices (thresholds, scale factors of ordered
    variables), which a rotation leaves as they are, copied row by row."""
    for old, new in zip(old_table.rows, new_table.rows, strict=True):
        if new.is_free and old.is_free and np.isnan(theta_out[new.free - 1]):
            theta_out[new.free - 1] = theta[old.free - 1]


def _carry(K: np.ndarray, A, S, m, target, theta_out: np.ndarray) -> None:
    """A* = KAK⁻¹, S* = KSKᵀ, m* = Km read into θ of the ``target`` layout's free entries."""
    K_inv = np.linalg.inv(K)
    A2, S2, m2 = K @ A @ K_inv, K @ S @ K.T, K @ m
    for entries, matrix in ((target.A_free, A2), (target.S_free, S2)):
        theta_out[entries.theta] = matrix[entries.rows, entries.cols]
    theta_out[target.m_free.theta] = m2[target.m_free.rows]


def reflect_model(model: CompiledModel, theta: np.ndarray, exo) -> np.ndarray | None:
    """θ of the unrotated solution with every block's factors reflected to lavaan's signs
    (:func:`_corner_signs`), or None when they have them already (``rotation="none"``)."""
    out = np.array(theta, dtype=float)
    changed = False
    for k, layout in enumerate(model.layouts):
        A, S, m = fill_matrices(layout, theta, exo[k] if exo is not None else None)
        K = np.eye(layout.n)
        for _, rows, cols in _sets_of(model, k):
            signs = _corner_signs(A[np.ix_(rows, cols)])
            K[cols, cols] = signs
            changed = changed or bool(np.any(signs < 0))
        _carry(K, A, S, m, layout, out)
    return out if changed else None


def stationarity(
    rotated: CompiledModel,
    theta: np.ndarray,
    blocks: tuple[BlockRotation, ...],
    settings: RotationSettings,
    residuals=None,
) -> np.ndarray:
    """The rotation criterion's first-order conditions at θ of the rotated table (zero at the
    rotated estimates), every block's one after the other (``residuals``: as
    :func:`rotate_model`'s, of the rotated model)."""
    return stationarity_stack(rotated, np.asarray(theta)[None, :], blocks, settings, residuals)[0]


def stationarity_stack(rotated, thetas: np.ndarray, blocks, settings, residuals=None):
    """:func:`stationarity` at every row of ``thetas``: one row of conditions each, every
    block's conditions of all the rows from one evaluation."""
    from semlang.efa.rotation import stationarity as conditions

    out = []
    filled: dict[int, tuple] = {}
    for block in blocks:
        if block.factors.size < 2 or not block.constrained:
            continue
        k = block.layout
        if k not in filled:
            layout = rotated.layouts[k]
            matrices = [fill_matrices(layout, theta) for theta in thetas]
            A = np.stack([a for a, _, _ in matrices])
            S = np.stack([s for _, s, _ in matrices])
            wanted = settings.std_ov and residuals is not None
            S_var = _residual_stack(residuals, k, thetas) if wanted else S
            filled[k] = (A, S, S_var)
        A, S, S_var = filled[k]
        rows, cols = block.indicators, block.factors
        loadings, psi = A[:, rows][:, :, cols], S[:, cols][:, :, cols]
        ov_var = None
        if settings.std_ov:  # (as _ov_var: diag(ΛΛᵀ + Θ) of the block)
            ov_var = np.sum(loadings * loadings, axis=2) + S_var[:, rows, rows]
        out.append(conditions(loadings, psi, block.rotation, ov_var=ov_var))
    return np.concatenate(out, axis=1) if out else np.zeros((len(thetas), 0))


def stationarity_jacobian(rotated, theta, blocks, settings, step: float = 1e-4,
                          residuals=None) -> np.ndarray:  # fmt: skip
    """d stationarity / dθ by central differences with one Richardson extrapolation (steps h
    and h/2, h = step·max(1, |θ_j|)), all the points evaluated at once. Thresholds enter no
    condition: their columns are 0 without evaluating."""
    theta = np.asarray(theta, dtype=float)
    skip = {row.free - 1 for row in rotated.table.rows
            if row.is_free and row.op is Op.THRESHOLD}  # fmt: skip
    index = np.array([j for j in range(theta.size) if j not in skip], dtype=np.intp)
    n = index.size
    h = step * np.maximum(1.0, np.abs(theta[index]))
    offsets = np.array([0.5, -0.5, 1.0, -1.0])  # θ_j ± h/2, θ_j ± h
    points = np.repeat(theta[None, :], 4 * n, axis=0)
    for k, offset in enumerate(offsets):
        points[k::4][np.arange(n), index] += offset * h
    values = stationarity_stack(rotated, points, blocks, settings, residuals)
    values = values.reshape(n, 4, -1)
    half = (values[:, 0] - values[:, 1]) / (2 * (h / 2))[:, None]
    full = (values[:, 2] - values[:, 3]) / (2 * h)[:, None]
    out = np.zeros((values.shape[2], theta.size))
    out[:, index] = ((4 * half - full) / 3).T
    return out


def _residual_stack(residuals, k: int, thetas: np.ndarray) -> np.ndarray:
    """``residuals(k, θ)`` at every row of ``thetas`` (at once where it has a ``stack``)."""
    stack = getattr(residuals, "stack", None)
    if stack is not None:
        return stack(k, thetas)
    return np.stack([residuals(k, theta) for theta in thetas])
