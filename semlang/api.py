"""The public entry points: ``cfa``, ``sem``, ``growth``, and compile-once / fit-many.

Input: model text, data and options (lavaan's names in snake_case). Output: a
:class:`~semlang.results.fit.Fit`. Each call runs the stages in order — parse, parameter table,
compile, sample data, estimate — and only this module knows that order. The numeric part runs
with one BLAS thread unless the model is large (:mod:`semlang.blas`).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from semlang.blas import fit_size, limited
from semlang.compile.model import CompiledModel
from semlang.compile.model import compile_model as _compile
from semlang.errors import (
    ConvergenceWarning,
    EstimationError,
    HeywoodWarning,
    IdentificationError,
    NotPositiveDefiniteWarning,
    OptionError,
    SemlangWarning,
)
from semlang.esem import check_options as check_rotation
from semlang.esem import pop_rotation_options, rotated_result
from semlang.estimate.data import SampleData, as_frame, group_labels, prepare
from semlang.estimate.estimator import estimate
from semlang.estimate.families import check_supported, free_parameter_count, moments_count
from semlang.options import (
    FitOptions,
    StandardErrors,
    check_progress,
    default_fixed_x,
    make_fit_options,
    make_options,
    split_options,
)
from semlang.partable import ParameterTable, build_partable
from semlang.results.diagnostics import recording, warn_about_solution
from semlang.results.fit import Fit, RunSettings
from semlang.runner.progress import long_work
from semlang.syntax.ast import Op
from semlang.syntax.parser import parse

if TYPE_CHECKING:
    from semlang.estimate.twolevel_objective import TwoLevelSample


def sem(model: str, data: Any, **options: Any) -> Fit:
    """Fit a structural equation model with lavaan's ``sem()`` defaults."""
    return _fit_text("sem", model, data, options)


def cfa(model: str, data: Any, **options: Any) -> Fit:
    """Fit a confirmatory factor analysis with lavaan's ``cfa()`` defaults."""
    return _fit_text("cfa", model, data, options)


def growth(model: str, data: Any, **options: Any) -> Fit:
    """Fit a latent growth model with lavaan's ``growth()`` defaults (mean structure on)."""
    return _fit_text("growth", model, data, options)


def parameter_table(
    model: str, kind: str = "sem", ngroups: int = 1, name: str = "<model>", **options: Any
) -> ParameterTable:
    """The parameter table of a model (no data needed)."""
    opts = make_options(kind, **options)
    from semlang.estimate.categorical_options import refuse_without_data

    refuse_without_data(opts)
    return build_partable(parse(model, name), opts, ngroups=ngroups)


def compile_model(
    model: str,
    kind: str = "sem",
    *,
    group_labels: tuple[str, ...] | None = None,
    name: str = "<model>",
    **options: Any,
) -> CompiledModel:
    """Parse and compile once; fit it to any number of data sets with :func:`fit`."""
    opts = make_options(kind, **options)
    from semlang.estimate.categorical_options import refuse_without_data

    refuse_without_data(opts)
    labels = tuple(group_labels or ())
    if labels and opts.group is None:
        raise OptionError(
            "group_labels= needs group=, the column of the data that holds the groups",
            hint=f"compile_model(model, group='school', group_labels={labels!r})",
        )
    if opts.group is not None and not labels:
        raise OptionError(
            "a model compiled with group= needs group_labels=, the groups it will be fitted to",
            hint=f"compile_model(model, group={opts.group!r}, group_labels=('a', 'b'))",
        )
    table = build_partable(
        parse(model, name), opts, ngroups=max(len(labels), 1), group_labels=labels or None
    )
    _check_degrees_of_freedom(table)
    return _compile(table)


def fit(compiled: CompiledModel, data: Any, **options: Any) -> Fit:
    """Fit a compiled model to one data set (no parsing or differentiation again).

    ``options`` are the fit's: estimator, likelihood, se, test, information, bootstrap, seed,
    max_iterations, and the run-time executor and progress. One compiled model can be fitted
    under any estimator.
    """
    if not isinstance(compiled, CompiledModel):
        raise OptionError(
            f"fit() takes a compiled model, not a {type(compiled).__name__}",
            hint="compiled = semlang.compile_model(text), then semlang.fit(compiled, data); "
            "or semlang.sem(text, data) in one step",
        )
    rotation = pop_rotation_options(options)
    model_options, fit_options, run = split_options(options)
    if model_options:
        name = next(iter(model_options))
        raise OptionError(
            f"{name!r} shapes the model: give it to compile_model(), not fit()",
            hint=f"semlang.compile_model(text, {name}=...)",
        )
    table = compiled.table
    resolved = make_fit_options(table.options, table.nlevels, **fit_options)
    check_rotation(rotation)
    return _fit_compiled(compiled, as_frame(data), resolved, {**run, "rotation": rotation})


