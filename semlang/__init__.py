"""semlang: a structural equation modeling language and compiler."""

from semlang import datasets
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
    "datasets",
]
