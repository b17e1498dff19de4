"""The parameters lavaan adds by default, and which of them it fixes.

Input: the user rows of one level, their :class:`VariableRoles` and the options. Output:
:class:`Drafts`, the level's rows as columns (the user's first, then the defaults) with lavaan's
free/fixed status before the user's modifiers are applied: residual variances of every variable,
covariances among exogenous latent variables and among pure outcomes, the exogenous covariates'
(co)variances and means (fixed to their sample values with ``fixed_x``), intercepts with a mean
structure; the first loading or the latent variance fixed to 1 to set each latent variable's
scale; the residual variance of a composite (``f <~ x1 + x2``) fixed to 0. Columns, not one
object per row: 1000 correlated factors have half a million covariances.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import field

from semlang.options import ModelOptions
from semlang.partable.efa_blocks import EfaSet, constrain, efa_factors
from semlang.partable.user_rows import UserRow
from semlang.partable.vnames import VariableRoles
from semlang.records import dataclass
from semlang.syntax.ast import Op

_COV, _INT, _MEASURED = Op.COVARIANCE, Op.INTERCEPT, Op.MEASURED


@dataclass
class Drafts:
    """A level's rows on their way into the table, one list per column; rows ``0..n_user-1``
    are the user's (``users[i]`` their :class:`UserRow`), the others lavaan's defaults."""

    level: int
    lhs: list[str] = field(default_factory=list)
    op: list[Op] = field(default_factory=list)
    rhs: list[str] = field(default_factory=list)
    users: list[UserRow] = field(default_factory=list)
    free: list[bool] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    exo: list[bool] = field(default_factory=list)
    n_user: int = 0
    pairs: list[range] = field(default_factory=list)  # rows of covariances between two variables
    efa: tuple[EfaSet, ...] = ()  # the level's exploratory blocks

    def __len__(self) -> int:
        return len(self.lhs)

    def add(self, lhs: list[str], op: Op, rhs: list[str]) -> range:
        """Append default rows (free, not exo); returns their indices."""
        start = len(self.lhs)
        self.lhs += lhs
        self.op += [op] * len(lhs)
        self.rhs += rhs
        self.free += [True] * len(lhs)
        self.value += [math.nan] * len(lhs)
        self.exo += [False] * len(lhs)
        return range(start, len(self.lhs))

    def fix(self, i: int, value: float) -> None:
        self.free[i] = False
        self.value[i] = value

    def variances(self) -> list[int]:
        """Indices of the rows ``v ~~ v``."""
        lhs, op, rhs = self.lhs, self.op, self.rhs
        return [i for i in self.non_pairs() if op[i] is _COV and lhs[i] == rhs[i]]

    def non_pairs(self) -> list[int]:
        """Indices of the rows that are not default covariances between two variables."""
        out: list[int] = []
        start = 0
        for block in self.pairs:
            out += range(start, block.start)
            start = block.stop
        return out + list(range(start, len(self.lhs)))


def level_drafts(
    rows: list[UserRow],
    roles: VariableRoles,
    options: ModelOptions,
    meanstructure: bool,
    level: int,
    between_observed: frozenset[str] = frozenset(),
    efa: tuple[EfaSet, ...] = (),
) -> Drafts:
    """Drafts of one level: the user's rows, then the defaults lavaan adds (``efa``: the
    level's exploratory blocks, identified as lavaan does before rotating)."""
    drafts = Drafts(level, n_user=len(rows), efa=efa)
    drafts.lhs = [r.lhs for r in rows]
    drafts.op = [r.op for r in rows]
    drafts.rhs = [r.rhs for r in rows]
    drafts.users = list(rows)
    drafts.free = [True] * len(rows)
    drafts.value = [math.nan] * len(rows)
    drafts.exo = [False] * len(rows)
    _add_defaults(drafts, rows, roles, meanstructure)
    composites = {r.lhs for r in rows if r.op is Op.FORMATIVE}
    _fix_scales(drafts, roles, options, composites, efa_factors(efa))
    if efa:
        constrain(drafts, efa)
    _fix_defaults(drafts, roles, options, meanstructure)
    categorical = (Op.THRESHOLD, Op.SCALING)
    if options.thresholds or any(r.op in categorical for r in rows):  # ordered variables
        from semlang.estimate.categorical_partable import add_categorical_defaults

        add_categorical_defaults(drafts, roles, options)
    if level == 1 and between_observed:
        for i in range(drafts.n_user, len(drafts)):
            if drafts.op[i] is _INT and drafts.lhs[i] in between_observed:
                drafts.fix(i, 0.0)
    return drafts


