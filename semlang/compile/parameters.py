"""Free parameters, equality constraints, defined parameters and inequalities, with sympy.

Input: the parameter table. Output: :class:`ParameterSpace`:

* θ — one entry per free parameter of the table (shared labels already merged);
* φ — the optimizer's vector: equality constraints (``==``) are solved for one of their
  parameters, so θ = g(φ) (usually θ = φ; linear constraints give θ = Gφ + c; nonlinear ones a
  lambdified g with its Jacobian) and the fit needs no constrained optimizer for them; an
  equality no parameter can be solved from (``a^2 + b^2 == 1``) stays a constraint c(φ) = 0,
  given to the optimizer as the pair c >= 0, −c >= 0;
* the ``:=`` parameters as functions of θ (lambdified, with Jacobian for the delta method);
* inequalities (``<``, ``>``) as c(φ) >= 0; a bare ``label > number`` becomes a bound on φ, as do
  the ``lower()`` and ``upper()`` modifiers;
* the value of every constraint row in θ as lavaan reports it (left − right; right − left for
  ``<``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from semlang.compile.symbolic import CompiledExpressions, linear_form
from semlang.errors import ModelSpecificationError
from semlang.lazy import LazyModule
from semlang.partable.table import ParameterTable
from semlang.records import dataclass
from semlang.syntax import ast
from semlang.syntax.ast import Op

if TYPE_CHECKING:
    import sympy
else:  # imported only for a model with :=, constraints or bounds
    sympy = LazyModule("sympy")


@dataclass(frozen=True)
class ParameterSpace:
    n_theta: int
    theta_symbols: Sequence[sympy.Symbol]  # (a tuple, or a lazy sequence without constraints)
    phi_symbols: Sequence[sympy.Symbol]
    phi_index: np.ndarray  # θ index of each φ (φ starts at θ[phi_index])
    linear_map: tuple[np.ndarray, np.ndarray] | None  # (G, c): θ = G φ + c; None: see below
    theta_of_phi: CompiledExpressions  # used when linear_map is None
    definitions: CompiledExpressions  # := values as functions of θ
    definition_names: tuple[str, ...]
    definitions_of_labels: CompiledExpressions  # := values as functions of the labels' values
    label_names: tuple[str, ...]
    inequalities: CompiledExpressions  # c(φ) >= 0 (those not turned into bounds)
    bounds: tuple[tuple[float, float], ...]  # per φ: every bound the optimizer respects
    constraint_bounds: tuple[tuple[float, float], ...]  # per φ: those from ``<``/``>`` rows
    constraint_values: CompiledExpressions  # each constraint row's value in θ (lavaan's sign)
    n_equalities: int = 0  # ``==`` rows not solved for a parameter (pairs of inequalities)
    identity: bool = False  # θ = φ (no equality solved): no n × n matrix is stored

    @property
    def is_linear(self) -> bool:
        """θ is a linear function of φ (θ = φ, or θ = Gφ + c)."""
        return self.identity or self.linear_map is not None

    @property
    def n_phi(self) -> int:
        return len(self.phi_symbols)

    def theta(self, phi: np.ndarray) -> np.ndarray:
        if self.identity:
            return np.array(phi, dtype=float)
        if self.linear_map is not None:
            G, c = self.linear_map
            return G @ phi + c
        return self.theta_of_phi.value(phi)

    def jacobian(self, phi: np.ndarray) -> np.ndarray:
        """dθ/dφ, shape (n_theta, n_phi)."""
        if self.identity:
            return np.eye(self.n_theta)
        if self.linear_map is not None:
            return self.linear_map[0]
        return self.theta_of_phi.jacobian(phi)

    def phi_from_theta(self, theta: np.ndarray) -> np.ndarray:
        return np.asarray(theta, dtype=float)[self.phi_index]

    @property
    def has_bounds(self) -> bool:
        return any(math.isfinite(lo) or math.isfinite(hi) for lo, hi in self.bounds)


def build_parameter_space(table: ParameterTable) -> ParameterSpace:
    """θ, φ, defined parameters and constraints of a parameter table."""
    n_theta = table.n_free
    if not (table.definitions or table.constraints or _has_bounds(table)):
        return _unconstrained_space(n_theta)
    theta = tuple(sympy.Symbol(f"theta_{k}") for k in range(1, n_theta + 1))
    # labels matter only to := and constraint rows: without them, skip the sympy work
    labels = _label_expressions(table, theta) if table.definitions or table.constraints else {}
    label_symbols = {name: sympy.Symbol(name) for name in labels}
    defined = _definition_expressions(table, labels)
    defined_by_label = _definition_expressions(table, label_symbols)
    names = {**labels, **defined}
    substitution, unsolved = _solve_equalities(table, names, theta)
    phi = tuple(s for s in theta if s not in substitution)
    theta_exprs = [substitution.get(s, s) for s in theta]
    position = {symbol: k for k, symbol in enumerate(theta)}
    phi_index = np.array([position[s] for s in phi], dtype=np.intp)
    inequality_exprs, bounds, constraint_bounds = _inequalities(table, names, substitution, phi)
    equality_exprs = _unsolved_equalities(table, unsolved, names, substitution)
    inequality_exprs += equality_exprs + [-expr for expr in equality_exprs]
    constraint_exprs = [_signed_constraint(row, names) for row in table.constraints]
    return ParameterSpace(
        n_theta=n_theta,
        theta_symbols=theta,
        phi_symbols=phi,
        phi_index=phi_index,
        linear_map=None if not substitution else linear_form(theta_exprs, phi),
        identity=not substitution,
        theta_of_phi=CompiledExpressions(theta_exprs, phi),
        definitions=CompiledExpressions(list(defined.values()), theta),
        definition_names=tuple(defined),
        definitions_of_labels=CompiledExpressions(
            list(defined_by_label.values()), list(label_symbols.values())
        ),
        label_names=tuple(labels),
        inequalities=CompiledExpressions(inequality_exprs, phi),
        bounds=tuple(bounds),
        constraint_bounds=tuple(constraint_bounds),
        constraint_values=CompiledExpressions(constraint_exprs, theta),
        n_equalities=len(equality_exprs),
    )


def _has_bounds(table: ParameterTable) -> bool:
    return any(
        row.is_free and (math.isfinite(row.lower) or math.isfinite(row.upper))
        for row in table.parameters
    )


class _ThetaSymbols(Sequence):
    """θ_1 ... θ_n as sympy symbols, made when asked for (a model without ``:=``, constraints or
    bounds needs none, and a large one has hundreds of thousands)."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, k):
        if isinstance(k, slice):
            return tuple(self[i] for i in range(*k.indices(self.n)))
        if not -self.n <= k < self.n:
            raise IndexError(k)
        return sympy.Symbol(f"theta_{k % self.n + 1}")

    def __eq__(self, other) -> bool:
        return isinstance(other, _ThetaSymbols) and other.n == self.n

    def __hash__(self) -> int:
        return hash(("theta", self.n))


