"""Polychoric (and tetrachoric) correlations of many pairs of ordered variables at once.

Input: per group the category codes (n x p, 0..K-1, -1 missing), each variable's thresholds, and the
pairs (i, j). Output: :class:`PairResult` — each pair's correlation, whether its table has an empty
cell, and (``detail()``, when Γ asks for it) each case's score of the correlation (the derivative
of its log-likelihood) and the sums of that score times the bivariate likelihood's scores of each
variable's thresholds (lavaan's A21 block).

Without covariates a pair's likelihood depends on its contingency table only: the tables of all
pairs are counted at once, padded to the largest number of categories, and the bivariate normal
probabilities of every cell of every table are computed in one vectorized call per iteration. The
empty-cell rule is lavaan's (zero.add = c(0.5, 0), zero.keep.margins = TRUE): in a 2 x 2 table
with one empty cell, 0.5 is moved into it keeping the margins; a 2 x 2 table with two empty cells
has correlation ±1; larger tables are used as they are. Cell probabilities are floored at
sqrt(machine epsilon) in the likelihood, as lavaan does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from semlang.categorical.bvn import bvn_cdf, bvn_pdf, bvn_pdf_drho_ratio
from semlang.categorical.solve import maximize_rho
from semlang.categorical.warn import warn
from semlang.errors import DataWarning

TINY = float(np.sqrt(np.finfo(float).eps))
BOUND = 0.999


@dataclass(frozen=True)
class PairResult:
    """The pairs' correlations; ``detail()`` gives what Γ needs: (scores, a21_first, a21_second):
    each case's d log-lik / d rho (n x P, 0 where a case is not used), and per pair the sums over
    cases of that score times the score of each stage-one parameter of the first (second)
    variable (P x m)."""

    rho: np.ndarray  # (P,)
    zero_cells: np.ndarray  # (P,) bool: the table has an empty cell
    detail: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]] = field(repr=False)


def _extended(ths: list[np.ndarray], kmax: int) -> np.ndarray:
    """Each variable's thresholds as [-inf, t1, ..., inf, inf ...] of length kmax + 1."""
    out = np.full((len(ths), kmax + 1), np.inf)
    out[:, 0] = -np.inf
    for row, th in zip(out, ths, strict=True):
        row[1 : len(th) + 1] = th
    return out


def _diff2(corners: np.ndarray) -> np.ndarray:
    """Rectangle sums of a (P, K+1, K+1) corner array: the (P, K, K) cell values."""
    return corners[:, 1:, 1:] - corners[:, :-1, 1:] - corners[:, 1:, :-1] + corners[:, :-1, :-1]


def count_tables(codes: np.ndarray, first: np.ndarray, second: np.ndarray, kmax: int):
    """The (P, kmax, kmax) contingency tables of the pairs (first[p], second[p]).

    All tables at once: with O the n x (p * kmax) indicator matrix of the categories (a row of
    zeros for a missing value), OᵀO holds every table of two variables as a block, counted on
    the rows where both are observed.
    """
    n, p = codes.shape
    used = np.unique(np.concatenate([first, second]))
    sub = codes[:, used]
    # rows of the identity, and a last row of zeros that code -1 (missing) picks
    onehot = np.vstack([np.eye(kmax, dtype=np.float32), np.zeros((1, kmax), np.float32)])
    indicator = onehot[sub].reshape(n, len(used) * kmax)
    cross = (indicator.T @ indicator).reshape(len(used), kmax, len(used), kmax)
    where = np.searchsorted(used, np.arange(p))
    # float32 counts are exact below 2**24 rows
    return cross[where[first], :, where[second], :].astype(float)


class _Grid:
    """Corner values of all tables at one vector of correlations."""

    def __init__(self, t1: np.ndarray, t2: np.ndarray, rho: np.ndarray):
        h = t1[:, :, None]
        k = t2[:, None, :]
        r = rho[:, None, None]
        self.cdf = bvn_cdf(h, k, r)
        self.pdf = bvn_pdf(h, k, r)
        self.prob = _diff2(self.cdf)
        self.phi = _diff2(self.pdf)
        self.h, self.k, self.r = h, k, r

    def second(self) -> np.ndarray:
        finite = np.isfinite(self.h) & np.isfinite(self.k)
        hh = np.where(finite, self.h, 0.0)
        kk = np.where(finite, self.k, 0.0)
        return _diff2(self.pdf * bvn_pdf_drho_ratio(hh, kk, self.r))


def _table_derivatives(freq, t1, t2):
    def derivatives(rho, active):
        grid = _Grid(t1[active], t2[active], rho)
        prob = grid.prob
        good = prob > TINY
        ratio = np.where(good, grid.phi / np.where(good, prob, 1.0), 0.0)
        f = freq[active]
        grad = (f * ratio).sum(axis=(1, 2))
        second = np.where(good, grid.second() / np.where(good, prob, 1.0), 0.0)
        hess = (f * (second - ratio * ratio)).sum(axis=(1, 2))
        return grad, hess

    return derivatives


