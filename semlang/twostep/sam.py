"""Structural-after-measurement, lavaan's ``sam(sam.method = "local")`` (Rosseel & Loh).

Input: model text, data and options. Output: an :class:`~semlang.twostep.result.FsrResult` with
every row of the model: measurement rows from step 1, structural rows from step 2, two-step
standard errors for the latter.

Step 1 fits the measurement blocks (:mod:`semlang.twostep.split`; one block per latent variable,
as lavaan's default ``mm.list``) in one model whose implied covariance matrix is block diagonal:
its estimates and their covariance matrix are those of fitting each block on its own, in one
pass of the optimizer (fewer iterations in all than block by block). As lavaan fits the blocks
one by one, a label shared by two blocks equates nothing (a warning says so), and an indicator
of two blocks is fitted in each (then the blocks are fitted one by one; its Θ entries and their
standard errors are the last block's). Their loadings Λ and
residual covariances Θ (an
observed variable of the structural part enters as its own "latent" variable, loading 1, no
error) give the mapping M = (Λ'Θ⁻¹Λ)⁻¹Λ'Θ⁻¹ and the latent moments
``Var(η) = M S M' − M Θ M'`` (S: sample covariance, divisor N) — with lavaan's guard: when the
smallest root λ of |M S M' − λ M Θ M'| is below 1 + 1/(N−1), M Θ M' is scaled by λ − 1/(N−1)
so that Var(η) stays positive definite — and ``E[η] = M (ȳ − ν)`` with a mean structure.
Step 2 fits the structural model to these moments by ML (``fixed.x = FALSE``); with ``std_lv``
the covariance matrix is first turned into a correlation matrix, as lavaan does. Where the
least-squares regressions of the outcomes are the ML estimates
(:func:`~semlang.twostep.split.starts_are_estimates`: recursive, disturbances uncorrelated
except among outcomes with the same predictors, no equalities) they are taken directly, and the
structural model is fitted only if asked for (``FsrResult.structural``).

Two-step standard errors: with I the expected information (per observation; observed under
``information='observed'``, as lavaan) of the full model at the step-1 and step-2 estimates,
split into the step-1 (measurement) and step-2 (structural) parameters, and Σ₁₁ the step-1
covariance matrix (block by block), ``V₂ = I₂₂⁻¹ / N + I₂₂⁻¹ I₂₁ Σ₁₁ I₁₂ I₂₂⁻¹``. Robust and
bootstrap standard errors are refused (lavaan 0.6.14 ignores them).

The user's model is parsed once: the parts' parameter tables are made from the full table's rows
(:mod:`semlang.twostep.parts`), step 1 uses the full sample's moments of its indicators, step 2
is fitted to the latent moments directly (no data rows), and the full model is only laid out
(RAM matrices, no symbolic compilation) for the expected information I (compiled for the
observed one).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg

from semlang.api import _check_degrees_of_freedom
from semlang.blas import limited
from semlang.compile.layout import build_layout
from semlang.compile.model import compile_model
from semlang.compile.ram import ImpliedMoments, expected_information
from semlang.errors import NotSupportedError, SemlangWarning
from semlang.estimate.data import as_frame, select_variables
from semlang.estimate.estimator import build_objective
from semlang.options import Information, make_fit_options, make_options
from semlang.partable import ParameterTable, build_partable
from semlang.syntax.parser import parse
from semlang.twostep import common, parts
from semlang.twostep.result import (
    FsrResult,
    estimates_with_standard_errors,
    standardized,
    structural_standard_errors,
    wald,
)
from semlang.twostep.split import (
    ModelSplit,
    split_model,
    starts_are_estimates,
    structural_definitions,
    structural_starts,
    unshare_labels,
)


@limited()
def sam(model: str, data: Any, mm_list: Any = None, **options: Any) -> FsrResult:
    """Local structural-after-measurement with two-step standard errors (lavaan's ``sam()``).

    ``mm_list``: the measurement blocks, as lavaan's ``mm.list`` — a list whose entries are a
    latent variable's name or a list of names fitted together (default: one block per latent
    variable). Residual covariances between indicators of different blocks are not estimated.
    """
    options, fit_options = common.two_step_options(options, "sam()")
    table, joint = _tables(model, options)
    if mm_list is None:
        mm_list = [r.lhs for r in table.rows if r.op.value == "=~" and r.is_model_parameter]
        mm_list = list(dict.fromkeys(mm_list))
    split = split_model(table, mm_list)
    if split.shared_indicators:
        _warn_shared_indicators(split)
    if split.labels_across_blocks:  # fitted block by block, as lavaan: the equalities go
        _warn_ignored_labels(split)
        table, joint = unshare_labels(table, split), unshare_labels(joint, split)
        split = split_model(table, mm_list)
    ms = bool(table.meanstructure)
    measurement_options = common.part_options(options, meanstructure=ms)
    sample = common.sample(as_frame(data), table)  # the rows complete on every variable
    n = sample.nobs
    measurement = _measurement_fits(split, sample, measurement_options, fit_options)
    veta, eeta = latent_moments(split, measurement, sample.groups[0], ms)
    if table.options.std_lv:  # lavaan: the latent variables' moments as correlations
        sd = np.sqrt(np.diag(veta))
        veta = veta / np.outer(sd, sd)
    common.check_moments(split, veta, n)
    starts = structural_starts(split, veta, eeta)

    @functools.cache
    def fit_structural():
        structural_table = parts.structural_table(
            split, common.part_options(options, meanstructure=ms, fixed_x=False), starts
        )
        sample = common.structural_sample(split, structural_table, veta, eeta, n)
        return common.structural_fit(structural_table, sample, {"se": "none"})

    if starts and starts_are_estimates(split):
        estimates = starts  # least squares is ML here: no structural fit needed
    else:
        structural = fit_structural()
        free = common.free_index(structural.table)
        estimates = {key: structural.theta[j] for key, j in free.items()}
    return _result(joint, split, measurement, estimates, fit_structural, sample, veta,
                   fit_options)  # fmt: skip


def _measurement_fits(split: ModelSplit, sample, part_options, fit_options) -> tuple:
    """The step-1 fits: all blocks in one model (block diagonal), or, when an indicator is in
    several blocks, each block on its own (as lavaan)."""
    if split.shared_indicators:
        groups = [[b.latent] for b in split.blocks]
    else:
        groups = [[b.latent for b in split.blocks]]
    fits = []
    for group in groups:
        table = parts.measurement_table(split, group, part_options)
        data = select_variables(sample, table.observed)
        fits.append(common.measurement_fit(table, data, fit_options))
    return tuple(fits)


def _warn_shared_indicators(split: ModelSplit) -> None:
    for name, blocks in split.shared_indicators.items():
        names = " and ".join("(" + ", ".join(split.blocks[k].latent) + ")" for k in blocks)
        warnings.warn(
            f"sam(): indicator {name!r} measures the latent variables of the measurement blocks "
            f"{names}, which are fitted one by one: each block has its own residual variance "
            f"of {name!r} and the last one is reported (as lavaan); join the blocks with mm_list "
            "to fit them together",
            SemlangWarning,
            stacklevel=3,
        )


def _warn_ignored_labels(split: ModelSplit) -> None:
    for label, blocks in split.labels_across_blocks.items():
        names = " and ".join("(" + ", ".join(split.blocks[k].latent) + ")" for k in blocks)
        warnings.warn(
            f"sam(): label {label!r} makes parameters of the measurement blocks {names} equal, "
            "but the blocks are fitted one by one: the equality is ignored (as lavaan); join "
            "the blocks with mm_list to keep it",
            SemlangWarning,
            stacklevel=3,
        )


def _tables(model: str, options: dict[str, Any]) -> tuple[ParameterTable, ParameterTable]:
    """The full model's table (parsed once) and the table whose information gives the two-step
    standard errors: the same model with the exogenous covariates' moments free."""
    opts = make_options("sem", **options)
    syntax = parse(model)
    table = build_partable(syntax, opts)
    _check_degrees_of_freedom(table)
    if opts.missing.is_fiml:
        raise NotSupportedError(
            "sam() uses complete rows (listwise deletion)",
            table.source,
            hint="drop missing='fiml', or use semlang.fsr(..., method='croon'), which scores FIML",
        )
    if not any(r.exo for r in table.rows):
        return table, table
    return table, build_partable(syntax, replace(opts, fixed_x=False))