def _unconstrained_space(n_theta: int) -> ParameterSpace:
    """θ = φ, nothing defined, no constraint, no bound."""
    symbols = _ThetaSymbols(n_theta)
    unbounded = ((-math.inf, math.inf),) * n_theta
    return ParameterSpace(
        n_theta=n_theta,
        theta_symbols=symbols,
        phi_symbols=symbols,
        phi_index=np.arange(n_theta, dtype=np.intp),
        linear_map=None,
        theta_of_phi=CompiledExpressions([], []),
        definitions=CompiledExpressions([], symbols),
        definition_names=(),
        definitions_of_labels=CompiledExpressions([], []),
        label_names=(),
        inequalities=CompiledExpressions([], symbols),
        bounds=unbounded,
        constraint_bounds=unbounded,
        constraint_values=CompiledExpressions([], symbols),
        identity=True,
    )


def _label_expressions(table: ParameterTable, theta) -> dict[str, sympy.Expr]:
    """Each label (user labels and lavaan's .pN. names) as θ_k or its fixed value."""
    out: dict[str, sympy.Expr] = {}
    for row in table.parameters:
        value = theta[row.free - 1] if row.is_free else sympy.Float(row.value)
        if row.label and row.label not in out:
            out[row.label] = value
        out.setdefault(row.plabel, value)
    return out


