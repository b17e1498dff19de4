"""RAM algebra with numbers: θ -> Σ(θ), μ(θ), and the chain rule back to θ.

Input: a :class:`~semlang.compile.layout.RamLayout`, θ and the block's exo values. Output:
:class:`ImpliedMoments` — A, S, m, B = (I−A)⁻¹, Σ = F B S Bᵀ Fᵀ, μ = F B m and the implied moments
of all variables — with methods that take a discrepancy's derivatives with respect to Σ and μ
to the gradient with respect to θ, and build the (expected) information of the free entries.
Never inverts (I − A) symbolically. The free entries' derivatives are kept factored
(:class:`EntryFactors`), so that information matrices of thousands of entries come from products
of p × n matrices and index gathers, and are summed into θ by index scatter.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property

import numpy as np

from semlang.compile.layout import RamLayout
from semlang.records import dataclass


@dataclass(frozen=True)
class ExoValues:
    """Values of a block's exo entries (sample (co)variances and means of fixed.x covariates)."""

    S: np.ndarray
    m: np.ndarray

    @classmethod
    def empty(cls) -> ExoValues:
        return cls(np.zeros(0), np.zeros(0))


def fill_matrices(layout: RamLayout, theta: np.ndarray, exo: ExoValues | None = None):
    """A, S, m of a block at θ."""
    A = layout.A0.copy()
    S = layout.S0.copy()
    m = layout.m0.copy()
    a, s, mm = layout.A_free, layout.S_free, layout.m_free
    A[a.rows, a.cols] = theta[a.theta]
    S[s.rows, s.cols] = theta[s.theta]
    S[s.cols, s.rows] = theta[s.theta]
    m[mm.rows] = theta[mm.theta]
    if exo is not None and len(exo.S):
        idx = np.asarray(layout.exo_S, dtype=np.intp).reshape(-1, 2)
        S[idx[:, 0], idx[:, 1]] = exo.S
        S[idx[:, 1], idx[:, 0]] = exo.S
    if exo is not None and len(exo.m):
        m[np.asarray(layout.exo_m, dtype=np.intp)] = exo.m
    return A, S, m


