"""Micro-macro models: a group-level outcome predicted from individual-level measurements.

Two-step tools built on numpy alone: the group-level OLS regression (with White's correction),
Croon & van Veldhoven's adjusted group means, and the simulation design of their study.
"""

from semlang.micromacro.adjusted_means import (
    VarianceComponents,
    adjusted_means,
    blup_group_means,
    variance_components_anova,
)
from semlang.micromacro.generate import MicroMacroSample, generate_micro_macro
from semlang.micromacro.ols import OLSResult, ols

__all__ = [
    "MicroMacroSample",
    "OLSResult",
    "VarianceComponents",
    "adjusted_means",
    "blup_group_means",
    "generate_micro_macro",
    "ols",
    "variance_components_anova",
]
