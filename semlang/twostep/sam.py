"""Structural-after-measurement, lavaan's ``sam(sam.method = "local")`` (Rosseel & Loh).

Input: model text, data and options. Output: an :class:`~semlang.twostep.result.FsrResult` with
every row of the model: measurement rows from step 1, structural rows from step 2, two-step
standard errors for the latter.

Step 1 fits each measurement block on its own (:mod:`semlang.twostep.split`; one block per latent
variable, as lavaan's default ``mm.list``). Their loadings Λ and residual covariances Θ (an
observed variable of the structural part enters as its own "latent" variable, loading 1, no
error) give the mapping M = (Λ'Θ⁻¹Λ)⁻¹Λ'Θ⁻¹ and the latent moments
``Var(η) = M S M' − M Θ M'`` (S: sample covariance, divisor N) — with lavaan's guard: when the
smallest root λ of |M S M' − λ M Θ M'| is below 1 + 1/(N−1), M Θ M' is scaled by λ − 1/(N−1)
so that Var(η) stays positive definite — and ``E[η] = M (ȳ − ν)`` with a mean structure.
Step 2 fits the structural model to these moments by ML (``fixed.x = FALSE``); with ``std_lv``
the covariance matrix is first turned into a correlation matrix, as lavaan does.

Two-step standard errors: with I the expected information (per observation) of the full model at
the step-1 and step-2 estimates, split into the step-1 (measurement) and step-2 (structural)
parameters, and Σ₁₁ the step-1 covariance matrix (block by block),
``V₂ = I₂₂⁻¹ / N + I₂₂⁻¹ I₂₁ Σ₁₁ I₁₂ I₂₂⁻¹``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from semlang.errors import NotSupportedError
from semlang.twostep import common
from semlang.twostep.result import FsrResult, standardized, structural_standard_errors, wald
from semlang.twostep.split import (
    ModelSplit,
    definitions_text,
    render,
    split_model,
    structural_starts,
)


def sam(model: str, data: Any, **options: Any) -> FsrResult:
    """Local structural-after-measurement with two-step standard errors (lavaan's ``sam()``)."""
    import semlang

    compiled = semlang.compile_model(model, "sem", **options)
    table = compiled.table
    if str(options.get("missing", "listwise")).lower() in ("fiml", "ml", "direct"):
        raise NotSupportedError(
            "sam() uses complete rows (listwise deletion)",
            table.source,
            hint="drop missing='fiml', or use semlang.fsr(..., method='croon'), which scores FIML",
        )
    split = split_model(table)
    frame = common.complete_rows(common.as_frame(data), table.observed)
    n = len(frame)
    ms = bool(table.meanstructure)
    block_options = common.part_options(options, meanstructure=ms)
    measurement = common.measurement_fit(
        split, [b.latent for b in split.blocks], frame, block_options
    )
    veta, eeta = latent_moments(split, measurement, frame, ms)
    if table.options.std_lv:  # lavaan: the latent variables' moments as correlations
        sd = np.sqrt(np.diag(veta))
        veta = veta / np.outer(sd, sd)
    structural = common.fit_text(
        render(split.structural_rows, True, starts=structural_starts(split, veta, eeta))
        + definitions_text(split),
        common.moment_frame(split.structural_variables, veta, eeta, n),
        common.part_options(options, meanstructure=ms, fixed_x=False, se="none"),
    )
    joint = compiled if not any(r.exo for r in table.rows) else _random_x(model, options)
    return _result(joint, split, measurement, structural, n, veta)


def latent_moments(split: ModelSplit, measurement, frame, meanstructure: bool):
    """(Var(η), E[η]) of the structural variables from the step-1 fits and the sample."""
    names = split.indicators + split.observed_structural
    k = len(split.structural_variables)
    p = len(names)
    lam, theta, nu = np.zeros((p, k)), np.zeros((p, p)), np.zeros(p)
    row = {name: i for i, name in enumerate(names)}
    col = {name: j for j, name in enumerate(split.structural_variables)}
    for block in split.blocks:
        ri = [row[n] for n in block.indicators]
        ci = [col[f] for f in block.latent]
        lam_b, theta_b, nu_b = common.measurement_matrices(
            measurement, block.latent, block.indicators
        )
        lam[np.ix_(ri, ci)] = lam_b
        theta[np.ix_(ri, ri)] = theta_b
        nu[ri] = nu_b
    for name in split.observed_structural:
        lam[row[name], col[name]] = 1.0
    values = frame[list(names)].to_numpy(dtype=float)
    mean = values.mean(axis=0)
    centered = values - mean
    cov = centered.T @ centered / len(values)
    M = mapping(lam, theta, [row[n] for n in split.observed_structural])
    msm, mtm = M @ cov @ M.T, M @ theta @ M.T
    n = len(values)
    root = smallest_root(msm, mtm)
    scale = root - 1.0 / (n - 1) if root < 1.0 + 1.0 / (n - 1) else 1.0
    veta = msm - scale * mtm
    eeta = M @ (mean - nu) if meanstructure else np.zeros(k)
    return (veta + veta.T) / 2, eeta


def mapping(lam: np.ndarray, theta: np.ndarray, dummies: list[int]) -> np.ndarray:
    """M = (Λ'Θ⁻¹Λ)⁻¹Λ'Θ⁻¹, error-free rows (observed structural variables) passed through."""
    zero = np.abs(np.diag(theta)) < 1e-6
    theta_inv = np.zeros_like(theta)
    keep = np.flatnonzero(~zero)
    theta_inv[np.ix_(keep, keep)] = np.linalg.inv(theta[np.ix_(keep, keep)])
    theta_inv[zero, zero] = 1.0
    M = np.linalg.solve(lam.T @ theta_inv @ lam, lam.T @ theta_inv)
    for i in dummies:
        j = int(np.flatnonzero(lam[i])[0])
        M[j] = 0.0
        M[j, i] = 1.0
    return M


def smallest_root(msm: np.ndarray, mtm: np.ndarray) -> float:
    """The smallest λ with det(MSM − λ MTM) = 0; error-free dimensions are partialled out."""
    mtm = mtm.copy()
    diagonal = np.diag(mtm).copy()
    diagonal[diagonal < 0] = 0.0
    np.fill_diagonal(mtm, diagonal)
    zero = np.abs(diagonal) < np.sqrt(np.finfo(float).eps)
    if zero.all():
        return 0.0
    keep, drop = np.flatnonzero(~zero), np.flatnonzero(zero)
    m = msm[np.ix_(keep, keep)]
    if drop.size:
        m = m - msm[np.ix_(keep, drop)] @ np.linalg.solve(
            msm[np.ix_(drop, drop)], msm[np.ix_(drop, keep)]
        )
    return float(scipy.linalg.eigh(m, mtm[np.ix_(keep, keep)], eigvals_only=True)[0])


# ---- two-step standard errors and the table ------------------------------------------------
def _random_x(model: str, options: dict[str, Any]):
    """The full model with the moments of its exogenous covariates as free parameters."""
    import semlang

    kept = {k: v for k, v in options.items() if k.replace(".", "_") != "fixed_x"}
    return semlang.compile_model(model, "sem", fixed_x=False, **kept)


def _result(joint, split, measurement, structural, n, veta) -> FsrResult:
    joint_free = common.free_index(joint.table)
    values = {**common.row_values(measurement), **common.row_values(structural)}
    theta = np.zeros(joint.n_theta)
    for k, index in joint_free.items():
        theta[index] = values[k]
    moments = joint.implied(theta)[0]
    d_sigma, d_mu = moments.dsigma_dtheta(joint.n_theta)
    info = common.expected_information(
        moments.sigma, d_sigma, d_mu if split.table.meanstructure else None
    )
    step2 = [common.key(r) for r in split.structural_rows if r.is_free and not r.exo]
    s2 = sorted({joint_free[k] for k in step2})
    s1, sigma11, block_se = _step1(split, measurement, joint_free, set(s2))
    i22_inv = np.linalg.inv(info[np.ix_(s2, s2)])
    i21 = info[np.ix_(s2, s1)]
    V = i22_inv / n + i22_inv @ i21 @ sigma11 @ i21.T @ i22_inv
    v_struct = _in_structural_order(structural, joint_free, s2, V)
    return _table(split, joint_free, theta, moments, structural, v_struct, block_se,
                  measurement, n, veta)  # fmt: skip


def _step1(split: ModelSplit, measurement, joint_free, step2: set[int]):
    """Joint indices of the step-1 parameters, their covariance (block diagonal, as fitting
    the blocks one by one gives) and every measurement row's standard error."""
    vcov = measurement.vcov
    se = {}
    by_block: list[dict[int, int]] = [{} for _ in split.blocks]
    block_of = {n: k for k, b in enumerate(split.blocks) for n in b.latent + b.indicators}
    for row in measurement.table.rows:
        if not (row.is_model_parameter and row.is_free):
            continue
        se[common.key(row)] = float(np.sqrt(max(vcov[row.free - 1, row.free - 1], 0.0)))
        j = joint_free.get(common.key(row))
        if j is not None and j not in step2:
            by_block[block_of[row.lhs]].setdefault(j, row.free - 1)
    indices = [j for pairs in by_block for j in pairs]
    pieces = [vcov[np.ix_(list(p.values()), list(p.values()))] for p in by_block]
    return indices, scipy.linalg.block_diag(*pieces), se


def _in_structural_order(structural, joint_free, s2, V) -> np.ndarray:
    """V (over the joint indices ``s2``) as a matrix over the structural fit's θ."""
    position = {j: k for k, j in enumerate(s2)}
    n_theta = len(structural.theta)
    out = np.zeros((n_theta, n_theta))
    index = np.full(n_theta, -1)
    for row in structural.table.rows:
        if row.is_model_parameter and row.is_free and not row.exo:
            j = joint_free.get(common.key(row))
            if j in position:
                index[row.free - 1] = position[j]
    have = np.flatnonzero(index >= 0)
    out[np.ix_(have, have)] = V[np.ix_(index[have], index[have])]
    return out


def _table(split, joint_free, theta, moments, structural, v_struct, block_se, measurement, n,
           veta):  # fmt: skip
    import pandas as pd

    rows = [r for r in split.table.rows if r.op.value in ("=~", "~", "~~", "~1")]
    structural_keys = {common.key(r) for r in split.structural_rows if r.is_free and not r.exo}
    struct_se = dict(
        zip(
            [common.key(r) for r in structural.table.rows],
            structural_standard_errors(structural, v_struct),
            strict=True,
        )
    )
    est = np.array([theta[joint_free[common.key(r)]] if common.key(r) in joint_free
                    else r.value for r in rows])  # fmt: skip
    se = np.array([
        struct_se[common.key(r)] if common.key(r) in structural_keys
        else block_se.get(common.key(r), 0.0) if r.is_free else 0.0
        for r in rows
    ])  # fmt: skip
    std_lv, std_all = standardized(rows, est, moments)
    frame = pd.DataFrame({
        "lhs": [r.lhs for r in rows], "op": [r.op.value for r in rows],
        "rhs": [r.rhs for r in rows], "group": [r.group for r in rows],
        "label": [r.label for r in rows], "est": est, "se": se, **wald(est, se),
        "std_lv": std_lv, "std_all": std_all,
    })  # fmt: skip
    if any(r.op.value == ":=" for r in structural.table.rows):
        struct_frame = structural.estimates()
        defined = struct_frame[struct_frame["op"] == ":="].copy()
        defined["se"] = [struct_se[(r.lhs, r.op, r.rhs)] for r in defined.itertuples()]
        for name, values in wald(defined["est"].to_numpy(), defined["se"].to_numpy()).items():
            defined[name] = values
        frame = pd.concat([frame, defined[frame.columns]], ignore_index=True)
    names = list(split.structural_variables)
    blocks = tuple(b.latent for b in split.blocks)
    return FsrResult("sam (local)", n, frame, blocks, (measurement,), structural,
                     pd.DataFrame(veta, index=names, columns=names))  # fmt: skip
