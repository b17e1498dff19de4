"""Options: lavaan's names in snake_case at the edge, enums inside.

Two kinds, kept apart (lavaan mixes them in one list):

* :class:`ModelOptions` shape the parameter table (std_lv, auto_*, meanstructure, fixed_x,
  groups and their equalities, cluster/levels, missing); a compiled model holds them.
* :class:`FitOptions` shape only the fit (estimator, likelihood, se, test, information,
  bootstrap, seed, iteration limit); they are given when fitting, so one compiled model can be
  fitted under any estimator. Their lavaan defaults depend on the estimator and the missing-data
  setting and are resolved once, here (:func:`make_fit_options`), into concrete values.

Live objects (an executor, a progress display) are neither: they are run-time arguments and never
travel inside a compiled model, a fit's options or a task sent to a worker.

Unknown names and bad values raise :class:`~semlang.errors.OptionError` with the closest valid
name.
"""

from __future__ import annotations

from dataclasses import fields, replace
from enum import Enum
from typing import Any

from semlang.errors import OptionError
from semlang.records import dataclass


class ModelType(Enum):
    """Which lavaan function's defaults apply."""

    CFA = "cfa"
    SEM = "sem"
    GROWTH = "growth"


class Missing(Enum):
    LISTWISE = "listwise"
    FIML = "fiml"
    FIML_X = "ml.x"  # FIML, and rows with missing exogenous covariates kept (lavaan's "ml.x")
    PAIRWISE = "pairwise"  # ordered-categorical data: each statistic from the rows that have it

    @property
    def is_fiml(self) -> bool:
        return self in (Missing.FIML, Missing.FIML_X)


class Estimator(Enum):
    ML = "ML"
    MLM = "MLM"
    MLMV = "MLMV"
    MLMVS = "MLMVS"
    MLF = "MLF"
    MLR = "MLR"
    GLS = "GLS"
    WLS = "WLS"
    DWLS = "DWLS"
    ULS = "ULS"
    # lavaan's robust least squares for continuous data: ULS or DWLS with robust.sem standard
    # errors and a scaled test (M: satorra.bentler, MV: scaled.shifted, MVS: mean.var.adjusted)
    ULSM = "ULSM"
    ULSMV = "ULSMV"
    ULSMVS = "ULSMVS"
    WLSM = "WLSM"
    WLSMV = "WLSMV"
    WLSMVS = "WLSMVS"

    @property
    def is_likelihood(self) -> bool:
        """ML and its robust variants (one discrepancy, different standard errors and tests)."""
        return self.value.startswith("ML")


class Likelihood(Enum):
    NORMAL = "normal"
    WISHART = "wishart"


class Information(Enum):
    EXPECTED = "expected"
    OBSERVED = "observed"


class StandardErrors(Enum):
    STANDARD = "standard"
    ROBUST_SEM = "robust.sem"
    ROBUST_HUBER_WHITE = "robust.huber.white"
    ROBUST_CLUSTER = "robust.cluster"  # Huber-White with the scores summed within clusters
    ROBUST_CLUSTER_SEM = "robust.cluster.sem"  # robust.sem with the clusters' Γ
    FIRST_ORDER = "first.order"
    BOOTSTRAP = "bootstrap"
    NONE = "none"

    @property
    def is_sandwich(self) -> bool:
        return self in (
            StandardErrors.ROBUST_SEM,
            StandardErrors.ROBUST_HUBER_WHITE,
            StandardErrors.ROBUST_CLUSTER,
            StandardErrors.ROBUST_CLUSTER_SEM,
        )


class Test(Enum):
    __test__ = False  # a test statistic's name, not a class of tests for pytest to collect

    STANDARD = "standard"
    SATORRA_BENTLER = "satorra.bentler"
    YUAN_BENTLER = "yuan.bentler"
    YUAN_BENTLER_MPLUS = "yuan.bentler.mplus"
    MEAN_VAR_ADJUSTED = "mean.var.adjusted"
    SCALED_SHIFTED = "scaled.shifted"
    BROWNE_RESIDUAL_ADF = "browne.residual.adf"
    BROWNE_RESIDUAL_NT = "browne.residual.nt"
    BROWNE_RESIDUAL_ADF_MODEL = "browne.residual.adf.model"
    BROWNE_RESIDUAL_NT_MODEL = "browne.residual.nt.model"
    BOLLEN_STINE = "bollen.stine"
    NONE = "none"

    @property
    def is_scaled(self) -> bool:
        """A scaled (robust) version of the standard statistic."""
        return self in (
            Test.SATORRA_BENTLER,
            Test.YUAN_BENTLER,
            Test.YUAN_BENTLER_MPLUS,
            Test.MEAN_VAR_ADJUSTED,
            Test.SCALED_SHIFTED,
        )


