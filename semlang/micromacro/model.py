"""Micro-macro data in the layout the factor models see, and the text of those models.

Input: long data (one row per group member: the group id, one or more individual-level ``x``,
group-level covariates ``Z``, the group outcome ``y``), or the arrays of a simulated sample.
Output: a frozen :class:`MicroMacroData` (members sorted by group, group means, the wide frame with
one row per group and one column per member and ``x``), and model text:

- :func:`model_string`: the full micro-macro SEM. Each latent group score ``xi`` is measured by
  the group's members with loadings 1 and one residual variance ``v``; ``y`` is regressed on the
  latent scores and ``Z``, which covary with them::

      xi =~ 1*x1 + 1*x2 + 1*x3
      x1 ~~ v*x1
      x2 ~~ v*x2
      x3 ~~ v*x3
      y ~ xi + Z
      xi ~~ Z

- :func:`measurement_string`: the measurement part alone, with loadings fixed at 1 or free,
  residual variances equal or free and intercepts equal or free: the random-intercept model
  (``fixed``/``equal``/``equal`` is lme4's ``x ~ 1 + (1 | group)``), its heterogeneous-variance
  variant and the one-factor model.

Members are exchangeable: the j-th member of a group is the j-th row of that group in the long
data. A group with fewer members than the largest has empty cells, which full-information
maximum likelihood treats as missing. Wide columns are named ``x1, x2, ...`` after the x column
(``x_1, x_2, ...`` if those names would collide); with several x, member j's values of the x
columns may covary (one residual covariance per pair, equal across members when the variances
are equal).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from semlang.errors import DataError, DataWarning, OptionError
from semlang.micromacro.adjusted_means import require_columns
from semlang.syntax.parser import variable_names

__all__ = ["MicroMacroData", "measurement_string", "model_string"]

Indicators = int | Sequence[str] | Mapping[str, Sequence[str]]


def member_positions(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(0-based group, 0-based position in the group) of every member, groups in order."""
    sizes = np.asarray(sizes, dtype=int)
    starts = np.cumsum(sizes) - sizes
    return np.repeat(np.arange(len(sizes)), sizes), np.arange(sizes.sum()) - np.repeat(
        starts, sizes
    )


def _item_columns(x_names: tuple[str, ...], k: int, taken: set[str]) -> tuple[tuple[str, ...], ...]:
    """Wide column names per x: ``x1..xk``, or ``x_1..x_k`` when those collide."""
    for sep in ("", "_", "_m"):
        columns = tuple(tuple(f"{x}{sep}{j}" for j in range(1, k + 1)) for x in x_names)
        flat = [c for cs in columns for c in cs]
        if len(set(flat)) == len(flat) and not taken & set(flat):
            return columns
    raise DataError(f"cannot name the member columns of {', '.join(x_names)} without collisions")


def _latent_names(x_names: tuple[str, ...], taken: set[str]) -> tuple[str, ...]:
    base = ("xi",) if len(x_names) == 1 else tuple(f"xi_{x}" for x in x_names)
    while taken & set(base):
        base = tuple(f"{name}_" for name in base)
    return base


