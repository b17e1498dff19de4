"""Model strings for common models, written out so users can read and change them.

Input: variable names and a few choices. Output: model text for :func:`semlang.sem` /
:func:`semlang.cfa`. The random-intercept model is the CFA side of the CFA ⇔ mixed-model
equivalence: a latent variable measured by every item with loadings fixed to 1 is the random
intercept of ``value ~ ... + (1 | id)``; equal residual variances are the mixed model's single
residual variance, free ones its heterogeneous-variance version.
"""

from __future__ import annotations

from collections.abc import Sequence

from semlang.errors import OptionError
from semlang.syntax.parser import variable_names

_INTERCEPTS = ("item", "common", "none")


def random_intercept(
    items: Sequence[str],
    *,
    latent: str = "u",
    intercepts: str = "item",
    heterogeneous_variances: bool = False,
    variance_label: str = "v",
    intercept_label: str = "b0",
) -> str:
    """The CFA that equals a random-intercept mixed model of ``items``.

    ``intercepts``: ``"item"`` gives every item its own intercept (``value ~ -1 + item + (1|id)``),
    ``"common"`` one shared intercept (``value ~ 1 + (1|id)``), ``"none"`` none (the items are
    centred). ``heterogeneous_variances`` frees the residual variance of each item. Fit it with
    ``meanstructure=True`` (``intercepts`` other than ``"none"`` write the intercepts explicitly).
    """
    if isinstance(items, str):
        raise OptionError(
            f"items must be a list of column names, not the string {items!r}",
            hint=f"random_intercept([{items!r}, ...])",
        )
    items = list(items)
    if len(items) < 2:
        raise OptionError("a random-intercept model needs at least two items")
    variable_names(items, "item")
    variable_names((latent, variance_label, intercept_label), "name")
    repeated = sorted({name for name in items if items.count(name) > 1})
    if repeated:
        raise OptionError("items listed more than once: " + ", ".join(repeated))
    if intercepts not in _INTERCEPTS:
        raise OptionError(f"intercepts must be one of {', '.join(_INTERCEPTS)}, not {intercepts!r}")
    lines = [f"{latent} =~ " + " + ".join(f"1*{item}" for item in items)]
    for item in items:
        label = "" if heterogeneous_variances else f"{variance_label}*"
        lines.append(f"{item} ~~ {label}{item}")
    for item in items:
        if intercepts == "item":
            lines.append(f"{item} ~ 1")
        elif intercepts == "common":
            lines.append(f"{item} ~ {intercept_label}*1")
        else:
            lines.append(f"{item} ~ 0*1")
    lines.append(f"{latent} ~ 0*1")
    return "\n".join(lines) + "\n"
