"""Ordered-categorical data: thresholds, polychoric/polyserial correlations and their Γ.

The public entry points: :func:`polychoric` (lavaan's lavCor) and :func:`sample_statistics` (the
per-group statistics a categorical model is fitted to: :class:`GroupStatistics` with lavaan's
WLS.obs, NACOV and the WLS/DWLS weights).
"""

from semlang.categorical.public import (
    CategoricalStatistics,
    PolychoricResult,
    polychoric,
    sample_statistics,
)
from semlang.categorical.statistics import GroupStatistics, group_statistics, lower_pairs

__all__ = [
    "CategoricalStatistics",
    "GroupStatistics",
    "PolychoricResult",
    "group_statistics",
    "lower_pairs",
    "polychoric",
    "sample_statistics",
]
