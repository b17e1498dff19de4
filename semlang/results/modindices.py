"""Fit -> modification indices (lavaan's ``modindices()``): one score test per fixed parameter.

Input: a :class:`~semlang.results.fit.Fit`. Output: a DataFrame with lavaan's columns (lhs, op,
rhs, group, mi, epc, sepc_lv, sepc_all, sepc_nox; delta, ncp, power, decision with
``power=True``) over lavaan's candidates: every fixed parameter of the model, then every
loading, (residual) covariance, regression and intercept the model leaves out (lavaan's
"full" parameter table, block by block), each at its current value.

The model is extended by the candidates without compiling anything: they become extra free
entries of each block's RAM layout, numbered after θ. At the estimates (candidates at their
fixed values) the half gradient g of the discrepancy and the per-observation information I of the
extended model give, for each candidate c with the model's free parameters f (in φ),

    V_cc = I_cc − I_cf I_ff⁻¹ I_fc,   mi = N g_c² / V_cc,   epc = −g_c / V_cc,

N the total number of observations. A V_cc below ε^(1/3) (the candidate is not identified once
freed, e.g. a marker loading) gives no index and the row is dropped, as lavaan does. That is the
fast path of the expected information of a one-level model; the observed and the first-order
information and two-level models (a ``level`` column; the fixed covariates' rows kept, as
lavaan) take the extended model of :mod:`semlang.results.score_system`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from semlang.results.score_system import (
    candidate_moments,
    check_information,
    extended_system,
    profiled,
)
from semlang.syntax.ast import Op

SMALL_V = np.finfo(float).eps ** (1.0 / 3.0)


@dataclass(frozen=True)
class Candidate:
    """A parameter the model fixes or leaves out, tested by its score."""

    lhs: str
    op: Op
    rhs: str
    block: int
    group: int
    level: int
    value: float
    exo: bool = False
    release: bool = False  # a row of the model whose parameter gets a change of its own


# ---------------------------------------------------------------- the candidates


def candidates(fit) -> list[Candidate]:
    """lavaan's candidates: the model's fixed parameters, then the parameters it leaves out."""
    table = fit.table
    fixed = [
        Candidate(r.lhs, r.op, r.rhs, r.block, r.group, r.level, fit.row_estimate(r), r.exo)
        for r in table.parameters
        if not r.is_free and not _fixed_x(table, r.block, r.lhs)
    ]
    present = set()
    for r in table.parameters:
        present.add((r.lhs, r.op, r.rhs, r.block))
        if r.op is Op.COVARIANCE:
            present.add((r.rhs, r.op, r.lhs, r.block))
    added = []
    for block in table.blocks:
        for lhs, op, rhs in block_candidates(table, block):
            if (lhs, op, rhs, block.index) in present or _fixed_x(table, block.index, lhs):
                continue
            present.add((lhs, op, rhs, block.index))
            added.append(Candidate(lhs, op, rhs, block.index, block.group, block.level, 0.0))
    return fixed + added


def _fixed_x(table, block: int, name: str) -> bool:
    """True for a fixed.x covariate: lavaan gives no index for its rows (but does in a
    two-level model, where they are numerically zero)."""
    if table.nlevels > 1:
        return False
    return table.options.fixed_x and name in table.blocks[block - 1].observed_exogenous


def block_candidates(table, block) -> list[tuple[str, Op, str]]:
    """One block's rows of lavaan's full parameter table (loadings, covariances, regressions,
    intercepts), in lavaan's order."""
    regression = [r for r in table.block_rows(block.index) if r.op is Op.REGRESSION]
    eqs = list(dict.fromkeys(name for r in regression for name in (r.lhs, r.rhs)))
    ov_x = list(block.observed_exogenous)
    ov_nox = [v for v in block.observed if v not in ov_x]
    latent = list(block.latent)
    out = [(f, Op.MEASURED, v) for f in latent for v in ov_nox if v not in eqs]
    other = {v for v in block.observed if v not in block.indicators}
    out += [
        (a, Op.COVARIANCE, b) for a, b in _lower_pairs(ov_nox) if a not in other and b not in other
    ]
    out += [(a, Op.COVARIANCE, b) for a, b in _lower_pairs(ov_x)]
    out += [(a, Op.COVARIANCE, b) for a, b in _lower_pairs(latent)]
    out += [
        (y, Op.REGRESSION, x)
        for y in eqs
        for x in eqs
        if y != x and not (y in block.indicators and x in latent)
    ]
    if table.meanstructure:
        out += [(v, Op.INTERCEPT, "") for v in list(block.observed) + latent]
    return out


def _lower_pairs(names: list[str]) -> list[tuple[str, str]]:
    return [(names[j], names[i]) for j in range(len(names)) for i in range(j, len(names))]


# ---------------------------------------------------------------- the extended model

CHUNK = 512  # candidates whose information is formed at once


