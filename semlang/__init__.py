"""semlang: a structural equation modeling language and compiler.

The public functions load on first use, so ``import semlang`` (and the command line) stays quick
and the command line can set numeric-library options before numpy is imported.
"""

import importlib
from typing import TYPE_CHECKING, Any

from semlang.errors import (
    ConvergenceWarning,
    DataError,
    DataWarning,
    EstimationError,
    HeywoodWarning,
    IdentificationError,
    IdentificationWarning,
    ImproperSolutionWarning,
    LocalOptimumWarning,
    ModelError,
    ModelSpecificationError,
    ModelSyntaxError,
    NotPositiveDefiniteWarning,
    NotSupportedError,
    OptionError,
    SemlangError,
    SemlangWarning,
    UnknownVariableError,
)

if TYPE_CHECKING:
    from semlang import datasets, efa, graph
    from semlang.api import cfa, compile_model, fit, growth, parameter_table, sem
    from semlang.categorical import polychoric
    from semlang.invariance import invariance
    from semlang.psychometrics import reliability
    from semlang.results.bootstrap_lavaan import bootstrap
    from semlang.results.compare import lrt
    from semlang.results.score_tests import score_test, wald
    from semlang.simulation import simulate
    from semlang.twostep import fsr
    from semlang.twostep.sam import sam

__version__ = "0.1.0"

_FUNCTIONS = {
    **{
        name: "semlang.api"
        for name in ("cfa", "compile_model", "fit", "growth", "parameter_table", "sem")
    },
    "bootstrap": "semlang.results.bootstrap_lavaan",
    "lrt": "semlang.results.compare",
    "polychoric": "semlang.categorical",
    "invariance": "semlang.invariance",
    "score_test": "semlang.results.score_tests",
    "wald": "semlang.results.score_tests",
    "fsr": "semlang.twostep",
    "sam": "semlang.twostep",
    "reliability": "semlang.psychometrics",
    "simulate": "semlang.simulation",
}
_MODULES = (
    "datasets", "graph", "data", "models", "micromacro", "psychometrics", "runner", "efa", "syntax",
)  # fmt: skip

__all__ = [
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "EstimationError",
    "HeywoodWarning",
    "IdentificationError",
    "IdentificationWarning",
    "ImproperSolutionWarning",
    "LocalOptimumWarning",
    "ModelError",
    "ModelSpecificationError",
    "ModelSyntaxError",
    "NotPositiveDefiniteWarning",
    "NotSupportedError",
    "OptionError",
    "SemlangError",
    "SemlangWarning",
    "UnknownVariableError",
    "__version__",
    "bootstrap",
    "cfa",
    "compile_model",
    "data",
    "datasets",
    "efa",
    "fit",
    "fsr",
    "graph",
    "growth",
    "invariance",
    "lrt",
    "micromacro",
    "models",
    "parameter_table",
    "polychoric",
    "psychometrics",
    "reliability",
    "runner",
    "sam",
    "score_test",
    "sem",
    "simulate",
    "wald",
]


def __getattr__(name: str) -> Any:
    if name in _FUNCTIONS:
        value = getattr(importlib.import_module(_FUNCTIONS[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(f"semlang.{name}")
    else:
        raise AttributeError(f"module 'semlang' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_FUNCTIONS) | set(_MODULES))