def latent_moments(split: ModelSplit, measurement, group, meanstructure: bool):
    """(Var(η), E[η]) of the structural variables from the step-1 fits and the sample
    (``group``: the means and covariance matrix, divisor N, of the complete rows)."""
    lam, theta, nu = _measurement_matrices(split, measurement, meanstructure)
    names = split.indicators + split.observed_structural
    idx = [group.names.index(name) for name in names]
    mean, cov = group.mean[idx], group.cov[np.ix_(idx, idx)]
    q = len(split.indicators)
    M = mapping(lam, theta, list(range(q, len(names))))
    msm, mtm = M @ cov @ M.T, M @ theta @ M.T
    n = group.nobs
    root = smallest_root(msm, mtm)
    scale = root - 1.0 / (n - 1) if root < 1.0 + 1.0 / (n - 1) else 1.0
    veta = msm - scale * mtm
    eeta = M @ (mean - nu) if meanstructure else np.zeros(len(split.structural_variables))
    return (veta + veta.T) / 2, eeta


def _measurement_matrices(split: ModelSplit, measurement, meanstructure: bool):
    """Λ, Θ and ν of the indicators and then the observed structural variables (loading 1 on
    themselves, no error) × the structural variables, from the step-1 fits (the blocks' Λ and
    Θ; zero across blocks; an indicator of several blocks: its loadings from each, its Θ
    entries from the last, as lavaan)."""
    q, r, k = len(split.indicators), len(split.observed_structural), len(split.latent)
    row = {name: i for i, name in enumerate(split.indicators)}
    col = {name: i for i, name in enumerate(split.latent)}
    lam, theta, nu = np.zeros((q + r, k + r)), np.zeros((q + r, q + r)), np.zeros(q + r)
    for fit in measurement:
        moments = fit.implied[0]
        position = {name: p for p, name in enumerate(moments.layout.variables)}
        ind = [n for n in moments.layout.observed if n in row]
        lat = [n for n in moments.layout.variables if n in col]
        rows, cols = [row[n] for n in ind], [col[n] for n in lat]
        own_rows, own_cols = [position[n] for n in ind], [position[n] for n in lat]
        lam[np.ix_(rows, cols)] = moments.A[np.ix_(own_rows, own_cols)]
        theta[np.ix_(rows, rows)] = moments.S[np.ix_(own_rows, own_rows)]
        if meanstructure:
            nu[rows] = moments.m[own_rows]
    lam[q + np.arange(r), k + np.arange(r)] = 1.0
    return lam, theta, nu


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
def _result(
    joint, split, measurement, estimates, fit_structural, sample, veta, fit_options
) -> FsrResult:
    """The two-step result from the step-1 fit and the structural ``estimates`` (by (lhs, op,
    rhs)); ``fit_structural`` gives the structural fit (needed here only for ``:=`` rows)."""
    n = sample.nobs
    joint_free = common.free_index(joint)
    theta = np.zeros(joint.n_free)
    for fit in measurement:  # in block order: a later block's value replaces an earlier one
        for _, j, own in _joint_positions(fit, joint_free):
            theta[j] = fit.theta[own]
    for k, value in estimates.items():  # a latent variance: the structural estimate
        position = joint_free.get(k)
        if position is not None:
            theta[position] = value
    moments = ImpliedMoments.at(build_layout(joint.blocks[0], joint.parameters), theta)
    info = _information(joint, moments, theta, sample, fit_options)
    s2 = sorted({joint_free[common.key(r)] for r in split.structural_rows
                 if r.is_free and not r.exo})  # fmt: skip
    s1, sigma11, variances = _step1(split, measurement, joint_free, set(s2))
    i22_inv = common.structural_information_inverse(info[np.ix_(s2, s2)])
    i21 = info[np.ix_(s2, s1)]
    V = i22_inv / n + i22_inv @ i21 @ sigma11 @ i21.T @ i22_inv
    se = dict(zip(s2, np.sqrt(np.clip(np.diag(V), 0.0, None)), strict=True))
    se.update({j: float(np.sqrt(max(v, 0.0))) for j, v in variances.items()})
    frame = _table(split, joint_free, theta, se, moments)
    if structural_definitions(split):
        structural = fit_structural()
        v_struct = _in_structural_order(structural, joint_free, s2, V)
        frame = pd.concat([frame, _definitions(structural, v_struct)], ignore_index=True)
    blocks = tuple(b.latent for b in split.blocks)
    return FsrResult("sam (local)", n, frame, blocks, measurement, fit_structural, veta,
                     tuple(split.structural_variables))  # fmt: skip