@limited(lambda compiled, frame, options, run: fit_size(compiled, options))
def _fit_compiled(compiled: CompiledModel, frame, options: FitOptions, run: dict) -> Fit:
    table = compiled.table
    _check_fixed_x(table, options)
    settings = RunSettings(run.get("executor"), check_progress(run.get("progress")))
    check_supported(table, options)
    messages: list[str] = []
    sample: SampleData | TwoLevelSample
    # messages kept on the fit (JSON output), and shown as always; a clock if it takes long
    with recording(messages), long_work("fitting the model", settings.progress):
        if table.nlevels > 1:
            from semlang.estimate.twolevel_objective import prepare_twolevel

            sample = prepare_twolevel(frame, table, table.options)
        else:
            sample = prepare(frame, table, table.options)
        estimation = estimate(compiled, sample, options)
        if not np.isfinite(estimation.optimization.value):
            raise EstimationError(
                "the model-implied covariance matrix is not positive definite at the starting "
                "values, and no step made it so",
                hint="check the fixed values (a negative or zero variance?) or give start "
                "values, e.g. start(1)*x1",
            )
        fit_class = getattr(estimation.family, "fit_class", Fit)  # categorical: its own
        result = fit_class(compiled, sample, options, estimation, settings, messages)
        _warn_about(result)
        warn_about_solution(result)
        result = rotated_result(result, run.get("rotation") or {})  # models with efa blocks
    return result


def _fit_text(kind: str, model: str, data: Any, options: dict[str, Any]) -> Fit:
    rotation = pop_rotation_options(options)
    model_options, fit_options, run = split_options(options)
    opts = make_options(kind, **model_options)
    frame = as_frame(data)
    parsed = parse(model)
    from semlang.estimate.categorical_options import prepare_categorical

    opts, frame, fit_options = prepare_categorical(opts, frame, parsed, fit_options)
    opts = default_fixed_x(opts, fit_options.get("estimator"))
    labels = group_labels(frame, opts.group)
    table = build_partable(parsed, opts, ngroups=max(len(labels), 1), group_labels=labels or None)
    resolved = make_fit_options(opts, table.nlevels, **fit_options)  # mistakes before compiling
    check_rotation(rotation)
    _check_degrees_of_freedom(table)
    return _fit_compiled(_compile(table), frame, resolved, {**run, "rotation": rotation})


def _check_fixed_x(table: ParameterTable, options) -> None:
    """A model compiled with the default fixed_x (True) fitted by a least-squares estimator:
    lavaan would free the covariates' moments (its fixed.x default for these estimators)."""
    if options.estimator.is_likelihood or table.options.fixed_x_given or not table.options.fixed_x:
        return
    if any(block.observed_exogenous for block in table.blocks):
        raise OptionError(
            f"estimator={options.estimator.value!r} takes fixed_x=False by default (as lavaan), "
            "but the model was compiled with the default fixed_x=True",
            hint="compile_model(text, fixed_x=False), or fixed_x=True to keep the covariates' "
            "moments fixed at their sample values",
        )


def _check_degrees_of_freedom(table: ParameterTable) -> None:
    """df < 0 is an error before any fitting (moments as lavaan counts them)."""
    moments, npar = moments_count(table), free_parameter_count(table)
    if npar > moments:
        raise IdentificationError(
            f"the model has {npar} free parameters but the data give only {moments} moments "
            f"(df = {moments - npar} < 0): it is not identified",
            table.source,
            None,
            hint="fix or equate parameters (e.g. scale each latent variable) until df >= 0",
        )


def _warn_about(result: Fit) -> None:
    optimization = result.estimation.optimization
    if not optimization.converged:
        n = optimization.iterations
        warnings.warn(
            f"the optimizer did not converge after {n} iteration{'s' if n != 1 else ''} "
            f"({optimization.message}; largest gradient {optimization.gradient_norm:.2g}); "
            "the estimates are not trustworthy",
            ConvergenceWarning,
            stacklevel=3,
        )
    if result.converged and result.options.se is StandardErrors.STANDARD:
        result.information_vcov_phi  # noqa: B018 (warns when the information is singular)
    negative = [
        row.name for row in result.table.parameters
        if row.op is Op.COVARIANCE and row.lhs == row.rhs and row.is_free
        and result.theta[row.free - 1] < 0
    ]  # fmt: skip
    if negative:
        warnings.warn(
            "negative variance estimates (Heywood cases): " + ", ".join(negative),
            HeywoodWarning,
            stacklevel=3,
        )
    _warn_about_definitions(result)
    for layout, moments in zip(result.model.layouts, result.implied, strict=True):
        latent = np.arange(layout.n_observed, layout.n)
        psi = moments.total_cov[np.ix_(latent, latent)]
        if latent.size and np.linalg.eigvalsh(psi)[0] < -1e-10:
            warnings.warn(
                "the covariance matrix of the latent variables is not positive definite"
                + (f" (group {layout.group})" if len(result.model.layouts) > 1 else ""),
                NotPositiveDefiniteWarning,
                stacklevel=3,
            )


def _warn_about_definitions(result: Fit) -> None:
    """A warning naming the ``:=`` parameters that are NaN or infinite at the estimates."""
    space = result.model.space
    if not len(space.definitions):
        return
    with np.errstate(all="ignore"):
        values = space.definitions.value(result.theta)
    bad = [
        f"{name} = {value:g}"
        for name, value in zip(space.definition_names, values, strict=True)
        if not np.isfinite(value)
    ]
    if bad:
        warnings.warn(
            "defined parameters without a finite value at the estimates: "
            + ", ".join(bad)
            + " (e.g. the log or square root of a negative number, or an overflowing exp)",
            SemlangWarning,
            stacklevel=4,
        )