def score_system(fit, cands: list[Candidate], full: bool = False):
    """(g_c, V): the candidates' half gradient of F and the (expected, per observation)
    information left once the model's parameters are profiled out,
    V = I_cc − I_cf I_ff⁻¹ I_fc in φ (its diagonal unless ``full``)."""
    objective = fit.estimation.objective
    n_theta, n_c = fit.model.n_theta, len(cands)
    J = fit.model.space.jacobian(fit.estimation.phi)
    g_c, I_ff = np.zeros(n_c), np.zeros((n_theta, n_theta))
    I_cf = np.zeros((n_c, n_theta))
    I_cc = np.zeros((n_c, n_c)) if full else np.zeros(n_c)
    for moments, disc in zip(fit.implied, objective.discrepancies, strict=True):
        _, G, g = disc.evaluate(moments.sigma, moments.mu, gradient=True)
        view = candidate_moments(moments, cands)
        g_c += view.gradient(G, g, n_c) / 2.0
        model = moments.entry_vectors()
        cand = view.entry_vectors()
        select = np.zeros((len(model[3]), n_theta))
        select[np.arange(len(model[3])), model[3]] = 1.0
        n_f = len(model[3])
        chunk = max(len(cand[3]), 1) if full else CHUNK
        for start in range(0, max(len(cand[3]), 1), chunk):
            part = slice(start, start + chunk)
            stacked = [np.vstack([m, c[part]]) for m, c in zip(model[:3], cand[:3], strict=True)]
            info = disc.expected_entries(moments, *stacked, objective.meanstructure)
            if start == 0:
                I_ff += select.T @ info[:n_f, :n_f] @ select
            rows = cand[3][part]
            I_cf[rows] += info[n_f:, :n_f] @ select
            if full:
                I_cc[np.ix_(rows, rows)] += info[n_f:, n_f:]
            else:
                I_cc[rows] += np.diag(info)[n_f:]
    I_ff, I_cf = J.T @ I_ff @ J, I_cf @ J
    solved = np.linalg.solve(I_ff, I_cf.T)
    if full:
        return g_c, I_cc - I_cf @ solved
    return g_c, I_cc - np.einsum("ij,ji->i", I_cf, solved)


def score_statistics(fit, cands: list[Candidate], information: str = "expected"):
    """(mi, epc) per candidate; NaN where the candidate is not identified once freed."""
    if information == "expected" and fit.table.nlevels == 1:
        g_c, V = score_system(fit, cands)
    else:
        g_c, V = profiled(fit, *extended_system(fit, cands, information))
        V = np.diag(V)
    V = np.where(V < SMALL_V, np.nan, V)
    N = fit.nobs
    mi = N * g_c**2 / V
    d = -N * g_c
    d = np.where(np.abs(d) < 1e-15, 1.0, d)
    return mi, mi / d


# ---------------------------------------------------------------- standardized EPCs


def standardized_epc(fit, cands: list[Candidate], epc: np.ndarray) -> np.ndarray:
    """(sepc_lv, sepc_all, sepc_nox) as rows: the EPCs in lavaan's standardized metrics, with
    the sign of the EPC; a variance candidate is scaled by its own value, as lavaan does."""
    n = len(cands)
    total, resid = np.ones((2, n)), np.ones((2, n))
    latent, fixed_x = np.zeros((2, n), dtype=bool), np.zeros((2, n), dtype=bool)
    for layout, moments in zip(fit.model.layouts, fit.implied, strict=True):
        block = fit.table.blocks[layout.block - 1]
        index = {name: i for i, name in enumerate(layout.variables)}
        T, R = np.diag(moments.total_cov), np.diag(moments.S)
        lat, xs = set(block.latent), set(block.observed_exogenous)
        for k, cand in enumerate(cands):
            if cand.block != layout.block:
                continue
            for side, name in enumerate((cand.lhs, cand.rhs)):
                if name in index:
                    total[side, k], resid[side, k] = T[index[name]], R[index[name]]
                    latent[side, k], fixed_x[side, k] = name in lat, name in xs
    op = np.array([c.op.value for c in cands], dtype=object)
    variance = np.array([c.op is Op.COVARIANCE and c.lhs == c.rhs for c in cands], dtype=bool)
    own = variance & ~np.array([c.exo for c in cands], dtype=bool)  # scaled by its own value
    value = np.where(own, [c.value for c in cands], epc)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt(np.where(total > 0, total, np.nan))
        scales = (np.where(latent, sd, 1.0), sd, np.where(fixed_x, 1.0, sd))
        out = np.array([_scaled(np.abs(value), op, variance, latent, resid, s) for s in scales])
        out[0] = np.where((op == "~~") & ~variance & ~latent.all(axis=0),
                          np.where(latent.any(axis=0), np.abs(value) / (scales[0][0] *
                                   scales[0][1]), np.abs(value)), out[0])  # fmt: skip
    out *= np.sign(epc)
    out[:, variance & (np.abs(value) < np.sqrt(np.finfo(float).eps))] = 0.0
    return out