# lavaan 0.6.14's defaults per estimator (continuous data): standard errors, test, information
ESTIMATOR_DEFAULTS: dict[Estimator, tuple[StandardErrors, Test, Information]] = {
    Estimator.ML: (StandardErrors.STANDARD, Test.STANDARD, Information.EXPECTED),
    Estimator.MLM: (StandardErrors.ROBUST_SEM, Test.SATORRA_BENTLER, Information.EXPECTED),
    Estimator.MLMV: (StandardErrors.ROBUST_SEM, Test.SCALED_SHIFTED, Information.EXPECTED),
    Estimator.MLMVS: (StandardErrors.ROBUST_SEM, Test.MEAN_VAR_ADJUSTED, Information.EXPECTED),
    Estimator.MLF: (StandardErrors.FIRST_ORDER, Test.STANDARD, Information.EXPECTED),
    Estimator.MLR: (
        StandardErrors.ROBUST_HUBER_WHITE,
        Test.YUAN_BENTLER_MPLUS,
        Information.OBSERVED,
    ),
    Estimator.GLS: (StandardErrors.STANDARD, Test.STANDARD, Information.EXPECTED),
    Estimator.WLS: (StandardErrors.STANDARD, Test.STANDARD, Information.EXPECTED),
    Estimator.DWLS: (StandardErrors.STANDARD, Test.STANDARD, Information.EXPECTED),
    Estimator.ULS: (StandardErrors.STANDARD, Test.STANDARD, Information.EXPECTED),
    Estimator.ULSM: (StandardErrors.ROBUST_SEM, Test.SATORRA_BENTLER, Information.EXPECTED),
    Estimator.ULSMV: (StandardErrors.ROBUST_SEM, Test.SCALED_SHIFTED, Information.EXPECTED),
    Estimator.ULSMVS: (StandardErrors.ROBUST_SEM, Test.MEAN_VAR_ADJUSTED, Information.EXPECTED),
    Estimator.WLSM: (StandardErrors.ROBUST_SEM, Test.SATORRA_BENTLER, Information.EXPECTED),
    Estimator.WLSMV: (StandardErrors.ROBUST_SEM, Test.SCALED_SHIFTED, Information.EXPECTED),
    Estimator.WLSMVS: (StandardErrors.ROBUST_SEM, Test.MEAN_VAR_ADJUSTED, Information.EXPECTED),
}

GROUP_EQUAL_WORDS = (
    "loadings",
    "intercepts",
    "means",
    "residuals",
    "residual.covariances",
    "lv.variances",
    "lv.covariances",
    "regressions",
    "thresholds",
)


@dataclass(frozen=True)
class ModelOptions:
    """The options that shape the parameter table, with lavaan's defaults for the model type."""

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
    start: str = "default"  # lavaan's option; only "default" (a row's own: start(v)* in the model)
    # fixed_x was given by the user; if not, a least-squares estimator makes it False (lavaan's
    # fixed.x = "default": TRUE for ML and its robust variants, FALSE for GLS, WLS, DWLS, ULS)
    fixed_x_given: bool = False
    # ordered-categorical variables: the names given (True: every observed endogenous variable)
    ordered: tuple[str, ...] | bool = ()
    parameterization: str = "delta"  # or "theta" (categorical models)
    # (name, number of thresholds) of each ordered variable, found in the data by the fit
    thresholds: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class FitOptions:
    """The options of one fit, resolved to concrete values (lavaan's defaults applied)."""

    estimator: Estimator = Estimator.ML
    likelihood: Likelihood = Likelihood.NORMAL
    se: StandardErrors = StandardErrors.STANDARD
    test: tuple[Test, ...] = (Test.STANDARD,)
    information: Information = Information.EXPECTED
    bootstrap: int = 1000
    seed: int | None = None
    max_iterations: int = 10000
    starts: int = 0  # refits from random starting values that look for a better optimum
    se_given: bool = False  # the user chose se= (not the estimator's default)
    # the scaled test's observed information is the h1 one, Δᵀ A1(Σ̂, μ̂) Δ, not the Hessian
    # (lavaan's observed.information[2] = "h1"; ML with clusters and a scaled test)
    test_observed_h1: bool = False

    @property
    def scaled_test(self) -> Test | None:
        """The first scaled test asked for (its statistic fills the ``*_scaled`` measures)."""
        return next((t for t in self.test if t.is_scaled), None)


