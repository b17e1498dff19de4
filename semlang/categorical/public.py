"""``semlang.polychoric`` and the per-group sample statistics that categorical models use.

Input: a data frame (or a dict of columns, or a CSV path), the variables, ``ordered``, an optional
grouping column, exogenous covariates to condition on, and ``missing`` ("listwise" or
"pairwise"). Output: :class:`CategoricalStatistics` (one
:class:`~semlang.categorical.statistics.GroupStatistics` per group, groups in order of first
appearance) and, for users, :class:`PolychoricResult` with lavCor's matrix as a DataFrame, the
thresholds under lavaan's names and Γ.

Rows with a missing group are dropped with a warning; under "listwise" so are rows with any missing
value (announced with their count); under "pairwise" each threshold uses the rows where its
variable is observed and each correlation the rows where both are, as lavaan. Rows with a missing
covariate are always dropped. Every category of an ordered variable must be observed in every group.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from semlang.blas import threads_for
from semlang.categorical.coding import code_frame, ordered_names
from semlang.categorical.statistics import GroupStatistics, group_statistics
from semlang.categorical.warn import warn
from semlang.errors import DataError, DataWarning, OptionError, UnknownVariableError

MISSING = ("listwise", "pairwise")


@dataclass(frozen=True)
class CategoricalStatistics:
    """Every group's statistics; ``n_dropped`` rows were left out (missing values, group)."""

    groups: tuple[GroupStatistics, ...]
    group_labels: tuple[str, ...]
    n_dropped: int
    missing: str

    @property
    def nobs(self) -> int:
        return sum(g.nobs for g in self.groups)


def _frame(data) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, str | Path):
        return pd.read_csv(data)
    if isinstance(data, dict):
        return pd.DataFrame(data)
    raise DataError(
        f"data must be a pandas DataFrame, a dict of columns or a CSV path, not "
        f"{type(data).__name__}"
    )


def _check_names(frame, names, what) -> None:
    for name in names:
        if name not in frame.columns:
            raise UnknownVariableError(
                f"{what} '{name}' is not a column of the data",
                hint="check the spelling; columns are: " + ", ".join(map(str, frame.columns[:12])),
            )


def sample_statistics(
    data,
    variables=None,
    ordered=None,
    group: str | None = None,
    exogenous=(),
    missing: str = "listwise",
) -> CategoricalStatistics:
    """The two-stage statistics of ``variables`` (default: every column but the group's)."""
    frame = _frame(data)
    size = len(frame.columns) * (len(frame.columns) + 11) // 2
    with threads_for(size):
        return _sample_statistics(frame, variables, ordered, group, exogenous, missing)


def _sample_statistics(
    frame,
    variables=None,
    ordered=None,
    group: str | None = None,
    exogenous=(),
    missing: str = "listwise",
) -> CategoricalStatistics:
    if missing not in MISSING:
        raise OptionError(
            f"missing='{missing}' is not available for categorical data",
            hint="use 'listwise' or 'pairwise'",
        )
    exogenous = list(exogenous)
    if group is not None:
        _check_names(frame, [group], "group")
    if variables is None:
        variables = [c for c in frame.columns if c != group and c not in exogenous]
    variables = [v for v in variables if v not in exogenous]
    _check_names(frame, variables, "variable")
    _check_names(frame, exogenous, "exogenous covariate")
    chosen = ordered_names(frame, variables + exogenous, ordered, exogenous)
    bad = [x for x in exogenous if x in chosen]
    if bad:
        raise DataError(
            f"the exogenous covariate '{bad[0]}' is declared ordered",
            hint="covariates are conditioned on as numbers; code it with dummy variables",
        )
    frame, dropped = _rows(frame, variables, exogenous, group, missing)
    coded = code_frame(frame, variables, set(chosen))
    exo = _exo(frame, exogenous)
    labels, index = _groups(frame, group)
    groups = []
    for g, label in enumerate(labels):
        rows = index == g
        values = coded.values[rows]
        groups.append(
            group_statistics(
                label if group is not None else "",
                coded.names,
                coded.ordered,
                coded.levels,
                values,
                None if exo is None else exo[rows],
                exogenous,
            )
        )
    return CategoricalStatistics(tuple(groups), tuple(labels), dropped, missing)


