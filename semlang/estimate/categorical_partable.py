"""lavaan's default parameters of a model with ordered-categorical variables.

Input: a level's :class:`~semlang.partable.defaults.Drafts` (the user's rows and the continuous
defaults), the variable roles and the model options (``thresholds``: each ordered variable's
number of thresholds; ``parameterization``). Output: the drafts with lavaan 0.6.14's categorical
defaults, and the rule for the default rows of groups 2, 3, ...:

* thresholds ``x | t1, ..., tK`` free (those the user did not write);
* the intercepts of ordered variables fixed to 0, their residual variances fixed (delta: they
  are derived, 1 − the explained variance, scaled; theta: fixed to 1 in the first group);
* scale factors ``x ~*~ x`` fixed to 1 (in the theta parameterization they are derived);
* with ``group_equal`` holding "thresholds", in groups 2, 3, ...: the scale factors free
  (delta) or the residual variances of the ordered variables free (theta), and the latent means
  free (as with equal intercepts).
"""

from __future__ import annotations

import math

from semlang.errors import ModelSpecificationError
from semlang.syntax.ast import Op

_COV, _INT, _TH, _SCALE = Op.COVARIANCE, Op.INTERCEPT, Op.THRESHOLD, Op.SCALING


def threshold_names(count: int) -> list[str]:
    return [f"t{k}" for k in range(1, count + 1)]


def add_categorical_defaults(drafts, roles, options, source=None) -> None:
    """Add the thresholds and scale factors, fix the ordered variables' intercepts and
    residual variances (in place; see the module docstring)."""
    counts = dict(options.thresholds)
    ordered = [v for v in roles.observed if v in counts]
    _check_user_rows(drafts, counts, source)
    written = {(drafts.lhs[i], drafts.op[i], drafts.rhs[i]) for i in range(drafts.n_user)}
    for i in range(drafts.n_user, len(drafts)):
        lhs, op = drafts.lhs[i], drafts.op[i]
        if lhs not in counts:
            continue
        if op is _INT:
            drafts.fix(i, 0.0)
        elif op is _COV and drafts.rhs[i] == lhs:
            drafts.fix(i, 1.0)
    lhs, rhs = [], []
    for name in ordered:
        names = [t for t in threshold_names(counts[name]) if (name, _TH, t) not in written]
        lhs += [name] * len(names)
        rhs += names
    # lavaan's order: the user's rows, the thresholds, the variances and covariances, the
    # scale factors, the intercepts
    _insert(drafts, drafts.n_user, lhs, _TH, rhs, free=True, value=math.nan)
    scales = [v for v in ordered if (v, _SCALE, v) not in written]
    first_intercept = next((i for i in range(drafts.n_user, len(drafts)) if drafts.op[i] is _INT),
                           len(drafts))  # fmt: skip
    _insert(drafts, first_intercept, scales, _SCALE, scales, free=False, value=1.0)


def _insert(drafts, at: int, lhs: list, op, rhs: list, free: bool, value: float) -> None:
    """Default rows inserted at ``at`` (the covariance ranges after it move along)."""
    k = len(lhs)
    if not k:
        return
    drafts.lhs[at:at] = lhs
    drafts.op[at:at] = [op] * k
    drafts.rhs[at:at] = rhs
    drafts.free[at:at] = [free] * k
    drafts.value[at:at] = [value] * k
    drafts.exo[at:at] = [False] * k
    drafts.pairs = [r if r.start < at else range(r.start + k, r.stop + k) for r in drafts.pairs]


def _check_user_rows(drafts, counts: dict, source) -> None:
    """Thresholds and scale factors only of ordered variables, thresholds t1..tK."""
    for i in range(drafts.n_user):
        op, lhs, rhs = drafts.op[i], drafts.lhs[i], drafts.rhs[i]
        if op not in (_TH, _SCALE):
            continue
        span = drafts.users[i].span
        if lhs not in counts:
            what = "thresholds" if op is _TH else "a scale factor"
            raise ModelSpecificationError(
                f"{lhs!r} has {what} in the model but is not an ordered variable",
                source, span, hint=f"declare it ordered: ordered=[{lhs!r}, ...]",
            )  # fmt: skip
        if op is _SCALE and rhs != lhs:
            raise ModelSpecificationError(
                f"a scale factor is written '{lhs} ~*~ {lhs}', not '{lhs} ~*~ {rhs}'",
                source, span,
            )  # fmt: skip
        if op is _TH and rhs not in threshold_names(counts[lhs]):
            raise ModelSpecificationError(
                f"{lhs!r} has {counts[lhs] + 1} categories in the data, so thresholds t1 .. "
                f"t{counts[lhs]}, not {rhs!r}", source, span,
            )  # fmt: skip


def later_group_default(lhs, op, rhs, options, roles, free, value):
    """(free, value) of a default row in groups 2, 3, ... of a categorical model."""
    if "thresholds" not in options.group_equal:
        return free, value
    counts = dict(options.thresholds)
    theta = options.parameterization == "theta"
    if op is _SCALE and not theta and lhs in counts:
        return True, math.nan
    if op is _COV and lhs == rhs and theta and lhs in counts:
        return True, math.nan
    latent = lhs in roles.latent
    if op is _INT and latent and not options.int_lv_free and "means" not in options.group_equal:
        return True, math.nan
    return free, value
