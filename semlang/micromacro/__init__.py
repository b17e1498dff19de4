"""Micro-macro models: a group-level outcome predicted from individual-level measurements.

- :func:`micro_macro`: every method on long data (group means, Croon & van Veldhoven's adjusted
  means, BLUPs of random-intercept models, factor scores, the full SEM) side by side;
  :func:`model_string` writes the SEM.
- :func:`run_study`: the published simulation study (bias of every method), reproducible, in
  parallel, resumable; :func:`plot_bias` draws it.
- Building blocks: :func:`ols` (with White's HC0/HC3), :func:`adjusted_means`,
  :func:`generate_micro_macro` (the design of the study).
"""

from semlang.micromacro.adjusted_means import (
    VarianceComponents,
    adjusted_means,
    blup_group_means,
    variance_components_anova,
)
from semlang.micromacro.generate import MicroMacroSample, generate_micro_macro
from semlang.micromacro.methods import (
    DEFAULT_METHODS,
    InadmissibleFit,
    Method,
    MethodEstimate,
    MethodModels,
    MicroMacroResult,
    cv_adjusted_means,
    micro_macro,
    regression_scores,
    run_methods,
)
from semlang.micromacro.model import MicroMacroData, measurement_string, model_string
from semlang.micromacro.ols import OLSResult, ols
from semlang.micromacro.study import (
    PUBLISHED,
    StudyDesign,
    StudySummary,
    plot_bias,
    run_study,
)
from semlang.micromacro.twolevel import twolevel_model_string

__all__ = [
    "DEFAULT_METHODS",
    "PUBLISHED",
    "InadmissibleFit",
    "Method",
    "MethodEstimate",
    "MethodModels",
    "MicroMacroData",
    "MicroMacroResult",
    "MicroMacroSample",
    "OLSResult",
    "StudyDesign",
    "StudySummary",
    "VarianceComponents",
    "adjusted_means",
    "blup_group_means",
    "cv_adjusted_means",
    "generate_micro_macro",
    "measurement_string",
    "micro_macro",
    "model_string",
    "ols",
    "plot_bias",
    "regression_scores",
    "run_methods",
    "run_study",
    "twolevel_model_string",
    "variance_components_anova",
]
