"""Pieces shared by the factor-score methods: fitting parts of a model, moments, information.

Input: a :class:`~semlang.twostep.split.ModelSplit`, the data and the user's options. Output: fitted
measurement blocks and structural models (ordinary :class:`~semlang.results.fit.Fit` objects,
through ``semlang.sem``), each block's loadings and residual covariances, a structural model
fitted by ML to given moments (a covariance matrix and means of N observations), and the
expected (Fisher) information of a normal model from its moments and their derivatives.
Everything goes through the public API: model text in, ``Fit`` out.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from semlang.errors import DataError, EstimationError, OptionError
from semlang.twostep.split import render

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


def part_options(options: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Options for fitting a part whose rows are all written out."""
    for name in options:
        if name.replace(".", "_") in _UNSUPPORTED:
            raise OptionError(
                f"option {name!r} is not available for factor-score methods",
                hint="fit each group separately",
            )
    kept = {k: v for k, v in options.items() if k.replace(".", "_") not in _TABLE_OPTIONS}
    return {**kept, **_EXPLICIT, **overrides}


def as_frame(data: Any) -> pd.DataFrame:
    """The user's data as a DataFrame (a DataFrame, a dict of columns or a CSV path)."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict):
        return pd.DataFrame(data)
    if isinstance(data, (str, Path)):
        if not Path(data).exists():
            raise DataError(f"data file {str(data)!r} does not exist")
        return pd.read_csv(data)
    raise DataError(
        f"data must be a pandas DataFrame, a dict of columns or a CSV path, not "
        f"{type(data).__name__}"
    )


def complete_rows(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """The rows complete on ``names`` (every part is then fitted to the same rows)."""
    absent = [n for n in names if n not in frame.columns]
    if absent:
        raise DataError(f"variables not in the data: {', '.join(absent)}")
    return frame.loc[frame[list(names)].notna().all(axis=1)]


def fit_text(text: str, data: pd.DataFrame, options: dict[str, Any]):
    """``semlang.sem`` on a part written out in full (its warnings are the caller's)."""
    import semlang

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        fit = semlang.sem(text, data, **options)
    if not fit.converged:
        raise EstimationError(
            "a part of the model did not converge:\n" + text.strip(),
            hint="check the measurement model of these latent variables on its own",
        )
    return fit


def measurement_fit(split, groups, frame: pd.DataFrame, options: dict[str, Any]):
    """One fit of the measurement blocks: latent variables correlated within each group of
    ``groups`` and uncorrelated across groups.

    With the covariances across groups fixed at zero the implied covariance matrix is block
    diagonal, so the likelihood (complete data or FIML) is the sum of the groups' likelihoods:
    the estimates, their covariance blocks and the factor scores are those of fitting each group
    on its own, in one pass.
    """
    rows, lines = [], []
    for latent in groups:
        rows += [r for b in split.blocks if set(b.latent) & set(latent) for r in b.rows]
    have = {frozenset((r.lhs, r.rhs)) for r in rows if r.op.value == "~~"}
    for g, latent in enumerate(groups):
        for i, a in enumerate(latent):
            for b in latent[i + 1 :]:
                if frozenset((a, b)) not in have:
                    lines.append(f"{a} ~~ {b}")
            for other in groups[g + 1 :]:
                lines += [f"{a} ~~ 0*{b}" for b in other if frozenset((a, b)) not in have]
    return fit_text(render(rows) + "".join(line + "\n" for line in lines), frame, options)


def row_values(fit) -> dict[tuple[str, str, str], float]:
    """The estimate of every parameter row of a fit, by (lhs, op, rhs)."""
    return {key(r): fit.row_estimate(r) for r in fit.table.rows if r.is_model_parameter}


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


def moment_frame(names: tuple[str, ...], cov: np.ndarray, mean: np.ndarray, n: int):
    """N rows whose means and covariance matrix (divisor N) are exactly ``mean`` and ``cov``.

    Fitting a model to them by ML is fitting it to the moments: how a structural model is
    fitted to the (corrected) moments of factor scores through ``semlang.sem``.
    """
    k = len(names)
    if n <= k:
        raise DataError(f"{n} observations are too few for {k} structural variables")
    eigenvalues, vectors = np.linalg.eigh(cov)
    if eigenvalues[0] <= 1e-10 * max(eigenvalues[-1], 1e-300):
        raise EstimationError(
            "the covariance matrix of the structural variables is not positive definite",
            hint="a measurement model may be weak (low reliability) for this sample size",
        )
    z = np.random.default_rng(20240101).standard_normal((n, k))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(z.T @ z / n)).T
    root = vectors * np.sqrt(eigenvalues)
    values = z @ root.T + mean
    return pd.DataFrame(values, columns=list(names))


def expected_information(
    sigma: np.ndarray, d_sigma: np.ndarray, d_mu: np.ndarray | None
) -> np.ndarray:
    """Per-observation expected information of a normal model: ½tr(Σ⁻¹Σ_kΣ⁻¹Σ_l) + μ_k'Σ⁻¹μ_l."""
    inverse = np.linalg.inv(sigma)
    m = np.einsum("ij,kjl->kil", inverse, d_sigma)
    info = 0.5 * np.einsum("kij,lji->kl", m, m)
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