MODEL_OPTION_NAMES = frozenset(f.name for f in fields(ModelOptions)) - {
    "model_type",
    "fixed_x_given",
    "thresholds",
}
FIT_OPTION_NAMES = frozenset(
    ("estimator", "likelihood", "se", "test", "information", "bootstrap", "seed", "max_iterations")
) | {"starts"}
RUN_OPTION_NAMES = frozenset(("executor", "progress"))

_ENUMS: dict[str, type[Enum]] = {
    "missing": Missing,
    "estimator": Estimator,
    "likelihood": Likelihood,
    "information": Information,
    "se": StandardErrors,
    "test": Test,
    "model_type": ModelType,
}
# fmt: off
_ALIASES = {
    "missing": {"ml": "fiml", "direct": "fiml", "fiml": "fiml", "listwise": "listwise",
                "ml.x": "ml.x", "fiml.x": "ml.x", "direct.x": "ml.x"},
    "estimator": {"adf": "WLS"},
    "se": {"boot": "bootstrap", "robust.mlr": "robust.huber.white",
           "robust.mlm": "robust.sem"},
    "test": {"sb": "satorra.bentler", "satorra-bentler": "satorra.bentler",
             "yb": "yuan.bentler", "mlr": "yuan.bentler.mplus", "mlm": "satorra.bentler",
             "mlmv": "scaled.shifted", "mlmvs": "mean.var.adjusted",
             "browne": "browne.residual.adf", "bollen-stine": "bollen.stine",
             "bootstrap": "bollen.stine", "boot": "bollen.stine"},
    "likelihood": {"default": "normal"},
}
# fmt: on
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


def split_options(options: dict[str, Any]) -> tuple[dict, dict, dict]:
    """(model, fit, run-time) options of a call, names in snake_case; unknown names refused."""
    model, fit, run = {}, {}, {}
    for raw_name, value in options.items():
        name = raw_name.replace(".", "_")
        if name in MODEL_OPTION_NAMES:
            model[name] = value
        elif name in FIT_OPTION_NAMES:
            fit[name] = value
        elif name in RUN_OPTION_NAMES:
            run[name] = value
        else:
            raise OptionError(f"unknown option {raw_name!r}", hint=_suggest(name))
    return model, fit, run


def make_options(model_type: str | ModelType = "sem", **kwargs: Any) -> ModelOptions:
    """Model options for ``model_type`` ('cfa', 'sem' or 'growth') with the user's overrides.

    Fit options (estimator, se, ...) are refused here: they belong to the fit.
    """
    kind = _enum_value("model_type", model_type)
    base = ModelOptions(model_type=kind)
    if kind is ModelType.GROWTH:
        base = replace(base, meanstructure=True, int_ov_free=False, int_lv_free=True)
    values: dict[str, Any] = {}
    for raw_name, value in kwargs.items():
        name = raw_name.replace(".", "_")
        if name in FIT_OPTION_NAMES or name in RUN_OPTION_NAMES:
            raise OptionError(
                f"{raw_name!r} is an option of the fit, not of the model",
                hint=f"semlang.fit(compiled, data, {name}=...)",
            )
        if name not in MODEL_OPTION_NAMES:
            raise OptionError(f"unknown option {raw_name!r}", hint=_suggest(name))
        values[name] = _convert(name, value)
    if "std_lv" in values and "auto_fix_first" not in values:
        values["auto_fix_first"] = not values["std_lv"]
    if "fixed_x" in values:
        values["fixed_x_given"] = True
    return replace(base, **values)


