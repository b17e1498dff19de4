"""Model text -> syntax tree.

Input: the model text (and the name it is reported under).
Output: a :class:`semlang.syntax.ast.Model`.
The grammar is ``grammar/semlang.lark`` (shipped inside the wheel as ``semlang/grammar``); the
Lark parser is built once per process. Lark's own errors never escape: they become
:class:`~semlang.errors.ModelSyntaxError` with the spot and a hint.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from semlang.errors import ModelSyntaxError, Source, Span
from semlang.syntax import ast
from semlang.syntax.transformer import to_ast

# A newline after one of these continues the statement on the next line.
_CONTINUES_AFTER = {
    "REL_OP", "TYPO_OP", "TYPO_EQ", "DEFINE", "CMP_OP", "PLUS", "MINUS", "STAR", "SLASH", "CARET",
    "LPAR", "COMMA", "COLON", "NEWLINE", "SEMICOLON",
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
    "SLASH",
    "CARET",
}

_TOKEN_WORDS = {
    "NEWLINE": "end of line",
    "SEMICOLON": "';'",
    "$END": "end of the model",
    "REL_OP": "an operator",
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
}


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


def grammar_text() -> str:
    """The grammar, from the installed package or (in a source checkout) from ``grammar/``."""
    packaged = resources.files("semlang") / "grammar" / "semlang.lark"
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source_tree = Path(__file__).resolve().parents[2] / "grammar" / "semlang.lark"
    return source_tree.read_text(encoding="utf-8")


@cache
def _parser() -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="basic",
        postlex=_ContinuationLines(),
        propagate_positions=True,
        maybe_placeholders=False,
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
        char = text[error.pos_in_stream] if error.pos_in_stream < len(text) else ""
        return ModelSyntaxError(
            f"unexpected character {char!r}",
            source,
            Span(error.pos_in_stream, error.pos_in_stream + 1),
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
    rhs_starts = {"NAME", "NUMBER", "MINUS", "STRING"}
    if kind in ("NEWLINE", "SEMICOLON", "$END") and expected & rhs_starts:
        span = previous or Span(position, position + 1)
        operator = source.text[span.start : span.end]
        return ModelSyntaxError(
            f"missing right-hand side after {operator!r}",
            source,
            span,
            hint="write what comes after the operator, e.g. 'f =~ x1 + x2 + x3'",
        )
    if kind in ("NEWLINE", "SEMICOLON", "$END"):
        span = previous or Span(position, position + 1)
        return ModelSyntaxError(
            "incomplete statement: a statement needs an operator such as =~, ~, ~~, :=, ==",
            source,
            span,
            hint="write e.g. 'f =~ x1 + x2', 'y ~ x', 'x1 ~~ x2' or 'ab := a*b'",
        )
    shown = _TOKEN_WORDS.get(kind, repr(token.value) if token is not None else kind)
    if kind in ("NAME", "NUMBER", "STRING") and token is not None:
        shown = f"{_TOKEN_WORDS[kind]} {token.value!r}"
    hint = None
    if kind in ("NAME", "NUMBER") and "STAR" in expected:
        hint = "separate terms with '+' and put '*' between a modifier and its variable"
    elif kind in ("NAME", "NUMBER"):
        hint = "start a new statement on a new line or after ';'"
    elif kind == "REL_OP":
        hint = "a statement has one operator; put each statement on its own line"
    return ModelSyntaxError(
        f"unexpected {shown}",
        source,
        Span(position, position + max(1, len(str(token.value)) if token is not None else 1)),
        hint=hint,
    )


def _token_position(token: Token | None, text: str) -> int:
    if token is None or getattr(token, "start_pos", None) is None or token.type == "$END":
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
    operator_chars = set("=~<>:|*+-/^")
    if stripped[start] in operator_chars:
        while start > 0 and stripped[start - 1] in operator_chars:
            start -= 1
    return Span(start, end)


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
    return None