@dataclass(frozen=True, eq=False)
class MicroMacroData:
    """Members' x sorted by group, one row of ``Z`` and ``y`` per group, and the wide layout."""

    group: str
    x_names: tuple[str, ...]
    z_names: tuple[str, ...]
    y_name: str
    labels: np.ndarray  # (G,) group ids, in order
    sizes: np.ndarray  # (G,) members per group
    x: np.ndarray  # (N, p) members, sorted by group
    z: np.ndarray  # (G, q)
    y: np.ndarray  # (G,)

    @property
    def n_groups(self) -> int:
        return int(self.sizes.shape[0])

    @property
    def balanced(self) -> bool:
        return bool(np.all(self.sizes == self.sizes[0]))

    @cached_property
    def group_index(self) -> np.ndarray:
        """0-based group of each member."""
        return member_positions(self.sizes)[0]

    @cached_property
    def member_index(self) -> np.ndarray:
        """0-based position of each member inside its group."""
        return member_positions(self.sizes)[1]

    @cached_property
    def xbar(self) -> np.ndarray:
        """(G, p) observed group means of the x columns."""
        sums = np.stack(
            [np.bincount(self.group_index, self.x[:, j], self.n_groups) for j in range(self.p)],
            axis=1,
        )
        return sums / self.sizes[:, None]

    @cached_property
    def within_sscp(self) -> np.ndarray:
        """(p, p) sums of squares and cross-products of x about the group means."""
        deviations = self.x - self.xbar[self.group_index]
        return deviations.T @ deviations

    @property
    def p(self) -> int:
        return len(self.x_names)

    @cached_property
    def item_columns(self) -> tuple[tuple[str, ...], ...]:
        """Per x, the wide columns of its members 1..max size."""
        taken = {self.group, *self.z_names, self.y_name}
        return _item_columns(self.x_names, int(self.sizes.max()), taken)

    @cached_property
    def latent_names(self) -> tuple[str, ...]:
        taken = {self.group, *self.z_names, self.y_name}
        return _latent_names(self.x_names, taken | {c for cs in self.item_columns for c in cs})

    @property
    def indicators(self) -> dict[str, tuple[str, ...]]:
        """Latent group score -> its member columns."""
        return dict(zip(self.latent_names, self.item_columns, strict=True))

    @cached_property
    def items(self) -> np.ndarray:
        """(G, p * k) member values, x by x, NaN past a group's size."""
        k = int(self.sizes.max())
        grid = np.full((self.n_groups, self.p, k), np.nan)
        grid[self.group_index, :, self.member_index] = self.x
        return grid.reshape(self.n_groups, self.p * k)

    @cached_property
    def wide(self) -> pd.DataFrame:
        """One row per group: the group id, ``Z``, ``y`` and the member columns."""
        out = pd.DataFrame({self.group: self.labels})
        for j, name in enumerate(self.z_names):
            out[name] = self.z[:, j]
        out[self.y_name] = self.y
        columns = [c for cs in self.item_columns for c in cs]
        return pd.concat([out, pd.DataFrame(self.items, columns=columns)], axis=1)

    @cached_property
    def long(self) -> pd.DataFrame:
        """One row per member: the group id, the x columns, ``Z`` and ``y`` (sorted by group)."""
        out = pd.DataFrame({self.group: self.labels[self.group_index]})
        for j, name in enumerate(self.x_names):
            out[name] = self.x[:, j]
        for j, name in enumerate(self.z_names):
            out[name] = self.z[self.group_index, j]
        out[self.y_name] = self.y[self.group_index]
        return out

    def true_scores(self, true_xi) -> np.ndarray:
        """``true_xi`` (the simulation's true group scores) as a (G, p) array; an error unless it
        holds one value per group (and x column)."""
        values = np.asarray(true_xi, dtype=float)
        if values.size != self.n_groups * self.p:
            per = f"{self.n_groups} groups" + (f" × {self.p} x columns" if self.p > 1 else "")
            raise OptionError(
                f"true_xi has {values.size} values, but the data need one for each of {per}",
                hint="the true scores in the order of the sorted group ids",
            )
        return values.reshape(self.n_groups, self.p)

    def model_string(self) -> str:
        """The full micro-macro SEM of this data (:func:`model_string`)."""
        return model_string(self.indicators, self.z_names, self.y_name)

    @classmethod
    def from_arrays(
        cls,
        sizes: np.ndarray,
        x: np.ndarray,
        z: np.ndarray | None,
        y: np.ndarray,
        names: tuple[str, Sequence[str], Sequence[str], str] = ("group", ("x",), ("Z",), "y"),
    ) -> MicroMacroData:
        """From arrays already sorted by group; ``names`` = (group, x names, Z names, y)."""
        sizes = np.asarray(sizes, dtype=int)
        xv = np.asarray(x, dtype=float).reshape(int(sizes.sum()), -1)
        zv = np.zeros((sizes.shape[0], 0)) if z is None else np.asarray(z, dtype=float)
        zv = zv.reshape(sizes.shape[0], -1)
        group, x_names, z_names, y_name = names
        z_names = variable_names(z_names, "Z")[: zv.shape[1]]
        if len(z_names) != zv.shape[1] or len(variable_names(x_names, "x")) != xv.shape[1]:
            raise OptionError("give one name per column of x and of z")
        return cls(
            group, variable_names(x_names, "x"), z_names, y_name,
            np.arange(1, sizes.shape[0] + 1), sizes, xv, zv, np.asarray(y, dtype=float),
        )  # fmt: skip

    @classmethod
    def from_long(
        cls,
        long_df: pd.DataFrame,
        group: str,
        x: str | Sequence[str],
        z: str | Sequence[str] | None,
        y: str,
    ) -> MicroMacroData:
        """Validate long data (Z and y constant within groups) and sort it by group."""
        x_names, z_names = variable_names(x, "x"), variable_names(z, "Z")
        if not x_names:
            raise OptionError("name at least one individual-level x column")
        (y_name,) = variable_names(y, "y")
        require_columns(long_df, [group, *x_names, *z_names, y_name])
        used = [*x_names, *z_names, y_name]
        if len(set(used)) < len(used) or group in used:
            raise OptionError("group, x, Z and y must be different columns")
        values = _numeric(long_df, used)
        keep = np.isfinite(values[:, : len(x_names)]).all(axis=1)
        if not keep.all():
            warnings.warn(
                f"{int((~keep).sum())} rows with a missing x dropped", DataWarning, stacklevel=3
            )
        ids = long_df[group].to_numpy()[keep]
        if pd.isna(ids).any():
            raise DataError(f"the group column {group!r} has missing values")
        codes, labels = pd.factorize(ids, sort=True)
        order = np.argsort(codes, kind="stable")
        codes, values = codes[order], values[keep][order]
        sizes = np.bincount(codes, minlength=labels.shape[0])
        if len(sizes) < 2:
            raise DataError(
                f"the group column {group!r} holds one group only",
                hint="a micro-macro model compares groups: give the column that identifies them",
            )
        _check_members(values[:, : len(x_names)], codes, sizes, x_names, group)
        starts = np.cumsum(sizes) - sizes
        per_group = _group_constant(values[:, len(x_names) :], codes, starts, [*z_names, y_name])
        return cls(
            group, x_names, z_names, y_name, np.asarray(labels), sizes,
            values[:, : len(x_names)], per_group[:, :-1], per_group[:, -1],
        )  # fmt: skip


