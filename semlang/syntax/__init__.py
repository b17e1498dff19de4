"""Stage 1: model text -> syntax tree.

:func:`semlang.syntax.parser.parse` reads lavaan's model language (grammar in
``grammar/semlang.lark``) into the frozen nodes of :mod:`semlang.syntax.ast`, each with the span
of text it came from; mistakes raise located :class:`~semlang.errors.ModelSyntaxError` or
:class:`~semlang.errors.NotSupportedError`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

_SUBMODULES = (
    "ast",
    "continuation",
    "lalr",
    "messages",
    "modifiers",
    "parser",
    "transformer",
    "tree",
)


def __getattr__(name: str) -> ModuleType:
    """``semlang.syntax.parser`` and the other submodules, imported when first used."""
    if name in _SUBMODULES:
        return importlib.import_module(f"semlang.syntax.{name}")
    raise AttributeError(f"module 'semlang.syntax' has no attribute {name!r}")
