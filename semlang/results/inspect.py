"""Fit -> lavaan's ``lavInspect(fit, what)``: one name, one labelled pandas object.

Input: a :class:`~semlang.results.fit.Fit` and a name of :data:`INSPECT_NAMES`. Output: what
lavaan gives under that name, as DataFrames (matrices, labelled by variable or parameter names)
and Series (vectors); lavaan's per-group lists become dicts keyed by group label (one group: the
object itself; a two-level model's: keyed "within" and the cluster variable). Everything is read
off results the fit already has (the LISREL matrices from :mod:`semlang.results.lisrel`); an
unknown name raises an :class:`~semlang.errors.OptionError` naming the closest valid one.
"information" and "gradient" are over lavaan's free parameters, one per free row.

Also here: :func:`r_squared` (``lavInspect(fit, "rsquare")``) and the statsmodels-style tables
of the free parameters under lavaan's ``coef()`` names (:func:`coef_frame`, :func:`vcov_frame`).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from semlang.errors import NotSupportedError, OptionError
from semlang.results.lisrel import block_names, model_matrices, row_values
from semlang.syntax.ast import Op

__all__ = ["INSPECT_NAMES", "coef_frame", "inspect", "r_squared", "vcov_frame"]

MATRIX_NAMES = ("lambda", "theta", "psi", "beta", "nu", "alpha")


# --------------------------------------------------------------------------- helpers


def _per_group(fit, values: list):
    """One block: the value itself; several: a dict keyed by group label (two-level models:
    "within" and the cluster variable's name, as lavaan)."""
    if len(values) == 1:
        return values[0]
    if fit.table.nlevels > 1 and fit.table.ngroups > 1:
        raise NotSupportedError(
            "inspect() of a two-level model with several groups is not available",
            hint="fit each group separately",
        )
    return dict(zip(_block_labels(fit), values, strict=True))


def _single_level(fit, what: str) -> None:
    if fit.table.nlevels > 1:
        raise NotSupportedError(
            f"inspect({what!r}) is not available for a two-level model",
            hint="r_squared() and the estimates cover two-level fits",
        )


def _cov2cor(cov: pd.DataFrame) -> pd.DataFrame:
    sd = np.sqrt(np.diag(cov.values))
    return cov / np.outer(sd, sd)


def _frame(matrix: np.ndarray, names) -> pd.DataFrame:
    return pd.DataFrame(np.asarray(matrix, float), index=list(names), columns=list(names))


# --------------------------------------------------------------------------- parameters


def _free_rows(fit) -> list:
    return [row for row in fit.table.rows if row.is_free]


def coef_names(fit) -> list[str]:
    """lavaan's ``coef()`` names of the free parameters: the label if the row has one, else
    ``lhs op rhs`` without spaces, with ``.g<k>`` after it in group k > 1 (``.l<k>`` at
    level k > 1)."""
    names = []
    for row in _free_rows(fit):
        if row.label:
            names.append(row.label)
            continue
        name = f"{row.lhs}{row.op.value}{row.rhs}" if row.op is not Op.INTERCEPT else f"{row.lhs}~1"
        names.append(name + _suffix(fit, row))
    return names


def _suffix(fit, row) -> str:
    """lavaan's suffix of an unlabelled parameter outside the first block: ``.g<k>`` for group
    k, ``.l<k>`` for level k (single-group two-level models)."""
    if row.block == 1:
        return ""
    if fit.table.nlevels > 1 and fit.table.ngroups == 1:
        return f".l{row.level}"
    return f".g{row.block}"


def coef_frame(fit) -> pd.DataFrame:
    """est, se, z, pvalue of the free parameters (a row for every free row, shared labels
    repeated as lavaan's ``coef()``), indexed by :func:`coef_names`."""
    index = np.array([row.free - 1 for row in _free_rows(fit)], dtype=int)
    est = fit.theta[index]
    se = np.sqrt(np.clip(np.diag(fit.vcov), 0.0, None))[index]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est / se
    frame = pd.DataFrame({"est": est, "se": se, "z": z, "pvalue": 2 * norm.sf(np.abs(z))})
    frame.index = coef_names(fit)
    return frame


def vcov_frame(fit) -> pd.DataFrame:
    """lavaan's ``vcov()``: the covariance matrix of :func:`coef_frame`'s parameters."""
    index = np.array([row.free - 1 for row in _free_rows(fit)], dtype=int)
    names = coef_names(fit)
    return pd.DataFrame(fit.vcov[np.ix_(index, index)], index=names, columns=names)


def vcov_std(fit, kind: str = "std.all") -> pd.DataFrame:
    """lavaan's ``lavInspect(fit, "vcov.std.all")`` (``"vcov.std.lv"``, ``"vcov.std.nox"``): the
    delta-method covariance matrix J V Jᵀ of the standardized values of the free parameters,
    J their analytic Jacobian in θ and V the fit's covariance matrix of θ̂ (two-level models
    too: each level standardized by its own implied variances)."""
    from semlang.results.standardized_solution import standardized_values

    est = np.array([fit.row_estimate(row) for row in fit.table.rows], dtype=float)
    _, jac = standardized_values(fit, est, kind, gradient=True)
    free = [k for k, row in enumerate(fit.table.rows) if row.is_free]
    jac = jac[free]
    names = coef_names(fit)
    return pd.DataFrame(jac @ fit.vcov @ jac.T, index=names, columns=names)


class _Identity:
    """θ = φ: the parameter space of :func:`_row_objective` (no constraints)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def theta(self, phi: np.ndarray) -> np.ndarray:
        return np.asarray(phi, float)

    def jacobian(self, phi: np.ndarray) -> np.ndarray:
        return np.eye(self.n)


class _RowModel:
    """The fit's model with every free row its own parameter (lavaan's free parameters: rows
    sharing a label or tied by ``==`` counted apart)."""

    def __init__(self, fit) -> None:
        from semlang.compile.layout import build_layout

        number = {row.id: k for k, row in enumerate(_free_rows(fit), start=1)}
        layouts = []
        for block in fit.table.blocks:
            rows = tuple(replace(row, free=number.get(row.id, 0))
                         for row in fit.table.block_rows(block.index))  # fmt: skip
            layouts.append(build_layout(block, rows))
        self.layouts = tuple(layouts)
        self.n_theta = len(number)
        self.space = _Identity(self.n_theta)

    def implied(self, theta: np.ndarray, exo=None) -> tuple:
        from semlang.compile.ram import ImpliedMoments

        return tuple(ImpliedMoments.at(layout, theta, None if exo is None else exo[k])
                     for k, layout in enumerate(self.layouts))  # fmt: skip


def _row_objective(fit):
    """(the fit's objective over the free rows, the estimates of the free rows)."""
    from semlang.estimate.objective import Objective

    objective = fit.estimation.objective
    rows = Objective(_RowModel(fit), objective.discrepancies, objective.exo,
                     objective.meanstructure)  # fmt: skip
    return rows, np.array([fit.theta[row.free - 1] for row in _free_rows(fit)])


def _shared(fit) -> bool:
    """True when lavaan's free parameters are not semlang's φ (shared labels, ``==``)."""
    return fit.model.n_phi != fit.model.n_theta or len(_free_rows(fit)) != fit.model.n_theta


def _information(fit) -> pd.DataFrame:
    """lavaan's information matrix (per observation) of its free parameters: one per free row."""
    from semlang.results import inference

    if _shared(fit):
        _single_level(fit, "information")
        objective, point = _row_objective(fit)
    else:
        objective, point = fit.estimation.objective, fit.estimation.phi
    info = inference.information_per_observation(objective, point, fit.options.information)
    names = coef_names(fit)
    return pd.DataFrame(info * _unit(fit), index=names, columns=names)


def _unit(fit) -> float:
    """lavaan's unit of information of a two-level model is a cluster, not a row."""
    if fit.table.nlevels > 1:
        return fit.sample.nobs / fit.sample.nclusters
    return 1.0


def _gradient(fit) -> pd.Series:
    """The gradient of lavaan's objective (F/2) in its free parameters at the estimates."""
    if _shared(fit):
        _single_level(fit, "gradient")
        objective, point = _row_objective(fit)
    else:
        objective, point = fit.estimation.objective, fit.estimation.phi
    _, gradient = objective.value_and_gradient(point)
    # lavaan's F is F_ML/2 (per cluster in a two-level model)
    return pd.Series(0.5 * _unit(fit) * np.asarray(gradient), index=coef_names(fit))


# --------------------------------------------------------------------------- R²


def _block_labels(fit) -> list[str]:
    if fit.table.nlevels > 1:
        return ["within", str(fit.table.options.cluster)]
    return list(fit.table.group_labels)


def r_squared(fit):
    """lavaan's ``lavInspect(fit, "rsquare")``: 1 − the standardized residual variance of
    each indicator and each regression outcome (NaN where that exceeds 1), per block."""
    out = r_squared_blocks(fit)
    if len(out) == 1:
        return out[0]
    return dict(zip(_block_labels(fit), out, strict=True))


def r_squared_blocks(fit) -> list[pd.Series]:
    """The R² of each block (group, level) in block order."""
    blocks = _blocks(fit, fit.estimates())
    out = []
    for rows in blocks:
        indicators = rows.loc[rows.op == "=~", "rhs"].tolist()
        outcomes = rows.loc[rows.op == "~", "lhs"].tolist()
        targets = set(indicators) | set(outcomes)
        var = rows[(rows.op == "~~") & (rows.lhs == rows.rhs) & rows.lhs.isin(targets)]
        values = 1.0 - var.std_all.to_numpy(float)
        values[values > 1] = np.nan
        out.append(pd.Series(values, index=var.lhs.tolist(), name="rsquare"))
    return out


def _blocks(fit, frame: pd.DataFrame) -> list[pd.DataFrame]:
    frame = frame[frame.op.isin(["=~", "~", "~~"])]
    keys = ["group", "level"] if "level" in frame else ["group"]
    return [rows for _, rows in frame.groupby(keys, sort=True)]


# --------------------------------------------------------------------------- model matrices


def _matrices(fit, kind: str):
    unit = kind in ("est", "start")  # the phantoms' fixed loadings: 1 (0 as free index or SE)
    return _per_group(fit, model_matrices(fit, row_values(fit, kind), unit))


def _one_matrix(fit, name: str):
    per_group = model_matrices(fit, row_values(fit, "est"))
    if name not in per_group[0]:
        raise NotSupportedError(
            f"the model has no {name!r} matrix",
            hint=f"its matrices are {', '.join(per_group[0])}",
        )
    return _per_group(fit, [mats[name] for mats in per_group])


# --------------------------------------------------------------------------- moments


def _moments(fit, which: str):
    """The unrestricted ("h1") or implied moments per group (per level: their within and
    between parts, as lavaan)."""
    if fit.table.nlevels > 1:
        from semlang.results.residuals import _levels

        groups, meanstructure = _levels(fit), True
    else:
        groups, meanstructure = fit.moment_groups, fit.table.meanstructure
    out = []
    for group, layout in zip(groups, fit.model.layouts, strict=True):
        names = list(layout.observed)
        cov, mean = (group.h1_cov, group.h1_mean) if which == "h1" else (group.sigma, group.mu)
        parts = {"cov": _frame(cov, names)}
        if meanstructure:
            parts["mean"] = pd.Series(np.asarray(mean, float), index=names)
        out.append(parts)
    return _per_group(fit, out)


def _latent_means(fit, moments, block) -> np.ndarray:
    """E of every variable without a mean structure: the fixed.x covariates' sample means
    carried through the regressions (lavaan's mean.lv), zero where none reaches."""
    layout = moments.layout
    m = np.zeros(layout.n)
    if fit.table.options.fixed_x:
        group = fit.sample.groups[block.group - 1]
        names = list(group.names)
        for name in block.observed_exogenous:
            m[list(layout.variables).index(name)] = group.mean[names.index(name)]
    return moments.B @ m


def _latent_moments(fit, what: str):
    out = []
    parts = zip(fit.implied, fit.model.layouts, fit.table.blocks, strict=True)
    for moments, layout, block in parts:
        observed, latent = block_names(fit, layout)
        index = [list(layout.variables).index(v) for v in latent]
        ov = [list(layout.variables).index(v) for v in observed]
        cov, mean = np.asarray(moments.total_cov), np.asarray(moments.total_mean)
        names, pick = (latent, index) if what.endswith("lv") else (observed, ov)
        if what.startswith("mean"):
            if not fit.table.meanstructure:
                if what == "mean.ov":
                    out.append(pd.Series([], dtype=float))
                    continue
                mean = _latent_means(fit, moments, block)
            out.append(pd.Series(mean[pick], index=names))
            continue
        frame = _frame(cov[np.ix_(pick, pick)], names)
        # lavaan leaves a single latent variable's 1 x 1 matrix a covariance
        single = what == "cor.lv" and len(names) == 1
        out.append(_cov2cor(frame) if what.startswith("cor") and not single else frame)
    return _per_group(fit, out)


def _residuals(fit):
    from semlang.results.residuals import residuals

    out = residuals(fit, "raw")
    if fit.table.ngroups == 1 and fit.table.nlevels == 1:
        return {k: v for k, v in out.items() if k != "type"}
    return {label: {k: v for k, v in parts.items() if k != "type"} for label, parts in out.items()}


# --------------------------------------------------------------------------- data


def _patterns(fit):
    out = []
    for group, layout in zip(fit.sample.groups, fit.model.layouts, strict=True):
        observed = ~np.isnan(np.asarray(group.raw, float))
        patterns, counts = np.unique(observed, axis=0, return_counts=True)
        order = np.lexsort((-patterns.sum(axis=1), -counts))
        out.append(pd.DataFrame(patterns[order], index=counts[order], columns=layout.observed))
    return _per_group(fit, out)


def _coverage(fit):
    out = []
    for group, layout in zip(fit.sample.groups, fit.model.layouts, strict=True):
        observed = (~np.isnan(np.asarray(group.raw, float))).astype(float)
        out.append(_frame(observed.T @ observed / observed.shape[0], layout.observed))
    return _per_group(fit, out)


def _nobs(fit):
    counts = list(fit.sample.group_nobs)
    return counts[0] if len(counts) == 1 else dict(zip(fit.table.group_labels, counts, strict=True))


# --------------------------------------------------------------------------- the registry

_INSPECT: dict[str, Callable[[Any], Any]] = {
    "sampstat": lambda fit: _moments(fit, "h1"),
    "implied": lambda fit: _moments(fit, "implied"),
    "residuals": _residuals,
    "cov.lv": lambda fit: _latent_moments(fit, "cov.lv"),
    "cor.lv": lambda fit: _latent_moments(fit, "cor.lv"),
    "cov.ov": lambda fit: _latent_moments(fit, "cov.ov"),
    "cor.ov": lambda fit: _latent_moments(fit, "cor.ov"),
    "mean.ov": lambda fit: _latent_moments(fit, "mean.ov"),
    "mean.lv": lambda fit: _latent_moments(fit, "mean.lv"),
    "vcov": vcov_frame,
    "vcov.std.all": lambda fit: vcov_std(fit, "std.all"),
    "vcov.std.lv": lambda fit: vcov_std(fit, "std.lv"),
    "vcov.std.nox": lambda fit: vcov_std(fit, "std.nox"),
    "rsquare": r_squared,
    "coef": lambda fit: _matrices(fit, "est"),  # lavInspect's "coef" is "est" (coef(): params)
    "se": lambda fit: _matrices(fit, "se"),
    "free": lambda fit: _matrices(fit, "free"),
    "start": lambda fit: _matrices(fit, "start"),
    "est": lambda fit: _matrices(fit, "est"),
    "nobs": _nobs,
    "ngroups": lambda fit: fit.table.ngroups,
    "group.label": lambda fit: list(fit.table.group_labels) if fit.table.ngroups > 1 else [],
    "converged": lambda fit: fit.converged,
    "iterations": lambda fit: fit.iterations,
    "patterns": _patterns,
    "coverage": _coverage,
    "information": _information,
    "gradient": _gradient,
    **{name: functools.partial(_one_matrix, name=name) for name in MATRIX_NAMES},
}
INSPECT_NAMES = tuple(_INSPECT)


def inspect(fit, what: str):
    """``lavInspect(fit, what)`` for ``what`` in :data:`INSPECT_NAMES`."""
    key = str(what).lower().replace("_", ".")
    if key not in _INSPECT:
        close = difflib.get_close_matches(key, INSPECT_NAMES, n=1, cutoff=0.4)
        names = ", ".join(INSPECT_NAMES)
        hint = f"did you mean {close[0]!r}?" if close else f"use one of {names}"
        raise OptionError(f"unknown inspect name {what!r}", hint=hint)
    return _INSPECT[key](fit)
