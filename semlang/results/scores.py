"""Factor scores of a fitted model: lavaan's ``lavPredict()`` for the latent variables.

Input: a :class:`~semlang.results.fit.Fit` (and optionally new data with the same columns).
Output: a DataFrame with one column per latent variable (and the group column in a multi-group
fit), or the linear maps behind it: per group a weight matrix ``A`` and offset ``b`` with
``scores = b + A y`` for a complete row ``y`` of the observed variables.

lavaan scores in its LISREL form, where η holds the latent variables and one "dummy" latent
variable per observed variable that takes part in the structural part (:func:`dummy_observed`).
With Σ the implied covariance of the observed variables, μ_y their mean, V = Cov(η_latent, η),
E[η] the latent means and Λ lavaan's loading matrix *as lavPredict uses it* — an outcome
dummy's row replaced by its row of structural coefficients, a covariate dummy's row a unit
vector — the two methods are, per group:

- regression (empirical Bayes, "EBM"): ``η̂ = E[η] + V Λ' Σ⁻¹ (y − μ_y)``. Without dummies (any
  measurement model) V Λ' = Cov(η, y) and this is the conditional mean E[η | y]; with dummies it
  is what lavaan computes, which drops the covariances of the latent variables with exogenous
  observed covariates and with residuals of observed outcomes;
- Bartlett ("ML"): ``η̂ = E[η] + [(Λ'Σ⁻¹Λ)⁺ Λ'Σ⁻¹]_latent (y − μ_y)`` (⁺: pseudo-inverse).

With a mean structure μ_y and E[η] are the implied means. Without one, latent intercepts are
zero, the dummies sit at their sample means and μ_y is the sample mean — plus Λ E[η] when no
covariate is among the dummies (lavaan 0.6.14's arithmetic, a constant shift per group). Under
FIML every missing-data pattern gets the same formulas on its observed rows of Σ and Λ; a
Bartlett score whose latent variable has no observed indicator in the pattern is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from semlang.errors import DataError, NotSupportedError, OptionError
from semlang.syntax.ast import Op

_METHODS = {
    "regression": "regression",
    "reg": "regression",
    "ebm": "regression",
    "eb": "regression",
    "bartlett": "bartlett",
    "ml": "bartlett",
}


@dataclass(frozen=True)
class ScoreWeights:
    """The linear map of one group: ``scores = offset + weights @ x`` for a complete row x.

    ``weights`` is ``(n_latent, n_observed)`` in the order of ``latent`` and ``observed``.
    """

    group: int
    label: str
    latent: tuple[str, ...]
    observed: tuple[str, ...]
    weights: np.ndarray
    offset: np.ndarray

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Scores of the rows of ``x`` (n × n_observed, complete)."""
        return x @ self.weights.T + self.offset