def default_fixed_x(model: ModelOptions, estimator: Any) -> ModelOptions:
    """lavaan's fixed.x = "default" for ``estimator``: True for ML and its robust variants,
    False for the least-squares estimators (their covariates' moments are then free
    parameters); a fixed_x the user gave is kept."""
    if model.fixed_x_given or estimator is None:
        return model
    if _enum_value("estimator", estimator).is_likelihood:
        return model
    return replace(model, fixed_x=False)


def make_fit_options(model: ModelOptions, nlevels: int = 1, **kwargs: Any) -> FitOptions:
    """Fit options with lavaan's defaults resolved for the estimator and the missing setting."""
    values: dict[str, Any] = {}
    for raw_name, value in kwargs.items():
        name = raw_name.replace(".", "_")
        if name not in FIT_OPTION_NAMES:
            raise OptionError(f"unknown option {raw_name!r}", hint=_suggest(name))
        values[name] = value
    estimator = _enum_value("estimator", values.get("estimator") or "ML")
    default_se, default_test, default_info = ESTIMATOR_DEFAULTS[estimator]
    se_word = values.get("se")
    information = values.get("information")
    if information is not None:
        information = _enum_value("information", information)
    test_h1 = False
    if model.cluster is not None and nlevels == 1:
        se, tests, information, test_h1 = _clustered(values, estimator, information)
    else:
        se = _resolve_se(se_word, estimator, model, default_se)
        tests = _tests(values.get("test"), default_test)
    if information is None:
        information = _default_information(estimator, se, model, nlevels, default_info)
    likelihood = _enum_value("likelihood", values.get("likelihood") or "normal")
    out = FitOptions(
        estimator=estimator,
        likelihood=likelihood,
        se=se,
        test=tests,
        information=information,
        bootstrap=_positive("bootstrap", values.get("bootstrap", 1000)),
        seed=_seed(values.get("seed")),
        max_iterations=_positive("max_iterations", values.get("max_iterations", 10000)),
        starts=_starts(values.get("starts", 0)),
        se_given=se_word is not None,
        test_observed_h1=test_h1,
    )
    if se is StandardErrors.BOOTSTRAP and out.bootstrap < 2:  # lavaan fails on one draw too
        raise OptionError(
            "se='bootstrap' needs at least 2 bootstrap draws for a standard error, not 1",
            hint="ask for many draws, e.g. bootstrap=1000 (lavaan's default); a percentile "
            "confidence interval needs hundreds",
        )
    from semlang.estimate.families import check_fit_options

    check_fit_options(model, out, nlevels)
    return out


def _clustered(values: dict, estimator: Estimator, information):
    """lavaan's (se, tests, information, test_observed_h1) for a single-level model with
    clusters: MLR means cluster-robust Huber-White standard errors and the Yuan-Bentler (Mplus)
    test, MLM cluster-robust robust.sem ones and the Satorra-Bentler test, whatever se= and test=
    say; ML defaults to MLR's choice and its scaled test then uses the h1 observed information."""
    tests: tuple[Test, ...]
    if estimator is Estimator.MLR:
        se, tests = StandardErrors.ROBUST_CLUSTER, (Test.STANDARD, Test.YUAN_BENTLER_MPLUS)
    elif estimator is Estimator.MLM:
        se, tests = StandardErrors.ROBUST_CLUSTER_SEM, (Test.STANDARD, Test.SATORRA_BENTLER)
    else:
        word = values.get("se")
        robust = word is None or (isinstance(word, str) and word.lower() == "robust")
        se = StandardErrors.ROBUST_CLUSTER if robust else _enum_value("se", word)
        given = values.get("test")  # lavaan: the Yuan-Bentler test only when none is asked for
        tests = _tests(given, Test.YUAN_BENTLER_MPLUS if given is None else Test.STANDARD)
    if information is None:
        huber = se is StandardErrors.ROBUST_CLUSTER and estimator in (Estimator.ML, Estimator.MLR)
        information = Information.OBSERVED if huber else Information.EXPECTED
    test_h1 = estimator is Estimator.ML and any(t.is_scaled for t in tests)
    return se, tests, information, test_h1