def _information(joint, moments, theta, sample, fit_options: dict) -> np.ndarray:
    """Per-observation information of the full model at the two-step estimates: expected, or
    under ``information='observed'`` observed (the Hessian of F/2; the model is compiled)."""
    information = make_fit_options(joint.options, **fit_options).information
    if information is not Information.OBSERVED:
        return expected_information(moments, joint.n_free, bool(joint.meanstructure))
    model = compile_model(joint)
    options = make_fit_options(joint.options, **fit_options)
    return build_objective(model, sample, options).hessian_theta(theta) / 2.0


def _joint_positions(fit, joint_free) -> list[tuple[Any, int, int]]:
    """(row, index in the full model's θ, index in the fit's θ) of each free row of a part's fit
    that the full model has."""
    out = []
    for row in fit.table.rows:
        j = joint_free.get(common.key(row)) if row.is_free else None
        if j is not None:
            out.append((row, j, row.free - 1))
    return out


def _step1(split: ModelSplit, measurement, joint_free, structural: set[int]):
    """Joint indices of the step-1 parameters, their covariance matrix (block diagonal, as
    fitting the blocks one by one gives; a parameter of several blocks' fits takes the later
    fit's entries, as lavaan) and their variances by joint index."""
    block_of = {n: k for k, b in enumerate(split.blocks) for n in b.latent + b.indicators}
    n_joint = max(joint_free.values(), default=-1) + 1
    sigma, order = np.zeros((n_joint, n_joint)), []
    for fit in measurement:
        joint, own, block = [], [], []
        for row, j, k in _joint_positions(fit, joint_free):
            if j not in joint and j not in structural:  # a shared label: one parameter
                joint.append(j)
                own.append(k)
                block.append(block_of[row.lhs])
        same_block = np.equal.outer(block, block) if len(measurement) == 1 else True
        sigma[np.ix_(joint, joint)] = np.where(same_block, fit.vcov[np.ix_(own, own)], 0.0)
        order += [j for j in joint if j not in order]
    return order, sigma[np.ix_(order, order)], {j: sigma[j, j] for j in order}