def _scaled(value, op, variance, latent, resid, sd) -> np.ndarray:
    """One standardized metric of every candidate (``sd``: the two sides' scales)."""
    covariance = value / np.sqrt(resid[0] * resid[1])
    return np.select(
        [op == "=~", op == "~", op == "~1", variance, op == "~~"],
        [value * sd[0] / sd[1], value * sd[1] / sd[0], value / sd[0], value / sd[0] ** 2,
         covariance],
    )  # fmt: skip


# ---------------------------------------------------------------- the table


def modindices(
    fit,
    sort: bool = False,
    minimum_value: float = 0.0,
    standardized: bool = True,
    power: bool = False,
    delta: float = 0.1,
    alpha: float = 0.05,
    high_power: float = 0.75,
    op=None,
    information: str = "expected",
) -> pd.DataFrame:
    """lavaan's ``modindices()`` table (see the module docstring) with the ``information``
    lavaan's modindices() takes ("expected", its default, "observed" or "first.order")."""
    information = check_information(information)
    cands = candidates(fit)
    mi, epc = score_statistics(fit, cands, information)
    keep = _kept(cands, mi, sort, minimum_value, op)
    cands, mi, epc = [cands[k] for k in keep], mi[keep], epc[keep]
    columns: dict[str, object] = {"lhs": [c.lhs for c in cands], "op": [c.op.value for c in cands]}
    columns["rhs"] = [c.rhs for c in cands]
    if fit.table.ngroups > 1 or fit.table.nlevels > 1:
        columns["group"] = [c.group for c in cands]
    if fit.table.nlevels > 1:
        columns["level"] = [c.level for c in cands]
    columns["mi"], columns["epc"] = mi, epc
    if standardized or power:
        sepc = standardized_epc(fit, cands, epc)
        if power:
            columns["sepc_all"] = sepc[1]
            columns.update(power_columns(mi, epc, delta, alpha, high_power))
        else:
            columns["sepc_lv"], columns["sepc_all"], columns["sepc_nox"] = sepc
    return pd.DataFrame(columns)


def _kept(cands, mi: np.ndarray, sort: bool, minimum_value: float, op) -> np.ndarray:
    """Indices of the rows shown, in their order: an index, above the minimum, of the ops
    asked for; by decreasing index when ``sort``."""
    keep = ~np.isnan(mi)
    if minimum_value > 0.0:
        keep &= np.where(keep, mi, -np.inf) > minimum_value
    if op is not None:
        ops = {op} if isinstance(op, str) else set(op)
        keep &= np.array([c.op.value in ops for c in cands], dtype=bool)
    index = np.flatnonzero(keep)
    if sort:
        index = index[np.argsort(-mi[index], kind="stable")]
    return index


def power_columns(mi, epc, delta: float, alpha: float, high_power: float) -> dict:
    """Saris, Satorra and van der Veld's (2009) delta, ncp, power and decision, as lavaan."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ncp = mi / epc**2 * delta**2
    power = stats.ncx2.sf(stats.chi2.ppf(1.0 - alpha, 1), 1, ncp)
    significant = stats.chi2.sf(mi, 1) < alpha
    high = power > high_power
    epc_high = np.abs(epc) > delta
    decision = np.full(len(mi), "", dtype=object)
    decision[~significant & ~high] = "(i)"
    decision[significant & ~high] = "**(m)**"
    decision[~significant & high] = "(nm)"
    decision[significant & high & ~epc_high] = "epc:nm"
    decision[significant & high & epc_high] = "*epc:m*"
    return {"delta": np.full(len(mi), delta), "ncp": ncp, "power": power, "decision": decision}


def modindices_text(table: pd.DataFrame) -> list[str]:
    """The lines of lavaan's "Modification Indices:" block of ``summary(modindices=TRUE)``:
    the table as R prints a data frame (row numbers, cells right-aligned, 3 decimals)."""
    columns = {"row": [str(k + 1) for k in range(len(table))]}
    for name in table.columns:
        values = table[name]
        if name in ("lhs", "op", "rhs", "decision"):
            columns[name] = [str(v) for v in values]
        elif name in ("group", "level"):
            columns[name] = [str(int(v)) for v in values]
        else:
            columns[name] = [f"{v:.3f}" for v in values]
    headers = {name: name.replace("_", ".") for name in columns}
    headers["row"] = ""
    widths = {n: max([len(headers[n]), *map(len, columns[n])]) for n in columns}
    lines = ["Modification Indices:", ""]
    lines.append(" ".join(headers[n].rjust(widths[n]) for n in columns))
    for k in range(len(table)):
        cells = [columns[n][k].rjust(widths[n]) for n in columns]
        cells[0] = columns["row"][k].ljust(widths["row"])  # R left-aligns row names
        lines.append(" ".join(cells))
    return lines
