"""Fit -> residuals of the moments, as lavaan's ``resid()`` / ``lavResiduals()``.

Input: a :class:`~semlang.results.fit.Fit`. Output, per group: the covariance residuals (a
DataFrame labelled by the observed variables) and, with a mean structure, the mean residuals (a
Series); for ``lavResiduals()`` also their z-statistics and the summary table (RMR, SRMR or
CRMR with standard error, exact-fit test and the unbiased estimate with its interval and
close-fit test).

Types, with S, m the unrestricted (sample or EM) moments and Σ̂, μ̂ the implied ones:

* ``raw``: S − Σ̂ and m − μ̂;
* ``cor.bentler``: both sides scaled by the sample standard deviations; ``cor.bollen``
  (``cor``): correlations minus implied correlations, means scaled by the sample SDs
  (:mod:`semlang.results.residual_measures`);
* ``standardized``: the raw residual over its standard error under the model, from
  ACOV(res) = Q ACOV(s) Qᵀ, Q = I − f_g Δ_g I⁻¹ Δ_gᵀ A1_g, with ACOV(s) the asymptotic covariance
  of the unrestricted moments (the inverse h1 information at S over n_g, a sandwich with
  robust standard errors), A1_g the h1 information at the implied moments and I = Σ_g f_g Δ_gᵀ
  A1_g Δ_g the model's; ``normalized``: over the standard error of the sample moment alone.
  GLS and WLS fits take their weight matrix W_g as the h1 information (ACOV(s) = W_g⁻¹ / n_g,
  A1_g = W_g), as lavaan; ULS and DWLS fits have none, and least-squares fits with robust
  standard errors (WLSMV, ULSMV, WLSM, ...) would need a first-order h1 information that
  lavaan 0.6.14 has for no least-squares estimator: both are refused, as lavaan refuses them.

A two-level model gets the residuals of each level ("within" and the cluster variable's name:
the unrestricted model's within and between moments against the implied ones), without
standard errors (as lavaan).

Residuals below 1e-5 in absolute size are not divided by their standard error (lavaan's rule;
1e-4 for the z-statistics of ``lavResiduals()``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from semlang.errors import NotSupportedError, OptionError
from semlang.estimate.missing_patterns import unvech, vech, vech_indices
from semlang.options import StandardErrors
from semlang.results import residual_measures as rm

__all__ = ["RESIDUAL_TYPES", "lav_residuals", "residual_summary", "residuals"]

RESIDUAL_TYPES = ("raw", "cor", "cor.bollen", "cor.bentler", "standardized", "normalized")
_ALIASES = {"cor": "cor.bollen", "cor.eqs": "cor.bentler", "rmr": "raw", "srmr": "cor.bentler",
            "crmr": "cor.bollen"}  # fmt: skip
_SUMMARY_NAME = {"raw": "rmr", "cor.bentler": "srmr", "cor.bollen": "crmr"}


def _check_type(kind: str, allowed=RESIDUAL_TYPES) -> str:
    kind = str(kind).lower()
    if kind not in allowed and kind not in _ALIASES:
        import difflib

        close = difflib.get_close_matches(kind, allowed, n=1)
        raise OptionError(
            f"unknown residual type {kind!r}",
            hint=f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(allowed)}",
        )
    return _ALIASES.get(kind, kind)


@dataclass(frozen=True)
class _Level:
    """The moments of one level of a two-level model (what residuals need of a group)."""

    h1_cov: np.ndarray
    h1_mean: np.ndarray
    sigma: np.ndarray
    mu: np.ndarray
    meanstructure: bool = True

    @property
    def p(self) -> int:
        return self.sigma.shape[0]


def _levels(fit) -> list[_Level]:
    h1 = fit.estimation.objective.sample.h1
    within, between = fit.implied
    return [
        _Level(h1.sigma_w, h1.mu_w, within.sigma, within.mu),
        _Level(h1.sigma_b, h1.mu_b, between.sigma, between.mu),
    ]


def _groups(fit, standard_errors: bool = False):
    if fit.table.nlevels > 1:
        if standard_errors:
            raise NotSupportedError(
                "standardized residuals of a two-level model are not available (nor in lavaan)",
                hint="use type='raw', 'cor.bollen' or 'cor.bentler'",
            )
        return _levels(fit)
    return fit.moment_groups


def _moments(group):
    """(S, m, Σ̂, μ̂) of one group, the means None without a mean structure."""
    if group.meanstructure:
        return group.h1_cov, group.h1_mean, group.sigma, group.mu
    return group.h1_cov, None, group.sigma, None


def _raw_residuals(group, kind: str) -> tuple[np.ndarray, np.ndarray | None]:
    s, m, sigma, mu = _moments(group)
    if kind == "cor.bentler":
        return rm.residuals_cor_bentler(s, m, sigma, mu)
    if kind == "cor.bollen":
        return rm.residuals_cor_bollen(s, m, sigma, mu)
    return s - sigma, (None if m is None else m - mu)


# --------------------------------------------------------------------------- ACOV of residuals


def _h1_acov(fit, group) -> np.ndarray:
    """ACOV of the unrestricted moments of one group (n_g in the denominator)."""
    from semlang.results import robust

    kind = fit.options.information
    n_g = group.weight * fit.nobs
    inverse = np.linalg.inv(robust._h1_information(group, group.h1_cov, group.h1_mean, kind))
    if fit.options.se in (StandardErrors.ROBUST_HUBER_WHITE, StandardErrors.ROBUST_SEM):
        meat = robust._first_order(group, group.h1_cov, group.h1_mean)
        return inverse @ meat @ inverse / n_g
    return inverse / n_g


def _model_parts(fit, groups):
    """Per group A1_g (the h1 information at the implied moments) and the inverse of the
    model's information Σ_g f_g Δ_gᵀ A1_g Δ_g."""
    from semlang.results import robust

    kind = fit.options.information
    a1 = [robust._h1_information(g, g.sigma, g.mu, kind) for g in groups]
    info = sum(g.weight * g.delta.T @ a @ g.delta for g, a in zip(groups, a1, strict=True))
    return a1, np.linalg.pinv(info, hermitian=True)