def _check_members(
    x: np.ndarray, codes: np.ndarray, sizes: np.ndarray, x_names: Sequence[str], group: str
) -> None:
    """The members' values must vary within groups: groups of one member, or an x that is
    constant within every group, leave the within-group variance without information."""
    if sizes.max() < 2:
        raise DataError(
            f"every group of {group!r} has one member: the variance of the members around "
            "their group's score cannot be estimated",
            hint=f"a micro-macro model needs groups of several members; check that {group!r} "
            "identifies the groups and that the data are in long format (one row per member)",
        )
    means = np.stack([np.bincount(codes, x[:, j]) for j in range(x.shape[1])], axis=1)
    within = ((x - means[codes] / sizes[codes, None]) ** 2).sum(axis=0)
    scale = 1e-20 * (1.0 + (x**2).sum(axis=0))
    constant = [name for name, w, t in zip(x_names, within, scale, strict=True) if w <= t]
    if constant:
        raise DataError(
            f"{', '.join(map(repr, constant))} does not vary within groups: every member of a "
            "group has the same value",
            hint="x holds the members' own values; a group-level variable goes in z",
        )


def _numeric(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    try:
        return df[columns].apply(pd.to_numeric).to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"non-numeric values in {', '.join(columns)}: {exc}") from None


def _group_constant(
    values: np.ndarray, codes: np.ndarray, starts: np.ndarray, names: list[str]
) -> np.ndarray:
    """One row per group of columns that must be constant (and present) within groups."""
    if not np.isfinite(values).all():
        bad = [n for n, ok in zip(names, np.isfinite(values).all(axis=0), strict=True) if not ok]
        raise DataError(f"group-level column(s) {', '.join(bad)} have missing values")
    first = values[starts]
    spread = np.abs(values - first[codes]).max(axis=0)
    scale = 1e-10 * (1.0 + np.abs(values).max(axis=0))
    varying = [n for n, s, t in zip(names, spread, scale, strict=True) if s > t]
    if varying:
        raise DataError(
            f"{', '.join(map(repr, varying))} varies within groups",
            hint="Z and y must be group-level: one value per group",
        )
    return first


def _as_indicators(indicators: Indicators, latent: str) -> dict[str, tuple[str, ...]]:
    if isinstance(indicators, int | np.integer):
        if indicators < 1:
            raise OptionError(f"need at least one member, got {indicators}")
        return {latent: tuple(f"x{j}" for j in range(1, int(indicators) + 1))}
    if isinstance(indicators, Mapping):
        out = {
            variable_names(k, "latent")[0]: variable_names(v, "member")
            for k, v in indicators.items()
        }
    else:
        out = {variable_names(latent, "latent")[0]: variable_names(indicators, "member")}
    lengths = {len(v) for v in out.values()}
    if not out or 0 in lengths or len(lengths) > 1:
        raise OptionError("every latent group score needs the same (positive) number of members")
    return out