def _rows(frame, variables, exogenous, group, missing):
    keep = np.ones(len(frame), dtype=bool)
    dropped = 0
    if group is not None:
        no_group = frame[group].isna().to_numpy()
        if no_group.any():
            warn(f"{int(no_group.sum())} rows with a missing group were left out", DataWarning)
        keep &= ~no_group
    if exogenous:
        no_x = _any_missing(frame, exogenous) & keep
        if no_x.any():
            warn(f"{int(no_x.sum())} rows with a missing covariate were left out", DataWarning)
        keep &= ~no_x
    if missing == "listwise":
        incomplete = _any_missing(frame, variables) & keep
        if incomplete.any():
            warn(
                f"{int(incomplete.sum())} rows with missing values were left out (listwise)",
                DataWarning,
            )
        keep &= ~incomplete
    dropped = int((~keep).sum())
    if not keep.any():
        raise DataError("no rows are left after removing missing values")
    return frame.loc[keep], dropped


def _any_missing(frame, names) -> np.ndarray:
    out = np.zeros(len(frame), dtype=bool)
    for name in names:
        out |= frame[name].isna().to_numpy()
    return out


def _exo(frame, exogenous) -> np.ndarray | None:
    if not exogenous:
        return None
    out = []
    for name in exogenous:
        column = frame[name]
        if not pd.api.types.is_numeric_dtype(column.dtype) or column.dtype == bool:
            column = pd.to_numeric(column.astype(object), errors="coerce")
            if column.isna().any():
                raise DataError(f"exogenous covariate '{name}' is not numeric")
        out.append(column.astype(float).to_numpy())
    return np.column_stack(out)


def _groups(frame, group):
    if group is None:
        return ["1"], np.zeros(len(frame), dtype=int)
    codes, uniques = pd.factorize(frame[group], sort=False)
    return [str(u) for u in uniques], codes


@dataclass(frozen=True)
class PolychoricResult:
    """lavCor's results: ``cor`` (a DataFrame; a dict of them by group with several groups),
    ``thresholds`` (a Series named ``x|t1`` ...; a dict by group), ``gamma``/``nacov`` (Γ of
    lavaan's WLS.obs, an array or a dict by group) and ``statistics`` (everything, per group)."""

    statistics: CategoricalStatistics

    def _each(self, fn):
        out = {
            label: fn(g)
            for label, g in zip(self.statistics.group_labels, self.statistics.groups, strict=True)
        }
        return next(iter(out.values())) if len(out) == 1 else out

    @property
    def cor(self):
        return self._each(lambda g: pd.DataFrame(g.cor, index=list(g.names), columns=list(g.names)))

    @property
    def thresholds(self):
        def series(g):
            keep = g.th_idx > 0
            return pd.Series(
                g.th[keep], index=[n for n, k in zip(g.th_names, keep, strict=True) if k]
            )

        return self._each(series)

    @property
    def nacov(self):
        return self._each(lambda g: g.nacov)

    @property
    def gamma(self):
        return self.nacov

    @property
    def nobs(self):
        return self._each(lambda g: g.nobs)

    def __repr__(self) -> str:
        cor = self.cor
        if isinstance(cor, dict):
            return "\n\n".join(f"group {k}:\n{v.round(3)}" for k, v in cor.items())
        return str(cor.round(3))


def polychoric(
    data,
    ordered=None,
    group: str | None = None,
    missing: str = "listwise",
    variables=None,
    exogenous=(),
) -> PolychoricResult:
    """Polychoric, polyserial and Pearson correlations with the thresholds, as lavaan's lavCor.

    ``ordered``: None (only pandas ordered Categorical columns are ordered), True (every column),
    or the names of the ordered columns. ``missing``: "listwise" (lavCor's default) or
    "pairwise".
    """
    stats = sample_statistics(data, variables, ordered, group, exogenous, missing)
    return PolychoricResult(stats)
