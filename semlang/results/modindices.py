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
freed, e.g. a marker loading) gives no index and the row is dropped, as lavaan does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from semlang.compile.layout import EntryIndex, RamLayout
from semlang.compile.ram import ImpliedMoments, collapse
from semlang.errors import ModelError
from semlang.estimate.objective import second_order_entries
from semlang.results.standardized import standardize_row
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
    release: bool = False  # a row of the model whose parameter gets a θ of its own
    shared: int = -1  # for a release: the (0-based) θ the row shared, the candidate its change


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
    """True for a fixed.x covariate: lavaan gives no index for its rows."""
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


def extended_layouts(fit, cands: list[Candidate]) -> tuple[RamLayout, ...]:
    """Each block's layout with the candidates as extra free entries (θ index n_θ + k)."""
    n_theta = fit.model.n_theta
    out = []
    for layout in fit.model.layouts:
        index = {name: i for i, name in enumerate(layout.variables)}
        extra = {"A": [], "S": [], "m": []}
        for k, cand in enumerate(cands):
            if cand.block != layout.block:
                continue
            slot = n_theta + k
            if cand.op is Op.MEASURED:
                extra["A"].append((index[cand.rhs], index[cand.lhs], slot, cand.release))
            elif cand.op is Op.REGRESSION:
                extra["A"].append((index[cand.lhs], index[cand.rhs], slot, cand.release))
            elif cand.op is Op.COVARIANCE:
                i, j = sorted((index[cand.lhs], index[cand.rhs]), reverse=True)
                extra["S"].append((i, j, slot, cand.release))
            else:
                extra["m"].append((index[cand.lhs], 0, slot, cand.release))
        out.append(
            replace(
                layout,
                A_free=_extend(layout.A_free, extra["A"]),
                S_free=_extend(layout.S_free, extra["S"]),
                m_free=_extend(layout.m_free, extra["m"]),
            )
        )
    return tuple(out)


def _extend(entries: EntryIndex, items: list[tuple[int, int, int, bool]]) -> EntryIndex:
    """The entries plus the candidates'; a released row's entry takes its new θ instead."""
    old = {
        (int(r), int(c)): int(t)
        for r, c, t in zip(entries.rows, entries.cols, entries.theta, strict=True)
    }
    added = []
    for i, j, slot, release in items:
        if release:
            old[(i, j)] = slot
        else:
            added.append((i, j, slot))
    return EntryIndex.build([(i, j, t) for (i, j), t in old.items()] + added)


def score_parts(fit, layouts, theta: np.ndarray, information: str = "expected"):
    """The half gradient of F and the per-observation information, both in the extended θ."""
    objective = fit.estimation.objective
    n = len(theta)
    grad, info = np.zeros(n), np.zeros((n, n))
    for k, (layout, disc) in enumerate(zip(layouts, objective.discrepancies, strict=True)):
        moments = ImpliedMoments.at(layout, theta, objective.exo[k])
        _, G, g = disc.evaluate(moments.sigma, moments.mu, gradient=True)
        grad += moments.gradient(G, g, n) / 2.0
        Pa, Pb, Pc, index = moments.entry_vectors()
        if information == "observed":
            entries = second_order_entries(moments, G, g)
            entries += disc.first_order_hessian_entries(
                moments, Pa, Pb, Pc, objective.meanstructure
            )
            info += collapse((entries + entries.T) / 4.0, index, n)
        else:
            entries = disc.expected_entries(moments, Pa, Pb, Pc, objective.meanstructure)
            info += collapse(entries, index, n)
    return grad, info


def reduce_to_phi(fit, grad: np.ndarray, info: np.ndarray, cands: list[Candidate]):
    """Gradient and information with the model's own parameters in φ, the candidates in θ.

    A released row's θ is the parameter it shared plus the candidate (its change), so that the
    model's parameters keep a zero gradient."""
    n_theta = fit.model.n_theta
    J = fit.model.space.jacobian(fit.estimation.phi)
    n_extra = len(grad) - n_theta
    T = np.zeros((len(grad), J.shape[1] + n_extra))
    T[:n_theta, : J.shape[1]] = J
    T[n_theta:, J.shape[1] :] = np.eye(n_extra)
    for k, cand in enumerate(cands):
        if cand.release:
            T[n_theta + k, : J.shape[1]] = J[cand.shared]
    return T.T @ grad, T.T @ info @ T, J.shape[1]


def score_system(fit, cands: list[Candidate], information: str = "expected", full: bool = False):
    """(g_c, V): the candidates' half gradient and the information left once the model's own
    parameters are profiled out, V = I_cc − I_cf I_ff⁻¹ I_fc (its diagonal unless ``full``)."""
    layouts = extended_layouts(fit, cands)
    theta = np.concatenate([fit.theta, [c.value for c in cands]])
    grad, info = score_parts(fit, layouts, theta, information)
    g, info, n_phi = reduce_to_phi(fit, grad, info, cands)
    I_ff, I_cf = info[:n_phi, :n_phi], info[n_phi:, :n_phi]
    solved = np.linalg.solve(I_ff, I_cf.T)
    if full:
        V = info[n_phi:, n_phi:] - I_cf @ solved
    else:
        V = np.diag(info)[n_phi:] - np.einsum("ij,ji->i", I_cf, solved)
    return g[n_phi:], V


