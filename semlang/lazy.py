"""A module imported on first use: for libraries only some paths need (scipy.optimize serves the
optimizer's fallbacks and constrained steps, not an ordinary fit), so start-up does not pay for
them.

Input: a module name. Output: a stand-in whose first attribute access imports the module.
"""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """``LazyModule("scipy.optimize").nnls`` imports scipy.optimize then, not before."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"
