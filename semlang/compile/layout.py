"""Parameter table block -> RAM layout: where each parameter sits in A, S and m.

Input: the rows of one block and its variables. Output: a frozen :class:`RamLayout` with the
RAM matrices' fixed part (A0, S0, m0), index arrays placing each free parameter θ_k (and each
``exo`` entry, whose value comes from the data) into A (regressions and loadings), S (variances and
covariances, both triangles) and m (intercepts). Variables are ordered observed first, so F
selects the first ``n_observed`` rows. No data, no sympy: pure bookkeeping, built once.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from semlang.partable.table import BlockVariables, ParamRow
from semlang.records import dataclass
from semlang.syntax.ast import Op


@dataclass(frozen=True)
class EntryIndex:
    """Free entries of one matrix: rows, cols and the (0-based) θ index of each."""

    rows: np.ndarray
    cols: np.ndarray
    theta: np.ndarray

    @classmethod
    def build(cls, items: list[tuple[int, int, int]]) -> EntryIndex:
        if not items:
            empty = np.zeros(0, dtype=np.intp)
            return cls(empty, empty, empty)
        arr = np.asarray(items, dtype=np.intp)
        return cls(arr[:, 0], arr[:, 1], arr[:, 2])

    def __len__(self) -> int:
        return len(self.theta)


@dataclass(frozen=True)
class RamLayout:
    """The RAM form of one block: Σ = F(I−A)⁻¹S(I−A)⁻ᵀFᵀ, μ = F(I−A)⁻¹m."""

    block: int
    group: int
    level: int
    variables: tuple[str, ...]
    n_observed: int
    A0: np.ndarray
    S0: np.ndarray
    m0: np.ndarray
    A_free: EntryIndex
    S_free: EntryIndex  # one entry per (i, j) with i >= j; symmetric twin implied
    m_free: EntryIndex
    exo_S: tuple[tuple[int, int], ...]  # (i, j) entries filled with sample (co)variances
    exo_m: tuple[int, ...]  # entries filled with sample means
    path_length: int  # longest directed path in A (0: no paths); -1 when A has a cycle

    @property
    def observed(self) -> tuple[str, ...]:
        return self.variables[: self.n_observed]

    @property
    def latent(self) -> tuple[str, ...]:
        return self.variables[self.n_observed :]

    @property
    def n(self) -> int:
        return len(self.variables)

    @cached_property
    def entry_pairs(self) -> dict[str, np.ndarray]:
        """Flat indices into an n x n matrix of the pairs of the free entries' rows and columns
        (``X.take(pairs["cA,rA"])`` is ``X[np.ix_(cA, rA)]``): what the Hessian of the free
        entries takes from B, Σ and the other n x n matrices, made once."""
        n = self.n
        index = {"rA": self.A_free.rows, "cA": self.A_free.cols, "rS": self.S_free.rows,
                 "cS": self.S_free.cols, "rm": self.m_free.rows}  # fmt: skip
        names = ("cA,rA", "rA,cA", "rA,rA", "cA,cA", "cA,rS", "rA,cS", "cA,cS", "rA,rS", "cA,rm")
        out = {}
        for name in names:
            rows, cols = (np.asarray(index[part], dtype=np.intp) for part in name.split(","))
            out[name] = rows[:, None] * n + cols[None, :]
        return out


def build_layout(block: BlockVariables, rows: tuple[ParamRow, ...]) -> RamLayout:
    """The layout of ``block`` from its parameter rows."""
    variables = block.observed + block.latent
    index = {name: i for i, name in enumerate(variables)}
    n = len(variables)
    A0, S0, m0 = np.zeros((n, n)), np.zeros((n, n)), np.zeros(n)
    a_free: list[tuple[int, int, int]] = []  # (i, j, index of the free parameter)
    s_free: list[tuple[int, int, int]] = []
    m_free: list[tuple[int, int, int]] = []
    exo_S: list[tuple[int, int]] = []
    exo_m: list[int] = []
    for row in rows:
        if row.op is Op.MEASURED:
            i, j = index[row.rhs], index[row.lhs]
            _place(row, a_free, A0, i, j)
        elif row.op is Op.REGRESSION or row.op is Op.FORMATIVE:
            i, j = index[row.lhs], index[row.rhs]
            _place(row, a_free, A0, i, j)
        elif row.op is Op.COVARIANCE:
            i, j = sorted((index[row.lhs], index[row.rhs]), reverse=True)
            if row.exo:
                exo_S.append((i, j))
            elif row.is_free:
                s_free.append((i, j, row.free - 1))
            else:
                S0[i, j] = S0[j, i] = row.value
        elif row.op is Op.INTERCEPT:
            i = index[row.lhs]
            if row.exo:
                exo_m.append(i)
            elif row.is_free:
                m_free.append((i, 0, row.free - 1))
            else:
                m0[i] = row.value
    return RamLayout(
        block=block.index,
        group=block.group,
        level=block.level,
        variables=variables,
        n_observed=len(block.observed),
        A0=A0,
        S0=S0,
        m0=m0,
        A_free=EntryIndex.build(a_free),
        S_free=EntryIndex.build(s_free),
        m_free=EntryIndex.build(m_free),
        exo_S=tuple(exo_S),
        exo_m=tuple(exo_m),
        path_length=_longest_path(A0, a_free, n),
    )


def _place(row: ParamRow, free: list, A0: np.ndarray, i: int, j: int) -> None:
    if row.is_free:
        free.append((i, j, row.free - 1))
    else:
        A0[i, j] = row.value


def _longest_path(A0: np.ndarray, a_free: list, n: int) -> int:
    """The longest directed path of A (A^(k+1) = 0 for k = this), or -1 when A has a cycle.

    Without a cycle (I − A)⁻¹ = I + A + ... + A^k, which is cheaper than an inverse. Found on
    the graph of A's nonzero entries in topological order (linear in its edges, so a model with
    thousands of variables costs no matrix powers).
    """
    rows, cols = np.nonzero(A0)
    edges = set(zip(rows.tolist(), cols.tolist(), strict=True))
    edges.update((i, j) for i, j, _ in a_free)
    successors: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for i, j in edges:  # A[i, j] != 0: an edge j -> i
        successors[j].append(i)
        indegree[i] += 1
    depth = [0] * n
    ready = [v for v in range(n) if indegree[v] == 0]
    visited = 0
    while ready:
        v = ready.pop()
        visited += 1
        for w in successors[v]:
            depth[w] = max(depth[w], depth[v] + 1)
            indegree[w] -= 1
            if indegree[w] == 0:
                ready.append(w)
    if visited < n:
        return -1
    return max(depth, default=0)
