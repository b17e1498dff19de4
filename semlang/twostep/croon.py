"""Croon's corrected factor-score regression, lavaan's ``fsr(fsr.method = "Croon")``.

Input: model text, data and options. Output: an :class:`~semlang.twostep.result.FsrResult` with the
structural rows (regressions, (co)variances, intercepts) and two-step standard errors.

Each latent variable's measurement model is fitted on its own — by FIML with a mean structure
unless told otherwise, as lavaan's fsr(); all of them in one model whose implied covariance
matrix is block diagonal, which gives the same estimates — and scored (Bartlett by default;
a complete row's score is b + A y with the score weights). With the score
weights a (1 × k), the loadings λ and the residual covariance Θ of a block, a score is
``s = (aλ) η + a ε``: its variance is ``(aλ)² Var(η) + aΘa'``. Croon's correction undoes both:
``Cov(η) = D⁻¹ Cov(s) D⁻¹ − diag(aΘa' / (aλ)²)`` with D = diag(aλ) (observed variables of the
structural part pass unchanged). The structural model is fitted by ML to these moments.

Standard errors (lavaan's two-step for fsr): each latent variable gets a single indicator with
loading 1, residual variance o = aΘa'/(aλ)² and scale s = aλ, so that the indicators have
covariance ``S (Cov(η) + O) S``. With I the expected information of that model at the estimates
(× N) split into the structural (3) and the (o, s) (2) parameters, and Σ₂ the covariance of
(o, s) propagated from each block's parameter covariance (a held fixed),
``V = I₃₃⁻¹ + I₃₃⁻¹ I₃₂ Σ₂ I₂₃ I₃₃⁻¹``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.linalg

from semlang.errors import NotSupportedError
from semlang.options import Missing
from semlang.results.scores import predict, score_weights
from semlang.syntax.ast import Op
from semlang.twostep import common, parts
from semlang.twostep.result import (
    FsrResult,
    estimates_with_standard_errors,
    structural_standard_errors,
)
from semlang.twostep.split import ModelSplit, split_model, structural_starts


@dataclass(frozen=True)
class _Block:
    """One latent variable's scoring: scale aλ, offset aΘa'/(aλ)², Σ₂ of (offset, scale)."""

    scale: float
    offset: float
    sigma2: np.ndarray


def croon(model: str, data: Any, fs_method: str = "bartlett", **options: Any) -> FsrResult:
    """Factor-score regression with Croon's correction and two-step standard errors."""
    import semlang

    options, fit_options = common.two_step_options(options, "fsr(method='croon')")
    table = semlang.parameter_table(model, "sem", **{"meanstructure": True, **options})
    split = split_model(table)
    _check_single(split, table)
    options = {"missing": "fiml", **options}
    measurement_table = parts.measurement_table(
        split, [b.latent for b in split.blocks], common.part_options(options, meanstructure=True)
    )
    frame = common.data_frame(data, table)
    measurement = common.measurement_fit(
        measurement_table, common.sample(frame, measurement_table), fit_options
    )
    (weights,) = score_weights(measurement, fs_method)
    blocks = [_score_block(measurement, weights, b) for b in split.blocks]
    values = _score_values(split, measurement, weights, fs_method, frame)
    n = len(values)
    cov, mean = _moments(values)
    corrected = _corrected(split, cov, blocks)
    common.check_moments(
        split, corrected, n, "Croon's corrected covariance matrix of the factor scores",
        "a measurement model is too weak for this sample; try semlang.sam()",
    )  # fmt: skip
    structural_options = replace(
        measurement_table.options, meanstructure=bool(table.meanstructure), fixed_x=False,
        missing=Missing.LISTWISE,
    )  # fmt: skip
    structural_table = parts.structural_table(
        split, structural_options, structural_starts(split, corrected, mean)
    )
    structural = common.structural_fit(
        structural_table,
        common.structural_sample(split, structural_table, corrected, mean, n),
        {"se": "none"},
    )
    vcov = _two_step_vcov(split, structural, blocks, n)
    table_out = estimates_with_standard_errors(
        structural, structural_standard_errors(structural, vcov)
    )
    return FsrResult(f"fsr (Croon, {fs_method} scores)", n, table_out,
                     tuple(b.latent for b in split.blocks), (measurement,), lambda: structural,
                     np.asarray(corrected), tuple(split.structural_variables))  # fmt: skip


def _check_single(split: ModelSplit, table: Any) -> None:
    for block in split.blocks:
        if len(block.latent) > 1:
            raise NotSupportedError(
                "Croon's correction scores each latent variable on its own, but "
                + " and ".join(block.latent)
                + " share indicators, correlated residuals or equal parameters",
                table.source,
                hint="use semlang.sam(), which fits such latent variables in one block",
            )