def _definition_expressions(table: ParameterTable, labels) -> dict[str, sympy.Expr]:
    out: dict[str, sympy.Expr] = {}
    for row in table.definitions:
        known = {**labels, **out}
        statement = row.statement
        assert isinstance(statement, ast.Definition)  # a ':=' row keeps its statement
        value = ast.to_sympy(statement.expr, _symbol_map(statement.expr, known))
        if value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise ModelSpecificationError(
                f"the defined parameter {row.lhs!r} is infinite or undefined at the values its "
                "fixed parameters have", table.source, row.span,
                hint="check the fixed values and labels it uses (a division by 0?)",
            )  # fmt: skip
        out[row.lhs] = value
    return out


def _symbol_map(expr, known: dict[str, sympy.Expr]) -> dict[str, sympy.Expr]:
    return {s.name: known[s.name] for s in ast.symbols_of(expr)}


def _constraint_expr(row, names) -> sympy.Expr:
    """left − right of the constraint ``row`` (an ``==``, ``<`` or ``>`` row)."""
    statement = row.statement
    assert isinstance(statement, ast.Constraint)  # a constraint row keeps its statement
    left = ast.to_sympy(statement.left, _symbol_map(statement.left, names))
    right = ast.to_sympy(statement.right, _symbol_map(statement.right, names))
    return left - right


def _signed_constraint(row, names) -> sympy.Expr:
    """lavaan's value of a constraint row: left − right, but right − left for ``<`` (so that an
    inequality holds when its value is >= 0)."""
    diff = _constraint_expr(row, names)
    return -diff if row.op is Op.LESS else diff


def _solve_equalities(table: ParameterTable, names, theta):
    """Solve each ``==`` for one parameter; returns (θ_k -> expression, rows left unsolved)."""
    substitution: dict[sympy.Symbol, sympy.Expr] = {}
    unsolved = []
    order = {s: k for k, s in enumerate(theta)}
    for row in table.constraints:
        if row.op is not Op.EQUAL:
            continue
        expr = sympy.simplify(_constraint_expr(row, names).xreplace(substitution))
        symbols = sorted(expr.free_symbols & set(theta), key=order.__getitem__, reverse=True)
        if not symbols:
            _check_holds(expr, table, row)
            continue
        solved = _solve_for_one(expr, symbols)
        if solved is None:
            unsolved.append(row)
            continue
        symbol, solution = solved
        substitution = {k: v.xreplace({symbol: solution}) for k, v in substitution.items()}
        substitution[symbol] = solution
    return substitution, unsolved


def _unsolved_equalities(table, rows, names, substitution) -> list[sympy.Expr]:
    """The ``==`` rows no parameter could be solved from, as expressions in φ that must be 0.

    They are imposed like two inequalities (c >= 0 and −c >= 0) by the optimizer, and like
    active constraints on the information matrix, as lavaan does with nonlinear constraints.
    """
    out = []
    for row in rows:
        expr = _constraint_expr(row, names).xreplace(substitution)
        if not expr.free_symbols:
            _check_holds(expr, table, row)
            continue
        out.append(expr)
    return out


def _check_holds(expr: sympy.Expr, table: ParameterTable, row) -> None:
    """An ``==`` row left with no free parameter must be 0 already."""
    if abs(float(expr)) > 1e-12:
        raise ModelSpecificationError(
            "this equality constraint can never hold", table.source, row.span,
            hint="check the fixed values and labels it uses",
        )  # fmt: skip