@dataclass(frozen=True)
class ImpliedMoments:
    layout: RamLayout
    A: np.ndarray
    S: np.ndarray
    m: np.ndarray

    @classmethod
    def at(cls, layout: RamLayout, theta: np.ndarray, exo: ExoValues | None = None):
        return cls(layout, *fill_matrices(layout, theta, exo))

    @cached_property
    def B(self) -> np.ndarray:
        """(I − A)⁻¹: the finite sum I + A + ... + A^k when A has no cycle (k its longest
        path), else an inverse."""
        n = self.A.shape[0]
        length = self.layout.path_length
        if length < 0:
            return np.linalg.inv(np.eye(n) - self.A)
        out = np.eye(n)
        power = out
        for _ in range(length):
            power = power @ self.A
            out = out + power
        return out

    @cached_property
    def FB(self) -> np.ndarray:
        return self.B[: self.layout.n_observed]

    @cached_property
    def total_cov(self) -> np.ndarray:
        """Implied covariance of all variables (observed and latent), B S Bᵀ."""
        return self.B @ self.S @ self.B.T

    @cached_property
    def total_mean(self) -> np.ndarray:
        return self.B @ self.m

    @cached_property
    def sigma(self) -> np.ndarray:
        p = self.layout.n_observed
        out = self.total_cov[:p, :p]
        return (out + out.T) / 2

    @cached_property
    def mu(self) -> np.ndarray:
        return self.total_mean[: self.layout.n_observed]

    def gradient(self, G: np.ndarray, g: np.ndarray | None, n_theta: int) -> np.ndarray:
        """dF/dθ from dF/dΣ = G (symmetric, tr(G dΣ) convention) and dF/dμ = g."""
        FB = self.FB
        H = FB.T @ G @ FB
        dA = 2.0 * H @ self.S @ self.B.T
        if g is not None:
            dA += np.outer(FB.T @ g, self.total_mean)
        out = np.zeros(n_theta)
        a, s, mm = self.layout.A_free, self.layout.S_free, self.layout.m_free
        np.add.at(out, a.theta, dA[a.rows, a.cols])
        weight = np.where(s.rows == s.cols, 1.0, 2.0)
        np.add.at(out, s.theta, weight * H[s.rows, s.cols])
        if g is not None and len(mm):
            np.add.at(out, mm.theta, (FB.T @ g)[mm.rows])
        return out

    def entry_vectors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per free entry e: a_e, b_e, c_e with dΣ/de = a bᵀ + b aᵀ, dμ/de = c; and θ index
        (computed once; not to be modified)."""
        return self._entry_vectors

    @cached_property
    def _entry_vectors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        factors = self._layout_factors
        return (*factors.dense(), factors.theta)

    @cached_property
    def entry_factors(self) -> EntryFactors:
        """The entry vectors of :meth:`entry_vectors` as scaled columns of one p × 2n matrix,
        in the order of their θ index (a model whose θ each sit in one entry gets its θ-by-θ
        information without a scatter)."""
        return self._layout_factors.reordered(self.entry_order)

    @cached_property
    def entry_order(self) -> np.ndarray:
        """The entries of :meth:`entry_vectors` (A, S, m) in the order of
        :attr:`entry_factors` (by θ index, stable)."""
        return np.argsort(self._layout_factors.theta, kind="stable")

    @cached_property
    def _layout_factors(self) -> EntryFactors:
        FB, M = self.FB, self.total_cov
        n, p = self.layout.n, self.layout.n_observed
        a, s, mm = self.layout.A_free, self.layout.S_free, self.layout.m_free
        Z = np.hstack([FB, M[:, :p].T])  # column n + c is M[c, :p]
        ones_a, zeros_s, zeros_m = np.ones(len(a)), np.zeros(len(s)), np.zeros(len(mm))
        no_index_s, no_index_m = np.zeros(len(s), np.intp), np.zeros(len(mm), np.intp)
        half = np.where(s.rows == s.cols, 0.5, 1.0)
        return EntryFactors(
            Z=Z,
            ia=np.concatenate([a.rows, s.rows, no_index_m]).astype(np.intp),
            ib=np.concatenate([n + a.cols, s.cols, no_index_m]).astype(np.intp),
            ic=np.concatenate([a.rows, no_index_s, mm.rows]).astype(np.intp),
            sa=np.concatenate([ones_a, np.ones(len(s)), zeros_m]),
            sb=np.concatenate([ones_a, half, zeros_m]),
            sc=np.concatenate([self.total_mean[a.cols], zeros_s, np.ones(len(mm))]),
            theta=np.concatenate([a.theta, s.theta, mm.theta]).astype(np.intp),
        )

    def dsigma_dtheta(self, n_theta: int) -> tuple[np.ndarray, np.ndarray]:
        """Δ: dΣ/dθ (n_theta, p, p) and dμ/dθ (n_theta, p)."""
        Pa, Pb, Pc, theta = self.entry_vectors()
        p = self.layout.n_observed
        outer = np.einsum("ei,ej->eij", Pa, Pb)
        outer = outer + outer.transpose(0, 2, 1)
        d_sigma = np.zeros((n_theta, p, p))
        d_mu = np.zeros((n_theta, p))
        np.add.at(d_sigma, theta, outer)
        np.add.at(d_mu, theta, Pc)
        return d_sigma, d_mu


@dataclass(frozen=True)
class EntryFactors:
    """The free entries' derivatives, factored: dΣ/de = a_e b_eᵀ + b_e a_eᵀ and dμ/de = c_e with
    a_e = sa_e Z[:, ia_e], b_e = sb_e Z[:, ib_e], c_e = sc_e Z[:, ic_e], where Z = [FB, M_·o] holds
    the columns of (I − A)⁻¹ for the observed rows and the implied covariances of every
    variable with the observed ones (p × 2n). Every product a_eᵀ W b_f of two entries is then
    an entry of the 2n × 2n matrix ZᵀWZ: an information matrix of the entries costs O(n²p) for
    that product and one gather per term, not O(entries² · p) (a 300-variable CFA has 2370
    entries and 360 variables). Entries are ordered A, then S, then m; ``theta`` is the θ index
    of each."""

    Z: np.ndarray
    ia: np.ndarray
    ib: np.ndarray
    ic: np.ndarray
    sa: np.ndarray
    sb: np.ndarray
    sc: np.ndarray
    theta: np.ndarray

    @property
    def size(self) -> int:
        return len(self.theta)

    @cached_property
    def mean_entries(self) -> np.ndarray:
        """The entries with a mean part (c_e ≠ 0)."""
        return np.flatnonzero(self.sc)

    @cached_property
    def covariance_entries(self) -> np.ndarray:
        """The entries with a covariance part (a_e b_eᵀ ≠ 0)."""
        return np.flatnonzero(self.sa * self.sb)

    def reordered(self, order: np.ndarray) -> EntryFactors:
        """The same entries in another order."""
        return EntryFactors(self.Z, self.ia[order], self.ib[order], self.ic[order],
                            self.sa[order], self.sb[order], self.sc[order],
                            self.theta[order])  # fmt: skip

    def restricted(self, observed: np.ndarray | None) -> EntryFactors:
        """The same entries with only the ``observed`` rows of Σ and μ (None: all)."""
        if observed is None:
            return self
        return replace(self, Z=self.Z[observed])

    def gram(self, W: np.ndarray) -> np.ndarray:
        """ZᵀWZ (W symmetric; made exactly symmetric)."""
        K = self.Z.T @ (W @ self.Z)
        K += K.T
        K *= 0.5
        return K

    def dense(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """a_e, b_e, c_e as rows of three (entries × p) matrices."""
        Pa = self.Z[:, self.ia].T * self.sa[:, None]
        Pb = self.Z[:, self.ib].T * self.sb[:, None]
        Pc = self.Z[:, self.ic].T * self.sc[:, None]
        return Pa, Pb, Pc


def gather(K: np.ndarray, rows: np.ndarray, cols: np.ndarray, out=None, work=None) -> np.ndarray:
    """K[rows][:, cols] (two takes: faster than ``np.ix_`` indexing), into ``out`` if given
    (``work``: a buffer of shape (len(K), len(cols)) for the first take). The indices are
    valid, so the takes need no bounds mode that buffers the output."""
    if out is None:
        return K.take(cols, axis=1).take(rows, axis=0)
    columns = K.take(cols, axis=1, out=work, mode="wrap")
    return columns.take(rows, axis=0, out=out, mode="wrap")


class Buffers:
    """A few scratch arrays of one shape for :func:`gather`, allocated once per call (fresh
    arrays of tens of megabytes cost page faults each time)."""

    def __init__(self, K: np.ndarray, size: int, count: int):
        self.work = np.empty((len(K), size))
        self.arrays = [np.empty((size, size)) for _ in range(count)]


def scaled_block(K: np.ndarray, rows: np.ndarray, cols: np.ndarray, r: np.ndarray, c: np.ndarray):
    """K[rows, cols] scaled by r (rows) and c (columns)."""
    out = gather(K, rows, cols)
    out *= r[:, None]
    out *= c[None, :]
    return out


def symmetric_block(K: np.ndarray, index: np.ndarray, s: np.ndarray, weight: float):
    """weight · sₑ s_f K[indexₑ, index_f], exactly symmetric (K symmetric)."""
    out = gather(K, index, index)
    out *= np.outer(s, s)
    out *= weight
    return out


def add_block(out: np.ndarray, rows: np.ndarray, cols: np.ndarray, block: np.ndarray) -> None:
    """out[rows, cols] += block, where rows and cols may be all of out's (then in place)."""
    if len(rows) == out.shape[0] and len(cols) == out.shape[1]:
        out += block
    else:
        out[np.ix_(rows, cols)] += block