@dataclass(frozen=True)
class _GroupModel:
    """One group in lavaan's LISREL terms: η = the latent variables, then the dummies."""

    group: int
    label: str
    latent: tuple[str, ...]
    observed: tuple[str, ...]
    sigma: np.ndarray  # p x p implied covariance of the observed variables
    veta: np.ndarray  # m x (m + d): Cov(η_latent, η)
    loadings: np.ndarray  # p x (m + d): Λ as lavPredict uses it
    mean_y: np.ndarray  # p
    mean_eta: np.ndarray  # m

    def weights(self, method: str) -> tuple[np.ndarray, np.ndarray]:
        """(A, b) of the complete rows."""
        sigma_inv = np.linalg.pinv(self.sigma, hermitian=True)
        lam = self.loadings
        if method == "regression":
            A = self.veta @ lam.T @ sigma_inv
        else:
            information = lam.T @ sigma_inv @ lam
            A = np.linalg.pinv(information, hermitian=True) @ lam.T @ sigma_inv
            A = A[: len(self.latent)]
        return A, self.mean_eta - A @ self.mean_y

    def pattern_weights(self, method: str, patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(A, b) stacked over missing-data patterns (k × p booleans, True = observed).

        A is (k, m, p) with zero weights on the missing variables. Σ with the missing rows
        and columns replaced by those of the identity has the inverse of the observed part
        of Σ in its observed block, so one batched inverse serves every pattern.
        """
        p, m = len(self.observed), len(self.latent)
        seen = patterns.astype(float)
        both = seen[:, :, None] * seen[:, None, :]
        sigma = self.sigma * both + np.eye(p) * (1.0 - seen)[:, None, :]
        try:
            sigma_inv = np.linalg.inv(sigma) * both
        except np.linalg.LinAlgError:
            sigma_inv = np.linalg.pinv(sigma, hermitian=True) * both
        lam = self.loadings * seen[:, :, None]
        lam_t = np.swapaxes(lam, 1, 2)
        if method == "regression":
            A = self.veta @ lam_t @ sigma_inv
        else:
            information = lam_t @ sigma_inv @ lam
            A = (np.linalg.pinv(information, hermitian=True) @ lam_t @ sigma_inv)[:, :m]
            unmeasured = ~lam[:, :, :m].any(axis=1)
            A[unmeasured] = np.nan
        b = self.mean_eta - A @ self.mean_y
        return A, b


def normalize_method(method: str) -> str:
    """'regression' or 'bartlett' from any of lavaan's spellings."""
    key = str(method).strip().lower()
    if key not in _METHODS:
        raise OptionError(
            f"unknown factor-score method {method!r}",
            hint="use method='regression' (alias 'EBM') or method='bartlett' (alias 'ML')",
        )
    return _METHODS[key]


def score_weights(fit: Any, method: str = "regression") -> tuple[ScoreWeights, ...]:
    """Per group the weight matrix A and offset b of the scores (complete rows): b + A x."""
    method = normalize_method(method)
    out = []
    for model in _group_models(fit):
        A, b = model.weights(method)
        out.append(ScoreWeights(model.group, model.label, model.latent, model.observed, A, b))
    return tuple(out)


def predict(fit: Any, data: Any = None, method: str = "regression") -> pd.DataFrame:
    """Factor scores, one column per latent variable (lavaan's ``lavPredict()``).

    Without ``data`` the rows the model was fitted to are scored (index: their positions in
    that data); with ``data`` every row of it is (index: its index). Under a FIML fit, rows with
    missing values are scored from their observed variables (a row observing none gets NaN, as
    in lavaan); otherwise such rows get NaN.
    A multi-group fit puts the group column first.
    """
    method = normalize_method(method)
    models = _group_models(fit)
    latent = models[0].latent
    if not latent:
        raise NotSupportedError("the model has no latent variables to score", fit.table.source)
    if data is None:
        parts = [
            (_in_order(g.raw, g.names, m.observed), g.rows)
            for g, m in zip(fit.sample.groups, models, strict=True)
        ]
        index = None
        n_rows = int(max((rows.max() + 1 for _, rows in parts if len(rows)), default=0))
    else:
        parts, index = _new_data(fit, models, data)
        n_rows = len(index)
    scores = np.full((n_rows, len(latent)), np.nan)
    group_of = np.full(n_rows, None, dtype=object)
    fiml = fit.table.options.missing.is_fiml
    for model, (raw, rows) in zip(models, parts, strict=True):
        scores[rows] = _score_rows(model, raw, method, fiml)
        group_of[rows] = model.label
    if data is None:
        used = np.sort(np.concatenate([rows for _, rows in parts]))
        frame = pd.DataFrame(scores[used], index=pd.Index(used), columns=list(latent))
        group_of = group_of[used]
    else:
        frame = pd.DataFrame(scores, index=index, columns=list(latent))
    if len(models) > 1:
        frame.insert(0, fit.table.options.group, group_of)
    return frame


def _score_rows(model: _GroupModel, raw: np.ndarray, method: str, fiml: bool) -> np.ndarray:
    """Scores of the rows of one group; pattern by pattern where values are missing."""
    out = np.full((raw.shape[0], len(model.latent)), np.nan)
    seen = ~np.isnan(raw)
    complete = seen.all(axis=1)
    if complete.any():
        A, b = model.weights(method)
        out[complete] = raw[complete] @ A.T + b
    if not fiml or complete.all():
        return out
    incomplete = np.flatnonzero(~complete)
    patterns, which = _patterns(seen[incomplete])
    values = np.nan_to_num(raw[incomplete])
    for start in range(0, len(patterns), _PATTERN_CHUNK):
        chunk = slice(start, start + _PATTERN_CHUNK)
        A, b = model.pattern_weights(method, patterns[chunk])
        rows = np.flatnonzero((which >= start) & (which < start + len(A)))
        for part in np.array_split(rows, max(1, len(rows) // _ROW_CHUNK)):
            k = which[part] - start
            scores = np.einsum("np,nmp->nm", values[part], A[k]) + b[k]
            out[incomplete[part]] = scores
    out[~seen.any(axis=1)] = np.nan  # nothing observed: no score (lavaan: NA)
    return out


_PATTERN_CHUNK = 4096
_ROW_CHUNK = 65536


def _patterns(seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a boolean matrix and, per row, the index of its pattern."""
    packed = np.packbits(seen, axis=1)
    width = -(-packed.shape[1] // 8) * 8
    padded = np.zeros((packed.shape[0], width), dtype=np.uint8)
    padded[:, : packed.shape[1]] = packed
    keys = padded.view(np.uint64)
    if keys.shape[1] == 1:
        _, first, which = np.unique(keys[:, 0], return_index=True, return_inverse=True)
    else:
        _, first, which = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return seen[first], which.reshape(-1)


def _in_order(raw: np.ndarray, names: tuple[str, ...], order: tuple[str, ...]) -> np.ndarray:
    if tuple(names) == tuple(order):
        return raw
    position = {name: k for k, name in enumerate(names)}
    return raw[:, [position[name] for name in order]]


# ---- the per-group model -------------------------------------------------------------------
def _group_models(fit: Any) -> tuple[_GroupModel, ...]:
    table = fit.table
    if table.nlevels > 1:
        raise NotSupportedError(
            "factor scores of two-level models are not available",
            table.source,
            hint="fit the within or between part as a single-level model to score it",
        )
    return tuple(
        _group_model(table, layout, moments, group)
        for layout, moments, group in zip(
            fit.model.layouts, fit.implied, fit.sample.groups, strict=True
        )
    )


def _group_model(table: Any, layout: Any, moments: Any, group: Any) -> _GroupModel:
    """lavaan's matrices of one group from the RAM form (A, S, m; observed first)."""
    p, n = layout.n_observed, layout.n
    dummies = dummy_observed(table, layout.block, layout.observed)
    exogenous = set(_block(table, layout.block).observed_exogenous)
    eta = np.concatenate([np.arange(p, n), np.asarray(dummies, dtype=np.intp)])
    m = n - p
    raw = np.zeros((p, len(eta)))
    raw[:, :m] = moments.A[:p, p:]
    for k, i in enumerate(dummies):
        raw[i] = 0.0
        raw[i, m + k] = 1.0
    handled = raw.copy()
    y_dummies = [i for i in dummies if layout.observed[i] not in exogenous]
    handled[y_dummies] = moments.A[np.ix_(np.asarray(y_dummies, dtype=np.intp), eta)]
    if table.meanstructure:
        mean_y, mean_all = moments.mu, moments.total_mean[eta]
    else:
        sample_mean = _in_order(group.mean[None, :], group.names, layout.observed)[0]
        x_dummy = len(y_dummies) < len(dummies)
        mean_y, mean_all = _means_without_meanstructure(
            moments.B, raw, dummies, eta, sample_mean, x_dummy
        )
    return _GroupModel(
        group=layout.group,
        label=group.label,
        latent=layout.latent,
        observed=layout.observed,
        sigma=moments.sigma,
        veta=moments.total_cov[np.ix_(np.arange(p, n), eta)],
        loadings=handled,
        mean_y=np.asarray(mean_y, dtype=float),
        mean_eta=np.asarray(mean_all[:m], dtype=float),
    )


def dummy_observed(table: Any, block: int, observed: tuple[str, ...]) -> tuple[int, ...]:
    """Indices (into ``observed``) of the observed variables lavaan turns into dummy latents.

    lavaan's LISREL rule: every variable of a regression (``~``), the variables sharing a
    ``~~`` row with those (and, one step further, with the left/right names of such rows), and
    observed variables with a covariance with a latent variable.
    """
    rows = [r for r in table.rows if r.block == block]
    latent = {r.lhs for r in rows if r.op is Op.MEASURED}
    covs = [r for r in rows if r.op is Op.COVARIANCE]
    in_regressions = {n for r in rows if r.op is Op.REGRESSION for n in (r.lhs, r.rhs)}
    names1 = in_regressions - latent
    first = [r for r in covs if r.lhs in names1 or r.rhs in names1]
    lhs1, rhs1 = {r.lhs for r in first}, {r.rhs for r in first}
    second = [r for r in covs if r.lhs in lhs1 or r.rhs in rhs1]
    names2 = {n for r in first + second for n in (r.lhs, r.rhs)}
    observed_set = set(observed)
    names3 = {
        r.lhs if r.lhs in observed_set else r.rhs
        for r in covs
        if (r.lhs in observed_set and r.rhs in latent)
        or (r.lhs in latent and r.rhs in observed_set)
    }
    dummy = names1 | names2 | names3
    return tuple(i for i, name in enumerate(observed) if name in dummy)


def _means_without_meanstructure(B, raw, dummies, eta, sample_mean, x_dummy: bool):
    """(μ_y, E[η]) of a model without a mean structure, as lavaan 0.6.14 computes them.

    Latent intercepts are zero and each dummy's intercept makes its mean the sample mean, so
    E[η] follows from the structural part. μ_y is the sample mean when an exogenous covariate
    is among the dummies; otherwise lavaan takes the sample mean *plus* Λ E[η], which counts a
    dummy's mean twice. Either way every score of a group moves by one constant.
    """
    if not dummies:
        return sample_mean, np.zeros(len(eta))
    d = np.asarray(dummies)
    intercepts = np.zeros(B.shape[0])
    intercepts[d] = np.linalg.solve(B[np.ix_(d, d)], sample_mean[d])
    mean_all = (B @ intercepts)[eta]
    if x_dummy:
        return sample_mean, mean_all
    return sample_mean + raw @ mean_all, mean_all


def _block(table: Any, block: int):
    return next(b for b in table.blocks if b.index == block)


# ---- new data --------------------------------------------------------------------------------
def _new_data(fit: Any, models, data: Any) -> tuple[list[tuple[np.ndarray, np.ndarray]], pd.Index]:
    """Per group (values in the model's variable order, row positions) of the user's new data."""
    from semlang.estimate.data import as_frame

    frame = as_frame(data)
    parts = []
    missing = [name for name in fit.table.observed if name not in frame.columns]
    if missing:
        raise DataError(
            "the new data lack the model's variables: " + ", ".join(missing),
            hint="give the new data the same columns as the data the model was fitted to",
        )
    group_column = fit.table.options.group
    if len(fit.sample.groups) > 1:
        if group_column not in frame.columns:
            raise DataError(
                f"the new data have no group column {group_column!r}",
                hint="multi-group scores need each row's group",
            )
        labels = frame[group_column].map(lambda v: str(v) if pd.notna(v) else None).to_numpy()
        unknown = sorted(
            {v for v in labels if v is not None} - {g.label for g in fit.sample.groups}
        )
        if unknown:
            names = ", ".join(map(repr, unknown))
            raise DataError(f"group(s) {names} of the new data are not groups of the fit")
    else:
        labels = np.full(len(frame), fit.sample.groups[0].label, dtype=object)
    for group, model in zip(fit.sample.groups, models, strict=True):
        rows = np.flatnonzero(labels == group.label)
        values = _numeric(frame.iloc[rows], model.observed)
        parts.append((values, rows))
    return parts, frame.index


def _numeric(frame: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    try:
        return frame.loc[:, list(names)].to_numpy(dtype=float)
    except (TypeError, ValueError):
        bad = [n for n in names if not pd.api.types.is_numeric_dtype(frame[n])]
        raise DataError(
            "columns of the new data are not numeric: " + ", ".join(bad),
            hint="code categories as numbers",
        ) from None
