"""Declaring ordered-categorical data: ``ordered=``, ``parameterization=`` and the data's levels.

Input: the user's ``ordered`` (names, or True for every observed endogenous variable; pandas
ordered ``Categorical`` columns count as ordered too), the parsed model and the data frame.
Output: model options with ``ordered`` as a tuple of names and ``thresholds`` (each ordered
variable's number of thresholds: its categories less one), the frame with ordered columns as
integer codes 1..K, and lavaan's estimator default (WLSMV) and refusals (ML, an ordered
exogenous covariate, a name that is not in the model).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from semlang.errors import DataError, OptionError
from semlang.options import Missing
from semlang.records import dataclass

PARAMETERIZATIONS = ("delta", "theta")
# lavaan's estimators for ordered data (least squares; ML is refused, as lavaan's sem())
CATEGORICAL_ESTIMATORS = ("WLSMV", "DWLS", "WLS", "ULS", "ULSMV", "WLSM", "WLSMVS", "ULSM",
                          "ULSMVS")  # fmt: skip


def convert_option(name: str, value: Any) -> Any:
    """``ordered``: True, False/None, a name or a list of names; ``parameterization``."""
    if name == "parameterization":
        text = str(value).lower()
        if text not in PARAMETERIZATIONS:
            raise OptionError(f"option 'parameterization' cannot be {value!r}; choose 'delta' "
                              "or 'theta'")  # fmt: skip
        return text
    if value is True:
        return True
    if value is None or value is False:
        return ()
    items = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(item, str) for item in items):
        raise OptionError(f"option 'ordered' takes column names or True, not {value!r}",
                          hint="ordered=['x1', 'x2'] or ordered=True")  # fmt: skip
    return tuple(dict.fromkeys(items))


def is_categorical(options) -> bool:
    """True when the model has ordered variables (after :func:`resolve_ordered`)."""
    return bool(options.thresholds)


def resolve_ordered(options, frame: pd.DataFrame, roles, model_names: set[str]):
    """(options with ordered names and threshold counts, frame with integer codes).

    ``roles``: the variable roles of the model (observed, exogenous covariates); ``model_names``
    every name the model mentions."""
    given = options.ordered
    from_pandas = [c for c in frame.columns if _is_ordered_categorical(frame[c])]
    if given is True:
        names = [v for v in roles.observed if v not in roles.observed_x]
    else:
        names = list(given)
    for name in names:
        if name not in frame.columns:
            raise DataError(f"ordered= names {name!r}, which is not a column of the data",
                            hint=_close(name, list(frame.columns)))  # fmt: skip
        if name not in roles.observed:
            raise OptionError(
                f"ordered= names {name!r}, which is not an observed variable of the model",
                hint=_close(name, sorted(roles.observed)) or "name the model's observed variables",
            )
    names += [c for c in from_pandas if c in roles.observed and c not in names]
    if not names:
        return options, frame
    bad = [v for v in names if v in roles.observed_x]
    if bad:
        raise OptionError(
            f"the exogenous covariate {bad[0]!r} is declared ordered; lavaan treats exogenous "
            "covariates as fixed numbers, never as ordered-categorical",
            hint=f"drop {bad[0]!r} from ordered= (it enters as a numeric covariate, e.g. coded "
            "0/1 for a dummy), or make it an outcome of the model",
        )
    if roles.observed_x and not options.fixed_x_given:  # lavaan: fixed.x with ordered data
        options = replace(options, fixed_x=True, fixed_x_given=True)
    frame = frame.copy()
    counts = []
    order = [v for v in roles.observed if v in names]
    for name in order:
        frame[name], levels = _codes(frame[name], name)
        counts.append((name, levels - 1))
    return replace(options, ordered=tuple(order), thresholds=tuple(counts)), frame


def _is_ordered_categorical(column: pd.Series) -> bool:
    return isinstance(column.dtype, pd.CategoricalDtype) and bool(column.dtype.ordered)


def _codes(column: pd.Series, name: str) -> tuple[pd.Series, int]:
    """Integer codes 1..K of an ordered column and K (the rules of
    :func:`semlang.categorical.coding.code_column`: observed values in increasing order, or an
    ordered Categorical's order; text, fractions, one or more than 100 categories refused)."""
    from semlang.categorical.coding import code_column

    codes, levels = code_column(name, column)
    return pd.Series(codes + 1.0, index=column.index), len(levels)


def check_group_categories(frame: pd.DataFrame, options) -> None:
    """lavaan needs the same categories in every group: a category of an ordered variable that
    is empty in one group is refused (as is a variable with one category in a group)."""
    if options.group is None or not options.thresholds:
        return
    groups = frame[options.group]
    for name, count in options.thresholds:
        for label, values in frame[name].groupby(groups, sort=False):
            observed = values.dropna().astype(int)
            counts = np.bincount(observed - 1, minlength=count + 1)
            if (counts > 0).sum() < 2:
                raise DataError(f"ordered variable {name!r} has only one observed category in "
                                f"group {label}", hint="leave the variable out")  # fmt: skip
            if (counts == 0).any():
                empty = ", ".join(str(k + 1) for k in np.flatnonzero(counts == 0))
                raise DataError(
                    f"category {empty} of ordered variable {name!r} is empty in group {label} "
                    f"(frequencies {' '.join(map(str, counts))})",
                    hint="merge it with a neighbouring category in every group, as lavaan "
                    "requires the same categories in each group",
                )


def _close(name: str, names: list[str]) -> str | None:
    import difflib

    close = difflib.get_close_matches(name, [str(n) for n in names], n=1)
    return f"did you mean {close[0]!r}?" if close else None


def default_estimator(fit_options: dict, ordered: bool) -> dict:
    """WLSMV when the data are ordered and no estimator is given; ML refused with ordered data."""
    if not ordered:
        return fit_options
    estimator = fit_options.get("estimator")
    if estimator is None:
        return {**fit_options, "estimator": "WLSMV"}
    if str(estimator).upper() not in CATEGORICAL_ESTIMATORS:
        raise OptionError(
            f"estimator={estimator!r} is not available for ordered-categorical data (lavaan "
            "0.6.14's sem() has no ML for ordered data)",
            hint="use estimator='WLSMV' (the default for ordered data), 'DWLS', 'WLS' or "
            "'ULSMV', or drop ordered= to treat the items as continuous",
        )
    return fit_options


def prepare_categorical(options, frame: pd.DataFrame, parsed, fit_options: dict):
    """(model options, frame, fit options) of a fit: ``ordered`` resolved against the model and
    the data, and the estimator's default for ordered data."""
    if not options.ordered and not any(_is_ordered_categorical(frame[c]) for c in frame.columns):
        if options.missing is Missing.PAIRWISE:
            raise OptionError(
                "missing='pairwise' is available for ordered-categorical data only",
                hint="use missing='fiml' (or listwise) for continuous data",
            )
        return options, frame, fit_options
    from semlang.partable.user_rows import collect
    from semlang.partable.vnames import classify

    rows = [r for level_rows in collect(parsed).rows_by_level.values() for r in level_rows]
    found = classify(rows)
    roles = _Roles(observed=found.observed, observed_x=found.observed_x)
    options, frame = resolve_ordered(options, frame, roles, set(roles.observed))
    check_group_categories(frame, options)
    if options.missing.is_fiml and options.thresholds:
        raise OptionError(f"missing={options.missing.value!r} is not available for "
                          "ordered-categorical data (lavaan fits them by WLSMV and kin)",
                          hint="use missing='pairwise' or 'listwise'")  # fmt: skip
    return options, frame, default_estimator(fit_options, bool(options.thresholds))


@dataclass(frozen=True)
class _Roles:
    observed: tuple[str, ...]
    observed_x: tuple[str, ...]


_SE = ("standard", "robust.sem", "none")
_TESTS = ("standard", "satorra.bentler", "scaled.shifted", "mean.var.adjusted", "none")


def categorical_refusal(options) -> tuple[str, str, str] | None:
    """(option, why, hint) for a fit option that ordered data do not have (yet), else None."""
    if options.se.value not in _SE:
        return (f"se={options.se.value!r}", "is not available for ordered-categorical data yet",
                "use se='robust.sem' (the default of WLSMV) or 'standard'")  # fmt: skip
    bad = [t.value for t in options.test if t.value not in _TESTS]
    if bad:
        return (f"test={bad[0]!r}", "is not available for ordered-categorical data yet",
                "use test='scaled.shifted' (WLSMV's), 'mean.var.adjusted' or "
                "'satorra.bentler'")  # fmt: skip
    if options.information.value != "expected":
        return (f"information={options.information.value!r}", "is not available for "
                "ordered-categorical data yet", "use information='expected'")  # fmt: skip
    return None


def refuse_without_data(options) -> None:
    """``ordered=`` needs the data (each variable's categories make its thresholds)."""
    if options.ordered:
        raise OptionError(
            "ordered= needs the data: the number of thresholds of each ordered variable is its "
            "number of categories less one",
            hint="fit in one step: semlang.sem(model, data, ordered=[...])",
        )
