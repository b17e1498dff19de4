"""Where errors point: each model is written with markers around the span the error must point
at (``<...>`` as in patsy's tests, or ``«...»`` where the model itself uses ``<`` or ``>``); the
markers are stripped, the model parsed and built, and the error's class, message, line, column
and span checked. Every error also renders as ``model.sem:LINE:COL: error: ...`` with the source
line and a caret under the spot, and the common mistakes come with a hint.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from semlang import graph
from semlang.errors import (
    ModelError,
    ModelSpecificationError,
    ModelSyntaxError,
    NotSupportedError,
    UnknownVariableError,
)
from semlang.options import make_options
from semlang.partable import build_partable
from semlang.syntax.parser import parse


@dataclass(frozen=True)
class Bad:
    marked: str
    error: type[ModelError]
    message: str
    hint: str | None = None  # a piece of the hint, when the error must say how to fix it
    ngroups: int = 1
    columns: tuple[str, ...] | None = None  # data columns: check the model against them


def unmark(marked: str) -> tuple[str, int, int]:
    """The text without markers, and the [start, end) offsets of the marked span."""
    opening, closing = ("«", "»") if "«" in marked else ("<", ">")
    start = marked.index(opening)
    end = marked.index(closing, start) - 1
    return marked.replace(opening, "", 1).replace(closing, "", 1), start, end


CASES = [
    # ---- the errors the language must locate ----
    Bad("f <=~>\n", ModelSyntaxError, "missing right-hand side after '=~'", "f =~ x1"),
    Bad("y ~ x\nf <=~>  # no indicators yet\n", ModelSyntaxError, "missing right-hand side"),
    Bad("y ~ x\r\nf <=~>\r\n", ModelSyntaxError, "missing right-hand side"),
    Bad("y <~>", ModelSyntaxError, "missing right-hand side after '~'"),
    Bad("f <~=> x1 + x2 + x3", ModelSyntaxError, "unknown operator '~='", "'=~'"),
    Bad("f «=>» x1", ModelSyntaxError, "unknown operator '=>'"),
    Bad("y «<-» x", ModelSyntaxError, "unknown operator '<-'", "outcome ~ predictor"),
    Bad("f <=> x1 + x2", ModelSyntaxError, "unknown operator '='", "'=~'"),
    Bad("f <~~~> x1", ModelSyntaxError, "unknown operator '~~~'"),
    Bad("f <= ~> x1 + x2", ModelSyntaxError, "written apart", "without a space"),
    Bad("y ~ x <~> z", ModelSyntaxError, "unexpected operator '~'", "one operator"),
    Bad("y ~ a*x\nab := <(>a + b", ModelSyntaxError, "'(' is never closed", "')'"),
    Bad("y ~ a*x\nab := exp<(>(a*b)\nc := a", ModelSyntaxError, "never closed"),
    Bad("y ~ a*x\nab := a*b<)>", ModelSyntaxError, "')' without a matching '('"),
    Bad("f =~ x1 + x2<)>", ModelSyntaxError, "')' without a matching '('"),
    Bad(
        "y1 ~ a*x1 + 1*x1\ny2 ~ <a*x2> + 2*x2",
        ModelSpecificationError,
        "label 'a' is fixed to two different values: 1 (y1~x1) and 2 (y2~x2)",
        "one value",
    ),
    Bad(
        "y1 ~ c*x + 2*x\ny2 ~ <c*x> + 3*x",
        ModelSpecificationError,
        "label 'c' is fixed to two different values: 2 (y1~x) and 3 (y2~x)",
    ),
    Bad("y ~ a*x\nab := a*<bb>", ModelSpecificationError, "':=' uses 'bb'", "label"),
    Bad("y ~ alpha*x\nd := <alpah>^2", ModelSpecificationError, "uses 'alpah'", "'alpha'"),
    Bad("y ~ a*x\na == <q>", ModelSpecificationError, "'==' uses 'q'"),
    Bad("y ~ a*x + b*z\n«c» > 0", ModelSpecificationError, "'>' uses 'c'"),
    Bad(
        "f =~ x1 + x2 + x3\ny ~ <g>",
        UnknownVariableError,
        "'g' has no indicators and is not a column of the data",
        "g =~",
        columns=("x1", "x2", "x3", "y"),
    ),
    Bad(
        "f =~ x1 + x2 + <x9>",
        UnknownVariableError,
        "'x9' is not a column",
        "x1, x2, x3",
        columns=("x1", "x2", "x3"),
    ),
    Bad("y ~ 0.5*x + <0.3>*x", ModelSpecificationError, "conflicting fixed values", "one value"),
    Bad("y ~ a*x + <b>*x", ModelSpecificationError, "conflicting labels for 'y ~ x': a and b"),
    Bad("y ~ start(1)*x + <start(2)>*x", ModelSpecificationError, "conflicting starting"),
    # lavaan: "duplicate model element" (a later statement repeating a parameter)
    Bad(
        "x4 ~ visual\nx4 ~ <1*visual>",
        ModelSpecificationError,
        "duplicate model element: 'x4 ~ visual' is already specified on line 1",
        "once, with all its modifiers",
    ),
    Bad("x1 ~~ x2\nx2 ~~ <x1>", ModelSpecificationError, "'x2 ~~ x1' is already specified"),
    Bad("x1 ~~ x1\nx1 ~~ <x1>", ModelSpecificationError, "duplicate model element"),
    Bad("y ~ 1 + x\ny ~ <0*1>", ModelSpecificationError, "'y ~1' is already specified on line 1"),
    Bad("f =~ x1 + x2\nf =~ <start(0.5)*x2>", ModelSpecificationError, "duplicate model element"),
    Bad("f =~ y1 + y2 + y3\ny1 ~ <f>", ModelSpecificationError, "same path as 'f =~ y1'"),
    # ---- lavaan syntax semlang does not fit yet ----
    Bad("f =~ x1 + x2\nx1 | <t1> + t2", ModelSpecificationError, "not an ordered variable"),
    Bad("f =~ x1 + x2\nx2 ~*~ <x2>", ModelSpecificationError, "not an ordered variable"),
    Bad("y <|~> z1 + z2", NotSupportedError, "instrumental variables"),
    Bad("y ~ a*x\np <:~> a", NotSupportedError, "data-defined parameters"),
    Bad("group <%> w", NotSupportedError, "group weights"),
    Bad('y ~ <prior("normal(0,1)")>*x', NotSupportedError, "priors"),
    Bad("y ~ <rv(1)>*x", NotSupportedError, "random slopes"),
    Bad("y ~ <x1:x2>", NotSupportedError, "interaction terms", "product"),
    Bad("f =~ <0>", NotSupportedError, "phantom latent"),
    Bad("<group: 1>\ny ~ x", NotSupportedError, "'group:' blocks"),
    # ---- more syntax errors ----
    Bad("y ~ x<@>", ModelSyntaxError, "unexpected character '@'", "letters"),
    Bad("y ~ x\nz ~ <[>w]", ModelSyntaxError, "unexpected character '['", "'('"),
    Bad("f =<\u223c> x1 + x2", ModelSyntaxError, "unexpected character", "plain '~'"),
    Bad("y ~ <\u2212>0.5*x", ModelSyntaxError, "unexpected character", "plain '-'"),
    Bad("y ~ x <z>", ModelSyntaxError, "unexpected name 'z'", "'+'"),
    Bad(
        "visual <=~>\ntextual =~ x4 + x5",
        ModelSyntaxError,
        "missing right-hand side after '=~'",
        "on its line",
    ),
    Bad(
        "ab <:=>  # comment\n\nf =~ x1",
        ModelSyntaxError,
        "missing right-hand side after ':='",
        "ab := a*b",
    ),
    Bad("<NA> =~ x1 + x2 + x3", ModelSyntaxError, "'NA' is a reserved word", "'NA_'"),
    Bad("f =~ x1 + <NULL>", ModelSyntaxError, "'NULL' is a reserved word", "'NULL_'"),
    Bad("y ~ x + <if>", ModelSyntaxError, "'if' is a reserved word"),
    Bad("<y>", ModelSyntaxError, "incomplete statement"),
    Bad("y ~ x\n<visual.2>  # no operator", ModelSyntaxError, "incomplete statement", "=~"),
    Bad("f =~ 0.5*x1 + x2<*>\n", ModelSyntaxError, "missing variable after the modifier's '*'"),
    Bad("y ~ 0.5<?>", ModelSyntaxError, "missing variable after the modifier's '?'"),
    Bad("y ~ <2>", ModelSyntaxError, "a number (2) cannot stand alone", "y ~ 1"),
    Bad("<2*y> ~ x", ModelSyntaxError, "left-hand side of '~' must be variable names", "a*"),
    Bad("<a + b> := c", ModelSyntaxError, "single new name"),
    Bad("y ~ a*x\nab := <'a'>", ModelSyntaxError, "a string cannot be used"),
    Bad("y ~ a*x\nab := <foo(a)>", ModelSyntaxError, "unknown function foo()", "exp"),
    Bad("y ~ a*x\nab := <exp(a, a)>", ModelSyntaxError, "takes exactly one argument"),
    Bad("y ~ <foo(1)>*x", ModelSyntaxError, "unknown modifier foo()", "label("),
    Bad("y ~ <1e999>*x", ModelSyntaxError, "too large"),
    Bad("y ~ <1/0>*x", ModelSyntaxError, "finite number", "division by zero"),
    Bad('y ~ label(<"">)*x', ModelSyntaxError, "a label cannot be empty"),
    Bad("y ~ label(<1>)*x", ModelSyntaxError, "label() needs a quoted name"),
    Bad("y ~ start(<a>)*x", ModelSyntaxError, "start() needs a number"),
    Bad("y ~ <c(1, a)>*x", ModelSyntaxError, "c() mixes numbers and labels", "repeat the term"),
    Bad("y ~ <a>?x", ModelSyntaxError, "'?' gives a starting value"),
    Bad("y ~ c(1, <start(2)>)*x", ModelSyntaxError, "start() cannot be used inside c()"),
    Bad("y ~ (<a>+1)*x", ModelSyntaxError, "the label 'a' cannot be used with '+'"),
    Bad("y ~ a*x\nz := <" + "-" * 50 + "a>", ModelSyntaxError, "nested too deeply", "split"),
    Bad("<lvl>: 1\ny ~ x", ModelSyntaxError, "unknown block 'lvl'"),
    Bad("level<:>\n", ModelSyntaxError, "missing block value"),
    # ---- specification errors ----
    Bad("y ~ <c(1, 2)>*x", ModelSpecificationError, "c() has 2 entries but the model has 1 group"),
    Bad("y ~ <c(a, b, c)>*x", ModelSpecificationError, "3 entries", ngroups=2),
    Bad("y ~~ <lower(3)*y + upper(1)>*y", ModelSpecificationError, "lower bound 3", "swap"),
    Bad('y ~ <equal("y~q")>*x', ModelSpecificationError, "equal('y~q') names no parameter"),
    Bad("y ~ a*x\n<a> := 2*a", ModelSpecificationError, "already a parameter label"),
    Bad("y ~ a*x\n<x> := 2*a", ModelSpecificationError, "is a variable of the model"),
    Bad("f =~ <1>", ModelSpecificationError, "'1' cannot be used with '=~'", "y ~ 1"),
    Bad("y ~ <y>", ModelSpecificationError, "'y' cannot be regressed on itself"),
    Bad("f =~ x1 + <f>", ModelSpecificationError, "'f' cannot measure itself"),
    Bad("<y ~ x>\nlevel: 1\ny ~ x", ModelSpecificationError, "belongs to a 'level:' block"),
    Bad("level: 1\ny ~ x\n<level: 1>\ny ~ w", ModelSpecificationError, "appears twice"),
    Bad("<level: 1>\ny ~ x", ModelSpecificationError, "needs a 'level: 2' block"),
    Bad("<level: 3>\ny ~ x", ModelSpecificationError, "unknown level '3'"),
    Bad("# no relations\n<a := 1>\nb := 2", ModelSpecificationError, "has no variables", "y ~ x"),
]


def _raise(case: Bad, text: str) -> ModelError:
    with pytest.raises(case.error) as info:
        table = build_partable(parse(text, "model.sem"), make_options("sem"), case.ngroups)
        if case.columns is not None:
            graph.check(table, case.columns)
    return info.value


@pytest.mark.parametrize("case", CASES, ids=[c.marked[:40] for c in CASES])
def test_error_points_at_the_marked_span(case: Bad):
    text, start, end = unmark(case.marked)
    error = _raise(case, text)
    assert case.message in error.message
    if case.hint is not None:
        assert error.hint is not None and case.hint in error.hint
    assert (error.span.start, error.span.end) == (start, end), (
        f"error points at {text[error.span.start : error.span.end]!r}, expected {text[start:end]!r}"
    )
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    assert (error.line, error.column) == (line, column)


@pytest.mark.parametrize("text", ["", "  \n# only a comment\n"])
def test_an_empty_model_is_an_error_without_a_place(text: str):
    with pytest.raises(ModelSpecificationError) as info:
        build_partable(parse(text, "model.sem"), make_options("sem"))
    assert info.value.span is None
    assert str(info.value).startswith("model.sem: error: the model is empty\nhint: ")


@pytest.mark.parametrize(
    "marked",
    [
        "y ~ x\nf <~=> x1 + x2",
        "y ~ x\r\nf <~=> x1 + x2\r\n",
        "y ~ a*x\nab := a*<bb>",
        "f =~ x1 + x2 + x3\ny ~ f\nz ~ <(>a + b",
    ],
)
def test_message_shows_the_line_and_a_caret(marked: str):
    text, start, end = unmark(marked)
    error = _raise(Bad(marked, ModelError, ""), text)
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    header, source_line, caret, *rest = str(error).split("\n")
    assert header.startswith(f"model.sem:{line}:{column}: error: ")
    assert source_line == "  " + text.split("\n")[line - 1].rstrip("\r")
    assert caret == "  " + " " * (column - 1) + "^" * (end - start)
    assert rest and rest[0].startswith("hint: ")
