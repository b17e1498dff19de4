"""The adjusted means as the published study computed them (simulations only).

The published score and bias tables of ``CV Adj`` (M. Clark 2020, "Micro-macro models") were not
made with Croon & van Veldhoven's formula as their article states it (that one is
:func:`~semlang.micromacro.cv_adjusted_means`). The R code published with the study differs from
it in four places:

1. the group score entering the formula is the *true* latent score xi_g of the simulation, not
   the group's observed mean of x;
2. the ANOVA mean squares have their degrees of freedom exchanged:
   ``MSA = N sum_g (s_g - s_bar)^2 / (N - G)`` and ``MSE = SSW / (G - 1)``;
3. the error variance of a group mean is ``MSE / N`` (all members) instead of ``MSE / n_g``;
4. the part of xi's variance explained by Z, ``K = c' S^-1 c``, is subtracted where the formula
   adds it: ``W1 = (Sxixi + MSE / N - K)^-1 (Sxixi - K)``, ``W2 = S^-1 c (I - W1)`` and the
   score is ``s_bar (I - W1) + s_g W1 + (Z_g - Z_bar) W2``,

with ``Sxixi = N (G - 1) / (N^2 - sum n_g^2) (MSA - MSE)``, ``c = Cov(s, Z)`` and ``S = Var(Z)``
over groups. With the study's design ``Sxixi - K`` is small and often near zero, so the weight
``W1`` is close to 1 for most data sets and very large for a few: the published scores follow the
true score closely (quartiles +-.65) but range from -23 to 26. Its regression coefficients have
no finite expectation (the weight's denominator crosses zero), so their mean over 1000 data sets
varies much more from study to study than the usual Monte Carlo standard error says.

This reproduces the published column; use ``CV Adj`` for data.
"""

from __future__ import annotations

import numpy as np

from semlang.errors import OptionError
from semlang.micromacro.model import MicroMacroData

__all__ = ["cv_adjusted_as_published"]


def cv_adjusted_as_published(data: MicroMacroData, true_xi: np.ndarray | None) -> np.ndarray:
    """(G, p) scores computed as the published study's code did (see the module docstring)."""
    if true_xi is None:
        raise OptionError(
            "'CV Adj (published code)' needs the true group scores (simulations only)",
            hint="use 'CV Adj' for Croon & van Veldhoven's adjusted means of observed data",
        )
    G, p = data.n_groups, data.p
    score = data.true_scores(true_xi)
    n = data.sizes.astype(float)
    total = float(n.sum())
    centred = score - score.mean(axis=0)
    msa = total * centred.T @ centred / (total - G)
    mse = data.within_sscp / (G - 1)
    sigma_xi = total * (G - 1) / (total**2 - float(n @ n)) * (msa - mse)
    z = data.z.reshape(G, -1)
    b = np.zeros((z.shape[1], p))  # Var(Z)^-1 Cov(Z, s)
    if z.shape[1]:
        joint = np.atleast_2d(np.cov(np.column_stack([score, z]), rowvar=False, ddof=1))
        b = np.linalg.solve(joint[p:, p:], joint[p:, :p])
    explained = centred.T @ (z - z.mean(axis=0)) / (G - 1) @ b  # Cov(s, Z) Var(Z)^-1 Cov(Z, s)
    w1 = np.linalg.solve(sigma_xi + mse / total - explained, sigma_xi - explained)
    w2 = b @ (np.eye(p) - w1)
    return score.mean(axis=0) @ (np.eye(p) - w1) + score @ w1 + (z - z.mean(axis=0)) @ w2
