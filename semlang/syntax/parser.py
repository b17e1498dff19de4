"""Model text -> syntax tree.

Input: the model text (and the name it is reported under).
Output: a :class:`semlang.syntax.ast.Model`.
The grammar is ``grammar/semlang.lark`` (shipped inside the wheel as ``semlang/grammar``); the
Lark parser is made once per process, from the LALR tables built in advance for this grammar and
Lark version (:mod:`semlang.syntax.lalr_table`, written by ``tools/make_parser_table.py``), or
from the grammar when those do not match (building the tables takes longer than the rest of
``semlang check``). Lark's own errors never escape: they become
:class:`~semlang.errors.ModelSyntaxError` with the spot and a hint.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from functools import cache
from importlib import resources
from pathlib import Path

import lark
from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from semlang.errors import ModelSyntaxError, OptionError, Source, Span
from semlang.syntax import ast
from semlang.syntax.transformer import to_ast

# A newline after one of these continues the statement on the next line.
_CONTINUES_AFTER = {
    "REL_OP", "TYPO_OP", "TYPO_EQ", "DEFINE", "CMP_OP", "PLUS", "MINUS", "STAR", "QMARK", "SLASH",
    "CARET", "POWER", "LPAR", "COMMA", "COLON", "NEWLINE", "SEMICOLON",
}  # fmt: skip
# A newline before one of these continues the statement too.
_CONTINUES_BEFORE = {
    "REL_OP",
    "TYPO_OP",
    "TYPO_EQ",
    "DEFINE",
    "CMP_OP",
    "PLUS",
    "STAR",
    "QMARK",
    "SLASH",
    "CARET",
    "POWER",
}

_TOKEN_WORDS = {
    "NEWLINE": "end of line",
    "SEMICOLON": "';'",
    "$END": "end of the model",
    "NAME": "name",
    "NUMBER": "number",
    "STRING": "string",
}
_OPERATORS = {"REL_OP", "TYPO_OP", "TYPO_EQ", "DEFINE", "CMP_OP"}
_OPERATOR_CHARS = set("=~<>:|*+-/^?%")


class _ContinuationLines:
    """Post-lexer: drops the newlines that do not end a statement."""

    always_accept = ("NEWLINE",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        previous: Token | None = None
        pending: Token | None = None
        for token in stream:
            if token.type == "NEWLINE":
                if previous is None or previous.type in _CONTINUES_AFTER:
                    continue
                pending = pending or token
                continue
            if pending is not None:
                if token.type not in _CONTINUES_BEFORE:
                    yield pending
                    previous = pending
                pending = None
            yield token
            previous = token


_NAME = re.compile(r"[^\W\d][\w.]*\Z")  # the grammar's NAME (without a leading '.')


def variable_names(value: str | Sequence[str] | None, what: str) -> tuple[str, ...]:
    """``value`` (a name, several, or None) as a tuple of names for a model string written for
    the user; an OptionError naming ``what`` for a name the model language cannot hold."""
    names = () if value is None else (value,) if isinstance(value, str) else tuple(value)
    for name in names:
        if not isinstance(name, str) or not _NAME.match(name):
            raise OptionError(
                f"{what} {name!r} is not a usable variable name",
                hint="names start with a letter or _ and hold letters, digits, _ and . only; "
                "rename the column",
            )
    return names


def grammar_text() -> str:
    """The grammar, from the installed package or (in a source checkout) from ``grammar/``;
    through importlib.resources only for a package that is not plain files (a zip): its readers
    cost a few milliseconds of the first parse."""
    package = Path(__file__).resolve().parents[1]
    for path in (package / "grammar", package.parent / "grammar"):
        if (path / "semlang.lark").is_file():
            return (path / "semlang.lark").read_text(encoding="utf-8")
    packaged = resources.files("semlang") / "grammar" / "semlang.lark"
    return packaged.read_text(encoding="utf-8")


# How the parser is built (the post-lexer and positions are passed again when the tables load).
_OPTIONS = {"parser": "lalr", "lexer": "basic", "maybe_placeholders": False}


def table_key(grammar: str) -> str:
    """What the prebuilt tables must have been built from: the grammar, the options and Lark's
    version (its serialized form may change between versions)."""
    made_from = f"{grammar}\n{sorted(_OPTIONS.items())}\nlark {lark.__version__}"
    return hashlib.sha256(made_from.encode("utf-8")).hexdigest()


def build_parser(grammar: str) -> Lark:
    """The parser built from the grammar's text (what the prebuilt tables are made from)."""
    return Lark(grammar, postlex=_ContinuationLines(), propagate_positions=True, **_OPTIONS)


