"""Pieces shared by the factor-score methods: fitting parts of a model, moments, information.

Input: the parts' parameter tables (:mod:`semlang.twostep.parts`), the data (or moments) and the
user's options. Output: fitted parts — ordinary :class:`~semlang.results.fit.Fit` objects made
by the estimation stages directly (no model text, no second parse) — each block's loadings and
residual covariances, the sample of a structural model fitted to given moments (a covariance
matrix and means of N observations), and the expected (Fisher) information of a normal model
from its moments and their derivatives.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from semlang.compile.model import CompiledModel, compile_model
from semlang.errors import DataError, EstimationError, OptionError, SemlangWarning
from semlang.estimate.data import (
    SampleData,
    as_frame,
    check_names,
    prepare,
    sample_from_moments,
)
from semlang.estimate.estimator import build_objective, estimate
from semlang.matrices import nearly_singular, scaled_inverse
from semlang.options import (
    FitOptions,
    ModelOptions,
    StandardErrors,
    make_fit_options,
    make_options,
    split_options,
)
from semlang.partable.table import ParameterTable
from semlang.results.fit import Fit

# Options that only shape the parameter table (already applied to the full model's table).
_TABLE_OPTIONS = {
    "std_lv",
    "auto_fix_first",
    "auto_fix_single",
    "auto_var",
    "auto_cov_lv_x",
    "auto_cov_y",
    "meanstructure",
    "int_ov_free",
    "int_lv_free",
    "fixed_x",
    "orthogonal",
}
_EXPLICIT = {
    "auto_fix_first": False,
    "auto_fix_single": False,
    "auto_var": False,
    "auto_cov_lv_x": False,
    "auto_cov_y": False,
}
_UNSUPPORTED = {"group", "group_equal", "group_partial", "cluster"}


def key(row: Any) -> tuple[str, str, str]:
    """A row's identity across the full model and its parts."""
    return row.lhs, row.op.value, row.rhs


def two_step_options(options: dict[str, Any], method: str) -> tuple[dict[str, Any], dict]:
    """The model options and the fit options of a two-step call (dicts), the latter checked.

    The parts are ML fits: an ML-type estimator (with se='standard') only names the estimates,
    so it is not passed on."""
    model, fit, _ = split_options(options)
    check_two_step_options(make_fit_options(make_options("sem", **model), **fit), method)
    return model, {k: v for k, v in fit.items() if k not in ("estimator", "test")}


def part_options(options: dict[str, Any], **overrides: Any) -> ModelOptions:
    """Options for fitting a part whose rows are all given (no automatic parameters)."""
    for name in options:
        if name.replace(".", "_") in _UNSUPPORTED:
            raise OptionError(
                f"option {name!r} is not available for factor-score methods",
                hint="fit each group separately",
            )
    kept = {k: v for k, v in options.items() if k.replace(".", "_") not in _TABLE_OPTIONS}
    return make_options("sem", **{**kept, **_EXPLICIT, **overrides})


def data_frame(data: Any, table: ParameterTable) -> pd.DataFrame:
    """The data as a frame whose columns include every observed variable of the model (else an
    error pointing at the variable in the model text)."""
    frame = as_frame(data)
    check_names(frame, table)
    return frame


def check_two_step_options(options: FitOptions, method: str) -> None:
    """Two-step estimates are ML and their standard errors come from the information matrix
    (expected or observed): an error for other estimators and for robust or bootstrap standard
    errors (lavaan 0.6.14 ignores them here)."""
    if not options.estimator.is_likelihood:
        raise OptionError(
            f"{method} fits its parts by maximum likelihood, not "
            f"estimator={options.estimator.value!r}",
            hint="drop the estimator option",
        )
    se = options.se
    if se not in (StandardErrors.STANDARD, StandardErrors.NONE):
        implied = "" if options.se_given else f" (estimator={options.estimator.value!r} implies it)"
        raise OptionError(
            f"{method} reports two-step standard errors from the information matrix; "
            f"se={se.value!r}{implied} is not available",
            hint="drop the option, or pass se='standard' with estimator='MLR'",
        )


