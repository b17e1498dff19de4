"""Options of a fit: lavaan's names in snake_case at the edge, enums inside.

Input: keyword arguments of ``semlang.cfa/sem/growth`` (or CLI flags). Output: a frozen
:class:`Options`. Unknown names and bad values raise :class:`~semlang.errors.OptionError` with the
closest valid name.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from semlang.errors import OptionError


class ModelType(Enum):
    """Which lavaan function's defaults apply."""

    CFA = "cfa"
    SEM = "sem"
    GROWTH = "growth"


class Missing(Enum):
    LISTWISE = "listwise"
    FIML = "fiml"


class Estimator(Enum):
    ML = "ML"
    MLR = "MLR"


class Information(Enum):
    EXPECTED = "expected"
    OBSERVED = "observed"


class StandardErrors(Enum):
    STANDARD = "standard"
    ROBUST = "robust.huber.white"
    BOOTSTRAP = "bootstrap"
    NONE = "none"


GROUP_EQUAL_WORDS = (
    "loadings",
    "intercepts",
    "means",
    "residuals",
    "residual.covariances",
    "lv.variances",
    "lv.covariances",
    "regressions",
)


@dataclass(frozen=True)
class Options:
    """Every option of a fit, with lavaan's defaults for the model type."""

    model_type: ModelType = ModelType.SEM
    std_lv: bool = False
    auto_fix_first: bool = True
    auto_fix_single: bool = True
    auto_var: bool = True
    auto_cov_lv_x: bool = True
    auto_cov_y: bool = True
    meanstructure: bool | None = None  # None: decided by the model and data (lavaan's "default")
    int_ov_free: bool = True
    int_lv_free: bool = False
    fixed_x: bool = True
    orthogonal: bool = False
    group: str | None = None
    group_equal: tuple[str, ...] = ()
    group_partial: tuple[str, ...] = ()
    cluster: str | None = None
    missing: Missing = Missing.LISTWISE
    estimator: Estimator = Estimator.ML
    information: Information | None = None  # None: expected (observed: FIML, cluster=; lavaan)
    se: StandardErrors | None = None  # None: standard (robust for MLR)
    bootstrap: int = 1000
    seed: int | None = None
    executor: Any = field(default=None, compare=False)
    progress: bool | None = None
    start: str = "default"  # lavaan's option; only "default" (a row's own: start(v)* in the model)
    max_iterations: int = 10000

    @property
    def effective_information(self) -> Information:
        if self.information is not None:
            return self.information
        observed = (
            self.missing is Missing.FIML
            or self.cluster is not None
            or self.effective_se is StandardErrors.ROBUST
        )  # as lavaan
        return Information.OBSERVED if observed else Information.EXPECTED

    @property
    def effective_se(self) -> StandardErrors:
        if self.se is not None:
            return self.se
        return StandardErrors.ROBUST if self.estimator is Estimator.MLR else StandardErrors.STANDARD


_ENUM_OPTIONS: dict[str, type[Enum]] = {
    "missing": Missing,
    "estimator": Estimator,
    "information": Information,
    "se": StandardErrors,
    "model_type": ModelType,
}
_ENUM_ALIASES = {
    "missing": {"ml": "fiml", "direct": "fiml", "listwise": "listwise", "fiml": "fiml"},
    "estimator": {"ml": "ML", "mlr": "MLR"},
    "se": {"robust": "robust.huber.white", "standard": "standard", "boot": "bootstrap"},
}
_BOOL_OPTIONS = {
    "std_lv",
    "auto_fix_first",
    "auto_fix_single",
    "auto_var",
    "auto_cov_lv_x",
    "auto_cov_y",
    "int_ov_free",
    "int_lv_free",
    "fixed_x",
    "orthogonal",
}


def make_options(model_type: str | ModelType = "sem", **kwargs: Any) -> Options:
    """Options for ``model_type`` ('cfa', 'sem' or 'growth') with the user's overrides."""
    kind = _enum_value("model_type", model_type)
    base = Options(model_type=kind)
    if kind is ModelType.GROWTH:
        base = replace(base, meanstructure=True, int_ov_free=False, int_lv_free=True)
    values: dict[str, Any] = {}
    for raw_name, value in kwargs.items():
        name = raw_name.replace(".", "_")
        if name not in Options.__dataclass_fields__ or name == "model_type":
            raise OptionError(f"unknown option {raw_name!r}", hint=_suggest(name))
        values[name] = _convert(name, value)
    if "std_lv" in values and "auto_fix_first" not in values:
        values["auto_fix_first"] = not values["std_lv"]
    return replace(base, **values)


def _convert(name: str, value: Any) -> Any:
    if name in _ENUM_OPTIONS:
        return None if value is None else _enum_value(name, value)
    if name in _BOOL_OPTIONS:
        if not isinstance(value, bool):
            raise OptionError(f"option {name!r} must be True or False, not {value!r}")
        return value
    if name == "meanstructure":
        if value not in (None, True, False, "default"):
            raise OptionError(f"option 'meanstructure' must be True, False or None, not {value!r}")
        return None if value == "default" else value
    if name in ("group_equal", "group_partial"):
        return _string_tuple(name, value)
    if name in ("group", "cluster"):
        if value is not None and not isinstance(value, str):
            raise OptionError(f"option {name!r} must be a column name, not {value!r}")
        return value
    if name == "start":
        if value != "default":
            raise OptionError(
                f"option 'start' can only be 'default', not {value!r}",
                hint="give a parameter its start value in the model, e.g. start(0.5)*x2",
            )
        return value
    if name == "progress":
        if value is not None and not isinstance(value, bool):
            raise OptionError(f"option 'progress' must be True, False or None, not {value!r}")
        return value
    if name in ("bootstrap", "max_iterations"):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise OptionError(f"option {name!r} must be a positive whole number, not {value!r}")
        return value
    return value


def _string_tuple(name: str, value: Any) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value or ())
    if name == "group_equal":
        for item in items:
            if item not in GROUP_EQUAL_WORDS:
                close = difflib.get_close_matches(item, GROUP_EQUAL_WORDS, n=1)
                hint = f"did you mean {close[0]!r}?" if close else None
                words = ", ".join(GROUP_EQUAL_WORDS)
                raise OptionError(
                    f"unknown group_equal word {item!r}; choose from {words}",
                    hint=hint,
                )
    return tuple(str(item).replace(" ", "") for item in items)


def _enum_value(name: str, value: Any) -> Enum:
    cls = _ENUM_OPTIONS[name]
    if isinstance(value, cls):
        return value
    text = str(value)
    text = _ENUM_ALIASES.get(name, {}).get(text.lower(), text)
    for member in cls:
        if member.value.lower() == text.lower():
            return member
    allowed = ", ".join(repr(m.value) for m in cls)
    raise OptionError(f"option {name!r} cannot be {value!r}; choose one of {allowed}")


def _suggest(name: str) -> str | None:
    close = difflib.get_close_matches(name, list(Options.__dataclass_fields__), n=1)
    return f"did you mean {close[0]!r}?" if close else None
