"""The LALR driver (:mod:`semlang.syntax.lalr`) reads every text as Lark does.

For every model string of the test suite, the docs, the reference files and the model files
(:mod:`syntax.parser_corpus`), the driver's parse tree equals Lark's (the same node names,
tokens, token types and positions, and the positions of every node), and the syntax tree or the
error (class, message, span, hint) is the same; and so for mistakes made from them: the error
tests' models, truncations, and one character deleted or inserted; and so for arbitrary text and
soups of the language's tokens (hypothesis). Reading a model does not import Lark.
"""

from __future__ import annotations

import subprocess
import sys
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from syntax.parser_corpus import ROOT, broken_texts, model_texts, outcome, tree_shape
from syntax.test_error_locations import CASES as ERROR_CASES
from syntax.test_error_locations import unmark
from syntax.test_fuzz import SEEDS, TOKENS

from semlang.syntax import parser
from semlang.syntax.lalr import Parser
from semlang.syntax.tree import UnexpectedInput


@cache
def _lark() -> parser._LarkParser:
    return parser._LarkParser(parser.grammar_text())


def _driver() -> Parser:
    driven = parser._parser()
    assert isinstance(driven, Parser), (
        "the prebuilt tables are stale: run tools/make_parser_table.py"
    )
    return driven


def _tree_or_error(make, text: str) -> tuple:
    try:
        return ("tree", tree_shape(make.parse(text)))
    except UnexpectedInput as error:
        fields = ("pos_in_stream", "line", "column", "expected", "allowed")
        token = getattr(error, "token", None)
        token_fields = None if token is None else tree_shape(token)
        return (type(error).__name__, token_fields, *(getattr(error, f, None) for f in fields))


def _mismatches(texts, compare) -> list[str]:
    return [repr(t) for t in texts if compare(t)][:5]


def _outcomes_differ(text: str, monkeypatch) -> bool:
    driven = outcome(text)
    with monkeypatch.context() as patch:
        patch.setattr(parser, "_parser", _lark)
        return driven != outcome(text)


def test_the_corpus_holds_the_models_of_tests_docs_and_examples():
    texts = model_texts()
    assert len(texts) > 500
    assert any("visual =~ x1 + x2 + x3" in t for t in texts)  # docs and tests
    assert sum(outcome(t)[0] == "ok" for t in texts) > 300
    assert len(broken_texts()) > 1000


def test_parse_trees_equal_larks():
    driver, lark = _driver(), _lark()
    texts = model_texts() + broken_texts()
    differ = _mismatches(texts, lambda t: _tree_or_error(driver, t) != _tree_or_error(lark, t))
    assert not differ, f"the driver and Lark read these differently: {differ}"


def test_syntax_trees_and_errors_equal_larks(monkeypatch):
    texts = model_texts() + tuple(SEEDS)
    differ = _mismatches(texts, lambda t: _outcomes_differ(t, monkeypatch))
    assert not differ, f"different syntax trees or errors: {differ}"


def test_errors_of_broken_models_equal_larks(monkeypatch):
    texts = tuple(unmark(case.marked)[0] for case in ERROR_CASES) + broken_texts()
    errors = [t for t in texts if outcome(t)[0] == "error"]
    assert len(errors) > 500
    differ = _mismatches(texts, lambda t: _outcomes_differ(t, monkeypatch))
    assert not differ, f"different errors (message, span or hint): {differ}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60), st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)))
def test_arbitrary_text_reads_as_lark_reads_it(text):
    assert _tree_or_error(_driver(), text) == _tree_or_error(_lark(), text)


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", "# only a comment", "f =~ x1\n\n\n", "f =~ x1 @ x2", "f =~ x1 +", "f =~ (x1"],
)
def test_edges_equal_larks(text):
    assert _tree_or_error(_driver(), text) == _tree_or_error(_lark(), text)


def test_reading_a_model_does_not_import_lark():
    code = (
        "import semlang, sys\n"
        "semlang.syntax.parser.parse('f =~ x1 + x2')\n"
        "try:\n"
        "    semlang.syntax.parser.parse('f =~ x1 +')\n"
        "except semlang.errors.ModelSyntaxError:\n"
        "    pass\n"
        "assert 'lark' not in sys.modules, sorted(m for m in sys.modules if 'lark' in m)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
