"""Starting values of θ from the sample moments (lavaan-like "simple" start, with loadings
from a one-factor principal-axis step).

Input: the compiled model and each group's sample mean and covariance. Output: θ₀. Residual
variances start at half the observed variance (an indicator of one factor: what the factor's
starting loading leaves of it), latent variances at 0.05 (or from the loadings),
regressions and covariances at 0, observed intercepts at the sample means, and free loadings at
the first principal axis of each factor's indicators scaled to the factor's marker. A user's
``start()`` wins.
"""

from __future__ import annotations

import math

import numpy as np

from semlang.compile.model import CompiledModel
from semlang.partable.table import ParamRow
from semlang.syntax.ast import Op


def start_values(model: CompiledModel, means, covs) -> np.ndarray:
    """θ₀ for the compiled model; ``means``/``covs`` per block (observed variables)."""
    theta = np.full(model.n_theta, np.nan)
    table = model.table
    for layout, mean, cov in zip(model.layouts, means, covs, strict=True):
        rows = table.block_rows(layout.block)
        observed = {name: k for k, name in enumerate(layout.observed)}
        loadings, psi, variance = _factor_starts(rows, observed, cov, layout.latent)
        residual = _residual_starts(rows, observed, cov, loadings, variance)
        for row in rows:
            if not row.is_free or not math.isnan(theta[row.free - 1]):
                continue
            if row.op is Op.COVARIANCE and row.lhs == row.rhs and row.lhs in residual:
                theta[row.free - 1] = residual[row.lhs]
            else:
                theta[row.free - 1] = _start(row, observed, mean, cov, loadings, psi)
    for row in table.parameters:
        if row.is_free and not math.isnan(row.start):
            theta[row.free - 1] = row.start
    return np.where(np.isnan(theta), 0.0, theta)


def _start(row: ParamRow, observed, mean, cov, loadings, psi) -> float:
    if row.op is Op.MEASURED:
        return loadings.get((row.lhs, row.rhs), 1.0)
    if row.op is Op.COVARIANCE and row.lhs == row.rhs:
        if row.lhs in observed:
            k = observed[row.lhs]
            return 0.5 * cov[k, k] if np.isfinite(cov[k, k]) else 1.0
        return psi.get(row.lhs, 0.05)
    if row.op is Op.COVARIANCE and row.lhs in observed and row.rhs in observed:
        return 0.0
    if row.op is Op.INTERCEPT and row.lhs in observed:
        value = mean[observed[row.lhs]]
        return float(value) if np.isfinite(value) else 0.0
    return 0.0


def _residual_starts(rows, observed, cov, loadings, variance) -> dict[str, float]:
    """Residual variances of single-factor indicators: what the starting loading λ and factor
    variance ψ leave of the observed variance, s² − λ²ψ (at least s²/10)."""
    measured: dict[str, list[ParamRow]] = {}
    for row in rows:
        if row.op is Op.MEASURED and row.rhs in observed:
            measured.setdefault(row.rhs, []).append(row)
    out = {}
    for name, found in measured.items():
        row = found[0]
        loading = loadings.get((row.lhs, name), row.value if not row.is_free else None)
        s2 = cov[observed[name], observed[name]]
        if len(found) == 1 and row.lhs in variance and loading is not None and np.isfinite(s2):
            out[name] = max(s2 - loading**2 * variance[row.lhs], 0.1 * s2)
    return out


def _factor_starts(rows, observed, cov, latent):
    """Loadings, free latent variances and every handled factor's variance, from each factor's
    observed indicators (the rows looked at once, not once per factor)."""
    loadings: dict[tuple[str, str], float] = {}
    psi: dict[str, float] = {}
    variance: dict[str, float] = {}
    by_factor: dict[str, list[ParamRow]] = {}  # its =~ rows, then its variance rows (in order)
    own_variance: dict[str, list[ParamRow]] = {}
    for r in rows:  # one pass: a model with hundreds of factors has their covariances as rows
        if r.op is Op.MEASURED:
            by_factor.setdefault(r.lhs, []).append(r)
        elif r.op is Op.COVARIANCE and r.lhs == r.rhs:
            own_variance.setdefault(r.lhs, []).append(r)
    for factor in latent:
        measured = by_factor.get(factor, [])
        indicators = [r for r in measured if r.rhs in observed]
        if len(indicators) < 2 or len(indicators) != len(measured):
            continue
        idx = [observed[r.rhs] for r in indicators]
        sub = cov[np.ix_(idx, idx)]
        if not np.all(np.isfinite(sub)):
            continue
        values, vectors = np.linalg.eigh(sub)
        axis = vectors[:, -1] * math.sqrt(max(values[-1] - values[:-1].mean(), 1e-6))
        fixed = [(k, r.value) for k, r in enumerate(indicators) if not r.is_free and r.value != 0]
        variance_rows = own_variance.get(factor, [])
        variance_fixed = variance_rows and not variance_rows[0].is_free
        if fixed and abs(axis[fixed[0][0]]) > 1e-8:
            scale = fixed[0][1] / axis[fixed[0][0]]
            psi[factor] = 1.0 / scale**2
        elif variance_fixed:
            value = variance_rows[0].value
            scale = (1.0 / math.sqrt(value) if value > 0 else 1.0) * np.sign(axis.sum() or 1.0)
            variance[factor] = value
        else:
            scale = np.sign(axis.sum() or 1.0)
            psi[factor] = 1.0
        variance.setdefault(factor, psi.get(factor, 1.0))
        for k, r in enumerate(indicators):
            loadings[(factor, r.rhs)] = float(axis[k] * scale)
    return loadings, psi, variance