def _zero_cell_rule(freq: np.ndarray, ncat1: np.ndarray, ncat2: np.ndarray, names) -> tuple:
    """Apply lavaan's 2 x 2 empty-cell rule; the fixed correlations of degenerate tables."""
    fixed = np.full(len(freq), np.nan)
    freq = freq.copy()
    binary = (ncat1 == 2) & (ncat2 == 2)
    for p in np.flatnonzero(binary):
        table = freq[p, :2, :2]
        zeros = np.flatnonzero(table.ravel(order="F") == 0)
        if len(zeros) == 2:
            warn(
                f"two empty cells in the 2 x 2 table of {names[p][0]} and {names[p][1]}: "
                "their tetrachoric correlation is set to ±1 (as lavaan)",
                DataWarning,
            )
            fixed[p] = 1.0 if table[0, 0] > 0 else -1.0
            continue
        if len(zeros) == 1:
            sign = 1.0 if zeros[0] in (0, 3) else -1.0
            table += sign * 0.5 * np.array([[1.0, -1.0], [-1.0, 1.0]])
        if table[0, 0] * table[1, 1] == table[0, 1] * table[1, 0]:
            fixed[p] = 0.0
    return freq, fixed


def polychoric_tables(codes, ths, first, second, names) -> PairResult:
    """Polychoric correlations of the pairs from their tables (no covariates)."""
    ncat = np.array([len(t) + 1 for t in ths])
    kmax = int(ncat.max())
    ext = _extended(ths, kmax)
    t1, t2 = ext[first], ext[second]
    counts = count_tables(codes, first, second, kmax)
    freq, fixed = _zero_cell_rule(counts, ncat[first], ncat[second], names)
    k = np.arange(kmax)
    valid = (k[None, :, None] < ncat[first][:, None, None]) & (
        k[None, None, :] < ncat[second][:, None, None]
    )
    zero_cells = ((counts == 0) & valid).any(axis=(1, 2))
    # closed form of lavaan for 2 x 2 tables with both thresholds exactly 0
    for p in np.flatnonzero(np.isnan(fixed) & (ncat[first] == 2) & (ncat[second] == 2)):
        if ths[first[p]][0] == 0 and ths[second[p]][0] == 0:
            fixed[p] = -np.cos(2.0 * np.pi * freq[p, 0, 0] / freq[p].sum())
    free = np.isnan(fixed)
    rho = fixed.copy()
    if free.any():
        start = _pearson_start(counts[free])
        rho_free, ok = maximize_rho(
            _table_derivatives(freq[free], t1[free], t2[free]), start, BOUND
        )
        rho[free] = rho_free
        warn_not_converged(ok, [names[p] for p in np.flatnonzero(free)])

    def detail():
        return _table_scores(codes, counts, rho, t1, t2, first, second)

    return PairResult(rho, zero_cells, detail)


def _pearson_start(freq: np.ndarray) -> np.ndarray:
    """The Pearson correlation of the category codes of each table (lavaan's start)."""
    k = np.arange(freq.shape[1], dtype=float)
    n = freq.sum(axis=(1, 2))
    pa, pb = freq.sum(axis=2) / n[:, None], freq.sum(axis=1) / n[:, None]
    ma, mb = pa @ k, pb @ k
    va, vb = pa @ (k * k) - ma * ma, pb @ (k * k) - mb * mb
    cov = np.einsum("pij,i,j->p", freq, k, k) / n - ma * mb
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(va * vb)
    return np.where(np.isfinite(r) & (np.abs(r) < 1), r, 0.0)


def warn_not_converged(ok: np.ndarray, names) -> None:
    for flag, (a, b) in zip(ok, names, strict=True):
        if not flag:
            warn(f"the correlation of {a} and {b} did not converge", DataWarning)


def _table_scores(codes, counts, rho, t1, t2, first, second):
    """Casewise scores of rho (from each case's cell) and the A21 sums, from the real counts."""
    grid = _Grid(t1, t2, rho)
    prob = grid.prob
    good = prob > TINY
    cell_score = np.where(good, grid.phi / np.where(good, prob, 1.0), 0.0)
    kmax = t1.shape[1] - 1
    # each case's cell of each table as one flat index into the tables padded with a category
    # kmax of zeros, which a missing value points at
    size = kmax + 1
    padded = np.zeros((len(first), size, size))
    padded[:, :kmax, :kmax] = cell_score
    code = np.where(codes >= 0, codes, kmax).astype(np.intp)
    base = np.arange(len(first), dtype=np.intp) * (size * size)
    index = (code * size)[:, first] + code[:, second]
    index += base
    scores = padded.ravel()[index]
    # w[c, d] = n_cd * score_cd / pi_cd: the A21 sums weight d pi / d threshold with it
    w = np.where(good, counts * cell_score / np.where(good, prob, 1.0), 0.0)
    r = np.sqrt(1.0 - rho * rho)[:, None, None]
    a21_first = _threshold_cross(t1, t2, r, rho, w, kmax)
    a21_second = _threshold_cross(t2, t1, r, rho, w.transpose(0, 2, 1), kmax)
    return scores, a21_first, a21_second


def _threshold_cross(t_own, t_other, r, rho, w, kmax) -> np.ndarray:
    """sum_cells w * d pi / d tau_j of the first variable of each table, j = 1..kmax-1."""
    tau = t_own[:, 1:kmax][:, :, None]  # (P, kmax-1, 1) thresholds (inf where padding)
    finite = np.isfinite(tau)
    tau0 = np.where(finite, tau, 0.0)
    rr = rho[:, None, None]
    upper = ndtr((t_other[:, None, 1:] - rr * tau0) / r)
    lower = ndtr((t_other[:, None, :-1] - rr * tau0) / r)
    dens = np.where(finite, np.exp(-0.5 * tau0 * tau0) / np.sqrt(2.0 * np.pi), 0.0)
    e = dens * (upper - lower)  # (P, kmax-1, kmax): d pi[j, d] / d tau_j (upper bound)
    return (e * (w[:, :-1, :] - w[:, 1:, :])).sum(axis=2)
