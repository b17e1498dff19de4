"""Simulated micro-macro data in the design of Croon & van Veldhoven (2007).

Input: the design (number of groups, group sizes, variance components, the correlation of the
group-level covariate Z with the latent group score xi, the outcome's coefficients) and a seed or a
numpy Generator. Output: a frozen :class:`MicroMacroSample` with the data in long and wide form, the
true group scores and the design.

Data-generating model, per group g = 1..G and member i = 1..n_g::

    (xi_g, Z_g) ~ N(0, [[sigma2_xi, r sqrt(sigma2_xi)], [r sqrt(sigma2_xi), 1]])
    y_g  = b0 + b_xi xi_g + b_z Z_g + e_g,      e_g ~ N(0, sigma2_e)
    x_ig = xi_g + nu_ig,                         nu_ig ~ N(0, sigma2_nu)

The defaults are the design of the published study (table 1, row 16 of the article): 100 groups of
10, sigma2_xi = 1, sigma2_nu = 9 (intraclass correlation .1), r = .3, all coefficients .3 and
sigma2_e = .35.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from semlang.errors import OptionError
from semlang.micromacro.model import MicroMacroData

__all__ = ["MicroMacroSample", "generate_micro_macro"]

SizeSpec = int | Sequence[int] | Callable[[np.random.Generator], Sequence[int]]


@dataclass(frozen=True, eq=False)
class MicroMacroSample:
    """One simulated data set: the group-level arrays, the members' x and the design."""

    sizes: np.ndarray
    xi: np.ndarray
    z: np.ndarray
    y: np.ndarray
    x: np.ndarray
    sigma2_xi: float
    sigma2_nu: float
    cor_z_xi: float
    coefficients: tuple[float, float, float]
    sigma2_e: float

    @property
    def n_groups(self) -> int:
        return int(self.sizes.shape[0])

    @property
    def icc(self) -> float:
        """Intraclass correlation of x: sigma2_xi / (sigma2_xi + sigma2_nu)."""
        return self.sigma2_xi / (self.sigma2_xi + self.sigma2_nu)

    @cached_property
    def data(self) -> MicroMacroData:
        """The sample as the micro-macro methods take it (columns ``group, x, Z, y``)."""
        return MicroMacroData.from_arrays(self.sizes, self.x, self.z, self.y)

    @property
    def group_index(self) -> np.ndarray:
        """0-based group of each member (length N)."""
        return self.data.group_index

    @property
    def member_index(self) -> np.ndarray:
        """0-based position of each member inside its group (length N)."""
        return self.data.member_index

    @cached_property
    def long(self) -> pd.DataFrame:
        """One row per member: ``group, member, x, Z, y`` (groups and members numbered from 1)."""
        out = self.data.long.copy()
        out.insert(1, "member", self.member_index + 1)
        return out

    @property
    def wide(self) -> pd.DataFrame:
        """Per group: ``group, Z, y, x1..xk`` (k the largest size, NaN past a group's size)."""
        return self.data.wide

    @property
    def group_means(self) -> np.ndarray:
        """Observed mean of x per group."""
        return self.data.xbar[:, 0]


def _rng(seed: int | None, rng: np.random.Generator | None) -> np.random.Generator:
    if seed is not None and rng is not None:
        raise OptionError("give a seed or a Generator (rng), not both")
    if rng is None:
        try:
            return np.random.default_rng(seed)
        except (TypeError, ValueError):
            raise OptionError(f"seed must be a non-negative whole number, not {seed!r}") from None
    if not isinstance(rng, np.random.Generator):
        raise OptionError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def _sizes(group_size: SizeSpec, n_groups: int, rng: np.random.Generator) -> np.ndarray:
    """Group sizes from an int, a sequence of n_groups sizes, or a callable rng -> sizes."""
    spec = group_size(rng) if callable(group_size) else group_size
    sizes = np.asarray(spec)
    if sizes.ndim == 0:
        sizes = np.full(n_groups, sizes)
    if sizes.shape != (n_groups,):
        raise OptionError(f"{sizes.size} group sizes for {n_groups} groups")
    if not np.all(np.equal(np.mod(sizes, 1), 0)) or np.any(sizes < 1):
        raise OptionError("group sizes must be whole numbers of at least 1")
    return sizes.astype(np.int64)


def _within_variance(sigma2_nu: float, sigma2_xi: float, icc: float | None) -> float:
    """sigma2_nu, or the value that gives the intraclass correlation ``icc``."""
    if icc is None:
        return float(sigma2_nu)
    if sigma2_nu != 9.0:
        raise OptionError("give sigma2_nu or icc, not both")
    if not 0.0 < icc < 1.0:
        raise OptionError(f"icc must lie strictly between 0 and 1, got {icc}")
    return float(sigma2_xi) * (1.0 - icc) / icc


def generate_micro_macro(
    n_groups: int = 100,
    group_size: SizeSpec = 10,
    sigma2_nu: float = 9.0,
    sigma2_xi: float = 1.0,
    cor_z_xi: float = 0.3,
    coefficients: Sequence[float] = (0.3, 0.3, 0.3),
    sigma2_e: float = 0.35,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    *,
    icc: float | None = None,
) -> MicroMacroSample:
    """Simulate one micro-macro data set (see the module docstring for the model).

    ``group_size``: an int, a sequence of ``n_groups`` sizes, or a callable taking the Generator and
    returning ``n_groups`` sizes. ``coefficients``: (intercept, effect of xi, effect of Z).
    ``icc``: the intraclass correlation of x, instead of ``sigma2_nu``. The same ``seed`` gives the
    same data.
    """
    if int(n_groups) < 1:
        raise OptionError(f"n_groups must be at least 1, got {n_groups}")
    if sigma2_xi <= 0 or sigma2_e < 0 or not -1.0 <= cor_z_xi <= 1.0:
        raise OptionError("need sigma2_xi > 0, sigma2_e >= 0 and -1 <= cor_z_xi <= 1")
    coefs = tuple(float(c) for c in coefficients)
    if len(coefs) != 3:
        raise OptionError("coefficients are (intercept, xi, Z): three numbers")
    sigma2_nu = _within_variance(sigma2_nu, sigma2_xi, icc)
    if sigma2_nu < 0:
        raise OptionError(f"sigma2_nu must not be negative, got {sigma2_nu}")
    gen = _rng(seed, rng)
    sizes = _sizes(group_size, int(n_groups), gen)
    cov = cor_z_xi * np.sqrt(sigma2_xi)
    xi_z = gen.multivariate_normal([0.0, 0.0], [[sigma2_xi, cov], [cov, 1.0]], size=sizes.shape[0])
    xi, z = xi_z[:, 0], xi_z[:, 1]
    y = coefs[0] + coefs[1] * xi + coefs[2] * z + gen.normal(0.0, np.sqrt(sigma2_e), xi.shape[0])
    x = np.repeat(xi, sizes) + gen.normal(0.0, np.sqrt(sigma2_nu), int(sizes.sum()))
    design = (float(sigma2_xi), sigma2_nu, float(cor_z_xi), coefs, float(sigma2_e))
    return MicroMacroSample(sizes, xi, z, y, x, *design)
