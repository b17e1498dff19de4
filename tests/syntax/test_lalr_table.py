"""The parser's prebuilt LALR tables (:mod:`semlang.syntax.lalr_table`): made from the current
grammar, and parsing every model (and every mistake) as the parser built from the grammar does."""

from __future__ import annotations

from functools import cache

import lark
import pytest
from syntax.test_parser_table import AST_CASES, CASES

from semlang.errors import ModelSyntaxError
from semlang.syntax import lalr_table, parser
from semlang.syntax.parser import _parser, build_parser, grammar_text, parse, table_key

MISTAKES = [
    "f ~= x1 + x2",
    "f =~ x1 +\n",
    "f =~ (x1 + x2",
    "y ~ x1 x2",
    "f =~ x1 + x2 ; ; y ~ f $",
    "z := a *",
    "visual =~\nx1 + x2",
]


def test_the_tables_are_those_of_the_grammar():
    if lark.__version__ != lalr_table.LARK_VERSION:
        pytest.skip(f"tables made with Lark {lalr_table.LARK_VERSION}, not {lark.__version__}")
    assert table_key(grammar_text()) == lalr_table.KEY, "run tools/make_parser_table.py"
    assert _parser().source_path == "<deserialized>"  # loaded, not built


def test_a_changed_grammar_is_built_not_loaded():
    assert table_key(grammar_text() + "\n") != table_key(grammar_text())


@cache
def _built():
    return build_parser(grammar_text())


def _outcome(text: str):
    try:
        return parse(text, "model.sem")
    except ModelSyntaxError as error:
        return str(error)


@pytest.mark.parametrize("text", [t for t, _ in AST_CASES] + [c.model for c in CASES] + MISTAKES)
def test_the_loaded_parser_parses_as_the_built_one(text, monkeypatch):
    loaded = _outcome(text)
    monkeypatch.setattr(parser, "_parser", _built)
    assert loaded == _outcome(text)
