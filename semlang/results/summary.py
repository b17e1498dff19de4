"""Fit -> summary text (placeholder layout, refined below)."""

from __future__ import annotations


def summary_text(fit, standardized: bool = False) -> str:
    return str(fit.estimates())
