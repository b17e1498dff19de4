"""The sample statistics of ordered (and continuous) variables per group, as lavaan computes them.

Input: a group's data (codes of ordered variables, values of continuous ones, NaN missing), which
variables are ordered, and the exogenous covariates if the statistics are conditional on them.
Output: :class:`GroupStatistics` — thresholds, slopes, variances, the correlation matrix
(polychoric, polyserial, Pearson), lavaan's WLS.obs vector, and on first use its asymptotic
covariance Γ (``nacov``) with the WLS and DWLS weights. Raises
:class:`~semlang.errors.DataError` when a category of an ordered variable is not observed in the
group, a variable has one category there, or the covariates are constant or dependent.

Stage one fits each variable alone (:mod:`~semlang.categorical.univariate`); stage two the
correlation of each pair with the stage-one parameters fixed, all pairs of a kind at once
(:mod:`~semlang.categorical.polychoric_pairs`, :mod:`~semlang.categorical.casewise_pairs`); Γ
comes from the casewise scores of both stages (:mod:`~semlang.categorical.gamma`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from semlang.blas import threads_for
from semlang.categorical import casewise_pairs, gamma, polychoric_pairs
from semlang.categorical.univariate import Univariate, fit_continuous, fit_ordered
from semlang.categorical.warn import warn
from semlang.errors import DataError, DataWarning, NotPositiveDefiniteWarning


@dataclass(frozen=True)
class GroupStatistics:
    """One group's two-stage statistics, under lavaan's names.

    ``th`` holds every variable's thresholds (an ordered variable, named ``x|t1`` ...) or its
    intercept (a continuous variable, named after it; its mean without covariates), ``th_idx``
    the 1-based variable number of each (0 for a continuous variable's intercept, as lavaan's
    th.idx), ``slopes`` the p x q regressions on the exogenous covariates, ``var`` the (residual)
    variances (1 for ordered variables), ``cor`` the correlations and ``cov`` the covariances.
    ``wls_obs`` is lavaan's WLS.obs; ``nacov`` (Γ), ``wls_v`` (Γ⁻¹, the WLS weight) and ``wls_vd``
    (1/diag Γ, the DWLS weight) are computed on first use.
    """

    label: str
    names: tuple[str, ...]
    ordered: tuple[bool, ...]
    levels: tuple[tuple, ...]
    exogenous: tuple[str, ...]
    nobs: int
    th: np.ndarray
    th_names: tuple[str, ...]
    th_idx: np.ndarray
    th_nox: np.ndarray
    slopes: np.ndarray
    var: np.ndarray
    cor: np.ndarray
    zero_cell_tables: tuple[tuple[str, str], ...]
    _parts: dict = field(repr=False, compare=False)

    @property
    def cov(self) -> np.ndarray:
        sd = np.sqrt(self.var)
        return self.cor * np.outer(sd, sd)

    @property
    def wls_obs(self) -> np.ndarray:
        """c(thresholds with continuous means negated, vec(slopes), variances of the continuous
        variables, the correlations/covariances below the diagonal column by column)."""
        th = np.where(self.th_idx == 0, -self.th, self.th)
        cont = [i for i, o in enumerate(self.ordered) if not o]
        rows, cols = lower_pairs(len(self.names))
        return np.concatenate(
            [th, self.slopes.ravel(order="F"), self.var[cont], self.cov[rows, cols]]
        )

    @property
    def wls_obs_names(self) -> tuple[str, ...]:
        """A name for each element of wls_obs, as lavaan's: ``x|t1``, ``y~1`` (a continuous
        variable's intercept), ``y~x`` (slope), ``y~~y``, ``a~~b``."""
        slopes = [f"{v}~{x}" for x in self.exogenous for v in self.names]
        variances = [f"{v}~~{v}" for v, o in zip(self.names, self.ordered, strict=True) if not o]
        rows, cols = lower_pairs(len(self.names))
        pairs = [f"{self.names[c]}~~{self.names[r]}" for r, c in zip(rows, cols, strict=True)]
        th = [f"{n}~1" if k == 0 else n for n, k in zip(self.th_names, self.th_idx, strict=True)]
        return tuple(th) + tuple(slopes) + tuple(variances) + tuple(pairs)

    @cached_property
    def nacov(self) -> np.ndarray:
        """Γ: the asymptotic covariance of √n·wls_obs (lavaan's NACOV, divisor n)."""
        with threads_for(len(self.th) + len(self.cor) ** 2 // 2):
            return self._nacov()

    def _nacov(self) -> np.ndarray:
        parts = self._parts
        unis, nexo = parts["unis"], len(self.exogenous)
        positions, _, _ = gamma.parameter_layout(unis, nexo)
        pair_scores = np.zeros((parts["n"], parts["npairs"]))
        a21_rows: list[list] = [[] for _ in range(parts["npairs"])]
        for sel, first, second, result in parts["pairs"]:
            scores, a21_first, a21_second = result.detail()
            pair_scores[:, sel] = scores
            for q, s in enumerate(sel):
                a21_rows[s] = [
                    (positions[first[q]], a21_first[q]),
                    (positions[second[q]], a21_second[q]),
                ]
        return gamma.nacov(unis, pair_scores, a21_rows, self.cor, nexo)

    @property
    def gamma(self) -> np.ndarray:
        return self.nacov

    @cached_property
    def wls_v(self) -> np.ndarray:
        """The full WLS weight Γ⁻¹."""
        return np.linalg.inv(self.nacov)

    @cached_property
    def wls_vd(self) -> np.ndarray:
        """The diagonal (DWLS, WLSMV) weight 1/diag(Γ), as a vector."""
        return 1.0 / np.diag(self.nacov)


def lower_pairs(p: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the elements below the diagonal, column by column (lavaan's vech order)."""
    rows, cols = [], []
    for j in range(p - 1):
        for i in range(j + 1, p):
            rows.append(i)
            cols.append(j)
    return np.array(rows, dtype=int), np.array(cols, dtype=int)


def group_statistics(
    label: str,
    names,
    ordered,
    levels,
    values: np.ndarray,
    exo: np.ndarray | None = None,
    exogenous=(),
) -> GroupStatistics:
    """Both stages for one group; ``values`` holds codes 0..K-1 for ordered variables."""
    names, ordered = tuple(names), tuple(ordered)
    n, p = values.shape
    check_categories(label, names, ordered, levels, values)
    if exo is not None and exo.shape[1] == 0:
        exo = None
    if exo is not None:
        _check_covariates(label, exo, exogenous)
    unis: list[Univariate] = []
    for i in range(p):
        column = values[:, i]
        if ordered[i]:
            codes = np.where(np.isnan(column), -1, column).astype(int)
            unis.append(fit_ordered(codes, len(levels[i]), exo))
        else:
            unis.append(fit_continuous(column, exo))
    rows, cols = lower_pairs(p)
    npairs = len(rows)
    cor = np.eye(p)
    pair_parts = []
    zero_pairs: list[tuple[str, str]] = []
    kinds = np.array([ordered[i] + ordered[j] for i, j in zip(rows, cols, strict=True)])
    nexo = 0 if exo is None else exo.shape[1]
    for kind in (2, 1, 0):
        sel = np.flatnonzero(kinds == kind)
        if not len(sel):
            continue
        first, second = rows[sel].copy(), cols[sel].copy()
        if kind == 1:  # continuous first
            swap = np.array([ordered[i] for i in first])
            first[swap], second[swap] = second[swap], first[swap].copy()
        pair_names = [(names[a], names[b]) for a, b in zip(first, second, strict=True)]
        result = _pairs(kind, values, unis, first, second, exo, pair_names)
        cor[rows[sel], cols[sel]] = result.rho
        cor[cols[sel], rows[sel]] = result.rho
        pair_parts.append((sel, first, second, result))
        for q, s in enumerate(sel):
            if result.zero_cells[q]:
                zero_pairs.append((names[cols[s]], names[rows[s]]))
    zero_pairs.sort(key=lambda pair: (names.index(pair[0]), names.index(pair[1])))
    _check_correlations(label, names, cor)
    th = np.concatenate([u.th for u in unis]) if unis else np.zeros(0)
    th_names, th_idx = [], []
    for i, u in enumerate(unis):
        if u.ordered:
            th_names += [f"{names[i]}|t{k + 1}" for k in range(u.nth)]
            th_idx += [i + 1] * u.nth
        else:
            th_names.append(names[i])
            th_idx.append(0)
    return GroupStatistics(
        label=label,
        names=names,
        ordered=ordered,
        levels=tuple(levels),
        exogenous=tuple(exogenous) if nexo else (),
        nobs=n,
        th=th,
        th_names=tuple(th_names),
        th_idx=np.array(th_idx, dtype=int),
        th_nox=np.concatenate([u.th_nox for u in unis]) if unis else np.zeros(0),
        slopes=np.array([u.slopes for u in unis]).reshape(p, nexo),
        var=np.array([u.var for u in unis]),
        cor=cor,
        zero_cell_tables=tuple(zero_pairs),
        _parts={"unis": unis, "pairs": pair_parts, "n": n, "npairs": npairs},
    )


def _pairs(kind, values, unis, first, second, exo, pair_names):
    if kind == 2:
        if exo is None:
            is_ordered = np.array([u.ordered for u in unis])
            codes = np.where(np.isnan(values) | ~is_ordered, -1, values).astype(int)
            ths = [u.th if u.ordered else np.zeros(0) for u in unis]
            return polychoric_pairs.polychoric_tables(codes, ths, first, second, pair_names)
        return casewise_pairs.polychoric_casewise(unis, first, second, exo, pair_names)
    if kind == 1:
        return casewise_pairs.polyserial(unis, first, second, exo, pair_names)
    return casewise_pairs.pearson(unis, first, second, exo, pair_names)


def check_categories(label, names, ordered, levels, values) -> None:
    """Every category of each ordered variable observed in this group (lavaan stops too)."""
    where = f" in group {label}" if label else ""
    if len(values) < 2:
        raise DataError(f"fewer than two rows{where}")
    for i, name in enumerate(names):
        if not ordered[i]:
            continue
        column = values[:, i]
        counts = np.bincount(column[~np.isnan(column)].astype(int), minlength=len(levels[i]))
        if (counts > 0).sum() < 2:
            raise DataError(
                f"ordered variable '{name}' has only one observed category{where}",
                hint="a variable that does not vary cannot be analysed; leave it out",
            )
        if (counts == 0).any():
            empty = [str(levels[i][k]) for k in np.flatnonzero(counts == 0)]
            raise DataError(
                f"category {', '.join(empty)} of ordered variable '{name}' is empty{where} "
                f"(frequencies {' '.join(map(str, counts))})",
                hint="merge it with a neighbouring category in every group, as lavaan requires "
                "the same categories in each group",
            )


def _check_covariates(label, exo, exogenous) -> None:
    """The regressions on the covariates need [1, X] of full column rank (lavaan stops too)."""
    design = np.column_stack([np.ones(len(exo)), exo])
    if np.linalg.matrix_rank(design) < design.shape[1]:
        where = f" in group {label}" if label else ""
        raise DataError(
            f"the covariates {', '.join(exogenous)} are constant or linearly dependent{where}",
            hint="leave out a covariate that does not vary (in that group) or repeats another",
        )


def _check_correlations(label, names, cor) -> None:
    label = f" in group {label}" if label else ""
    p = len(names)
    for j in range(p - 1):
        for i in range(j + 1, p):
            if abs(cor[i, j]) > 0.99:
                warn(
                    f"the correlation of {names[i]} and {names[j]} is (nearly) 1.0{label}",
                    DataWarning,
                )
    if p and np.linalg.eigvalsh(cor).min() <= 0:
        warn(
            f"the correlation matrix{label} is not positive definite; it is used as it is "
            "(as lavaan)",
            NotPositiveDefiniteWarning,
        )