def _least_squares_parts(fit, groups):
    """GLS and WLS: lavaan's h1 information is the estimator's weight matrix W_g, so ACOV(s) is
    W_g⁻¹ / n_g and A1_g is W_g; the model's information is Σ_g f_g Δ_gᵀ W_g Δ_g."""
    if fit.options.se in (StandardErrors.ROBUST_HUBER_WHITE, StandardErrors.ROBUST_SEM):
        # lavaan 0.6.14 asks for the first-order h1 information of a robust fit, which it has
        # for no least-squares estimator (WLSMV, ULSMV, WLSM, DWLS/ULS/WLS with robust.sem)
        raise NotSupportedError(
            f"standardized residuals of a {fit.family.name} fit with robust standard errors are "
            'not available (nor in lavaan 0.6.14: \'information = "first.order" not available '
            f"for estimator {fit.family.name}')",
            hint="use type='raw', 'cor.bollen' or 'cor.bentler'",
        )
    if fit.family.name not in ("GLS", "WLS"):
        raise NotSupportedError(
            f"standardized residuals of a {fit.family.name} fit are not available (nor in lavaan "
            "0.6.14: the h1 information of ULS and DWLS is diagonal and cannot be inverted)",
            hint="use type='raw', 'cor.bollen' or 'cor.bentler', or estimator='GLS', 'WLS'",
        )
    weights = list(fit.moment_weights)
    acov_obs = [np.linalg.pinv(w, hermitian=True) / (g.weight * fit.nobs)
                for g, w in zip(groups, weights, strict=True)]  # fmt: skip
    info = sum(g.weight * g.delta.T @ w @ g.delta for g, w in zip(groups, weights, strict=True))
    return acov_obs, weights, np.linalg.pinv(info, hermitian=True)


def _acov_residuals(fit, kind: str, z_type: str) -> list[np.ndarray]:
    """Per group the ACOV of the residual moments (μ first with a mean structure, then
    vech of the covariances) of type ``kind`` ("raw", "cor.bentler", "cor.bollen")."""
    groups = _groups(fit, standard_errors=True)
    if fit.family.name == "ML" and fit.family.likelihood_based:
        acov_obs = [_h1_acov(fit, g) for g in groups]
        parts = None if z_type == "normalized" else _model_parts(fit, groups)
    elif not fit.family.likelihood_based:
        acov_obs, weights, info_inv = _least_squares_parts(fit, groups)
        parts = weights, info_inv
    else:
        raise NotSupportedError(
            f"standardized residuals of a {fit.family.name} fit are not available",
            hint="use type='raw', 'cor.bollen' or 'cor.bentler'",
        )
    if z_type == "normalized":
        return acov_obs
    assert parts is not None  # (made for every type but "normalized")
    a1, info_inv = parts
    out = []
    for group, obs, a in zip(groups, acov_obs, a1, strict=True):
        est = group.weight * group.delta @ info_inv @ group.delta.T
        q = np.eye(est.shape[0]) - est @ a
        acov = q @ obs @ q.T
        if kind != "raw":
            scale = _rescaling(group, kind)
            acov = scale @ acov @ scale.T
        out.append(acov)
    return out