def _add_defaults(drafts: Drafts, rows: list[UserRow], roles: VariableRoles, meanstructure):
    """lavaan's default rows, in its order, leaving out those the user wrote (the default
    groups cannot overlap: a variable has one role)."""
    written = {(r.lhs, r.rhs) for r in rows if r.op is _COV}
    written |= {(b, a) for a, b in written}
    variances = [v for v in roles.observed_nox + roles.latent if (v, v) not in written]
    drafts.add(variances, _COV, variances)
    for names in (roles.latent_x, roles.latent_y + roles.observed_y):
        pairs = [p for p in itertools.combinations(names, 2) if p not in written]
        drafts.pairs.append(drafts.add([a for a, _ in pairs], _COV, [b for _, b in pairs]))
    x = roles.observed_x
    pairs = [(x[i], x[j]) for i in range(len(x)) for j in range(i, len(x))]
    pairs = [p for p in pairs if p not in written]
    drafts.add([a for a, _ in pairs], _COV, [b for _, b in pairs])
    if meanstructure:
        have = {r.lhs for r in rows if r.op is _INT}
        means = [v for v in roles.observed + roles.latent if v not in have]
        drafts.add(means, _INT, [""] * len(means))


def _fix_scales(drafts: Drafts, roles: VariableRoles, options: ModelOptions, composites, efa):
    latent = set(roles.latent)
    variances = drafts.variances()
    for i in variances:  # (a composite has no residual: lavaan fixes its variance row to 0)
        if i >= drafts.n_user and (not options.auto_var or drafts.lhs[i] in composites):
            drafts.fix(i, 0.0)
    if options.std_lv:
        for i in variances:
            if drafts.lhs[i] in latent:
                drafts.fix(i, 1.0)
    measured = [i for i in range(drafts.n_user) if drafts.op[i] is _MEASURED]
    if options.auto_fix_first:
        seen: set[str] = set()
        for i in measured:  # (not for the factors of an efa block: their variances are 1)
            if drafts.lhs[i] not in seen and drafts.lhs[i] not in efa:
                seen.add(drafts.lhs[i])
                drafts.fix(i, 1.0)
    if options.auto_var and options.auto_fix_single:
        counts = Counter(drafts.lhs[i] for i in measured)
        rhs_counts = Counter(drafts.rhs[i] for i in measured)
        single = {
            drafts.rhs[i]
            for i in measured
            if counts[drafts.lhs[i]] == 1 and rhs_counts[drafts.rhs[i]] == 1
        }
        for i in variances:
            if i >= drafts.n_user and drafts.lhs[i] in single:
                drafts.fix(i, 0.0)


def _fix_defaults(drafts: Drafts, roles: VariableRoles, options: ModelOptions, meanstructure):
    latent, observed = set(roles.latent), set(roles.observed)
    exogenous = set(roles.observed_x)
    lhs, op, rhs = drafts.lhs, drafts.op, drafts.rhs
    if options.orthogonal:
        for i in range(drafts.n_user, len(drafts)):
            if op[i] is _COV and lhs[i] != rhs[i] and lhs[i] in latent:
                drafts.fix(i, 0.0)
    defaults = [i for i in drafts.non_pairs() if i >= drafts.n_user]
    if meanstructure:
        for i in defaults:
            if op[i] is _INT:
                if lhs[i] in observed and not options.int_ov_free:
                    drafts.fix(i, 0.0)
                if lhs[i] in latent and not options.int_lv_free:
                    drafts.fix(i, 0.0)
    if options.fixed_x and exogenous:
        for i in defaults:  # (the pairs are among latent variables and among outcomes)
            if lhs[i] in exogenous and (op[i] is _INT or (op[i] is _COV and rhs[i] in exogenous)):
                drafts.fix(i, math.nan)
                drafts.exo[i] = True