@cache
def _parser() -> Lark:
    grammar = grammar_text()
    from semlang.syntax import lalr_table

    if table_key(grammar) != lalr_table.KEY:  # another grammar or Lark version
        return build_parser(grammar)
    return Lark._load_from_dict(
        lalr_table.DATA, lalr_table.MEMO, postlex=_ContinuationLines(), propagate_positions=True
    )


def parse(text: str, name: str = "<model>") -> ast.Model:
    """Parse model text into a syntax tree; raise ModelSyntaxError (located) on bad syntax."""
    if not isinstance(text, str):
        raise ModelSyntaxError(
            f"the model must be text (a str), not {type(text).__name__}",
            Source("", name),
        )
    source = Source(text, name)
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as error:
        raise _syntax_error(error, source) from None
    return to_ast(tree, source)


def _syntax_error(error: UnexpectedInput, source: Source) -> ModelSyntaxError:
    text = source.text
    if isinstance(error, UnexpectedCharacters):
        at = error.pos_in_stream or 0  # always set for characters
        char = text[at] if at < len(text) else ""
        return ModelSyntaxError(
            f"unexpected character {char!r}",
            source,
            Span(at, at + 1),
            hint=_character_hint(char),
        )
    token = getattr(error, "token", None)
    position = _token_position(token, text)
    open_paren = _unclosed_paren(text, position)
    if open_paren is not None:
        return ModelSyntaxError(
            "unbalanced parentheses: this '(' is never closed",
            source,
            Span(open_paren, open_paren + 1),
            hint="add the missing ')'",
        )
    if isinstance(error, UnexpectedToken | UnexpectedEOF):
        return _unexpected_token(error, token, position, source)
    return ModelSyntaxError("invalid syntax", source, Span(position, position + 1))


def _unexpected_token(
    error: UnexpectedInput, token: Token | None, position: int, source: Source
) -> ModelSyntaxError:
    kind = token.type if token is not None else "$END"
    expected = set(getattr(error, "expected", ()) or ())
    previous = _previous_token(source.text, position)
    if kind == "RPAR":
        return ModelSyntaxError(
            "unbalanced parentheses: ')' without a matching '('",
            source,
            Span(position, position + 1),
            hint="remove this ')' or add the '(' it closes",
        )
    if kind in ("NEWLINE", "SEMICOLON", "$END"):
        return _statement_ends_early(expected, previous, position, source)
    if kind in _OPERATORS and token is not None and previous is not None:
        return _misplaced_operator(token, previous, source)
    shown = _TOKEN_WORDS.get(kind, "")
    shown = f"{shown} {token.value!r}".strip() if token is not None else kind
    hint = None
    if kind in ("NAME", "NUMBER") and "STAR" in expected:
        hint = "separate terms with '+' and put '*' between a modifier and its variable"
    elif kind in ("NAME", "NUMBER"):
        hint = "start a new statement on a new line or after ';'"
    width = max(1, len(str(token.value))) if token is not None else 1
    return ModelSyntaxError(
        f"unexpected {shown}", source, Span(position, position + width), hint=hint
    )


def _statement_ends_early(
    expected: set[str], previous: Span | None, position: int, source: Source
) -> ModelSyntaxError:
    span = previous or Span(position, position + 1)
    before = source.text[span.start : span.end]
    is_operator = bool(before) and all(c in _OPERATOR_CHARS for c in before)
    if is_operator and expected & {"NAME", "NUMBER", "MINUS", "STRING", "LPAR"}:
        line_start = source.text.rfind("\n", 0, span.start) + 1
        in_expression = re.search(r":=|==|<|>", source.text[line_start : span.end])
        if before == ":":
            return ModelSyntaxError(
                "missing block value after ':'",
                source,
                span,
                hint="write e.g. 'level: 1' or 'level: 2'",
            )
        if before in ("*", "?") and not in_expression:
            return ModelSyntaxError(
                f"missing variable after the modifier's {before!r}",
                source,
                span,
                hint="write the variable the modifier applies to, e.g. 'f =~ 0.5*x1'",
            )
        return ModelSyntaxError(
            f"missing right-hand side after {before!r}",
            source,
            span,
            hint="write what comes after the operator, e.g. 'f =~ x1 + x2 + x3'"
            if not in_expression
            else "complete the expression, e.g. 'ab := a*b'",
        )
    return ModelSyntaxError(
        "incomplete statement: a statement needs an operator such as =~, ~, ~~, :=, ==",
        source,
        span,
        hint="write e.g. 'f =~ x1 + x2', 'y ~ x', 'x1 ~~ x2' or 'ab := a*b'",
    )


_STATEMENT_OPERATORS = {"=~", "~", "~~", "<~", "~*~", "|~", "|", "%", ":=", ":~", "==", "<", ">"}


