"""Fit -> lavaan's score test (``lavTestScore()``) and Wald test (``lavTestWald()``).

Input: a :class:`~semlang.results.fit.Fit` and parameters to add (model syntax), equality
constraints to release (lavaan's numbering: the model's ``==`` rows, then the rows sharing a
parameter with an earlier row) or constraints to test (model syntax with the model's labels).
Output: for the score test a dict of DataFrames — ``test`` (the total test), ``uni`` (one test
per parameter or constraint), with ``cumulative=True`` the tests of the first k of them in
decreasing order and with ``epc=True`` lavaan's ``epc`` table; for the Wald test a dict (stat,
df, p_value, se).

The score test works in lavaan's parameter space ψ = (θ, c): the model's parameters, then one
extra parameter per added parameter or per row sharing its parameter (its own change), at their
current values (:mod:`semlang.results.score_system` gives g, the half gradient, and the
information I per observation in ψ). The constraints are R ψ = 0: the Jacobian of the model's
``==`` rows and c = 0. Releasing some of them, with N₁ a basis of the null space of the others,
the statistic is N gᵀN₁(N₁ᵀIN₁)⁺N₁ᵀg on as many degrees of freedom as released rows, and the
expected change of ψ is −N₁(N₁ᵀIN₁)⁺N₁ᵀg. The Wald test of r(θ) = 0 is rᵀ(R Ĉ Rᵀ)⁻¹r with
R = dr/dθ and Ĉ the covariance matrix of the estimates (the fit's se).
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, stats

from semlang.compile.parameters import _label_expressions
from semlang.compile.symbolic import CompiledExpressions
from semlang.errors import ModelError, SemlangWarning, Source
from semlang.options import StandardErrors
from semlang.partable.table import ParamRow
from semlang.results.modindices import Candidate, standardized_epc
from semlang.results.score_system import check_information, extended_system
from semlang.syntax import ast
from semlang.syntax.ast import Op
from semlang.syntax.parser import parse

# ---------------------------------------------------------------- score test


def _warn_if_not_standard(fit) -> None:
    """lavaan's warning: the score test of a fit with other than standard errors is the
    ordinary (not robust) score test."""
    se = fit.options.se
    if se not in (StandardErrors.STANDARD, StandardErrors.NONE):
        warnings.warn(
            f"the fit's standard errors are '{se.value}', but the score test is the ordinary "
            "(not robust) one, as lavaan's lavTestScore()",
            SemlangWarning,
            stacklevel=3,
        )


def score_test(
    fit,
    add=None,
    release=None,
    cumulative=False,
    epc=False,
    information="expected",
    standardized=None,
) -> dict:
    """lavaan's ``lavTestScore()`` for the parameters in ``add`` (model syntax) or the equality
    constraints numbered ``release`` (1-based, lavaan's order; all of them when neither is
    given), with the ``information`` lavaan takes; ``epc`` adds each added parameter's expected
    change to ``uni`` and the table ``epc`` of every parameter's expected change and value
    (with the standardized changes unless ``standardized=False``)."""
    information = check_information(information)
    if add is not None and release is not None:
        raise ModelError(
            "give the parameters to add or the constraints to release, not both",
            hint='e.g. score_test(fit, add="x1 ~~ x4") or score_test(fit, release=[1, 2])',
        )
    _check_constraints(fit)
    _warn_if_not_standard(fit)
    problem = _problem(fit, add, release, information)
    N = fit.nobs
    total = problem.statistic(problem.released)
    out = {"test": _tests_frame(["score"], [N * total], [len(problem.released)], key="test")}
    names = [problem.names[r] for r in problem.released]
    frame = pd.DataFrame({"lhs": [n[0] for n in names], "op": "==", "rhs": [n[1] for n in names]})
    uni = np.array([N * problem.statistic([r]) for r in problem.released])
    frame["X2"], frame["df"], frame["p_value"] = uni, 1, stats.chi2.sf(uni, 1)
    if epc and add is not None:
        frame["epc"] = [problem.change([r])[problem.n_theta + r - problem.n_model] for r in
                        problem.released]  # fmt: skip
    out["uni"] = frame
    if cumulative:
        out["cumulative"] = _cumulative(frame, problem, N)
    if epc:
        standardized = epc if standardized is None else standardized
        out["epc"] = epc_table(fit, problem, standardized)
    return out


def _check_constraints(fit) -> None:
    if any(row.op is not Op.EQUAL for row in fit.table.constraints):
        raise ModelError(
            "the score test does not handle inequality constraints",
            hint="leave the '<' and '>' rows out of the model to test its parameters",
        )


class _Problem:
    """The score tests of one fit: ψ = (θ, c) with c the added parameters or one change per
    row sharing its parameter with an earlier row; the constraints R ψ = 0 in lavaan's order
    (the model's ``==`` rows, then the shared rows' or the added parameters' c = 0); g and I
    per observation in ψ."""

    def __init__(self, fit, cands, names, n_model, released, information):
        self.fit, self.cands, self.names = fit, cands, names
        self.n_theta, self.n_model = fit.model.n_theta, n_model
        self.released = list(released)
        self.grad, self.info = extended_system(fit, cands, information)
        user = fit.model.space.constraint_values.jacobian(fit.theta)
        user = np.asarray(user, dtype=float).reshape(-1, self.n_theta)
        n_psi = self.n_theta + len(cands)
        R = np.zeros((len(user) + len(cands), n_psi))
        R[: len(user), : self.n_theta] = user
        R[len(user) :, self.n_theta :] = np.eye(len(cands))
        self.R = R

    def _basis(self, released) -> np.ndarray:
        keep = np.ones(len(self.R), dtype=bool)
        keep[list(released)] = False
        if not keep.any():
            return np.eye(self.R.shape[1])
        return linalg.null_space(self.R[keep])

    def _inverse(self, released) -> np.ndarray:
        """The information's inverse under the constraints that are not released."""
        basis = self._basis(released)
        return basis @ np.linalg.pinv(basis.T @ self.info @ basis, hermitian=True) @ basis.T

    def statistic(self, released) -> float:
        """gᵀ J⁻ g per observation (times N: the score statistic)."""
        return float(self.grad @ self._inverse(released) @ self.grad)

    def change(self, released) -> np.ndarray:
        """The expected change of ψ once the constraints ``released`` are released."""
        return -self._inverse(released) @ self.grad


def _problem(fit, add, release, information) -> _Problem:
    n_user = len(fit.table.constraints)
    if add is not None:
        cands, names = added(fit, add)
        added_ones = range(n_user, n_user + len(cands))
        return _Problem(fit, cands, _user_names(fit) + names, n_user, added_ones, information)
    rows = equality_rows(fit.table)
    count = n_user + len(rows)
    if count == 0:
        raise ModelError(
            "the model has no equality constraints to release",
            hint='add parameters instead, e.g. score_test(fit, add="x1 ~~ x4")',
        )
    numbers: Sequence[int] = range(1, count + 1) if release is None else release
    for number in numbers:
        if not 1 <= int(number) <= count:
            raise ModelError(
                f"there is no equality constraint {number}",
                hint=f"the model has {count} equality constraints, numbered from 1",
            )
    cands, names = released_rows(fit, rows)
    released = [int(n) - 1 for n in numbers]
    return _Problem(fit, cands, _user_names(fit) + names, n_user, released, information)


def _user_names(fit) -> list[tuple[str, str]]:
    return [(row.lhs, row.rhs) for row in fit.table.constraints]


def epc_table(fit, problem: _Problem, standardized: bool) -> pd.DataFrame:
    """lavaan's ``$epc``: every parameter row (the added ones last) with its estimate, expected
    change and expected value once the tested constraints are released."""
    change = problem.change(problem.released)
    rows = [r for r in fit.table.parameters]
    first: dict[int, ParamRow] = {}  # free index -> its first row
    records, number = [], 0
    for row in rows:
        est = fit.row_estimate(row)
        value = np.nan
        if row.is_free:
            number += 1
            value = change[row.free - 1]
            if row.free in first:
                k = _release_index(problem, row)
                if k is not None:
                    value += change[problem.n_theta + k]
            first.setdefault(row.free, row)
        records.append((row, number if row.is_free else 0, est, value))
    for k, cand in enumerate(problem.cands):
        if cand.release:
            continue
        row = type(rows[0])(id=0, lhs=cand.lhs, op=cand.op, rhs=cand.rhs, block=cand.block,
                            group=cand.group, level=cand.level)  # fmt: skip
        records.append((row, 0, 0.0, change[problem.n_theta + k]))
    table = fit.table
    frame: dict[str, Any] = {"lhs": [r.lhs for r, *_ in records]}
    frame["op"] = [r.op.value for r, *_ in records]
    frame["rhs"] = [r.rhs for r, *_ in records]
    if table.ngroups > 1 or table.nlevels > 1:
        frame["block"] = [r.block for r, *_ in records]
        frame["group"] = [r.group for r, *_ in records]
    if table.nlevels > 1:
        frame["level"] = [r.level for r, *_ in records]
    frame["free"] = [n for _, n, _, _ in records]
    frame["label"] = [r.label for r, *_ in records]
    frame["plabel"] = [r.plabel for r, *_ in records]
    frame["est"] = np.array([e for _, _, e, _ in records], dtype=float)
    frame["epc"] = np.array([v for *_, v in records], dtype=float)
    frame["epv"] = frame["est"] + frame["epc"]
    if standardized:
        cands = [
            Candidate(r.lhs, r.op, r.rhs, r.block, r.group, r.level, e, r.exo)
            for r, _, e, _ in records
        ]
        frame["sepc_lv"], frame["sepc_all"], frame["sepc_nox"] = standardized_epc(
            fit, cands, frame["epc"]
        )
    return pd.DataFrame(frame)


def _release_index(problem: _Problem, row) -> int | None:
    for k, cand in enumerate(problem.cands):
        if cand.release and (cand.lhs, cand.op, cand.rhs, cand.block) == (
            row.lhs, row.op, row.rhs, row.block
        ):  # fmt: skip
            return k
    return None


def _tests_frame(labels, values, dfs, key) -> pd.DataFrame:
    frame = pd.DataFrame({key: labels, "X2": values, "df": dfs})
    frame["p_value"] = stats.chi2.sf(frame["X2"], frame["df"])
    return frame


def _cumulative(uni: pd.DataFrame, problem: _Problem, N: int) -> pd.DataFrame:
    """The joint test of the first k constraints, in decreasing order of their own test."""
    order = np.argsort(-uni["X2"].to_numpy(), kind="stable")
    values = [
        N * problem.statistic([problem.released[j] for j in order[: k + 1]])
        for k in range(len(order))
    ]
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
                    if block.level != 1:
                        continue  # lavaan adds them to each group's first level
                    cands.append(
                        Candidate(lhs, op, rhs, block.index, block.group, block.level, 0.0)
                    )
                    suffix = f".g{block.group}" if block.group > 1 else ""
                    names.append((f"{lhs}{op.value}{rhs}{suffix}", "0"))
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


def released_rows(fit, rows):
    """A candidate per row sharing its parameter with an earlier row: the row's own change."""
    first: dict[int, ParamRow] = {}  # free index -> its first row
    for row in fit.table.parameters:
        first.setdefault(row.free, row)
    cands, names = [], []
    for row in rows:
        cands.append(
            Candidate(
                row.lhs, row.op, row.rhs, row.block, row.group, row.level,
                fit.row_estimate(row), release=True,
            )
        )  # fmt: skip
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
