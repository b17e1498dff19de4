"""The post-lexer of the model language: which newlines end a statement.

Input: the tokens of the lexer (Lark's or :mod:`semlang.syntax.lalr`'s), in order.
Output: the same tokens without the newlines that do not end a statement: a line that ends with
an operator, '+', '*', '?', ',' or '(' continues on the next line, and so does a line followed
by one that starts with an operator or '+'; newlines at the start and the end are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

# A newline after one of these continues the statement on the next line.
CONTINUES_AFTER = {
    "REL_OP", "TYPO_OP", "TYPO_EQ", "DEFINE", "CMP_OP", "PLUS", "MINUS", "STAR", "QMARK", "SLASH",
    "CARET", "POWER", "LPAR", "COMMA", "COLON", "NEWLINE", "SEMICOLON",
}  # fmt: skip
# A newline before one of these continues the statement too.
CONTINUES_BEFORE = {
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


class _Typed(Protocol):
    type: str


T = TypeVar("T", bound=_Typed)  # a token: anything with a ``type``


class ContinuationLines:
    """Post-lexer: drops the newlines that do not end a statement."""

    always_accept = ("NEWLINE",)

    def process(self, stream: Iterable[T]) -> Iterator[T]:
        previous: T | None = None
        pending: T | None = None
        for token in stream:
            kind = token.type
            if kind == "NEWLINE":
                if previous is None or previous.type in CONTINUES_AFTER:
                    continue
                pending = pending or token
                continue
            if pending is not None:
                if kind not in CONTINUES_BEFORE:
                    yield pending
                    previous = pending
                pending = None
            yield token
            previous = token