def _in_structural_order(structural, joint_free, s2, V) -> np.ndarray:
    """V (over the joint indices ``s2``) as a matrix over the structural fit's θ."""
    position = {j: k for k, j in enumerate(s2)}
    n_theta = len(structural.theta)
    out = np.zeros((n_theta, n_theta))
    index = np.full(n_theta, -1)
    for row, j, own in _joint_positions(structural, joint_free):
        if row.is_model_parameter and not row.exo and j in position:
            index[own] = position[j]
    have = np.flatnonzero(index >= 0)
    out[np.ix_(have, have)] = V[np.ix_(index[have], index[have])]
    return out


def _table(split, joint_free, theta, se_of, moments) -> pd.DataFrame:
    """Every parameter row of the model: estimates, standard errors (``se_of``: by joint index),
    Wald columns and standardized estimates."""
    rows = [r for r in split.table.rows if r.is_model_parameter]
    index = [joint_free.get(common.key(r)) for r in rows]
    est = np.array([r.value if j is None else theta[j] for j, r in zip(index, rows, strict=True)])
    se = np.array([0.0 if j is None else se_of.get(j, 0.0) for j in index])
    dropped = np.array([any(r is d for d in split.dropped) for r in rows], dtype=bool)
    est[dropped], se[dropped] = np.nan, np.nan  # across blocks: not estimated (lavaan: NA)
    std_lv, std_all, std_nox = standardized(rows, est, moments)
    return pd.DataFrame({
        "lhs": [r.lhs for r in rows], "op": [r.op.value for r in rows],
        "rhs": [r.rhs for r in rows], "group": [r.group for r in rows],
        "label": [r.label for r in rows], "est": est, "se": se, **wald(est, se),
        "std_lv": std_lv, "std_all": std_all, "std_nox": std_nox,
    })  # fmt: skip


def _definitions(structural, v_struct) -> pd.DataFrame:
    """The structural ``:=`` rows with their two-step standard errors (delta method)."""
    se = structural_standard_errors(structural, v_struct)
    frame = estimates_with_standard_errors(structural, se)
    return frame[frame["op"] == ":="]
