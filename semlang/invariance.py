"""The measurement invariance sequence (semTools' ``measurementInvariance`` / ``compareFit``).

Input: a CFA model text, data with a group variable, the steps to fit and the options of
``semlang.cfa``. Output: an :class:`InvarianceResult` — the fits by step, the χ² difference
tests of the sequence (:func:`semlang.lrt`: scaled differences with MLM/MLR fits) and the changes
in fit measures from each step to the next (later minus earlier, as ``compareFit``'s
``fit.diff``), as a DataFrame (``.table``) and a readable summary (``str()``).

The steps add lavaan's ``group.equal`` words: configural (nothing equal), metric (loadings),
scalar (+ intercepts), strict (+ residuals), means (+ means).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from semlang.errors import OptionError

__all__ = ["STEPS", "InvarianceResult", "invariance"]

STEPS = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
    "means": ("loadings", "intercepts", "residuals", "means"),
}
# the measures whose changes are reported (compareFit's), when the fits have them
DELTAS = ("cfi", "tli", "rmsea", "srmr", "aic", "bic", "cfi_scaled", "tli_scaled",
          "rmsea_scaled", "cfi_robust", "tli_robust", "rmsea_robust")  # fmt: skip
_SHOWN = ("npar", "chisq", "df", "pvalue", "chisq_scaled", "pvalue_scaled", "cfi", "tli",
          "rmsea", "srmr", "aic", "bic", "cfi_robust", "tli_robust", "rmsea_robust")  # fmt: skip


@dataclass(frozen=True)
class InvarianceResult:
    fits: dict[str, Any]  # by step, in the order fitted
    lrt: pd.DataFrame  # semlang.lrt of the sequence
    deltas: pd.DataFrame  # later minus earlier step, one row per comparison

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(self.fits)

    @property
    def table(self) -> pd.DataFrame:
        """One row per step: its fit measures, the χ² difference test against the step before
        and the change of each fit measure (``delta_<measure>``)."""
        rows = []
        for fit in self.fits.values():
            measures = fit.fit_measures()
            rows.append({k: measures[k] for k in _SHOWN if _have(measures.get(k))})
        frame = pd.DataFrame(rows, index=pd.Index(self.steps, name="step"))
        lrt = self.lrt.reindex(frame.index)
        frame["chisq_diff"] = lrt["Chisq diff"].to_numpy(dtype=float)
        frame["df_diff"] = lrt["Df diff"].to_numpy(dtype=float)
        frame["pvalue_diff"] = lrt["Pr(>Chisq)"].to_numpy(dtype=float)
        deltas = self.deltas.set_axis(self.steps[1:], axis=0).reindex(frame.index)
        for name in deltas.columns:
            frame[f"delta_{name}"] = deltas[name].to_numpy(dtype=float)
        return frame

    def __str__(self) -> str:
        fit = next(iter(self.fits.values()))
        head = (
            f"Measurement invariance: {len(self.fits)} steps, estimator "
            f"{fit.options.estimator.value}, groups "
            f"{', '.join(map(str, fit.table.group_labels))}"
        )
        shown = ["npar", "chisq", "df", "cfi", "rmsea", "srmr", "chisq_diff", "df_diff",
                 "pvalue_diff", "delta_cfi", "delta_rmsea", "delta_srmr"]  # fmt: skip
        table = self.table
        shown = [c for c in shown if c in table.columns]
        body = table[shown].to_string(float_format=lambda v: f"{v:.4f}", na_rep="")
        return f"{head}\n\n{body}\n"

    def __repr__(self) -> str:
        return f"<semlang InvarianceResult: {', '.join(self.steps)}>"


def _have(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def _checked_steps(steps: Sequence[str]) -> list[str]:
    if isinstance(steps, str):
        steps = [steps]
    names = [str(s).strip().lower() for s in steps]
    unknown = [s for s in names if s not in STEPS]
    if unknown or len(names) < 1:
        raise OptionError(
            f"unknown invariance step(s): {', '.join(map(repr, unknown))}" if unknown
            else "no invariance steps given",
            hint=f"choose among {', '.join(STEPS)}",
        )  # fmt: skip
    order = list(STEPS)
    if [order.index(s) for s in names] != sorted({order.index(s) for s in names}):
        raise OptionError(
            f"the steps must each be given once, from the least to the most constrained: {names}",
            hint="e.g. steps=('configural', 'metric', 'scalar', 'strict')",
        )
    return names


def invariance(
    model: str,
    data: Any,
    group: str,
    steps: Sequence[str] = ("configural", "metric", "scalar", "strict"),
    estimator: str = "ML",
    group_partial: Sequence[str] = (),
    **options: Any,
) -> InvarianceResult:
    """Fit ``model`` (a CFA) in every group of ``group`` at each invariance step and compare
    the steps: χ² difference tests and changes in the fit measures (semTools' ``compareFit``).
    ``group_partial`` (lavaan's ``group.partial``, e.g. ``["visual =~ x2", "x3 ~ 1"]``) is
    given to every step: those parameters stay free in each group wherever the step's
    equalities would tie them, as semTools' ``measurementInvariance`` does. ``options`` are
    those of ``semlang.cfa`` (``group_equal`` is set by the steps), e.g. ``missing="fiml"``."""
    from semlang.api import cfa
    from semlang.results.compare import lrt

    if not isinstance(group, str) or not group:
        raise OptionError("invariance() needs the group variable's name", hint="group='school'")
    if "group_equal" in options:
        raise OptionError(
            "invariance() sets group_equal by its steps",
            hint="drop group_equal; choose the steps with steps=(...)",
        )
    names = _checked_steps(steps)
    partial = [group_partial] if isinstance(group_partial, str) else list(group_partial)
    fits = {
        step: cfa(model, data, group=group, group_equal=list(STEPS[step]), estimator=estimator,
                  group_partial=partial, **options)
        for step in names
    }  # fmt: skip
    tests = lrt(*fits.values(), names=names) if len(fits) > 1 else pd.DataFrame()
    return InvarianceResult(fits, tests, _deltas(fits))


def _deltas(fits: dict[str, Any]) -> pd.DataFrame:
    measures = [f.fit_measures() for f in fits.values()]
    keys = [k for k in DELTAS if all(_have(m.get(k)) for m in measures)]
    steps = list(fits)
    rows = [{k: later[k] - earlier[k] for k in keys}
            for earlier, later in itertools.pairwise(measures)]  # fmt: skip
    index = [f"{b} - {a}" for a, b in itertools.pairwise(steps)]
    return pd.DataFrame(rows, index=pd.Index(index, name="comparison"), columns=keys)
