"""Property tests: whatever the text, ``parse`` + ``build_partable`` either give a table or raise
semlang's own located model error (a :class:`~semlang.errors.ModelError`), never anything else;
and a table they give has consecutive free indices and goes through the path graph's checks and
the diagram.

Inputs: arbitrary text, soups of the language's tokens, random mutations of valid models (the
lavaan reference models and a set covering every operator and modifier), and models generated
from the grammar's pieces.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from semlang import graph
from semlang.errors import ModelError
from semlang.options import make_options
from semlang.partable import build_partable
from semlang.syntax.parser import parse

REFERENCE = Path(__file__).resolve().parents[1] / "reference"

COVERAGE_MODELS = [
    "y ~ 1\ny ~ 0*1 + x\nz ~ m*1",
    "y ~ 0 + x",
    'f =~ NA*x1 + label("a")*x2 + start(0.5)*x3 + equal("f=~x2")*x4\nf ~~ 1*f',
    "f =~ x1 + 0.5*x2 + a*x2 + -1.5e-2*x3 + 1/3*x4 + sqrt(2)*x5 + 0.7?x6",
    "y1 + y2 ~ c(a, b)*x1 + c(1, NA)*x2 + x3",
    "f =~ x1 +\n  x2 +\n  x3; y ~ f # comment\n! another comment\n",
    "f =~ x1 + x2 + x3\r\ny ~ a*f + b*x\r\nab := exp(a)*sqrt(abs(b))/log(2)^2 - (a+b)\r\n",
    "y ~ a*x + b*z\na == b\na < 1\nb > -1\nd := a - b",
    "level: 1\n  fw =~ y1 + y2 + y3\nlevel: 2\n  fb =~ y1 + y2 + y3\n  fb ~ w1",
    "x ~~ lower(0)*x + upper(10)*x\ny ~ x",
    "f =~ c(1, 1)*x1 + c(l1, l2)*x2 + x3\nf ~ c(0, NA)*1",
]


def _reference_models() -> list[str]:
    models = []
    for file in sorted(REFERENCE.glob("**/*.json")):
        try:
            model = json.loads(file.read_text()).get("model")
        except (ValueError, AttributeError):
            continue
        if isinstance(model, str) and model not in models:
            models.append(model)
    return models


SEEDS = _reference_models() + COVERAGE_MODELS

TOKENS = [
    "=~", "~", "~~", "~1", ":=", "==", "<", ">", "+", "-", "*", "?", "/", "^", "(", ")", ",",
    ";", "\n", "\r\n", " ", "\t", "#", "!", "0", "1", "2.5", "-1", "1e3", ".5", "1e999", "NA",
    "a", "b", "x1", "x2", "f", "y", "c(", "label(", "start(", "equal(", "lower(", "upper(",
    "fixed(", "efa(", "prior(", "exp(", "log(", "sqrt(", '"f=~x1"', "'a'", '"', "level:",
    "level: 2", "group:", ":", "|", "|~", "<~", "~*~", ":~", "%", "~=", "=", "->", "x1:x2",
]  # fmt: skip

NAMES = ["f", "g", "x1", "x2", "x3", "y", "y2", "a", "b", "NA", "1", "0"]
OPERATORS = ["=~", "~", "~~", "~1", ":=", "==", "<", ">"]
MODIFIERS = [
    "", "a*", "b*", "1*", "0*", "NA*", "-0.5*", "c(1, 2)*", "c(a, b)*", "c(NA, a)*", "0.3?",
    'label("a")*', "start(1)*", 'equal("f=~x1")*', "lower(0)*", "upper(1)*", "fixed(2)*",
    "a*0.5*", "1/2*",
]  # fmt: skip


def _fits(text: str, kind: str = "sem", ngroups: int = 1) -> None:
    """Parse and build; only ModelError may escape, and it must be located inside the text."""
    try:
        table = build_partable(parse(text, "model.sem"), make_options(kind), ngroups=ngroups)
    except ModelError as error:
        message = str(error)
        assert message.startswith("model.sem")
        if error.span is not None:
            assert 0 <= error.span.start <= error.span.end <= len(text)
            assert error.line is not None and error.line >= 1
        return
    graph.check(table)
    assert graph.to_dot(table).endswith("}\n")
    free = sorted({row.free for row in table.rows if row.free > 0})
    assert free == list(range(1, len(free) + 1))
    for row in table.rows:
        if row.span is not None:
            assert 0 <= row.span.start <= row.span.end <= len(text)
        if row.free == 0 and row.is_model_parameter and not row.exo:
            assert math.isfinite(row.value)


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

kinds = st.sampled_from(["sem", "cfa", "growth"])
groups = st.sampled_from([1, 1, 2, 3])


@FAST
@given(st.text(max_size=80), kinds, groups)
def test_arbitrary_text(text, kind, ngroups):
    _fits(text, kind, ngroups)


@FAST
@given(
    st.lists(st.sampled_from(TOKENS), max_size=25), st.lists(st.sampled_from(" \n"), max_size=25)
)
def test_token_soup(tokens, gaps):
    text = "".join(t + (gaps[i] if i < len(gaps) else "") for i, t in enumerate(tokens))
    _fits(text)


_edit = st.tuples(
    st.sampled_from(["delete", "insert", "char", "duplicate", "swap"]),
    st.floats(0, 1),
    st.integers(0, 8),
    st.sampled_from(TOKENS),
    st.characters(max_codepoint=0x2FF),
)


def _apply(text: str, edit) -> str:
    what, where, width, token, char = edit
    i = int(where * len(text))
    if what == "delete":
        return text[:i] + text[i + width :]
    if what == "insert":
        return text[:i] + token + text[i:]
    if what == "char":
        return text[:i] + char + text[i + 1 :]
    lines = text.split("\n")
    k = int(where * (len(lines) - 1))
    if what == "duplicate":
        return "\n".join([*lines, lines[k]])
    lines[k], lines[-1] = lines[-1], lines[k]
    return "\n".join(lines)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.lists(_edit, min_size=1, max_size=4), kinds, groups)
def test_mutated_models(seed, edits, kind, ngroups):
    text = seed
    for edit in edits:
        text = _apply(text, edit)
    _fits(text, kind, ngroups)


_statement = st.tuples(
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=3),
    st.sampled_from(OPERATORS),
    st.lists(st.tuples(st.sampled_from(MODIFIERS), st.sampled_from(NAMES)), min_size=1, max_size=4),
)


def _render(statement) -> str:
    lhs, op, terms = statement
    if op in (":=", "==", "<", ">"):
        return f"{lhs[0]} {op} {' * '.join(name for _, name in terms)}"
    rhs = " + ".join(modifier + name for modifier, name in terms)
    return f"{' + '.join(lhs)} {op} {rhs}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_statement, min_size=1, max_size=6), kinds, groups, st.booleans())
def test_generated_models(statements, kind, ngroups, levels):
    lines = [_render(s) for s in statements]
    if levels:
        half = len(lines) // 2
        lines = ["level: 1", *lines[:half], "level: 2", *lines[half:]]
    _fits("\n".join(lines), kind, ngroups)


def test_deep_nesting_gives_a_located_error():
    text = "y ~ a*x\nz := " + "-" * 3000 + "a"
    _fits(text)
    text = "y ~ a*x\nz := " + "(" * 3000 + "a" + ")" * 3000
    _fits(text)
    text = " + ".join(f"y{i}" for i in range(1500)) + " ~~ x"
    _fits(text)
