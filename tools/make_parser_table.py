"""Write semlang/syntax/lalr_table.py: the LALR tables of the model grammar, built in advance.

Run after changing grammar/semlang.lark or upgrading Lark (the tests say when):

    python tools/make_parser_table.py

The module holds Lark's serialized parser (``DATA``, ``MEMO``) and the key of what it was built
from (:func:`semlang.syntax.parser.table_key`); the parser loads it when the key matches and
builds the tables from the grammar otherwise.
"""

from __future__ import annotations

from pathlib import Path

import lark
from lark.grammar import Rule
from lark.lexer import TerminalDef

from semlang.syntax.parser import build_parser, grammar_text, table_key

TARGET = Path(__file__).resolve().parents[1] / "semlang" / "syntax" / "lalr_table.py"
# Options given again when the tables are loaded (the post-lexer is an object, not data).
_GIVEN_AT_LOAD = {"postlex", "propagate_positions"}

HEADER = '''"""The LALR tables of ``grammar/semlang.lark``, built in advance
(``tools/make_parser_table.py`` wrote this file; do not edit it).
:func:`semlang.syntax.parser._parser` loads them when ``KEY`` matches the grammar and Lark's
version, and builds the tables from the grammar otherwise."""

# fmt: off
# ruff: noqa: E501
'''


def main() -> None:
    grammar = grammar_text()
    parser = build_parser(grammar)
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    data["options"] = {k: v for k, v in data["options"].items() if k not in _GIVEN_AT_LOAD}
    text = "".join(
        (
            HEADER,
            f"LARK_VERSION = {lark.__version__!r}\n",
            f"KEY = {table_key(grammar)!r}\n",
            f"DATA = {data!r}\n",
            f"MEMO = {memo!r}\n",
        )
    )
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.name} ({len(text)} characters)")


if __name__ == "__main__":
    main()