def _residual_lines(ind: dict[str, tuple[str, ...]], equal: bool) -> list[str]:
    """Residual variances (one label per x when equal) and same-member residual covariances."""
    groups = list(ind.values())
    many = len(groups) > 1
    lines = []
    for a, columns in enumerate(groups, start=1):
        if equal:
            label = f"v{a}" if many else "v"
            lines += [f"{c} ~~ {label}*{c}" for c in columns]
        for b in range(a + 1, len(groups) + 1):
            label = f"c{a}_{b}*" if equal else ""
            lines += [f"{c} ~~ {label}{d}" for c, d in zip(columns, groups[b - 1], strict=True)]
    return lines


def _intercept_lines(ind: dict[str, tuple[str, ...]]) -> list[str]:
    many = len(ind) > 1
    return [
        f"{c} ~ {'m' if not many else f'm{a}'}*1"
        for a, columns in enumerate(ind.values(), start=1)
        for c in columns
    ]


def measurement_string(
    indicators: Indicators,
    *,
    latent: str = "xi",
    loadings: str = "fixed",
    residuals: str = "equal",
    intercepts: str = "free",
) -> str:
    """The measurement model of the latent group scores.

    ``indicators``: the number of members k (columns ``x1..xk``), the member columns (one latent
    ``latent``) or a mapping latent -> member columns. ``loadings``: ``"fixed"`` (all 1) or
    ``"free"`` (the first member is the marker); ``residuals`` and ``intercepts``: ``"equal"``
    (one labelled parameter for all members) or ``"free"``.
    """
    for name, value in (("loadings", loadings), ("residuals", residuals)):
        _choice(name, value, ("fixed", "free") if name == "loadings" else ("equal", "free"))
    _choice("intercepts", intercepts, ("equal", "free"))
    ind = _as_indicators(indicators, latent)
    weight = "1*" if loadings == "fixed" else ""
    lines = [f"{lv} =~ " + " + ".join(f"{weight}{c}" for c in cs) for lv, cs in ind.items()]
    lines += _residual_lines(ind, residuals == "equal")
    if intercepts == "equal":
        lines += _intercept_lines(ind)
    return "\n".join(lines) + "\n"


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise OptionError(f"{name} must be one of {', '.join(map(repr, allowed))}, not {value!r}")


def model_string(
    indicators: Indicators,
    z: str | Sequence[str] | None = ("Z",),
    y: str = "y",
    *,
    latent: str = "xi",
    equal_intercepts: bool = False,
    form: str = "wide",
) -> str:
    """The full micro-macro SEM: loadings 1, equal residual variances, ``y ~ xi + Z``, ``xi ~~ Z``.

    ``form="wide"`` (for one row per group): ``indicators`` as in :func:`measurement_string`;
    ``z``: the group-level covariates (none: ``None``); ``equal_intercepts``: one intercept for
    all members (the random-intercept model's single mean) instead of one per member position.
    ``form="twolevel"`` (for the long data, fit with ``cluster=``): ``indicators`` names the
    individual-level variable(s) and the model has ``level: 1`` / ``level: 2`` blocks
    (:func:`~semlang.micromacro.twolevel.twolevel_model_string`).
    """
    if form == "twolevel":
        from semlang.micromacro.twolevel import twolevel_model_string

        if isinstance(indicators, int | Mapping):
            raise OptionError(
                "with form='twolevel', indicators names the individual-level column(s)",
                hint="e.g. model_string('x', form='twolevel')",
            )
        return twolevel_model_string(indicators, variable_names(z, "Z"), y)
    if form != "wide":
        raise OptionError(f"form must be 'wide' or 'twolevel', not {form!r}")
    ind = _as_indicators(indicators, latent)
    z_names = variable_names(z, "Z")
    text = measurement_string(
        ind, intercepts="equal" if equal_intercepts else "free", loadings="fixed"
    )
    lines = [f"{y} ~ " + " + ".join([*ind, *z_names])]
    lines += [f"{lv} ~~ " + " + ".join(z_names) for lv in ind] if z_names else []
    lines += [f"{a} ~~ {b}" for i, a in enumerate(z_names) for b in z_names[i + 1 :]]
    return text + "\n".join(lines) + "\n"
