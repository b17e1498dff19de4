"""The parser's prebuilt LALR tables (:mod:`semlang.syntax.lalr_table`): made from the current
grammar and Lark (the file is what ``tools/make_parser_table.py`` writes now), run by the driver,
and Lark itself used when they are stale; every model (and every mistake) read as the parser
built from the grammar reads it."""

from __future__ import annotations

import importlib.util
from functools import cache

import lark
import pytest
from syntax.parser_corpus import ROOT
from syntax.test_parser_table import AST_CASES, CASES

from semlang.errors import ModelSyntaxError
from semlang.syntax import lalr_table, parser
from semlang.syntax.lalr import Parser
from semlang.syntax.parser import _parser, grammar_text, lark_version, parse, table_key

MISTAKES = [
    "f ~= x1 + x2",
    "f =~ x1 +\n",
    "f =~ (x1 + x2",
    "y ~ x1 x2",
    "f =~ x1 + x2 ; ; y ~ f $",
    "z := a *",
    "visual =~\nx1 + x2",
]


def _tool():
    spec = importlib.util.spec_from_file_location(
        "make_parser_table", ROOT / "tools" / "make_parser_table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tables_are_those_of_the_grammar():
    if lark.__version__ != lalr_table.LARK_VERSION:
        pytest.skip(f"tables made with Lark {lalr_table.LARK_VERSION}, not {lark.__version__}")
    assert table_key(grammar_text()) == lalr_table.KEY, "run tools/make_parser_table.py"
    path = ROOT / "semlang" / "syntax" / "lalr_table.py"
    assert path.read_text(encoding="utf-8") == _tool().table_text(), (
        "run tools/make_parser_table.py"
    )
    assert isinstance(_parser(), Parser)  # the driver, not Lark


def test_larks_version_is_read_without_importing_it():
    assert lark_version() == lark.__version__


def test_a_changed_grammar_is_built_not_loaded():
    assert table_key(grammar_text() + "\n") != table_key(grammar_text())


def test_stale_tables_fall_back_to_lark(monkeypatch):
    monkeypatch.setattr(lalr_table, "KEY", "stale")
    _parser.cache_clear()
    try:
        assert isinstance(_parser(), parser._LarkParser)
        assert [s.op.value for s in parse("f =~ x1 + x2\ny ~ f").statements] == ["=~", "~"]
        with pytest.raises(ModelSyntaxError, match="missing right-hand side after '\\+'"):
            parse("f =~ x1 +")
    finally:
        _parser.cache_clear()


@cache
def _built():
    return parser._LarkParser(grammar_text())


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
