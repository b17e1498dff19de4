"""Compiled model + per-group discrepancies -> the function the optimizer minimizes.

Input: a :class:`~semlang.compile.CompiledModel`, one discrepancy per group (complete-data ML, or
FIML) and the exo values. Output: :class:`Objective` with F(φ), its analytic gradient (the
discrepancy's dF/dΣ, dF/dμ taken through the RAM chain rule and dθ/dφ) and the expected
information — never a symbolic inverse, never a ``.subs``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semlang.compile.model import CompiledModel
from semlang.compile.ram import ExoValues, collapse, entry_information
from semlang.estimate.ml import NotPositiveDefinite


@dataclass(frozen=True)
class Objective:
    model: CompiledModel
    discrepancies: tuple  # one per block, each with evaluate() and weight
    exo: tuple[ExoValues, ...]
    meanstructure: bool

    def theta(self, phi: np.ndarray) -> np.ndarray:
        return self.model.space.theta(phi)

    def value(self, phi: np.ndarray) -> float:
        try:
            implied = self.model.implied(self.theta(phi), self.exo)
            total = 0.0
            for moments, discrepancy in zip(implied, self.discrepancies, strict=True):
                total += discrepancy.evaluate(moments.sigma, moments.mu, gradient=False)[0]
        except (NotPositiveDefinite, np.linalg.LinAlgError):
            return np.inf
        return total if np.isfinite(total) else np.inf

    def value_and_gradient(self, phi: np.ndarray) -> tuple[float, np.ndarray]:
        theta = self.theta(phi)
        n_theta = self.model.n_theta
        try:
            implied = self.model.implied(theta, self.exo)
            total, grad_theta = 0.0, np.zeros(n_theta)
            for moments, discrepancy in zip(implied, self.discrepancies, strict=True):
                f, G, g = discrepancy.evaluate(moments.sigma, moments.mu, gradient=True)
                total += f
                grad_theta += moments.gradient(G, g, n_theta)
        except (NotPositiveDefinite, np.linalg.LinAlgError):
            return np.inf, np.zeros(len(phi))
        if not np.isfinite(total):
            return np.inf, np.zeros(len(phi))
        return total, self.model.space.jacobian(phi).T @ grad_theta

    def information(self, phi: np.ndarray) -> np.ndarray:
        """Expected information per observation in φ (E[∇²F]/2), groups weighted by n_g/N."""
        theta = self.theta(phi)
        n_theta = self.model.n_theta
        info = np.zeros((n_theta, n_theta))
        implied = self.model.implied(theta, self.exo)
        for moments, discrepancy in zip(implied, self.discrepancies, strict=True):
            Pa, Pb, Pc, index = moments.entry_vectors()
            W = discrepancy.information_weight(moments.sigma)
            entries = entry_information(Pa, Pb, Pc, W, self.meanstructure)
            info += discrepancy.weight * collapse(entries, index, n_theta)
        J = self.model.space.jacobian(phi)
        return J.T @ info @ J

    def hessian_numeric(self, phi: np.ndarray, step: float = 1e-5) -> np.ndarray:
        """∇²F by central differences of the analytic gradient (lavaan's 'observed')."""
        n = len(phi)
        out = np.zeros((n, n))
        for k in range(n):
            h = step * max(1.0, abs(phi[k]))
            up, down = phi.copy(), phi.copy()
            up[k] += h
            down[k] -= h
            out[:, k] = (self.value_and_gradient(up)[1] - self.value_and_gradient(down)[1]) / (
                2 * h
            )
        return (out + out.T) / 2
