"""Sympy expressions compiled once into numeric functions (value and Jacobian).

Input: sympy expressions of some symbols. Output: :class:`CompiledExpressions`, which evaluates
the expressions and their Jacobian with numpy. Lambdified code is made on first use and dropped
when pickled (so a compiled model can be sent to worker processes and rebuilt there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from semlang.lazy import LazyModule

if TYPE_CHECKING:
    import sympy
else:  # imported only for a model with :=, constraints or bounds
    sympy = LazyModule("sympy")

_Numeric = Callable[[np.ndarray], np.ndarray]


class CompiledExpressions:
    """Numeric value and Jacobian of a vector of sympy expressions in ``symbols``."""

    _value: _Numeric | None
    _jacobian: _Numeric | None

    def __init__(self, exprs: Sequence[sympy.Expr], symbols: Sequence[sympy.Symbol]):
        self.exprs = tuple(sympy.sympify(e) for e in exprs)
        self.symbols = symbols if isinstance(symbols, tuple | Sequence) else tuple(symbols)
        self._value = None
        self._jacobian = None

    def __len__(self) -> int:
        return len(self.exprs)

    def __getstate__(self) -> dict:
        return {"exprs": self.exprs, "symbols": self.symbols}

    def __setstate__(self, state: dict) -> None:
        self.exprs = state["exprs"]
        self.symbols = state["symbols"]
        self._value = None
        self._jacobian = None

    def value(self, x: np.ndarray) -> np.ndarray:
        if not self.exprs:
            return np.zeros(0)
        if self._value is None:
            self._value = sympy.lambdify([self.symbols], list(self.exprs), modules="numpy")
        with np.errstate(all="ignore"):  # NaN / Inf values are the caller's to judge
            return np.asarray(self._value(np.asarray(x, dtype=float)), dtype=float).reshape(-1)

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """d exprs / d symbols, shape (len(exprs), len(symbols))."""
        if not self.exprs:
            return np.zeros((0, len(self.symbols)))
        if self._jacobian is None:
            self._jacobian = self._make_jacobian()
        with np.errstate(all="ignore"):
            return self._jacobian(np.asarray(x, dtype=float))

    def _make_jacobian(self):
        position = {s: k for k, s in enumerate(self.symbols)}
        entries = []  # (row, col, derivative)
        for i, expr in enumerate(self.exprs):
            for symbol in expr.free_symbols:
                if symbol in position:
                    entries.append((i, position[symbol], sympy.diff(expr, symbol)))
        shape = (len(self.exprs), len(self.symbols))
        if not entries:
            return lambda x: np.zeros(shape)
        rows = np.array([e[0] for e in entries], dtype=np.intp)
        cols = np.array([e[1] for e in entries], dtype=np.intp)
        derivative = sympy.lambdify([self.symbols], [e[2] for e in entries], modules="numpy")

        def jacobian(x: np.ndarray) -> np.ndarray:
            out = np.zeros(shape)
            out[rows, cols] = np.asarray(derivative(x), dtype=float).reshape(-1)
            return out

        return jacobian


def linear_form(
    exprs: Sequence[sympy.Expr], symbols: Sequence[sympy.Symbol]
) -> tuple[np.ndarray, np.ndarray] | None:
    """(G, c) with exprs = G @ symbols + c when every expression is linear, else None."""
    position = {s: k for k, s in enumerate(symbols)}
    G = np.zeros((len(exprs), len(symbols)))
    c = np.zeros(len(exprs))
    for i, expr in enumerate(exprs):
        expr = sympy.expand(sympy.sympify(expr))
        for term, coefficient in expr.as_coefficients_dict().items():
            if term == 1:
                c[i] += float(coefficient)
            elif term in position:
                G[i, position[term]] += float(coefficient)
            else:
                return None
    return G, c
