"""The parameters lavaan adds by default, and which of them it fixes.

Input: the user rows of one level, their :class:`VariableRoles` and the options. Output: a list of
:class:`Draft` rows (the user's first, then the defaults) with lavaan's free/fixed status before
the user's modifiers are applied: residual variances of every variable, covariances among
exogenous latent variables and among pure outcomes, the exogenous covariates' (co)variances and
means (fixed to their sample values with ``fixed_x``), intercepts with a mean structure; the first
loading or the latent variance fixed to 1 to set each latent variable's scale.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass

from semlang.options import ModelOptions
from semlang.partable.user_rows import UserRow, parameter_key
from semlang.partable.vnames import VariableRoles
from semlang.syntax.ast import Op


@dataclass
class Draft:
    """A row on its way into the table."""

    lhs: str
    op: Op
    rhs: str
    level: int
    user: UserRow | None = None
    free: bool = True
    value: float = math.nan
    exo: bool = False

    @property
    def key(self) -> tuple[str, Op, str]:
        return parameter_key(self.lhs, self.op, self.rhs)

    def fix(self, value: float) -> None:
        self.free = False
        self.value = value


def _default_keys(roles: VariableRoles, meanstructure: bool) -> list[tuple[str, Op, str]]:
    out = [(v, Op.COVARIANCE, v) for v in roles.observed_nox + roles.latent]
    out += [(a, Op.COVARIANCE, b) for a, b in itertools.combinations(roles.latent_x, 2)]
    y = roles.latent_y + roles.observed_y
    out += [(a, Op.COVARIANCE, b) for a, b in itertools.combinations(y, 2)]
    x = roles.observed_x
    out += [(x[i], Op.COVARIANCE, x[j]) for i in range(len(x)) for j in range(i, len(x))]
    if meanstructure:
        out += [(v, Op.INTERCEPT, "") for v in roles.observed + roles.latent]
    return out


def level_drafts(
    rows: list[UserRow],
    roles: VariableRoles,
    options: ModelOptions,
    meanstructure: bool,
    level: int,
    between_observed: frozenset[str] = frozenset(),
) -> list[Draft]:
    """Drafts of one level: the user's rows, then the defaults lavaan adds."""
    drafts = [Draft(r.lhs, r.op, r.rhs, level, user=r) for r in rows]
    taken = {d.key for d in drafts}
    for lhs, op, rhs in _default_keys(roles, meanstructure):
        key = parameter_key(lhs, op, rhs)
        if key not in taken:
            taken.add(key)
            drafts.append(Draft(lhs, op, rhs, level))
    _fix_scales(drafts, roles, options)
    _fix_defaults(drafts, roles, options, meanstructure)
    if level == 1 and between_observed:
        for d in drafts:
            if d.user is None and d.op is Op.INTERCEPT and d.lhs in between_observed:
                d.fix(0.0)
    return drafts


def _fix_scales(drafts: list[Draft], roles: VariableRoles, options: ModelOptions) -> None:
    latent = set(roles.latent)
    if not options.auto_var:
        for d in drafts:
            if d.user is None and d.op is Op.COVARIANCE and d.lhs == d.rhs:
                d.fix(0.0)
    if options.std_lv:
        for d in drafts:
            if d.op is Op.COVARIANCE and d.lhs == d.rhs and d.lhs in latent:
                d.fix(1.0)
    if options.auto_fix_first:
        seen: set[str] = set()
        for d in drafts:
            if d.op is Op.MEASURED and d.lhs not in seen:
                seen.add(d.lhs)
                d.fix(1.0)
    if options.auto_var and options.auto_fix_single:
        measured = [d for d in drafts if d.op is Op.MEASURED]
        counts = Counter(d.lhs for d in measured)
        rhs_counts = Counter(d.rhs for d in measured)
        single = {d.rhs for d in measured if counts[d.lhs] == 1 and rhs_counts[d.rhs] == 1}
        for d in drafts:
            if d.user is None and d.op is Op.COVARIANCE and d.lhs == d.rhs and d.lhs in single:
                d.fix(0.0)


def _fix_defaults(drafts, roles: VariableRoles, options: ModelOptions, meanstructure: bool) -> None:
    latent, observed = set(roles.latent), set(roles.observed)
    exogenous = set(roles.observed_x)
    for d in drafts:
        if d.user is not None:
            continue
        if options.orthogonal and d.op is Op.COVARIANCE and d.lhs != d.rhs and d.lhs in latent:
            d.fix(0.0)
        if meanstructure and d.op is Op.INTERCEPT:
            if d.lhs in observed and not options.int_ov_free:
                d.fix(0.0)
            if d.lhs in latent and not options.int_lv_free:
                d.fix(0.0)
        exo_moment = (d.op is Op.COVARIANCE and d.rhs in exogenous) or d.op is Op.INTERCEPT
        if options.fixed_x and d.lhs in exogenous and exo_moment:
            d.fix(math.nan)
            d.exo = True
