"""Fit -> lavaan's ``lavInspect(fit, what)``: one name, one labelled pandas object.

Input: a :class:`~semlang.results.fit.Fit` and a name of :data:`INSPECT_NAMES`. Output: what
lavaan gives under that name, as DataFrames (matrices, labelled by variable or parameter names)
and Series (vectors); lavaan's per-group lists become dicts keyed by group label (one group: the
object itself). Everything is read off results the fit already has; an unknown name raises an
:class:`~semlang.errors.OptionError` naming the closest valid one.

Also here: :func:`r_squared` (``lavInspect(fit, "rsquare")``) and the statsmodels-style tables
of the free parameters under lavaan's ``coef()`` names (:func:`coef_frame`, :func:`vcov_frame`).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from semlang.errors import NotSupportedError, OptionError
from semlang.syntax.ast import Op

__all__ = ["INSPECT_NAMES", "coef_frame", "inspect", "r_squared", "vcov_frame"]

MATRIX_NAMES = ("lambda", "theta", "psi", "beta", "nu", "alpha")


# --------------------------------------------------------------------------- helpers


def _per_group(fit, values: list):
    """One group: the value itself; several: a dict keyed by group label."""
    if len(values) == 1:
        return values[0]
    return dict(zip(fit.table.group_labels, values, strict=True))


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
    ``lhs op rhs`` without spaces, with ``.g<k>`` after it in group k > 1."""
    names = []
    for row in _free_rows(fit):
        if row.label:
            names.append(row.label)
            continue
        name = f"{row.lhs}{row.op.value}{row.rhs}" if row.op is not Op.INTERCEPT else f"{row.lhs}~1"
        names.append(name if row.block == 1 else f"{name}.g{row.block}")
    return names


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


def _std_all_of(fit, theta: np.ndarray) -> np.ndarray:
    """std.all of the free rows at θ (the implied moments recomputed there)."""
    from semlang.results.standardized import standardize

    rows = fit.table.rows
    implied = fit.model.implied(theta, fit.estimation.objective.exo)
    total, residual = {}, {}
    for layout, moments in zip(fit.model.layouts, implied, strict=True):
        total[layout.block] = dict(zip(layout.variables, np.diag(moments.total_cov), strict=True))
        residual[layout.block] = dict(zip(layout.variables, np.diag(moments.S), strict=True))
    est = np.array([theta[r.free - 1] if r.is_free else fit.row_estimate(r) for r in rows])
    _, std_all = standardize(fit.table, est, total, residual)
    return std_all[[k for k, row in enumerate(rows) if row.is_free]]


def vcov_std_all(fit) -> pd.DataFrame:
    """lavaan's ``lavInspect(fit, "vcov.std.all")``: the delta-method covariance matrix of the
    std.all values of the free parameters (the Jacobian by central differences)."""
    _single_level(fit, "vcov.std.all")
    theta = np.asarray(fit.theta, float)
    columns = []
    for k in range(theta.size):
        step = 1e-6 * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k] += step
        down[k] -= step
        columns.append((_std_all_of(fit, up) - _std_all_of(fit, down)) / (2 * step))
    jacobian = np.column_stack(columns)
    names = coef_names(fit)
    return pd.DataFrame(jacobian @ fit.vcov @ jacobian.T, index=names, columns=names)


def _information(fit) -> pd.DataFrame:
    from semlang.results import inference

    if fit.model.n_phi != fit.model.n_theta or len(_free_rows(fit)) != fit.model.n_theta:
        raise NotSupportedError(
            "inspect('information') is available for models without equality constraints",
            hint="use fit.cov_params() for the covariance matrix of the estimates",
        )
    info = inference.information_per_observation(
        fit.estimation.objective, fit.estimation.phi, fit.options.information
    )
    names = coef_names(fit)
    return pd.DataFrame(info, index=names, columns=names)


def _gradient(fit) -> pd.Series:
    if fit.model.n_phi != fit.model.n_theta or len(_free_rows(fit)) != fit.model.n_theta:
        raise NotSupportedError(
            "inspect('gradient') is available for models without equality constraints",
            hint="fit.converged tells whether the optimizer met its gradient criterion",
        )
    _, gradient = fit.estimation.objective.value_and_gradient(fit.estimation.phi)
    return pd.Series(0.5 * np.asarray(gradient), index=coef_names(fit))  # lavaan's F is F_ML/2


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


def _block_names(fit, layout) -> tuple[list[str], list[str]]:
    observed = list(layout.observed)
    latent = [v for v in layout.variables if v not in observed]
    return observed, latent


def _check_lisrel(fit, rows, observed) -> None:
    for row in rows:
        if row.op is Op.REGRESSION and (row.lhs in observed or row.rhs in observed):
            raise NotSupportedError(
                "the model matrices of a model with observed variables in regressions are "
                "not available",
                hint="the estimates() table holds every parameter",
            )