def _rescaling(group, kind: str) -> np.ndarray:
    """The Jacobian that takes raw moment residuals to Bentler's or Bollen's."""
    s = group.h1_cov
    p = s.shape[0]
    inv_sd = 1.0 / np.sqrt(np.diag(s))
    rows, cols = vech_indices(p)
    if kind == "cor.bentler":
        cov_part = np.diag(inv_sd[rows] * inv_sd[cols])
    else:
        cov_part = _cov2cor_jacobian(s)
    if group.meanstructure:
        return _block_diag(np.diag(inv_sd), cov_part)
    return cov_part


def _block_diag(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] + b.shape[0], a.shape[1] + b.shape[1]))
    out[: a.shape[0], : a.shape[1]] = a
    out[a.shape[0] :, a.shape[1] :] = b
    return out


def _cov2cor_jacobian(s: np.ndarray) -> np.ndarray:
    """d vech(cor(S)) / d vech(S), as lavaan takes it: ½ Dᵀ J D with J the derivative of
    vec(R) in vec(S) taken elementwise."""
    p = s.shape[0]
    inv_var = 1.0 / np.diag(s)
    r = s * np.sqrt(np.outer(inv_var, inv_var))
    jac = np.zeros((p * p, p * p))
    for j in range(p):
        for i in range(p):
            row = i + j * p
            jac[row, row] += np.sqrt(inv_var[i] * inv_var[j])
            jac[row, i + i * p] -= 0.5 * r[i, j] * inv_var[i]
            jac[row, j + j * p] -= 0.5 * r[i, j] * inv_var[j]
    dup = _duplication(p)
    return 0.5 * dup.T @ jac @ dup


def _duplication(p: int) -> np.ndarray:
    """D with vec(A) = D vech(A) for symmetric A."""
    rows, cols = vech_indices(p)
    dup = np.zeros((p * p, rows.size))
    k = np.arange(rows.size)
    dup[rows + cols * p, k] = 1.0
    dup[cols + rows * p, k] = 1.0
    return dup


def _split(vector: np.ndarray, p: int, meanstructure: bool):
    """(cov matrix, mean vector or None) from (μ, vech Σ)."""
    means = vector[:p] if meanstructure else None
    lower = vector[p:] if meanstructure else vector
    return unvech(np.asarray(lower)), means


def _standard_errors(acov: np.ndarray, p: int, meanstructure: bool):
    variances = np.diag(acov).copy()
    variances[~np.isfinite(variances) | (variances < 0)] = np.nan
    return _split(np.sqrt(variances), p, meanstructure)


def _divide(values: np.ndarray, se: np.ndarray, near_zero: float) -> np.ndarray:
    return values / np.where(np.abs(values) < near_zero, 1.0, se)


# --------------------------------------------------------------------------- public


def _labelled(fit, per_group: list[dict]) -> dict | dict[str, dict]:
    """Label the frames and key several groups by their labels."""
    names = [list(layout.observed) for layout in fit.model.layouts]
    out = []
    for variables, parts in zip(names, per_group, strict=True):
        labelled = {}
        for key, value in parts.items():
            if value is None:
                continue
            if isinstance(value, np.ndarray) and value.ndim == 2:
                labelled[key] = pd.DataFrame(value, index=variables, columns=variables)
            elif isinstance(value, np.ndarray):
                labelled[key] = pd.Series(value, index=variables)
            else:
                labelled[key] = value
        out.append(labelled)
    if fit.table.nlevels > 1:
        return dict(zip(("within", str(fit.table.options.cluster)), out, strict=True))
    if fit.table.ngroups == 1:
        return out[0]
    return dict(zip(fit.table.group_labels, out, strict=True))


def residuals(fit, type: str = "raw") -> dict:
    """lavaan's ``resid(fit, type=)``: {"type", "cov", "mean"} (mean with a mean structure);
    several groups: a dict of those keyed by group label."""
    kind = _check_type(type)
    groups = _groups(fit)
    per_group = []
    if kind in ("standardized", "normalized"):
        acovs = _acov_residuals(fit, "raw", kind)
        for group, acov in zip(groups, acovs, strict=True):
            cov, mean = _raw_residuals(group, "raw")
            cov_se, mean_se = _standard_errors(acov, group.p, group.meanstructure)
            cov = _divide(cov, cov_se, 1e-5)
            mean = None if mean is None else _divide(mean, mean_se, 1e-5)
            per_group.append({"type": kind, "cov": cov, "mean": mean})
    else:
        for group in groups:
            cov, mean = _raw_residuals(group, kind)
            per_group.append({"type": kind, "cov": cov, "mean": mean})
    return _labelled(fit, per_group)


