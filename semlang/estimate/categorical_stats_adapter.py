"""One group's rows -> the sample statistics a categorical model is fitted to.

Input: the group of :class:`~semlang.estimate.data.SampleData` (ordered variables coded 1..K by
:mod:`semlang.estimate.categorical_options`), the group's categorical layout, its observed
variables and the model options. Output: a
:class:`~semlang.estimate.categorical_family.CategoricalStats` from
:func:`semlang.categorical.group_statistics` (lavaan's two-stage thresholds, polychoric and
polyserial correlations, WLS.obs and Γ).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

# the statistics of identical rows, kept while :func:`shared_statistics` is open
_SHARED: ContextVar[dict | None] = ContextVar("shared_categorical_statistics", default=None)


@contextmanager
def shared_statistics() -> Iterator[None]:
    """Inside: a group's statistics are computed once for identical rows and variables (efa()
    fits the same items once per number of factors)."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def group_statistics(group, cat, observed, options):
    """``observed``: the block's observed variables (the covariates among them, at ``cat.x``)."""
    from semlang.categorical import group_statistics as two_stage
    from semlang.estimate.categorical_family import CategoricalStats

    counts = dict(options.thresholds)
    names = [observed[k] for k in cat.y]
    covariates = [observed[k] for k in cat.x]
    columns = list(group.names)
    raw = np.asarray(group.raw, dtype=float)
    values = raw[:, [columns.index(name) for name in names]].copy()
    exo = raw[:, [columns.index(name) for name in covariates]] if covariates else None
    ordered = [name in counts for name in names]
    levels = [tuple(range(1, counts[n] + 2)) if n in counts else () for n in names]
    for j, is_ordered in enumerate(ordered):
        if is_ordered:
            values[:, j] -= 1.0  # codes 0..K-1
    label = str(getattr(group, "label", "") or "")
    shared = _SHARED.get()
    key = (label, tuple(names), tuple(ordered), tuple(levels), tuple(covariates), values.shape,
           values.tobytes(), None if exo is None else exo.tobytes())  # fmt: skip
    if shared is not None and key in shared:
        stats = shared[key]
    else:
        stats = two_stage(label, names, ordered, levels, values, exo, tuple(covariates))
        if shared is not None:
            shared[key] = stats
    mean = np.zeros(len(names))
    numeric = np.asarray(stats.th_idx) == 0
    mean[[j for j, o in enumerate(ordered) if not o]] = np.asarray(stats.th)[numeric]
    # (copies: a fit never shares its arrays with another through the shared statistics)
    return CategoricalStats(wls_obs=np.array(stats.wls_obs), gamma=np.array(stats.nacov),
                            nobs=int(stats.nobs), cov=np.array(stats.cov), mean=mean)  # fmt: skip
