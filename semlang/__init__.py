"""semlang: a structural equation modeling language and compiler."""

from semlang import datasets
from semlang.api import cfa, compile_model, fit, growth, parameter_table, sem
from semlang.errors import (
    DataError,
    EstimationError,
    ModelError,
    ModelSpecificationError,
    ModelSyntaxError,
    NotSupportedError,
    OptionError,
    SemlangError,
    SemlangWarning,
)

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "EstimationError",
    "ModelError",
    "ModelSpecificationError",
    "ModelSyntaxError",
    "NotSupportedError",
    "OptionError",
    "SemlangError",
    "SemlangWarning",
    "__version__",
    "cfa",
    "compile_model",
    "datasets",
    "fit",
    "growth",
    "parameter_table",
    "sem",
]
