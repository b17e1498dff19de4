"""RAM algebra with numbers: θ -> Σ(θ), μ(θ), and the chain rule back to θ.

Input: a :class:`~semlang.compile.layout.RamLayout`, θ and the block's exo values. Output:
:class:`ImpliedMoments` — A, S, m, B = (I−A)⁻¹, Σ = F B S Bᵀ Fᵀ, μ = F B m and the implied moments
of all variables — with methods that take a discrepancy's derivatives with respect to Σ and μ
to the gradient with respect to θ, and build the (expected) information of the free entries.
Never inverts (I − A) symbolically; all matrices are small and dense.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from semlang.compile.layout import RamLayout


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
        FB, M = self.FB, self.total_cov
        p = self.layout.n_observed
        a, s, mm = self.layout.A_free, self.layout.S_free, self.layout.m_free
        cols_a = FB[:, a.rows].T
        cols_b = M[a.cols, :p]
        c_a = FB[:, a.rows].T * self.total_mean[a.cols][:, None]
        half = np.where(s.rows == s.cols, 0.5, 1.0)[:, None]
        s_a = FB[:, s.rows].T
        s_b = FB[:, s.cols].T * half
        m_c = FB[:, mm.rows].T
        zeros_s = np.zeros((len(s), p))
        zeros_m = np.zeros((len(mm), p))
        Pa = np.vstack([cols_a, s_a, zeros_m])
        Pb = np.vstack([cols_b, s_b, zeros_m])
        Pc = np.vstack([c_a, zeros_s, m_c])
        theta = np.concatenate([a.theta, s.theta, mm.theta])
        return Pa, Pb, Pc, theta

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


def collapse(info_entries: np.ndarray, theta: np.ndarray, n_theta: int) -> np.ndarray:
    """Sum an entry-by-entry matrix into θ-by-θ (entries sharing a θ add up)."""
    J = np.zeros((len(theta), n_theta))
    J[np.arange(len(theta)), theta] = 1.0
    return J.T @ info_entries @ J


def expected_information(moments: ImpliedMoments, n_theta: int, with_mean: bool) -> np.ndarray:
    """Per-observation expected information in θ of a normal model with complete data:
    ½tr(Σ⁻¹Σ_kΣ⁻¹Σ_l) + μ_kᵀΣ⁻¹μ_l, from the free entries (no n_theta × p × p Δ array)."""
    Pa, Pb, Pc, index = moments.entry_vectors()
    W = np.linalg.inv(moments.sigma)
    return collapse(entry_information(Pa, Pb, Pc, W, with_mean), index, n_theta)