def _dangling_operator(text: str, position: int) -> Span | None:
    """The operator that ends the line before the one of ``position``, if one does: then that
    line's statement lacks its right-hand side (``visual =~`` and a new statement below)."""
    line_start = text.rfind("\n", 0, position) + 1
    if line_start == 0 or text[line_start:position].strip() == "":
        return None
    last = _previous_token(text, line_start)
    if last is None or text[last.start : last.end] not in _STATEMENT_OPERATORS:
        return None
    return last


def _misplaced_operator(token: Token, previous: Span, source: Source) -> ModelSyntaxError:
    """A second operator: glued to the first (``~~~``), split by a space (``= ~``), or extra."""
    text = source.text
    before = text[previous.start : previous.end]
    start = token.start_pos or 0  # lark sets the positions of the tokens it reads
    end = token.end_pos or start
    span = Span(start, end)
    dangling = _dangling_operator(text, start)
    if dangling is not None:
        operator = text[dangling.start : dangling.end]
        return ModelSyntaxError(
            f"missing right-hand side after {operator!r}",
            source,
            dangling,
            hint=f"write what comes after {operator!r} on its line, e.g. "
            + ("'ab := a*b'" if operator in (":=", "==", "<", ">") else "'f =~ x1 + x2 + x3'")
            + " (a line that ends with an operator continues on the next line)",
        )
    if before and before[-1] in _OPERATOR_CHARS and previous.end == start:
        whole = Span(previous.start, end)
        return ModelSyntaxError(
            f"unknown operator {text[whole.start : whole.end]!r}",
            source,
            whole,
            hint="the operators are =~ ~ ~~ := == < > (e.g. 'f =~ x1', 'y ~ x', 'x1 ~~ x2')",
        )
    if before == "=" and token.value.startswith("~"):
        return ModelSyntaxError(
            "'=' and '~' are written apart",
            source,
            Span(previous.start, end),
            hint="write '=~' without a space",
        )
    return ModelSyntaxError(
        f"unexpected operator {token.value!r}",
        source,
        span,
        hint="a statement has one operator; put each statement on its own line or after ';'",
    )


def _token_position(token: Token | None, text: str) -> int:
    if token is None or token.start_pos is None or token.type == "$END":
        return len(text.rstrip())
    return token.start_pos


def _previous_token(text: str, position: int) -> Span | None:
    """The span of the last non-blank, non-comment piece of text before ``position``."""
    end = position
    while True:
        stripped = text[:end].rstrip()
        line_start = stripped.rfind("\n") + 1
        line = stripped[line_start:]
        comment = _comment_start(line)
        if comment is None:
            break
        end = line_start + comment
    if not stripped:
        return None
    end = len(stripped)
    start = end - 1
    for same_kind in (_OPERATOR_CHARS.__contains__, _is_name_char):
        if same_kind(stripped[start]):
            while start > 0 and same_kind(stripped[start - 1]):
                start -= 1
    return Span(start, end)


def _is_name_char(char: str) -> bool:
    return char.isalnum() or char in "_."


def _comment_start(line: str) -> int | None:
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in "#!":
            return i
    return None


def _unclosed_paren(text: str, position: int) -> int | None:
    """Offset of a '(' before ``position`` in the same statement that is never closed."""
    stack: list[int] = []
    quote = None
    comment = False
    for i, char in enumerate(text[: max(position, 0) + 1]):
        if comment:
            comment = char != "\n"
            continue
        if quote:
            quote = None if char == quote else quote
            continue
        if char in "\"'":
            quote = char
        elif char in "#!":
            comment = True
        elif char == "(":
            stack.append(i)
        elif char == ")" and stack:
            stack.pop()
        elif char == ";" or (char == "\n" and not stack):
            stack.clear()
    return (
        stack[0]
        if (stack and position >= len(text.rstrip())) or _closes_never(text, stack)
        else None
    )


def _closes_never(text: str, stack: list[int]) -> bool:
    """True when a '(' on the stack has no ')' before its statement ends."""
    if not stack:
        return False
    depth = 0
    for char in text[stack[0] :]:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return False
        elif char in ";\n" and depth > 0:
            return True
    return depth > 0


def _character_hint(char: str) -> str | None:
    if char == "@":
        return "names may contain letters, digits, '_' and '.'"
    if char in "[]{}":
        return "use '(' and ')' for grouping"
    if char == '"' or char == "'":
        return "close the string with a matching quote on the same line"
    lookalike = _LOOKALIKES.get(char)
    if lookalike is not None:
        return f"write the plain {lookalike!r} (text copied from a document often has this one)"
    return None


# Characters that look like the language's own (as in text pasted from a word processor or PDF).
_LOOKALIKES = {
    "\u02dc": "~",
    "\u223c": "~",
    "\uff5e": "~",
    "\u2212": "-",
    "\u2013": "-",
    "\u201c": '"',
    "\u201d": '"',
    "\u2018": "'",
    "\u2019": "'",
    "\u00d7": "*",
}
