"""Normal-theory information of the free RAM entries, one term of the likelihood at a time.

Input: the pieces w [log|Σ_o| + tr(Σ_o⁻¹ M)] of a normal discrepancy (one per group with
complete data; one per missing-data pattern under FIML, with Σ_o, μ_o the rows and columns of the
variables it observes) and the entry vectors of :meth:`ImpliedMoments.entry_vectors`. Output:
entry-by-entry matrices — the expected information and the part of the Hessian made of first
derivatives of Σ and μ — that the objective collapses to θ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from semlang.compile.ram import ImpliedMoments, entry_information
from semlang.matrices import cholesky_inverse


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

    def first_order_hessian_entries(self, moments: ImpliedMoments, Pa, Pb, Pc, meanstructure):
        """The Hessian of F in the free entries, less its second-derivative terms."""
        out = np.zeros((Pa.shape[0], Pa.shape[0]))
        for piece in self.pieces(meanstructure):
            out += first_order_entries(piece, moments, Pa, Pb, Pc)
        return out
