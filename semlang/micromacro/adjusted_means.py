"""Croon & van Veldhoven (2007) adjusted group means of an individual-level predictor.

Input: long data (one row per individual) with a group id, the individual-level ``x`` and
group-level covariates ``Z``. Output: per group the best linear unbiased predictor (BLUP) of the
latent group score xi_g given the group's observed mean of x and its covariates.

Model: ``x_ig = xi_g + nu_ig`` with ``Var(xi) = sigma2_xi``, ``Var(nu) = sigma2_nu``, nu independent
of xi and Z, and ``(xi_g, Z_g)`` jointly normal. With ``a = sigma2_xi - c' S^-1 c`` (the variance of
xi not explained by Z; c = Cov(xi, Z), S = Var(Z)) and ``b = S^-1 c``,

    E[xi_g | xbar_g, Z_g] = w_g xbar_g + (1 - w_g) (mu_x + b' (Z_g - mu_z)),
    w_g = a / (a + sigma2_nu / n_g).

The derivation and the way each moment is estimated are in ``docs/croon_van_veldhoven.md``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from semlang.errors import DataError, DataWarning, HeywoodWarning, NotPositiveDefiniteWarning

__all__ = ["VarianceComponents", "adjusted_means", "blup_group_means", "variance_components_anova"]


class VarianceComponents(NamedTuple):
    """ANOVA (method of moments) estimates of a one-way random-effects model."""

    sigma2_between: float
    sigma2_within: float
    n0: float

    @property
    def icc(self) -> float:
        """Intraclass correlation sigma2_between / (sigma2_between + sigma2_within)."""
        return self.sigma2_between / (self.sigma2_between + self.sigma2_within)


def require_columns(df: pd.DataFrame, columns: Sequence[str]) -> None:
    """DataError unless ``df`` is a DataFrame holding every one of ``columns``."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame in long format, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"column(s) {', '.join(map(repr, missing))} not in the data",
            hint="available: " + ", ".join(map(str, df.columns)),
        )


def _clean_long(long_df: pd.DataFrame, group: str, columns: Sequence[str]) -> pd.DataFrame:
    """The needed columns, numeric, rows with a missing ``x`` dropped (with a warning)."""
    require_columns(long_df, [group, *columns])
    df = long_df[[group, *columns]]
    if df[group].isna().any():
        raise DataError(f"the group column {group!r} has missing values")
    try:
        values = df[list(columns)].apply(pd.to_numeric)
    except (TypeError, ValueError) as exc:
        raise DataError(f"non-numeric values in {', '.join(columns)}: {exc}") from None
    df = pd.concat([df[[group]], values], axis=1)
    keep = df[columns[0]].notna()
    if not keep.all():
        warnings.warn(
            f"{int((~keep).sum())} rows with a missing {columns[0]!r} dropped",
            DataWarning,
            stacklevel=3,
        )
        df = df[keep]
    return df


def _group_table(df: pd.DataFrame, group: str, x: str) -> pd.DataFrame:
    """Per group (sorted): size ``n``, mean ``x_mean`` and within sum of squares ``ssw``."""
    grouped = df.groupby(group, sort=True)[x]
    dev = df[x] - grouped.transform("mean")
    out = pd.DataFrame({"n": grouped.size(), "x_mean": grouped.mean()})
    out["ssw"] = (dev**2).groupby(df[group], sort=True).sum()
    return out


def _anova(n: np.ndarray, means: np.ndarray, ssw: np.ndarray) -> VarianceComponents:
    """Method-of-moments variance components from group sizes, means and within sums of squares."""
    n = np.asarray(n, dtype=float)
    total, groups = n.sum(), n.shape[0]
    if groups < 2:
        raise DataError(f"{groups} group(s): variance components need at least 2 groups")
    if total <= groups:
        raise DataError("every group has one member: the within-group variance is not estimable")
    grand = float(n @ means / total)
    msb = float(n @ (means - grand) ** 2) / (groups - 1)
    msw = float(np.sum(ssw)) / (total - groups)
    n0 = (total - float(n @ n) / total) / (groups - 1)
    return VarianceComponents(float((msb - msw) / n0), float(msw), float(n0))


def variance_components_anova(long_df: pd.DataFrame, group: str, x: str) -> VarianceComponents:
    """Between- and within-group variance of ``x`` by one-way ANOVA, and the effective size n0.

    ``sigma2_within = MSW``, ``sigma2_between = (MSB - MSW) / n0`` with
    ``n0 = (N - sum n_g^2 / N) / (G - 1)`` (the common size when groups are balanced). The between
    estimate is returned as is, and can be negative.
    """
    df = _clean_long(long_df, group, [x])
    table = _group_table(df, group, x)
    return _anova(table["n"].to_numpy(), table["x_mean"].to_numpy(), table["ssw"].to_numpy())


def _as_z(z: object, mu_z: object, cov_xi_z: object, cov_zz: object, groups: int) -> tuple:
    """Covariates as (G, q), their mean (q,), Cov(xi, Z) (q,) and Var(Z) (q, q)."""
    zv = np.asarray(z, dtype=float).reshape(groups, -1)
    q = zv.shape[1]
    mu = np.asarray(mu_z, dtype=float).reshape(q)
    c = np.asarray(cov_xi_z, dtype=float).reshape(q)
    s = np.asarray(cov_zz, dtype=float).reshape(q, q)
    return zv, mu, c, s