def complete_rows(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """The rows complete on ``names`` (every part is then fitted to the same rows)."""
    return frame.loc[frame[list(names)].notna().all(axis=1)]


def sample(frame: pd.DataFrame, table: ParameterTable) -> SampleData:
    """The sample data of ``table`` (its options decide listwise deletion or FIML)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemlangWarning)
        return prepare(frame, table, table.options)


def fit_part(
    model: CompiledModel, data: SampleData, what: str, hint: str, starts=None,
    fit_options: dict | None = None,
) -> Fit:  # fmt: skip
    """ML fit of a compiled part (its warnings are the caller's); not converging is an error
    that says which part (``what``) and ``hint``. ``starts``: a function of the model and the
    objective giving φ₀ (default: the usual start values); ``fit_options`` as ``semlang.fit``
    takes them."""
    options = make_fit_options(model.table.options, **(fit_options or {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemlangWarning)
        objective = build_objective(model, data, options)
        phi0 = starts(model, objective) if starts is not None else None
        fit = Fit(model, data, options, estimate(model, data, options, objective, phi0))
    if not fit.converged:
        raise EstimationError(f"the {what} did not converge", hint=hint)
    return fit


def measurement_fit(
    table: ParameterTable, data: SampleData, fit_options: dict | None = None
) -> Fit:
    """The fitted measurement part (its table from :mod:`semlang.twostep.parts`)."""
    latent = ", ".join(table.latent)
    return fit_part(compile_model(table), data, f"measurement model of {latent}",
                    "check the measurement model of these latent variables on its own",
                    None, fit_options)  # fmt: skip


def structural_fit(table: ParameterTable, data: SampleData, fit_options: dict | None = None) -> Fit:
    """The structural part fitted to its sample (usually moments), from its rows' starts."""
    return fit_part(compile_model(table), data, "structural model",
                    "check that the structural part is identified on its own",
                    row_starts, fit_options)  # fmt: skip


def row_starts(model: CompiledModel, objective) -> np.ndarray | None:
    """φ₀ from the rows' start values when every free row has one, else None (the usual
    start values)."""
    theta = np.full(model.n_theta, np.nan)
    for row in model.table.rows:
        if row.is_free and row.is_model_parameter:
            theta[row.free - 1] = row.start
    return model.space.phi_from_theta(theta) if np.all(np.isfinite(theta)) else None


def structural_sample(split, table: ParameterTable, cov: np.ndarray, mean: np.ndarray, n: int):
    """Sample data of the structural model: the moments of the structural variables.

    Fitting a model to them by ML is what fitting it to N rows with exactly these means and
    covariance matrix (divisor N) would give; :func:`check_moments` says whether it can be.
    """
    return sample_from_moments(table, [(cov, mean, n)], split.structural_variables)


def check_moments(
    split,
    cov: np.ndarray,
    n: int,
    what: str = "the covariance matrix of the structural variables",
    hint: str = "a measurement model may be weak (low reliability) for this sample size",
) -> None:
    """An error unless a structural model can be fitted to ``cov`` (``what``; positive definite,
    whatever the variables' scales) from ``n`` observations."""
    k = len(split.structural_variables)
    if n <= k:
        raise DataError(f"{n} observations are too few for {k} structural variables")
    if nearly_singular(cov):
        raise EstimationError(f"{what} is not positive definite", hint=hint)


def structural_information_inverse(info: np.ndarray) -> np.ndarray:
    """The inverse of the structural parameters' information; an error where it is singular
    (the structural part is not identified once the measurement part is fixed)."""
    if nearly_singular(info):
        raise EstimationError(
            "the structural part is not identified: its information matrix is singular",
            hint="fix or drop structural parameters (e.g. a residual covariance), or fit the "
            "model with semlang.sem()",
        )
    return scaled_inverse(info)


def free_index(table) -> dict[tuple[str, str, str], int]:
    """0-based θ index of every free row, by (lhs, op, rhs)."""
    return {key(r): r.free - 1 for r in table.rows if r.is_model_parameter and r.is_free}


def measurement_matrices(fit, latent: tuple[str, ...], indicators: tuple[str, ...]):
    """(Λ, Θ, ν) of a fitted measurement model in the order of ``indicators`` × ``latent``."""
    moments = fit.implied[0]
    names = moments.layout.variables
    position = {name: k for k, name in enumerate(names)}
    rows = [position[n] for n in indicators]
    cols = [position[f] for f in latent]
    lam = moments.A[np.ix_(rows, cols)]
    theta = moments.S[np.ix_(rows, rows)]
    nu = moments.m[rows] if fit.table.meanstructure else np.zeros(len(rows))
    return lam, theta, nu


def expected_information(
    sigma: np.ndarray, d_sigma: np.ndarray, d_mu: np.ndarray | None
) -> np.ndarray:
    """Per-observation expected information of a normal model: ½tr(Σ⁻¹Σ_kΣ⁻¹Σ_l) + μ_k'Σ⁻¹μ_l."""
    inverse = np.linalg.inv(sigma)
    m = inverse @ d_sigma  # Σ⁻¹Σ_k; tr(Σ⁻¹Σ_k Σ⁻¹Σ_l) = Σ_ij (Σ⁻¹Σ_k)_ij (Σ⁻¹Σ_l)_ji
    k = m.shape[0]
    info = 0.5 * (m.reshape(k, -1) @ m.transpose(0, 2, 1).reshape(k, -1).T)
    if d_mu is not None:
        info += d_mu @ inverse @ d_mu.T
    return info


def implied_derivatives(fit, order: tuple[str, ...]):
    """Σ, μ and their derivatives with respect to the fit's θ, in the variable ``order``."""
    moments = fit.implied[0]
    names = moments.layout.observed
    position = {name: k for k, name in enumerate(names)}
    idx = np.array([position[n] for n in order])
    d_sigma, d_mu = moments.dsigma_dtheta(len(fit.theta))
    return (
        moments.sigma[np.ix_(idx, idx)],
        moments.mu[idx],
        d_sigma[:, idx][:, :, idx],
        d_mu[:, idx],
    )
