"""Composites (``f <~ x1 + x2 + x3``): the check lavaan leaves to its standard errors.

Input: the user rows of one level and the options. Output: a
:class:`~semlang.errors.IdentificationWarning` for each composite whose scale nothing sets — no
weight fixed and no ``std_lv`` — naming the fix. lavaan fits such a model all the same (its
weights and the paths from the composite trade off, so the information matrix is singular).
"""

from __future__ import annotations

import warnings

from semlang.errors import IdentificationWarning
from semlang.syntax.ast import ModifierKind, Op


def warn_unscaled(rows, options) -> None:
    if options.std_lv:
        return
    weights: dict[str, list] = {}
    for row in rows:
        if row.op is Op.FORMATIVE:
            weights.setdefault(row.lhs, []).append(row)
    for name, mine in weights.items():
        fixed = any(
            value is not None
            for row in mine
            if (modifier := row.modifiers.get(ModifierKind.VALUE)) is not None
            for value in modifier.values
        )
        if not fixed:
            warnings.warn(
                f"the composite '{name}' has no fixed weight, so its scale is not identified "
                f"(lavaan fits it the same way); fix one, e.g. '{name} <~ 1*{mine[0].rhs} + ...'",
                IdentificationWarning,
                stacklevel=4,
            )