def _solve_for_one(expr: sympy.Expr, symbols: list[sympy.Symbol]):
    for symbol in symbols:  # prefer the later parameter, and one that enters linearly
        if expr.is_polynomial(symbol) and sympy.degree(expr, symbol) == 1:
            solutions = sympy.solve(expr, symbol, dict=False)
            if len(solutions) == 1:
                return symbol, solutions[0]
    for symbol in symbols:
        solutions = sympy.solve(expr, symbol, dict=False)
        if len(solutions) == 1:
            return symbol, solutions[0]
    return None


def _inequalities(table, names, substitution, phi):
    """Inequalities as c(φ) >= 0; ``label > number`` rows and lower()/upper() become bounds.

    Returns (expressions, bounds, constraint_bounds): ``bounds`` holds both kinds of bounds (what
    the optimizer must respect), ``constraint_bounds`` only those written as constraint rows.
    lavaan treats the two differently in inference: an active inequality constraint is imposed
    on the information matrix like an equality, a modifier bound is not.
    """
    modifier = {s: [-math.inf, math.inf] for s in phi}
    constraint = {s: [-math.inf, math.inf] for s in phi}
    exprs = []
    for row in table.parameters:
        if not row.is_free or not (math.isfinite(row.lower) or math.isfinite(row.upper)):
            continue
        symbol = sympy.Symbol(f"theta_{row.free}")
        if symbol in modifier:
            modifier[symbol][0] = max(modifier[symbol][0], row.lower)
            modifier[symbol][1] = min(modifier[symbol][1], row.upper)
            _check_interval(modifier[symbol], [-math.inf, math.inf], table, row)
            continue
        value = substitution[symbol]  # solved by an equality: the bound constrains φ through it
        if math.isfinite(row.lower):
            exprs.append(value - row.lower)
        if math.isfinite(row.upper):
            exprs.append(row.upper - value)
    for row in table.constraints:
        if row.op is Op.EQUAL:
            continue
        expr = _signed_constraint(row, names).xreplace(substitution)
        if not expr.free_symbols:
            if float(expr) < 0:
                raise ModelSpecificationError(
                    "this inequality constraint can never hold", table.source, row.span,
                    hint="check the fixed values and labels it uses",
                )  # fmt: skip
            continue
        if not _as_bound(sympy.expand(expr), constraint):
            exprs.append(expr)
            continue
        (symbol,) = expr.free_symbols
        _check_interval(modifier[symbol], constraint[symbol], table, row)
    bounds = [
        (max(modifier[s][0], constraint[s][0]), min(modifier[s][1], constraint[s][1])) for s in phi
    ]
    return exprs, bounds, [tuple(constraint[s]) for s in phi]


def _check_interval(modifier, constraint, table, row) -> None:
    """An error located at ``row`` when a parameter's bounds leave no value to take."""
    lower, upper = max(modifier[0], constraint[0]), min(modifier[1], constraint[1])
    if lower > upper:
        raise ModelSpecificationError(
            f"no value satisfies the bounds on this parameter: it must be >= {lower:g} "
            f"and <= {upper:g}", table.source, row.span,
            hint="correct the bounds (lower() / upper() modifiers, '<' and '>' rows)",
        )  # fmt: skip


def _as_bound(expr: sympy.Expr, bounds) -> bool:
    """Record ``a*φ + b >= 0`` as a bound on φ; False when expr is not of that form."""
    symbols = list(expr.free_symbols)
    if len(symbols) != 1 or symbols[0] not in bounds or not expr.is_polynomial(symbols[0]):
        return False
    symbol = symbols[0]
    if sympy.degree(expr, symbol) != 1:
        return False
    a = float(expr.coeff(symbol, 1))
    b = float(expr.coeff(symbol, 0))
    if a > 0:
        bounds[symbol][0] = max(bounds[symbol][0], -b / a)
    else:
        bounds[symbol][1] = min(bounds[symbol][1], -b / a)
    return True