def model_matrices(fit, values: dict) -> list[dict[str, pd.DataFrame]]:
    """Per group lavaan's LISREL matrices (lambda, theta, psi, beta, nu, alpha) filled with
    ``values[row.id]`` (the estimate, SE, free index or start of each parameter row)."""
    _single_level(fit, "est")
    out = []
    for layout in fit.model.layouts:
        rows = [r for r in fit.table.rows if r.block == layout.block and r.op in _MATRIX_OPS]
        observed, latent = _block_names(fit, layout)
        _check_lisrel(fit, rows, observed)
        mats = {
            "lambda": pd.DataFrame(0.0, index=observed, columns=latent),
            "theta": pd.DataFrame(0.0, index=observed, columns=observed),
            "psi": pd.DataFrame(0.0, index=latent, columns=latent),
            "beta": pd.DataFrame(0.0, index=latent, columns=latent),
            "nu": pd.DataFrame(0.0, index=observed, columns=["intercept"]),
            "alpha": pd.DataFrame(0.0, index=latent, columns=["intercept"]),
        }
        for row in rows:
            _place(mats, row, values[row.id], observed)
        if not any(r.op is Op.REGRESSION for r in rows):
            del mats["beta"]
        if not fit.table.meanstructure:
            del mats["nu"], mats["alpha"]
        out.append(mats)
    return out


_MATRIX_OPS = (Op.MEASURED, Op.COVARIANCE, Op.REGRESSION, Op.INTERCEPT)


def _place(mats: dict, row, value: float, observed: list[str]) -> None:
    if row.op is Op.MEASURED:
        mats["lambda"].loc[row.rhs, row.lhs] = value
    elif row.op is Op.REGRESSION:
        mats["beta"].loc[row.lhs, row.rhs] = value
    elif row.op is Op.INTERCEPT:
        mats["nu" if row.lhs in observed else "alpha"].loc[row.lhs, "intercept"] = value
    else:
        name = "theta" if row.lhs in observed else "psi"
        mats[name].loc[row.lhs, row.rhs] = value
        mats[name].loc[row.rhs, row.lhs] = value


def _row_values(fit, kind: str) -> dict:
    if kind == "est":
        return {row.id: fit.row_estimate(row) for row in fit.table.rows}
    if kind == "free":
        numbers, k = {}, 0
        for row in fit.table.rows:
            if row.is_free:
                k += 1
            numbers[row.id] = float(k) if row.is_free else 0.0
        return numbers
    if kind == "se":
        se = np.sqrt(np.clip(np.diag(fit.vcov), 0.0, None))
        return {row.id: float(se[row.free - 1]) if row.is_free else 0.0 for row in fit.table.rows}
    start = fit.model.space.theta(fit.estimation.phi_start)
    return {
        row.id: float(start[row.free - 1]) if row.is_free else fit.row_estimate(row)
        for row in fit.table.rows
    }


def _matrices(fit, kind: str):
    return _per_group(fit, model_matrices(fit, _row_values(fit, kind)))


def _one_matrix(fit, name: str):
    per_group = model_matrices(fit, _row_values(fit, "est"))
    if name not in per_group[0]:
        raise NotSupportedError(
            f"the model has no {name!r} matrix",
            hint=f"its matrices are {', '.join(per_group[0])}",
        )
    return _per_group(fit, [mats[name] for mats in per_group])


# --------------------------------------------------------------------------- moments


def _moments(fit, which: str):
    _single_level(fit, which)
    out = []
    for group, layout in zip(fit.moment_groups, fit.model.layouts, strict=True):
        names = list(layout.observed)
        cov, mean = (group.h1_cov, group.h1_mean) if which == "h1" else (group.sigma, group.mu)
        parts = {"cov": _frame(cov, names)}
        if fit.table.meanstructure:
            parts["mean"] = pd.Series(np.asarray(mean, float), index=names)
        out.append(parts)
    return _per_group(fit, out)


def _latent_moments(fit, what: str):
    _single_level(fit, what)
    out = []
    for moments, layout in zip(fit.implied, fit.model.layouts, strict=True):
        observed, latent = _block_names(fit, layout)
        index = [list(layout.variables).index(v) for v in latent]
        ov = [list(layout.variables).index(v) for v in observed]
        cov, mean = np.asarray(moments.total_cov), np.asarray(moments.total_mean)
        names, pick = (latent, index) if what.endswith("lv") else (observed, ov)
        if what.startswith("mean"):
            if what == "mean.ov" and not fit.table.meanstructure:
                out.append(pd.Series([], dtype=float))
                continue
            out.append(pd.Series(mean[pick], index=names))
            continue
        frame = _frame(cov[np.ix_(pick, pick)], names)
        out.append(_cov2cor(frame) if what.startswith("cor") else frame)
    return _per_group(fit, out)


def _residuals(fit):
    from semlang.results.residuals import residuals

    out = residuals(fit, "raw")
    if fit.table.ngroups == 1:
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
    "vcov.std.all": vcov_std_all,
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