def lav_residuals(fit, type: str = "cor.bentler", summary: bool = True) -> dict:
    """lavaan's ``lavResiduals(fit, type=)``: {"type", "cov", "mean", "cov_z", "mean_z",
    "summary"} per group (the summary a DataFrame with lavaan's row names and columns cov,
    mean, total)."""
    kind = _check_type(type, ("raw", "cor.bentler", "cor.bollen", "cor"))
    if fit.table.nlevels > 1:  # as lavaan: the residuals without z-statistics or summary
        return residuals(fit, type=kind)
    groups = _groups(fit)
    acovs = _acov_residuals(fit, kind, "standardized")
    per_group = []
    for group, acov in zip(groups, acovs, strict=True):
        cov, mean = _raw_residuals(group, kind)
        cov_se, mean_se = _standard_errors(acov, group.p, group.meanstructure)
        parts = {"type": kind, "cov": cov, "mean": mean, "cov_z": _divide(cov, cov_se, 1e-4)}
        if mean is not None:
            parts["mean_z"] = _divide(mean, mean_se, 1e-4)
        if summary:
            parts["summary"] = _summary_table(kind, cov, mean, acov, group.p)
        per_group.append(parts)
    return _labelled(fit, per_group)


def residual_summary(fit, type: str = "cor.bentler") -> pd.DataFrame | dict:
    """The summary table of :func:`lav_residuals` alone (a dict of tables for several groups)."""
    if fit.table.nlevels > 1:
        raise NotSupportedError(
            "the residual summary of a two-level model is not available (nor in lavaan)",
            hint="fit_measures() has srmr_within and srmr_between",
        )
    out = lav_residuals(fit, type=type)
    if fit.table.ngroups == 1:
        return out["summary"]
    return {label: parts["summary"] for label, parts in out.items()}


# --------------------------------------------------------------------------- summary


def _summary_table(kind, cov, mean, acov, p) -> pd.DataFrame:
    name = _SUMMARY_NAME[kind]
    drop = p if kind == "cor.bollen" else 0
    lower = vech(cov)
    k = 0 if mean is None else p
    columns = {"cov": rms_statistics(lower, acov[k:, k:], lower.size - drop)}
    if mean is not None:
        columns["mean"] = rms_statistics(mean, acov[:p, :p], p)
        columns["total"] = rms_statistics(
            np.concatenate([mean, lower]), acov, p + lower.size - drop
        )
    suffixes = ("", ".se", ".exactfit.z", ".exactfit.pvalue")
    unbiased = ("", ".se", ".ci.lower", ".ci.upper", ".closefit.h0.value", ".closefit.z",
                ".closefit.pvalue")  # fmt: skip
    index = [name + s for s in suffixes] + [f"u{name}{s}" for s in unbiased]
    return pd.DataFrame(columns, index=index)


def rms_statistics(stats: np.ndarray, acov: np.ndarray, pstar: int, level: float = 0.90,
                   close: float = 0.05) -> list[float]:  # fmt: skip
    """lavaan's summary of a root mean square of residuals (Maydeu-Olivares' SRMR inference):
    [rms, se, exact-fit z, its p-value, unbiased rms, se, CI lower, CI upper, close-fit value,
    close-fit z, its p-value]."""
    nan = float("nan")
    if stats.size == 0:
        return [0.0] + [nan] * 10
    with np.errstate(divide="ignore", invalid="ignore"):
        values = _rms_values(np.asarray(stats, float), np.asarray(acov, float), pstar, close)
    urms, use = values[4], values[5]
    fac = norm.ppf((1 - level) / 2)
    values[6:8] = [urms + use * fac, urms - use * fac]
    return [float(v) if np.isfinite(v) else nan for v in values]


def _rms_values(stats: np.ndarray, acov: np.ndarray, pstar: int, close: float) -> list:
    """The terms of :func:`rms_statistics` in float64 arithmetic (0/0 gives NaN, as in R)."""
    f = np.float64
    rms = np.sqrt(f(np.sum(stats**2)) / pstar)
    tr1, tr2 = f(np.trace(acov)), f(np.sum(acov * acov.T))
    avar = tr2 / (tr1 * 2 * pstar)
    se = np.sqrt(avar) if np.isfinite(avar) and avar >= np.finfo(float).eps else f(np.nan)
    expected = np.sqrt(tr1 / pstar) * (4 * tr1**2 - tr2) / (4 * tr1**2)
    z = max(rms - expected, f(0.0)) / se if np.isfinite(expected) else f(np.nan)
    t_cov, eve = f(stats @ stats), f(stats @ acov @ stats)
    k_cov = 1 - (tr2 + 2 * eve) / (4 * t_cov**2)
    urms = (1 / k_cov) * np.sqrt(max(t_cov - tr1, f(0.0)) / pstar)
    uavar = (1 / k_cov**2) * (tr2 + 2 * eve) / (2 * pstar * t_cov)
    use = np.sqrt(uavar) if np.isfinite(uavar) and uavar >= np.finfo(float).eps else f(np.nan)
    uz = (urms - close) / use
    return [rms, se, z, norm.sf(z), urms, use, f(np.nan), f(np.nan), f(close), uz, norm.sf(uz)]
