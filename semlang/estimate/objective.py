"""Compiled model + per-group discrepancies -> the function the optimizer minimizes.

Input: a :class:`~semlang.compile.CompiledModel`, one discrepancy per group (complete-data ML, or
FIML) and the exo values. Output: :class:`Objective` with F(φ), its analytic gradient (the
discrepancy's dF/dΣ, dF/dμ taken through the RAM chain rule and dθ/dφ), the expected information
and the observed information (the analytic Hessian of F) — never a symbolic inverse, never a
``.subs``.

Both information matrices are per observation (half the expected or observed Hessian of F, which
is −2/N times the log-likelihood) and are formed in θ, then mapped to φ as Jᵀ I J with
J = dθ/dφ. For a nonlinear ``==`` constraint this leaves out the constraint's curvature, exactly
as lavaan does when it projects the information on the constraints' null space.

The observed information uses F = Σ_k w_k [log|Σ_k| + tr(Σ_k⁻¹ M_k)] + const over the pieces k
of the data (one per group with complete data; one per missing-data pattern under FIML, with
Σ_k, μ_k the rows and columns of the variables that pattern observes), M_k = S_k + d_k d_kᵀ and
d_k = ȳ_k − μ_k. Its Hessian in the free RAM entries e, f is

    tr(G Σ_ef) + gᵀ μ_ef − tr(WΣ_eWΣ_f) + 2 tr(WMW Σ_e W Σ_f) + 2 μ_eᵀWμ_f
    + 2 dᵀWΣ_eWμ_f + 2 dᵀWΣ_fWμ_e,

with G = dF/dΣ, g = dF/dμ. The second-order terms tr(G Σ_ef) + gᵀμ_ef are the Hessian of the
linear functional θ ↦ tr(G Σ(θ)) + gᵀμ(θ), written with B = (I − A)⁻¹ and ∂B/∂A_cd = B e_c e_dᵀ B.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from semlang.compile.ram import ExoValues, ImpliedMoments, collapse_into, gather
from semlang.matrices import NotPositiveDefinite
from semlang.records import dataclass


class _Space(Protocol):
    def theta(self, phi: np.ndarray) -> np.ndarray: ...

    def jacobian(self, phi: np.ndarray) -> np.ndarray: ...


class ImpliedModel(Protocol):
    """What the objective needs of a model: θ(φ) and dθ/dφ (``space``), the number of θ and the
    implied moments at θ. A :class:`~semlang.compile.CompiledModel`, or a view of one."""

    @property
    def space(self) -> _Space: ...

    @property
    def n_theta(self) -> int: ...

    def implied(
        self, theta: np.ndarray, exo: tuple[ExoValues, ...] | None = None
    ) -> tuple[ImpliedMoments, ...]: ...


@dataclass(frozen=True)
class Objective:
    model: ImpliedModel
    discrepancies: tuple  # one per block, each with evaluate() and weight
    exo: tuple[ExoValues, ...]
    meanstructure: bool

    def theta(self, phi: np.ndarray) -> np.ndarray:
        return self.model.space.theta(phi)

    @property
    def costly_hessian(self) -> bool:
        """Whether a Hessian costs many evaluations of F (FIML's passes over the missing-data
        patterns), so that the optimizer reuses one while Newton's steps shrink fast."""
        return any(getattr(d, "costly_hessian", False) for d in self.discrepancies)

    def _moments(self, theta: np.ndarray) -> tuple:
        """The implied moments at θ, and each block's (f, dF/dΣ, dF/dμ) once asked for: kept
        for the last θ, where the optimizer asks for the Hessian or the information right
        after the gradient (raises NotPositiveDefinite where Σ is not PD)."""
        key = theta.tobytes()
        memo = self.__dict__.get("_memo")  # not a field: a frozen dataclass's cache
        if memo is None or memo[0] != key:
            memo = (key, self.model.implied(theta, self.exo), [None] * len(self.discrepancies))
            self.__dict__["_memo"] = memo
        return memo[1], memo[2]

    def implied_at(self, theta: np.ndarray) -> tuple:
        """The implied moments at θ: the last evaluation's when θ is its point."""
        return self._moments(theta)[0]

    def _evaluated(self, theta: np.ndarray) -> tuple:
        """(implied moments, per block (f, G, g)) at θ."""
        implied, evaluated = self._moments(theta)
        for k, (moments, discrepancy) in enumerate(zip(implied, self.discrepancies, strict=True)):
            if evaluated[k] is None:
                evaluated[k] = discrepancy.evaluate(moments.sigma, moments.mu, gradient=True)
        return implied, evaluated

    def value(self, phi: np.ndarray) -> float:
        try:
            implied = self.model.implied(self.theta(phi), self.exo)
            total = 0.0
            for moments, discrepancy in zip(implied, self.discrepancies, strict=True):
                total += discrepancy.evaluate(moments.sigma, moments.mu, gradient=False)[0]
        except (NotPositiveDefinite, np.linalg.LinAlgError):
            return np.inf
        return total if np.isfinite(total) else np.inf

    def value_and_gradient_theta(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """F and dF/dθ at θ (no constraints applied); (inf, 0) where Σ is not PD."""
        n_theta = self.model.n_theta
        try:
            implied, evaluated = self._evaluated(theta)
            total, grad_theta = 0.0, np.zeros(n_theta)
            for moments, (f, G, g) in zip(implied, evaluated, strict=True):
                total += f
                grad_theta += moments.gradient(G, g, n_theta)
        except (NotPositiveDefinite, np.linalg.LinAlgError):
            return np.inf, np.zeros(n_theta)
        if not np.isfinite(total) or not np.all(np.isfinite(grad_theta)):
            return np.inf, np.zeros(n_theta)
        return total, grad_theta

    def value_and_gradient(self, phi: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad_theta = self.value_and_gradient_theta(self.theta(phi))
        if not np.isfinite(total):
            return np.inf, np.zeros(len(phi))
        if getattr(self.model.space, "identity", False):
            return total, grad_theta
        return total, self.model.space.jacobian(phi).T @ grad_theta

    def information(self, phi: np.ndarray) -> np.ndarray:
        """Expected information per observation in φ (E[∇²F]/2), groups weighted by n_g/N.

        Under FIML it is the sum over missing-data patterns of each pattern's expected
        information (its observed variables' Σ_o⁻¹), weighted by the pattern's share of the
        rows — lavaan's expected information for incomplete data (h1 "structured").
        """
        theta = self.theta(phi)
        info = _Sum(self.model.n_theta)
        implied = self._moments(theta)[0]
        for moments, discrepancy in zip(implied, self.discrepancies, strict=True):
            if hasattr(discrepancy, "factored_expected_entries"):
                factors = moments.entry_factors
                entries = discrepancy.factored_expected_entries(moments, factors,
                                                                self.meanstructure)  # fmt: skip
                info.add(entries, factors.theta)
                continue
            Pa, Pb, Pc, index = moments.entry_vectors()
            entries = discrepancy.expected_entries(moments, Pa, Pb, Pc, self.meanstructure)
            info.add(entries, index)
        return self.in_phi(phi, info.matrix())

    def in_phi(self, phi: np.ndarray, matrix: np.ndarray) -> np.ndarray:
        """Jᵀ X J for a θ-by-θ matrix X, J = dθ/dφ (X itself when θ = φ)."""
        if getattr(self.model.space, "identity", False):
            return matrix
        J = self.model.space.jacobian(phi)
        return J.T @ matrix @ J

    def hessian_theta(self, theta: np.ndarray) -> np.ndarray:
        """The analytic Hessian ∇²F in θ; raises NotPositiveDefinite where Σ is not PD."""
        out = _Sum(self.model.n_theta)
        implied, evaluated = self._evaluated(theta)
        for moments, discrepancy, (_, G, g) in zip(
            implied, self.discrepancies, evaluated, strict=True
        ):
            second = second_order_entries(moments, G, g)  # symmetric
            if hasattr(discrepancy, "factored_first_order_entries"):
                factors = moments.entry_factors  # by θ: the first-order part is symmetric
                entries = discrepancy.factored_first_order_entries(moments, factors,
                                                                   self.meanstructure)  # fmt: skip
                entries += gather(second, moments.entry_order, moments.entry_order)
                out.add(entries, factors.theta)
                continue
            Pa, Pb, Pc, index = moments.entry_vectors()
            entries = discrepancy.first_order_hessian_entries(
                moments, Pa, Pb, Pc, self.meanstructure
            )
            entries += second
            out.add((entries + entries.T) / 2.0, index)
        return out.matrix()

    def observed_information(self, phi: np.ndarray) -> np.ndarray:
        """Observed information per observation in φ: Jᵀ (∇²_θ F / 2) J, analytic."""
        hessian = self.hessian_theta(self.theta(phi))
        hessian *= 0.5
        return self.in_phi(phi, hessian)

    def hessian_numeric(self, phi: np.ndarray, step: float = 1e-4) -> np.ndarray:
        """∇²F in φ by 4-point Richardson extrapolation of the analytic gradient (for checks)."""
        n = len(phi)
        out = np.zeros((n, n))

        def grad(x):
            return self.value_and_gradient(x)[1]

        for k in range(n):
            h = step * max(1.0, abs(phi[k]))
            unit = np.zeros(n)
            unit[k] = 1.0
            wide = (grad(phi + 2 * h * unit) - grad(phi - 2 * h * unit)) / (4 * h)
            narrow = (grad(phi + h * unit) - grad(phi - h * unit)) / (2 * h)
            out[:, k] = (4.0 * narrow - wide) / 3.0
        return (out + out.T) / 2


class _Sum:
    """A θ-by-θ sum of entry-by-entry matrices (:func:`collapse_into`); the first matrix is
    taken as it is when its entries are θ in order (a large model in one group: no zeroed
    matrix to add it to)."""

    def __init__(self, n_theta: int):
        self.n_theta = n_theta
        self.total: np.ndarray | None = None

    def add(self, entries: np.ndarray, theta: np.ndarray) -> None:
        if self.total is None:
            if len(theta) == self.n_theta and np.array_equal(theta, np.arange(self.n_theta)):
                self.total = entries
                return
            self.total = np.zeros((self.n_theta, self.n_theta))
        collapse_into(self.total, entries, theta)

    def matrix(self) -> np.ndarray:
        if self.total is None:
            return np.zeros((self.n_theta, self.n_theta))
        return self.total


def second_order_entries(moments: ImpliedMoments, G: np.ndarray, g: np.ndarray | None):
    """Hessian of θ ↦ tr(G Σ(θ)) + gᵀμ(θ) in the free entries (A, then S, then m), symmetric."""
    layout = moments.layout
    p, n = layout.n_observed, layout.n
    P, T, w = moments.B, moments.total_cov, moments.total_mean
    Ht = np.zeros((n, n))
    Ht[:p, :p] = G
    K = P.T @ Ht @ P
    Q = K @ moments.S @ P.T
    v = np.zeros(n)
    if g is not None:
        v[:p] = g
        v = P.T @ v
    rA, cA = layout.A_free.rows, layout.A_free.cols
    rS, cS = layout.S_free.rows, layout.S_free.cols
    nA, nS, nm = len(rA), len(rS), len(layout.m_free.rows)
    out = np.zeros((nA + nS + nm, nA + nS + nm))
    if nA == 0:
        return out
    at = layout.entry_pairs  # X.take(at["x,y"]) is X[np.ix_(x, y)]
    P_cr = P.take(at["cA,rA"])  # its transpose is Pᵀ[rA, cA]
    Q_rc = Q.take(at["rA,cA"])  # its transpose is Qᵀ[cA, rA]
    AA = 2.0 * (P_cr.T * Q_rc.T + K.take(at["rA,rA"]) * T.take(at["cA,cA"]) + Q_rc * P_cr)
    AA += P_cr.T * np.outer(w[cA], v[rA]) + np.outer(v[rA], w[cA]) * P_cr
    AA = (AA + AA.T) / 2.0  # the other blocks mirror each other: the whole matrix symmetric
    factor = np.where(rS == cS, 1.0, 2.0)[None, :]
    AS = factor * (P.take(at["cA,rS"]) * K.take(at["rA,cS"])
                   + P.take(at["cA,cS"]) * K.take(at["rA,rS"]))  # fmt: skip
    Am = P.take(at["cA,rm"]) * v[rA][:, None]
    out[:nA, :nA] = AA
    out[:nA, nA : nA + nS] = AS
    out[nA : nA + nS, :nA] = AS.T
    out[:nA, nA + nS :] = Am
    out[nA + nS :, :nA] = Am.T
    return out