def zeros_unless_all(factors: EntryFactors, q: np.ndarray, with_mean: bool):
    """A zero entries × entries matrix, or None when the covariance terms of every entry are
    all there is (their block is then the result, without a zeroed matrix to add it to)."""
    if q.size and q.size == factors.size and not (with_mean and factors.mean_entries.size):
        return None
    return np.zeros((factors.size, factors.size))


def factored_information(
    factors: EntryFactors,
    W: np.ndarray,
    with_mean: bool,
    weight: float = 1.0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`entry_information` from the factored entries (the same matrix) times ``weight``,
    added to ``out`` if given: ½tr(WΣₑWΣ_f) = (aₑᵀWa_f)(bₑᵀWb_f) + (aₑᵀWb_f)(bₑᵀWa_f), each
    product an entry of the symmetric ZᵀWZ (so the second factor is a gather, not a
    transpose)."""
    K = factors.gram(W)
    q = factors.covariance_entries
    if out is None:
        out = zeros_unless_all(factors, q, with_mean)
    if q.size:
        ia, ib, s = factors.ia[q], factors.ib[q], factors.sa[q] * factors.sb[q]
        scratch = Buffers(K, q.size, 3)
        block, other, cross = scratch.arrays
        work = scratch.work
        gather(K, ia, ia, block, work)
        block *= gather(K, ib, ib, other, work)
        gather(K, ia, ib, cross, work)
        cross *= gather(K, ib, ia, other, work)
        block += cross
        np.outer(s, s, out=other)  # (an exactly symmetric scaling)
        block *= other
        if weight != 1.0:
            block *= weight
        if out is None:
            out = block  # the covariance terms are all there is
        else:
            add_block(out, q, q, block)
    if with_mean and factors.mean_entries.size:
        k, sc = factors.mean_entries, factors.sc[factors.mean_entries]
        add_block(out, k, k, symmetric_block(K, factors.ic[k], sc, weight))
    return out


def entry_information(
    Pa: np.ndarray, Pb: np.ndarray, Pc: np.ndarray, W: np.ndarray, with_mean: bool
) -> np.ndarray:
    """Per-observation Fisher information of the free entries: ½tr(WΣₑWΣ_f) + μₑᵀWμ_f."""
    AW, BW = Pa @ W, Pb @ W
    AA, BB, AB = AW @ Pa.T, BW @ Pb.T, AW @ Pb.T
    info = AA * BB + AB * AB.T
    if with_mean:
        info += Pc @ W @ Pc.T
    return info


def collapse_into(out: np.ndarray, entries: np.ndarray, theta: np.ndarray) -> None:
    """Add an entry-by-entry matrix to the θ-by-θ matrix ``out`` (entries sharing a θ add up):
    index scatter, no product with a 0/1 matrix; entries already in θ order (each θ once) are
    added as they are."""
    if not len(theta):
        return
    if len(theta) == len(out) and np.array_equal(theta, np.arange(len(out))):
        out += entries
        return
    order = np.argsort(theta, kind="stable")
    ordered = theta[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    if len(starts) == len(theta):  # each θ once: a scatter
        out[np.ix_(theta, theta)] += entries
        return
    if not np.array_equal(order, np.arange(len(order))):
        entries = entries[np.ix_(order, order)]
    summed = np.add.reduceat(entries, starts, axis=0)
    summed = np.add.reduceat(summed, starts, axis=1)
    index = ordered[starts]
    out[np.ix_(index, index)] += summed


def collapse(info_entries: np.ndarray, theta: np.ndarray, n_theta: int) -> np.ndarray:
    """Sum an entry-by-entry matrix into θ-by-θ (entries sharing a θ add up)."""
    out = np.zeros((n_theta, n_theta))
    collapse_into(out, info_entries, theta)
    return out


def expected_information(moments: ImpliedMoments, n_theta: int, with_mean: bool) -> np.ndarray:
    """Per-observation expected information in θ of a normal model with complete data:
    ½tr(Σ⁻¹Σ_kΣ⁻¹Σ_l) + μ_kᵀΣ⁻¹μ_l, from the free entries (no n_theta × p × p Δ array)."""
    factors = moments.entry_factors
    W = np.linalg.inv(moments.sigma)
    return collapse(factored_information(factors, W, with_mean), factors.theta, n_theta)
