"""Normal-theory information of the free RAM entries, one term of the likelihood at a time.

Input: the pieces w [log|Σ_o| + tr(Σ_o⁻¹ M)] of a normal discrepancy (one per group with
complete data; one per missing-data pattern under FIML, with Σ_o, μ_o the rows and columns of the
variables it observes) and the entry vectors of :meth:`ImpliedMoments.entry_vectors` (or their
factored form, :class:`~semlang.compile.ram.EntryFactors`, which large models need). Output:
entry-by-entry matrices — the expected information and the part of the Hessian made of first
derivatives of Σ and μ — that the objective collapses to θ.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from semlang.compile.ram import (
    Buffers,
    EntryFactors,
    ImpliedMoments,
    add_block,
    entry_information,
    factored_information,
    gather,
    scaled_block,
    symmetric_block,
    zeros_unless_all,
)
from semlang.matrices import cholesky_inverse
from semlang.records import dataclass


@dataclass(frozen=True)
class Piece:
    """One term w [log|Σ_o| + tr(Σ_o⁻¹ M)] of F: variables ``observed`` (None: all)."""

    weight: float
    observed: np.ndarray | None
    mean: np.ndarray | None  # None: no mean structure
    cov: np.ndarray


def expected_entries(pieces, sigma: np.ndarray, Pa, Pb, Pc, meanstructure: bool) -> np.ndarray:
    """Σ_k w_k · expected information of piece k's observed variables (entry by entry)."""
    out = np.zeros((Pa.shape[0], Pa.shape[0]))
    for piece in pieces:
        if piece.observed is None:
            W = cholesky_inverse(sigma)[0]
            out += piece.weight * entry_information(Pa, Pb, Pc, W, meanstructure)
            continue
        o = piece.observed
        W = cholesky_inverse(sigma[np.ix_(o, o)])[0]
        out += piece.weight * entry_information(Pa[:, o], Pb[:, o], Pc[:, o], W, meanstructure)
    return out


def factored_expected_entries(
    pieces, sigma: np.ndarray, factors: EntryFactors, meanstructure: bool
) -> np.ndarray:
    """:func:`expected_entries` from the factored entries (the same matrix)."""
    out = None if len(pieces) == 1 else np.zeros((factors.size, factors.size))
    for piece in pieces:
        o = piece.observed
        W = cholesky_inverse(sigma if o is None else sigma[np.ix_(o, o)])[0]
        out = factored_information(factors.restricted(o), W, meanstructure, piece.weight, out)
    return out if out is not None else np.zeros((factors.size, factors.size))


def factored_first_order_entries(
    piece: Piece, moments: ImpliedMoments, factors: EntryFactors, out: np.ndarray | None = None
) -> np.ndarray:
    """:func:`first_order_entries` from the factored entries, added to ``out`` if given (and
    returned): every aₑᵀWb_f and aₑᵀ(WMW)b_f is an entry of ZᵀWZ or Zᵀ(WMW)Z."""
    sigma, mu = moments.sigma, moments.mu
    if piece.observed is not None:
        o = piece.observed
        sigma, mu = sigma[np.ix_(o, o)], mu[o]
    factors = factors.restricted(piece.observed)
    W = cholesky_inverse(sigma)[0]
    d = None if piece.mean is None else piece.mean - mu
    M = piece.cov if d is None else piece.cov + np.outer(d, d)
    Kw = factors.gram(W)
    q = factors.covariance_entries
    ia, ib = factors.ia[q], factors.ib[q]
    if out is None:
        out = zeros_unless_all(factors, q, d is not None)
    if q.size:
        # −2(AAw∘BBw + ABw∘BAw) + 2(AAw∘BBv + BBw∘AAv + ABw∘BAv + BAw∘ABv) with XY the gather
        # of K at (x, y) (BA is ABᵀ, K being symmetric): the symmetric bilinear form
        # AAw∘BBu + BBw∘AAu + ABw∘BAu + BAw∘ABu at U = w(2V − W), V = WMW, summed so that the
        # result is exactly symmetric
        Ku = factors.gram(W @ M @ W)
        Ku *= 2.0
        Ku -= Kw
        Ku *= piece.weight
        scratch = Buffers(Kw, q.size, 4)
        block, term, other, cross = scratch.arrays
        work = scratch.work
        gather(Kw, ia, ia, block, work)
        block *= gather(Ku, ib, ib, other, work)
        gather(Kw, ib, ib, term, work)
        term *= gather(Ku, ia, ia, other, work)
        block += term
        gather(Kw, ia, ib, term, work)
        term *= gather(Ku, ib, ia, other, work)
        gather(Kw, ib, ia, cross, work)
        cross *= gather(Ku, ia, ib, other, work)
        term += cross
        block += term
        s = factors.sa[q] * factors.sb[q]
        np.outer(s, s, out=term)  # (an exactly symmetric scaling)
        block *= term
        if out is None:
            out = block  # the covariance terms are all there is
        else:
            add_block(out, q, q, block)
        del block, term, other, cross, scratch
    if d is None or not factors.mean_entries.size:
        return out
    k, sc = factors.mean_entries, factors.sc[factors.mean_entries]
    twice = 2.0 * piece.weight
    add_block(out, k, k, symmetric_block(Kw, factors.ic[k], sc, twice))
    if not q.size:
        return out
    zz = factors.Z.T @ (W @ d)
    sa, sb = factors.sa[q], factors.sb[q]
    u, v = sa * zz[ia] * sb, sb * zz[ib] * sa  # (aₑᵀz) sb_e and (bₑᵀz) sa_e
    cross = scaled_block(Kw, ib, factors.ic[k], twice * u, sc)
    cross += scaled_block(Kw, ia, factors.ic[k], twice * v, sc)
    add_block(out, q, k, cross)
    add_block(out, k, q, cross.T)
    return out