def _score_block(fit, weights, block) -> _Block:
    """Scale, offset and the step-1 covariance of (offset, scale) of one latent variable
    (``weights``: the fit's score weights).

    The weights a are held fixed (lavaan's choice): the derivatives of aλ and aΘa'/(aλ)² are
    taken through λ and Θ only.
    """
    position = {name: k for k, name in enumerate(weights.observed)}
    which = weights.latent.index(block.latent[0])
    a = weights.weights[which, [position[n] for n in block.indicators]]
    lam, theta, _ = common.measurement_matrices(fit, block.latent, block.indicators)
    lam = lam[:, 0]
    scale = float(a @ lam)
    ata = float(a @ theta @ a)
    index = {name: k for k, name in enumerate(block.indicators)}
    jacobian = np.zeros((2, len(fit.theta)))
    for row in fit.table.rows:
        if not (row.is_model_parameter and row.is_free):
            continue
        j = row.free - 1
        if row.op is Op.MEASURED and row.rhs in index:
            i = index[row.rhs]
            jacobian[0, j] += -2.0 * ata / scale**3 * a[i]
            jacobian[1, j] += a[i]
        elif row.op is Op.COVARIANCE and row.lhs in index and row.rhs in index:
            i, k = index[row.lhs], index[row.rhs]
            jacobian[0, j] += a[i] * a[k] * (1.0 if i == k else 2.0) / scale**2
    return _Block(scale, ata / scale**2, jacobian @ fit.vcov @ jacobian.T)


def _score_values(split: ModelSplit, measurement, weights, method: str, frame) -> np.ndarray:
    """Rows of the structural variables — the latent variables' scores, then the observed
    structural variables — complete rows only. A complete row's score is b + A y (as
    ``predict`` computes it); under FIML a row with missing values is scored from the
    variables it observes."""
    group = measurement.sample.groups[0]
    if group.has_missing:
        scores = predict(measurement, method=method)
        rows, latent = scores.index.to_numpy(), scores[list(split.latent)].to_numpy(dtype=float)
    else:
        position = {name: k for k, name in enumerate(group.names)}
        x = group.raw[:, [position[name] for name in weights.observed]]
        order = [weights.latent.index(name) for name in split.latent]
        rows, latent = group.rows, (x @ weights.weights.T + weights.offset)[:, order]
    if split.observed_structural:
        observed = frame[list(split.observed_structural)].to_numpy(dtype=float)[rows]
        latent = np.hstack([latent, observed])
    return latent[~np.isnan(latent).any(axis=1)]


def _moments(values: np.ndarray):
    mean = values.mean(axis=0)
    centered = values - mean
    return centered.T @ centered / len(values), mean


def _corrected(split: ModelSplit, cov: np.ndarray, blocks: list[_Block]) -> np.ndarray:
    k = len(split.latent)
    scale = np.ones(len(split.structural_variables))
    scale[:k] = [b.scale for b in blocks]
    out = cov / np.outer(scale, scale)
    out[np.arange(k), np.arange(k)] -= [b.offset for b in blocks]
    return out


def _two_step_vcov(split: ModelSplit, structural, blocks: list[_Block], n: int) -> np.ndarray:
    """V over the structural fit's θ (exogenous observed variables' moments held fixed)."""
    k = len(split.latent)
    order = split.structural_variables
    sigma, _, d_sigma, d_mu = common.implied_derivatives(structural, order)
    scale = np.ones(len(order))
    scale[:k] = [b.scale for b in blocks]
    offset = np.zeros(len(order))
    offset[:k] = [b.offset for b in blocks]
    inner = sigma + np.diag(offset)
    outer = np.outer(scale, scale)
    p = len(order)
    d_sigma_si = [d * outer for d in d_sigma]
    d_mu_si = list(d_mu)
    for j in range(k):
        unit = np.zeros((p, p))
        unit[j, j] = scale[j] ** 2
        d_sigma_si.append(unit)
        d_mu_si.append(np.zeros(p))
        e = np.zeros((p, p))
        e[j] = inner[j] * scale
        d_sigma_si.append(e + e.T)
        d_mu_si.append(np.zeros(p))
    info = n * common.expected_information(inner * outer, np.array(d_sigma_si), np.array(d_mu_si))
    n_theta = len(structural.theta)
    keep = _structural_parameters(structural, split)
    i33 = info[np.ix_(keep, keep)]
    i32 = info[np.ix_(keep, np.arange(n_theta, n_theta + 2 * k))]
    sigma2 = scipy.linalg.block_diag(*[b.sigma2 for b in blocks])
    i33_inv = common.structural_information_inverse(i33)
    V = i33_inv + i33_inv @ i32 @ sigma2 @ i32.T @ i33_inv
    out = np.zeros((n_theta, n_theta))
    out[np.ix_(keep, keep)] = V
    return out


def _structural_parameters(structural, split: ModelSplit) -> np.ndarray:
    """θ indices of the structural fit that are parameters of the model (not fixed.x moments)."""
    exo = {common.key(r) for r in split.structural_rows if r.exo}
    return np.array(sorted({
        r.free - 1 for r in structural.table.rows
        if r.is_model_parameter and r.is_free and common.key(r) not in exo
    }))  # fmt: skip
