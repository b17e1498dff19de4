"""Syntax errors: what the parser could not read -> a located ModelSyntaxError with a hint.

Input: the error of the LALR driver (:mod:`semlang.syntax.tree`'s UnexpectedCharacters,
UnexpectedToken, or UnexpectedEOF; Lark's own are turned into these first) and the
:class:`~semlang.errors.Source`. Output: :class:`~semlang.errors.ModelSyntaxError` with the
spot (the character, the token, an unclosed '(', the operator a statement ends with) and a hint.
"""

from __future__ import annotations

import re

from semlang.errors import ModelSyntaxError, Source, Span
from semlang.syntax.tree import (
    Token,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

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


def syntax_error(error: UnexpectedInput, source: Source) -> ModelSyntaxError:
    """The ModelSyntaxError (message, span, hint) of a parser's ``error`` in ``source``."""
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
    start = token.start_pos or 0  # the lexer sets the positions of the tokens it reads
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
