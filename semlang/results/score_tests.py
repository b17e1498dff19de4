"""Fit -> lavaan's score test (``lavTestScore()``) and Wald test (``lavTestWald()``).

Input: a :class:`~semlang.results.fit.Fit` and parameters to add (model syntax), equality
constraints to release (lavaan's numbering) or constraints to test (model syntax with the
model's labels). Output: for the score test a dict of DataFrames — ``test`` (the total test),
``uni`` (one test per parameter or constraint) and with ``cumulative=True`` the tests of the
first k of them in decreasing order; for the Wald test a dict (stat, df, p_value, se).

The score test treats each added parameter and each released constraint as an extra parameter
of the model fixed at its current value (:mod:`semlang.results.modindices`): with g its half
gradient and V the information left once the model's parameters are profiled out, the total test
is N gᵀV⁻¹g on as many degrees of freedom as parameters. The Wald test of r(θ) = 0 is
rᵀ(R Ĉ Rᵀ)⁻¹r with R = dr/dθ and Ĉ the covariance matrix of the estimates (the fit's se).
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd
from scipy import stats

from semlang.compile.parameters import _label_expressions
from semlang.compile.symbolic import CompiledExpressions
from semlang.errors import ModelError, Source
from semlang.partable.table import ParamRow
from semlang.results.modindices import SMALL_V, Candidate, score_system
from semlang.syntax import ast
from semlang.syntax.ast import Op
from semlang.syntax.parser import parse

# ---------------------------------------------------------------- score test


def score_test(fit, add=None, release=None, cumulative=False, epc=False) -> dict:
    """lavaan's ``lavTestScore()`` for the parameters in ``add`` (model syntax) or the equality
    constraints numbered ``release`` (1-based, lavaan's order); ``epc`` adds each parameter's
    expected change to ``uni``."""
    if (add is None) == (release is None):
        raise ModelError(
            "give the parameters to add or the constraints to release (one of them)",
            hint='e.g. score_test(fit, add="x1 ~~ x4") or score_test(fit, release=[1, 2])',
        )
    cands, names = added(fit, add) if add is not None else released(fit, release)
    g, V = score_system(fit, cands, full=True)
    N = fit.nobs
    total = float(N * g @ np.linalg.solve(V, g))
    diag = np.where(np.diag(V) < SMALL_V, np.nan, np.diag(V))
    uni = N * g**2 / diag
    out = {"test": _tests_frame(["score"], [total], [len(g)], key="test")}
    frame = pd.DataFrame({"lhs": [n[0] for n in names], "op": "==", "rhs": [n[1] for n in names]})
    frame["X2"], frame["df"], frame["p_value"] = uni, 1, stats.chi2.sf(uni, 1)
    if epc:
        frame["epc"] = -g / diag
    out["uni"] = frame
    if cumulative:
        out["cumulative"] = _cumulative(frame, g, V, N)
    return out


def _tests_frame(labels, values, dfs, key) -> pd.DataFrame:
    frame = pd.DataFrame({key: labels, "X2": values, "df": dfs})
    frame["p_value"] = stats.chi2.sf(frame["X2"], frame["df"])
    return frame


def _cumulative(uni: pd.DataFrame, g: np.ndarray, V: np.ndarray, N: int) -> pd.DataFrame:
    """The joint test of the first k parameters, in decreasing order of their own test."""
    order = np.argsort(-uni["X2"].to_numpy(), kind="stable")
    values = []
    for k in range(1, len(order) + 1):
        pick = order[:k]
        values.append(float(N * g[pick] @ np.linalg.solve(V[np.ix_(pick, pick)], g[pick])))
    frame = uni.iloc[order][["lhs", "op", "rhs"]].reset_index(drop=True)
    frame["X2"], frame["df"] = values, np.arange(1, len(order) + 1)
    frame["p_value"] = stats.chi2.sf(frame["X2"], frame["df"])
    return frame


def added(fit, text: str):
    """The candidates written in ``text`` (``=~``, ``~``, ``~~``, ``~1``), in every group."""
    tree = parse(text, "<add>")
    table = fit.table
    cands, names = [], []
    for statement in tree.statements:
        if not isinstance(statement, ast.Relation):
            raise ModelError(
                "only parameters can be added",
                Source(text, "<add>"),
                statement.span,
                hint="write them as in a model, e.g. 'x1 ~~ x4' or 'visual =~ x9'",
            )
        for left in statement.lhs:
            for term in statement.rhs:
                lhs, op, rhs = left.name, statement.op, term.name
                if op is Op.REGRESSION and rhs == "1":
                    op, rhs = Op.INTERCEPT, ""
                _check_names(table, text, (left, term), op)
                for block in table.blocks:
                    cands.append(
                        Candidate(lhs, op, rhs, block.index, block.group, block.level, 0.0)
                    )
                    names.append((f"{lhs}{op.value}{rhs}", "0"))
    return cands, names


def _check_names(table, text, nodes, op) -> None:
    known = set(table.observed) | set(table.latent)
    for node in nodes:
        name = node.name
        if name in known or (op is Op.INTERCEPT and name == "1"):
            continue
        close = difflib.get_close_matches(name, sorted(known), n=3)
        raise ModelError(
            f"unknown variable '{name}'",
            Source(text, "<add>"),
            getattr(node, "span", None),
            hint=f"did you mean {', '.join(repr(c) for c in close)}?"
            if close
            else "add parameters among the model's variables",
        )


def equality_rows(table) -> list:
    """lavaan's implied equality constraints: each row sharing its parameter with an earlier
    row (a shared label or a group equality), in the table's order."""
    seen, out = set(), []
    for row in table.parameters:
        if not row.is_free:
            continue
        if row.free in seen:
            out.append(row)
        seen.add(row.free)
    return out


def released(fit, release):
    """A candidate per released constraint: its later row gets a parameter of its own."""
    rows = equality_rows(fit.table)
    first: dict[int, ParamRow] = {}  # free index -> its first row
    for row in fit.table.parameters:
        first.setdefault(row.free, row)
    cands, names = [], []
    for number in release:
        if not 1 <= int(number) <= len(rows):
            raise ModelError(
                f"there is no equality constraint {number}",
                hint=f"the model has {len(rows)} equality constraints, numbered from 1",
            )
        row = rows[int(number) - 1]
        cands.append(
            Candidate(
                row.lhs,
                row.op,
                row.rhs,
                row.block,
                row.group,
                row.level,
                fit.row_estimate(row),
                release=True,
            )
        )
        names.append((first[row.free].plabel, row.plabel))
    return cands, names


# ---------------------------------------------------------------- Wald test


def wald(fit, constraints: str) -> dict:
    """lavaan's ``lavTestWald()``: the Wald test that every constraint (``==``, in the model
    language with the model's labels) holds; stat, df, p_value and the se type used."""
    exprs = constraint_expressions(fit, constraints)
    theta = fit.theta
    compiled = CompiledExpressions(exprs, _theta_symbols(fit))
    r, R = compiled.value(theta), compiled.jacobian(theta)
    covariance = R @ fit.vcov @ R.T
    stat = float(r @ np.linalg.solve(covariance, r))
    return {
        "stat": stat,
        "df": len(r),
        "p_value": float(stats.chi2.sf(stat, len(r))),
        "se": fit.options.se.value,
    }


def _theta_symbols(fit):
    import sympy

    return tuple(sympy.Symbol(f"theta_{k}") for k in range(1, fit.model.n_theta + 1))


def constraint_expressions(fit, text: str) -> list:
    """left − right of each ``==`` in ``text`` as sympy expressions of θ (located errors)."""
    source = Source(text, "<constraints>")
    tree = parse(text, "<constraints>")
    labels = _label_expressions(fit.table, _theta_symbols(fit))
    user = sorted({r.label for r in fit.table.parameters if r.label})
    out = []
    for statement in tree.statements:
        if not (isinstance(statement, ast.Constraint) and statement.op is Op.EQUAL):
            raise ModelError(
                "a Wald test takes equality constraints only",
                source,
                statement.span,
                hint="write them as 'b1 == 0; b2 == b3' with the model's labels",
            )
        for side in (statement.left, statement.right):
            for symbol in ast.symbols_of(side):
                if symbol.name not in labels:
                    close = difflib.get_close_matches(symbol.name, user, n=3)
                    hint = (
                        f"did you mean {', '.join(repr(c) for c in close)}?"
                        if close
                        else f"the model's labels are: {', '.join(user) or 'none'}"
                    )
                    raise ModelError(f"unknown label '{symbol.name}'", source, symbol.span, hint)
        left = ast.to_sympy(statement.left, labels)
        right = ast.to_sympy(statement.right, labels)
        out.append(left - right)
    if not out:
        raise ModelError("no constraints to test", source, hint="e.g. 'b1 == 0; b2 == b3'")
    return out
