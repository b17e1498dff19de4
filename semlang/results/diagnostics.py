"""Fit -> warnings about the solution, and the record of the warnings a fit gave.

Input: a :class:`~semlang.results.fit.Fit`. Output: warnings (and their messages, kept on the fit
for the JSON output and the summary).

* :func:`recording`: a context in which warnings are collected and then given again, so they are
  shown (or turned into errors, or ignored) exactly as without it, and their messages are kept.
* :func:`weak_markers`: the improper solution where a latent variable is scaled by a marker
  indicator that hardly measures it. Scaling by a marker divides every other loading by the
  marker's; when the marker's true loading is near zero the factor's variance goes to about zero
  and the other loadings and their standard errors to very large values (a boundary of the
  parameter space in the std.lv metric). The rule is scale-free: with the implied moments,
  the standardized loading of the marker (``λ·sd(f)/sd(x)``) is compared with the largest of the
  factor's other indicators; below a tenth of it, the warning suggests ``std_lv=True`` or another
  marker. It needs no standard errors, so it costs nothing at fit time.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from semlang.errors import ImproperSolutionWarning, SemlangWarning
from semlang.syntax.ast import Op

WEAK_MARKER_RATIO = 0.1  # the marker's standardized loading against the largest other's


@contextmanager
def recording(messages: list[str]) -> Iterator[None]:
    """Collect the semlang warnings raised inside into ``messages`` and issue every warning
    again on leaving (the caller's filters and display apply as before)."""
    with warnings.catch_warnings(record=True) as caught:
        yield
    for item in caught:
        if issubclass(item.category, SemlangWarning):
            text = str(item.message)
            if text not in messages:
                messages.append(text)
        warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)


def _standardized_loadings(fit, layout, moments, factor: str, rows) -> dict[str, float]:
    index = {name: k for k, name in enumerate(layout.variables)}
    variance = np.diag(moments.total_cov)
    f = index[factor]
    out = {}
    for row in rows:
        x = index.get(row.rhs)
        if x is None or variance[x] <= 0 or variance[f] <= 0:
            continue
        out[row.rhs] = abs(fit.row_estimate(row)) * np.sqrt(variance[f] / variance[x])
    return out


def weak_markers(fit) -> list[str]:
    """Messages for latent variables whose marker indicator hardly measures them."""
    table = fit.table
    several = len(table.blocks) > 1
    out = []
    for layout, moments in zip(fit.model.layouts, fit.implied, strict=True):
        by_factor: dict[str, list] = {}
        for r in table.parameters:
            if r.block == layout.block and r.op is Op.MEASURED:
                by_factor.setdefault(r.lhs, []).append(r)
        for factor, loadings in by_factor.items():
            markers = [r for r in loadings if not r.is_free and r.value != 0]
            if len(markers) != 1 or not any(r.is_free for r in loadings):
                continue
            std = _standardized_loadings(fit, layout, moments, factor, loadings)
            marker = markers[0].rhs
            others = {k: v for k, v in std.items() if k != marker}
            if marker not in std or not others:
                continue
            strongest = max(others, key=others.__getitem__)
            if std[marker] >= WEAK_MARKER_RATIO * others[strongest]:
                continue
            where = f" ({_block_name(table, layout)})" if several else ""
            out.append(
                f"the marker indicator '{marker}' of '{factor}'{where} has a standardized "
                f"loading of {std[marker]:.3f}, against {others[strongest]:.3f} for "
                f"'{strongest}': '{factor}' is scaled by an indicator that hardly measures it, "
                "so its variance is near zero and its other loadings and their standard errors "
                "are inflated (an improper, boundary solution); scale it with std_lv=True, or "
                f"make another indicator the marker, e.g. '{factor} =~ NA*{marker} + "
                f"1*{strongest} + ...'"
            )
    return out


def _block_name(table, layout) -> str:
    parts = []
    if table.ngroups > 1:
        parts.append(f"group {table.group_labels[layout.group - 1]}")
    if table.nlevels > 1:
        parts.append(f"level {layout.level}")
    return ", ".join(parts)


def warn_about_solution(fit) -> None:
    """The warnings about an improper solution, and (``starts=K``) about a better optimum."""
    for message in weak_markers(fit):  # converged or not: it says why the estimates are wild
        warnings.warn(message, ImproperSolutionWarning, stacklevel=4)
    if fit.options.starts:
        from semlang.results.multistart import warn_if_better

        warn_if_better(fit)
