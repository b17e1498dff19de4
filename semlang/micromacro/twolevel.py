"""The micro-macro model as a two-level SEM: variable names → model text for long data.

Input: the individual-level variable(s) ``x``, the group-level covariates ``z`` and the group
outcome ``y`` (column names of the long data, one row per group member). Output: the text of the
two-level model, to be fit with ``semlang.sem(text, long_data, cluster=<group column>)``::

    level: 1
      x ~~ x
    level: 2
      y ~ x + Z
      x ~~ Z

At level 1 each x has its within-group variance (several x also their within covariances); at
level 2 the between part of each x is the latent group score: y is regressed on it and on Z,
and all predictors covary. This is the micro-macro SEM of the wide data (one factor per x with
loadings 1, equal residual variances and equal intercepts), written for long data: unbalanced
groups need no missing cells.
"""

from __future__ import annotations

from collections.abc import Sequence

from semlang.errors import OptionError
from semlang.syntax.parser import variable_names

__all__ = ["twolevel_model_string"]


def _covariances(names: Sequence[str], with_variances: bool) -> list[str]:
    """``a ~~ a + b + c`` lines covering every pair of ``names`` (variances if asked)."""
    lines = []
    for i, name in enumerate(names):
        others = list(names[i:] if with_variances else names[i + 1 :])
        if others:
            lines.append(f"{name} ~~ " + " + ".join(others))
    return lines


def twolevel_model_string(x: str | Sequence[str], z: Sequence[str], y: str) -> str:
    """The two-level micro-macro model for the long data's columns ``x``, ``z`` and ``y``.

    ``x``: the individual-level variable(s); ``z``: the group-level covariates (constant within
    each group; may be empty); ``y``: the group-level outcome (constant within each group).
    """
    xs, zs, ys = variable_names(x, "x"), variable_names(z, "z"), variable_names(y, "y")
    if not xs:
        raise OptionError("give at least one individual-level variable x")
    if len(ys) != 1:
        raise OptionError(f"y must be one variable name, got {list(ys)}")
    every = [*xs, *zs, *ys]
    repeated = sorted({name for name in every if every.count(name) > 1})
    if repeated:
        raise OptionError(
            f"variable(s) {', '.join(repeated)} given twice",
            hint="x, z and y must be different columns",
        )
    level1 = _covariances(xs, with_variances=True)
    predictors = [*xs, *zs]
    level2 = [f"{ys[0]} ~ " + " + ".join(predictors), *_covariances(predictors, False)]
    lines = ["level: 1", *(f"  {line}" for line in level1)]
    lines += ["level: 2", *(f"  {line}" for line in level2)]
    return "\n".join(lines) + "\n"