def score_statistics(fit, cands: list[Candidate], information: str = "expected"):
    """(mi, epc) per candidate; NaN where the candidate is not identified once freed."""
    g_c, V = score_system(fit, cands, information)
    V = np.where(V < SMALL_V, np.nan, V)
    N = fit.nobs
    mi = N * g_c**2 / V
    d = -N * g_c
    d = np.where(np.abs(d) < 1e-15, 1.0, d)
    return mi, mi / d


# ---------------------------------------------------------------- standardized EPCs


def standardized_epc(fit, cands: list[Candidate], epc: np.ndarray):
    """(sepc_lv, sepc_all, sepc_nox): the EPCs in lavaan's standardized metrics (variances take
    the model's own value, the sign of the EPC)."""
    variance, residual = {}, {}
    for layout, moments in zip(fit.model.layouts, fit.implied, strict=True):
        variance[layout.block] = dict(
            zip(layout.variables, np.diag(moments.total_cov), strict=True)
        )
        residual[layout.block] = dict(zip(layout.variables, np.diag(moments.S), strict=True))
    out = np.full((3, len(cands)), np.nan)
    for k, cand in enumerate(cands):
        value = cand.value if cand.lhs == cand.rhs and cand.op is Op.COVARIANCE else epc[k]
        if cand.op is Op.COVARIANCE and cand.lhs == cand.rhs and abs(value) < 1.49e-8:
            out[:, k] = 0.0
            continue
        block = fit.table.blocks[cand.block - 1]
        latent = set(block.latent)
        var, res = variance[cand.block], residual[cand.block]
        nox = {**var, **dict.fromkeys(block.observed_exogenous, 1.0)}
        sign = np.sign(epc[k])
        out[0, k] = sign * standardize_row(cand, abs(value), var, res, latent, True)
        out[1, k] = sign * standardize_row(cand, abs(value), var, res, latent, False)
        out[2, k] = sign * standardize_row(cand, abs(value), nox, res, latent, False)
    return out


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
    """lavaan's ``modindices()`` table (see the module docstring)."""
    _check(fit, information)
    cands = candidates(fit)
    mi, epc = score_statistics(fit, cands, information)
    frame = pd.DataFrame(
        {
            "lhs": [c.lhs for c in cands],
            "op": [c.op.value for c in cands],
            "rhs": [c.rhs for c in cands],
            "block": [c.block for c in cands],
            "group": [c.group for c in cands],
            "level": [c.level for c in cands],
            "mi": mi,
            "epc": epc,
        }
    )
    if standardized or power:
        sepc = standardized_epc(fit, cands, epc)
        frame["sepc_lv"], frame["sepc_all"], frame["sepc_nox"] = sepc
    if power:
        frame = _add_power(frame.drop(columns=["sepc_lv", "sepc_nox"]), delta, alpha, high_power)
    frame = _select(fit, frame, sort, minimum_value, op)
    return frame.reset_index(drop=True)


def _check(fit, information: str) -> None:
    if information not in ("expected", "observed"):
        raise ModelError(
            f"unknown information '{information}'", hint="use 'expected' or 'observed'"
        )
    if fit.table.nlevels > 1:
        raise ModelError(
            "modification indices are not available for two-level models yet",
            hint="fit the model without 'level:' blocks to screen its modifications",
        )


def _add_power(frame: pd.DataFrame, delta: float, alpha: float, high_power: float):
    """Saris, Satorra and van der Veld's (2009) power and decision columns, as lavaan."""
    frame = frame.copy()
    frame["delta"] = delta
    with np.errstate(divide="ignore", invalid="ignore"):
        ncp = frame["mi"] / frame["epc"] ** 2 * delta**2
    frame["ncp"] = ncp
    crit = stats.chi2.ppf(1.0 - alpha, 1)
    frame["power"] = stats.ncx2.sf(crit, 1, ncp)
    significant = stats.chi2.sf(frame["mi"], 1) < alpha
    high = frame["power"] > high_power
    epc_high = frame["epc"].abs() > delta
    decision = np.full(len(frame), "", dtype=object)
    decision[~significant & ~high] = "(i)"
    decision[significant & ~high] = "**(m)**"
    decision[~significant & high] = "(nm)"
    decision[significant & high & ~epc_high] = "epc:nm"
    decision[significant & high & epc_high] = "*epc:m*"
    frame["decision"] = decision
    return frame


def _select(fit, frame: pd.DataFrame, sort: bool, minimum_value: float, op) -> pd.DataFrame:
    if fit.table.ngroups == 1:
        frame = frame.drop(columns=["block", "group", "level"])
    else:
        frame = frame.drop(columns=["block", "level"])
    if sort:
        frame = frame.sort_values("mi", ascending=False, kind="stable", na_position="last")
    if minimum_value > 0.0:
        frame = frame[frame["mi"].notna() & (frame["mi"] > minimum_value)]
    frame = frame[frame["mi"].notna()]
    if op is not None:
        ops = [op] if isinstance(op, str) else list(op)
        frame = frame[frame["op"].isin(ops)]
    return frame


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