def _resolve_se(word, estimator: Estimator, model: ModelOptions, default) -> StandardErrors:
    """lavaan's meaning of se=: "robust" is robust.sem with complete data and ML-type estimators
    that are not MLR, robust.huber.white with MLR or missing data; None is the default."""
    if word is None:
        if model.missing.is_fiml and default is StandardErrors.ROBUST_SEM:
            return StandardErrors.ROBUST_HUBER_WHITE  # lavaan: MLM-type SEs need complete data
        return default
    if isinstance(word, str) and word.lower() == "robust":
        huber = estimator is Estimator.MLR or model.missing.is_fiml
        return StandardErrors.ROBUST_HUBER_WHITE if huber else StandardErrors.ROBUST_SEM
    return _enum_value("se", word)


def _default_information(estimator, se, model: ModelOptions, nlevels: int, default):
    """lavaan: observed with missing data, two levels and Huber-White SEs; else the
    estimator's."""
    if not estimator.is_likelihood:
        return default
    if model.missing.is_fiml or nlevels > 1 or se is StandardErrors.ROBUST_HUBER_WHITE:
        return Information.OBSERVED
    return default


def _tests(value: Any, default: Test) -> tuple[Test, ...]:
    if value is None:
        return (default,) if default is Test.STANDARD else (Test.STANDARD, default)
    items = [value] if isinstance(value, (str, Test)) else list(value)
    if not items:
        raise OptionError("option 'test' needs at least one test", hint="test='standard'")
    tests: list[Test] = []
    for item in items:
        test = _enum_value("test", item)
        if test not in tests:
            tests.append(test)
    if Test.NONE in tests and len(tests) > 1:
        raise OptionError("test='none' cannot be combined with other tests")
    if Test.NONE in tests:
        return tuple(tests)
    if Test.STANDARD not in tests:
        tests.insert(0, Test.STANDARD)  # lavaan always reports the standard test first
    if default is not Test.STANDARD and default not in tests:
        tests.insert(1, default)  # a robust estimator keeps its own test first (lavaan)
    return tuple(tests)


def _positive(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise OptionError(f"option {name!r} must be a positive whole number, not {value!r}")
    return value


def _starts(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise OptionError(
            f"option 'starts' must be a whole number >= 0, not {value!r}",
            hint="starts=10 refits from 10 random starting values (seed= makes them reproducible)",
        )
    return value


def _seed(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise OptionError(f"option 'seed' must be a whole number >= 0, not {value!r}")
    return value


def check_progress(value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise OptionError(f"option 'progress' must be True, False or None, not {value!r}")
    return value


def _convert(name: str, value: Any) -> Any:
    if name in _ENUMS:
        return Missing.LISTWISE if value is None else _enum_value(name, value)
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
    if name in ("ordered", "parameterization"):
        from semlang.estimate.categorical_options import convert_option

        return convert_option(name, value)
    if name == "start":
        if value != "default":
            raise OptionError(
                f"option 'start' can only be 'default', not {value!r}",
                hint="give a parameter its start value in the model, e.g. start(0.5)*x2",
            )
        return value
    return value


def _string_tuple(name: str, value: Any) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value or ())
    if name == "group_equal":
        for item in items:
            if item not in GROUP_EQUAL_WORDS:
                import difflib

                close = difflib.get_close_matches(item, GROUP_EQUAL_WORDS, n=1)
                hint = f"did you mean {close[0]!r}?" if close else None
                words = ", ".join(GROUP_EQUAL_WORDS)
                raise OptionError(
                    f"unknown group_equal word {item!r}; choose from {words}",
                    hint=hint,
                )
    return tuple(str(item).replace(" ", "") for item in items)


def _enum_value(name: str, value: Any) -> Any:
    cls = _ENUMS[name]
    if isinstance(value, cls):
        return value
    text = str(value)
    text = _ALIASES.get(name, {}).get(text.lower(), text)
    for member in cls:
        if member.value.lower() == text.lower():
            return member
    allowed = ", ".join(repr(m.value) for m in cls)
    import difflib

    close = difflib.get_close_matches(text, [m.value for m in cls], n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}?" if close else None
    raise OptionError(f"option {name!r} cannot be {value!r}; choose one of {allowed}", hint=hint)


def _suggest(name: str) -> str | None:
    names = sorted(MODEL_OPTION_NAMES | FIT_OPTION_NAMES | RUN_OPTION_NAMES)
    import difflib

    close = difflib.get_close_matches(name, names, n=1)
    return f"did you mean {close[0]!r}?" if close else None
