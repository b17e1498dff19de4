"""The roles of a block's variables, by lavaan's rules.

Input: the user rows of one level. Output: :class:`VariableRoles` — latent variables (left of
``=~``, and composites left of ``<~``), indicators, exogenous and endogenous variables, and the
observed variables in lavaan's order (indicators, then outcomes, then predictors — a composite's
formative indicators among them —, then variables named only in ``~~`` or ``~1``).
These roles decide which default parameters a block gets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from semlang.records import dataclass
from semlang.syntax.ast import Op


class Row(Protocol):
    """What the roles are read from: a user row, or a row of a parameter table."""

    @property
    def lhs(self) -> str: ...

    @property
    def op(self) -> Op: ...

    @property
    def rhs(self) -> str: ...


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


@dataclass(frozen=True)
class VariableRoles:
    latent: tuple[str, ...]
    observed: tuple[str, ...]
    indicators: tuple[str, ...]  # observed indicators of latent variables
    observed_x: tuple[str, ...]  # exogenous observed covariates (fixed.x candidates)
    observed_nox: tuple[str, ...]
    observed_y: tuple[str, ...]  # pure outcomes: left of '~' only
    latent_x: tuple[str, ...]  # exogenous latent variables
    latent_y: tuple[str, ...]  # pure endogenous latent variables


# lavaan: a composite (left of '<~') is a latent variable whose formative indicators are
# predictors, but it is not an outcome (eqs.y holds the left of '~' only)
_LATENT_OPS = (Op.MEASURED, Op.FORMATIVE)
_EQUATION_OPS = (Op.REGRESSION, Op.FORMATIVE)


def classify(rows: Sequence[Row], other_level_outcomes: Iterable[str] = ()) -> VariableRoles:
    """Roles of the variables of one level (``other_level_outcomes``: outcomes of other levels)."""
    latent = _unique(r.lhs for r in rows if r.op in _LATENT_OPS)
    eqs_y = _unique(r.lhs for r in rows if r.op is Op.REGRESSION)
    eqs_x = _unique(r.rhs for r in rows if r.op in _EQUATION_OPS)
    v_ind = _unique(r.rhs for r in rows if r.op is Op.MEASURED)
    # sets for membership: a model can have thousands of variables
    is_latent, is_ind, is_x, is_y = set(latent), set(v_ind), set(eqs_x), set(eqs_y)
    ov_ind = [v for v in v_ind if v not in is_latent]
    is_ov_ind = set(ov_ind)
    ov_y_all = [v for v in eqs_y if v not in is_latent and v not in is_ov_ind]
    excluded = is_latent | is_ov_ind | set(ov_y_all) | set(other_level_outcomes)
    ov_x = [v for v in eqs_x if v not in excluded]
    covariances = [r for r in rows if r.op is Op.COVARIANCE]
    ov_cov = [r.lhs for r in covariances if r.lhs not in is_latent] + [
        r.rhs for r in covariances if r.rhs not in is_latent
    ]
    ov_int = [r.lhs for r in rows if r.op is Op.INTERCEPT and r.lhs not in is_latent]
    base = ov_ind + ov_y_all + ov_x
    in_base = set(base)
    observed = base + [v for v in _unique(ov_cov + ov_int) if v not in in_base]
    # an exogenous covariate the user gives a variance, covariance or intercept becomes random
    named = {r.lhs for r in rows if r.op in (Op.INTERCEPT, Op.COVARIANCE)}
    named |= {r.rhs for r in covariances}
    observed_x = [v for v in ov_x if v not in named]
    is_observed_x = set(observed_x)
    pure_y = {v for v in eqs_y if v not in is_ind and v not in is_x}
    return VariableRoles(
        latent=tuple(latent),
        observed=tuple(observed),
        indicators=tuple(ov_ind),
        observed_x=tuple(observed_x),
        observed_nox=tuple(v for v in observed if v not in is_observed_x),
        observed_y=tuple(v for v in observed if v in pure_y and v not in is_latent),
        latent_x=tuple(v for v in latent if v not in is_ind and v not in is_y),
        latent_y=tuple(v for v in latent if v in pure_y),
    )