def first_order_entries(piece: Piece, moments: ImpliedMoments, Pa, Pb, Pc) -> np.ndarray:
    """The Hessian terms of one piece made of first derivatives of Σ and μ (entry by entry)."""
    sigma, mu = moments.sigma, moments.mu
    if piece.observed is not None:
        o = piece.observed
        sigma, mu = sigma[np.ix_(o, o)], mu[o]
        Pa, Pb, Pc = Pa[:, o], Pb[:, o], Pc[:, o]
    W = cholesky_inverse(sigma)[0]
    d = None if piece.mean is None else piece.mean - mu
    M = piece.cov if d is None else piece.cov + np.outer(d, d)
    V = W @ M @ W
    AW, BW, AV, BV = Pa @ W, Pb @ W, Pa @ V, Pb @ V
    AAw, BBw, ABw = AW @ Pa.T, BW @ Pb.T, AW @ Pb.T
    AAv, BBv, ABv = AV @ Pa.T, BV @ Pb.T, AV @ Pb.T
    out = -2.0 * (AAw * BBw + ABw * ABw.T)
    out += 2.0 * (ABw.T * ABv + BBw * AAv + AAw * BBv + ABw * ABv.T)
    if d is not None:
        CW = Pc @ W
        out += 2.0 * (CW @ Pc.T)
        z = W @ d
        cross = (Pa @ z)[:, None] * (BW @ Pc.T) + (Pb @ z)[:, None] * (AW @ Pc.T)
        out += 2.0 * (cross + cross.T)
    return piece.weight * out


class NormalPieces:
    """What a normal discrepancy made of pieces (:meth:`pieces`) gives the objective."""

    def pieces(self, meanstructure: bool) -> tuple[Piece, ...]:
        raise NotImplementedError

    def moment_information(self, sigma: np.ndarray) -> np.ndarray:
        """Unit expected information of (μ, vech Σ) at Σ."""
        raise NotImplementedError

    def moment_weight(self, sigma: np.ndarray, keep: np.ndarray, meanstructure: bool) -> Any:
        """The weight of the moment vector ((μ,) vech Σ) at Σ (lavaan's ``WLS.V`` of ML), its
        moments outside ``keep`` left out: the matrix, or a callable quadratic form that need
        not build it (complete data)."""
        weight = self.moment_information(sigma)
        if not meanstructure:
            p = len(sigma)
            weight = weight[p:, p:]
        return weight * np.outer(keep, keep)

    def expected_entries(self, moments: ImpliedMoments, Pa, Pb, Pc, meanstructure: bool):
        """Per-observation expected information of the free entries (weighted)."""
        return expected_entries(self.pieces(meanstructure), moments.sigma, Pa, Pb, Pc,
                                meanstructure)  # fmt: skip

    def factored_expected_entries(self, moments: ImpliedMoments, factors, meanstructure: bool):
        """:meth:`expected_entries` from the factored entries (:class:`EntryFactors`)."""
        return factored_expected_entries(self.pieces(meanstructure), moments.sigma, factors,
                                         meanstructure)  # fmt: skip

    def factored_first_order_entries(self, moments: ImpliedMoments, factors, meanstructure):
        """:meth:`first_order_hessian_entries` from the factored entries."""
        pieces = self.pieces(meanstructure)
        out = None if len(pieces) == 1 else np.zeros((factors.size, factors.size))
        for piece in pieces:
            out = factored_first_order_entries(piece, moments, factors, out)
        if out is None:
            return np.zeros((factors.size, factors.size))
        if meanstructure and factors.mean_entries.size:  # the mean terms, added unsymmetrically
            out += out.T
            out *= 0.5
        return out

    def first_order_hessian_entries(self, moments: ImpliedMoments, Pa, Pb, Pc, meanstructure):
        """The Hessian of F in the free entries, less its second-derivative terms."""
        out = np.zeros((Pa.shape[0], Pa.shape[0]))
        for piece in self.pieces(meanstructure):
            out += first_order_entries(piece, moments, Pa, Pb, Pc)
        return out