def _shrinkage(
    n: np.ndarray, sigma2_xi: float, sigma2_nu: float, c: np.ndarray | None, s: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Weights w_g of the observed means and the regression b = S^-1 c of xi on Z (None: no Z)."""
    residual, b = float(sigma2_xi), None
    if c is not None and s is not None:
        b = np.linalg.solve(s, c)
        residual -= float(c @ b)
    if float(sigma2_xi) <= 0:
        warnings.warn("the latent group variance is not positive", HeywoodWarning, stacklevel=4)
    elif residual <= 0:
        warnings.warn(
            "the covariance matrix of (xi, Z) is not positive definite: unstable adjusted means",
            NotPositiveDefiniteWarning,
            stacklevel=4,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        return residual / (residual + float(sigma2_nu) / n), b


def _blup(
    xbar: np.ndarray,
    n: np.ndarray,
    z: object,
    mu_x: float,
    moments: tuple[object, float, float, object, object],
) -> tuple[np.ndarray, np.ndarray]:
    """The BLUPs and the weights w_g; ``moments`` = (mu_z, sigma2_xi, sigma2_nu, c, S)."""
    mu_z, sigma2_xi, sigma2_nu, cov_xi_z, cov_zz = moments
    if n.shape != xbar.shape or np.any(n <= 0):
        raise DataError("n must hold one positive group size per group mean")
    prior = np.full(xbar.shape, float(mu_x))
    if z is None:
        weight, _ = _shrinkage(n, sigma2_xi, sigma2_nu, None, None)
    else:
        zv, mu, c, s = _as_z(z, mu_z, cov_xi_z, cov_zz, xbar.shape[0])
        weight, b = _shrinkage(n, sigma2_xi, sigma2_nu, c, s)
        prior = prior + (zv - mu) @ b
    with np.errstate(invalid="ignore"):
        return weight * xbar + (1.0 - weight) * prior, weight


def blup_group_means(
    xbar: object,
    n: object,
    z: object,
    mu_x: float,
    mu_z: object,
    sigma2_xi: float,
    sigma2_nu: float,
    cov_xi_z: object,
    cov_zz: object,
) -> np.ndarray:
    """E[xi_g | xbar_g, Z_g] for every group, given the model's moments.

    ``xbar``, ``n``: the groups' observed means of x and sizes (length G); ``z``: covariates (G,)
    or (G, q), or None for none (then ``mu_z``, ``cov_xi_z``, ``cov_zz`` are ignored). The result is
    on the scale of x (its mean is ``mu_x``); subtract ``mu_x`` for a zero-mean factor score.
    """
    xbar = np.asarray(xbar, dtype=float).reshape(-1)
    n = np.asarray(n, dtype=float).reshape(-1)
    moments = (mu_z, sigma2_xi, sigma2_nu, cov_xi_z, cov_zz)
    return _blup(xbar, n, z, mu_x, moments)[0]


def _group_covariates(df: pd.DataFrame, group: str, z: list[str]) -> pd.DataFrame:
    """One row per group (sorted) of the group-level columns, checked constant within groups."""
    if df[z].isna().any().any():
        raise DataError(f"group-level covariate(s) {', '.join(z)} have missing values")
    grouped = df.groupby(group, sort=True)[z]
    first, spread = grouped.first(), grouped.max() - grouped.min()
    varying = [c for c in z if (spread[c] > 1e-10 * (1 + df[c].abs().max())).any()]
    if varying:
        raise DataError(
            f"{', '.join(map(repr, varying))} varies within groups",
            hint="Z must be a group-level covariate: one value per group",
        )
    return first


def adjusted_means(
    long_df: pd.DataFrame, group: str, x: str, z: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Croon & van Veldhoven adjusted group means of ``x``, one row per group.

    Columns: ``group`` (named as the group column), ``n, x_mean, adjusted, weight`` (the weight w_g
    of the observed mean) and the covariates. ``attrs`` holds the moments used: ``mu_x`` (mean over
    individuals), ``sigma2_xi, sigma2_nu, n0`` (ANOVA), ``mu_z, cov_xi_z, cov_zz`` (over groups,
    divisor G - 1; Cov(xi, Z) by the covariance of the group means with Z) and ``z`` (the names).
    """
    names = [] if z is None else [z] if isinstance(z, str) else list(z)
    df = _clean_long(long_df, group, [x, *names])
    table = _group_table(df, group, x)
    n, means = table["n"].to_numpy(dtype=float), table["x_mean"].to_numpy()
    vc = _anova(n, means, table["ssw"].to_numpy())
    mu_x = float(n @ means / n.sum())
    attrs: dict[str, object] = {"mu_x": mu_x, "sigma2_xi": vc.sigma2_between}
    attrs |= {"sigma2_nu": vc.sigma2_within, "n0": vc.n0, "z": names}
    zv = None
    if names:
        zv = _group_covariates(df, group, names).to_numpy(dtype=float)
        joint = np.atleast_2d(np.cov(np.column_stack([means, zv]), rowvar=False, ddof=1))
        attrs |= {"mu_z": zv.mean(axis=0).tolist(), "cov_xi_z": joint[0, 1:].tolist()}
        attrs["cov_zz"] = joint[1:, 1:].tolist()
    moments = (attrs.get("mu_z"), vc.sigma2_between, vc.sigma2_within, attrs.get("cov_xi_z"),
               attrs.get("cov_zz"))  # fmt: skip
    adjusted, weight = _blup(means, n, zv, mu_x, moments)
    out = pd.DataFrame({group: table.index.to_numpy(), "n": table["n"].to_numpy(), "x_mean": means})
    out["adjusted"] = adjusted
    out["weight"] = weight
    if zv is not None:
        for j, name in enumerate(names):
            out[name] = zv[:, j]
    out.attrs.update(attrs)
    return out
