"""A small LALR(1) driver: runs the tables Lark built in advance (:mod:`semlang.syntax.lalr_table`)
without Lark.

Input: the model text. Output: the parse tree (:mod:`semlang.syntax.tree`) Lark's LALR parser
makes of it with the basic lexer, the post-lexer :class:`~semlang.syntax.continuation.
ContinuationLines` and ``propagate_positions=True``: the same nodes, tokens and positions; text
the grammar does not take raises :class:`~semlang.syntax.tree.UnexpectedCharacters` or
:class:`~semlang.syntax.tree.UnexpectedToken` where Lark raises its own.

The lexer tries Lark's combined regular expressions at each position (the first alternative
that matches wins, as in Lark: terminals ordered by priority, then length, then name), skips
the ignored terminals and counts lines as Lark does. The parser shifts and reduces by the
table; each reduction shapes its node as Lark's tree builder does (children left out or
inlined, a single child standing for an inlined ``?rule``, positions from the first and last
child, counting the children left out).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

from semlang.syntax.continuation import ContinuationLines
from semlang.syntax.tree import Meta, Token, Tree, UnexpectedCharacters, UnexpectedToken


class Lexer:
    """Lark's basic lexer, from the tables' ``PATTERNS``, ``FLAGS``, ``IGNORE``,
    ``NEWLINE_TYPES``, ``ALLOWED`` and ``UNLESS``."""

    def __init__(self, table: ModuleType) -> None:
        self.patterns = [re.compile(p, table.FLAGS) for p in table.PATTERNS]
        self.ignore = frozenset(table.IGNORE)
        self.newline_types = frozenset(table.NEWLINE_TYPES)
        self.allowed = frozenset(table.ALLOWED) or frozenset({"<END-OF-FILE>"})
        self.unless = {
            name: [re.compile(p, table.FLAGS) for p in patterns]
            for name, patterns in table.UNLESS.items()
        }

    def lex(self, text: str) -> Iterator[Token]:
        """The tokens of ``text`` (ignored terminals left out)."""
        pos, line, line_start, end = 0, 1, 0, len(text)
        ignore, newline_types, unless = self.ignore, self.newline_types, self.unless
        while pos < end:
            for pattern in self.patterns:
                match = pattern.match(text, pos, end)
                if match:
                    break
            else:
                raise UnexpectedCharacters(text, pos, line, pos - line_start + 1, self.allowed)
            value, kind = match.group(0), match.lastgroup
            assert kind is not None  # every alternative is a named group
            ignored = kind in ignore
            token = None
            if not ignored or kind in unless:
                token = Token(kind, value, pos, line, pos - line_start + 1)
            if kind in newline_types:
                newlines = value.count("\n")
                if newlines:
                    line += newlines
                    line_start = pos + value.rindex("\n") + 1
            pos += len(value)
            if token is not None:
                token.end_line = line
                token.end_column = pos - line_start + 1
                token.end_pos = pos
                if kind in unless:
                    token = self._keyword(token)
                if not ignored:
                    yield token

    def _keyword(self, token: Token) -> Token:
        for pattern in self.unless[token.type]:
            match = pattern.fullmatch(token.value)
            if match:
                token.type = match.lastgroup or token.type
                break
        return token


def _pp_meta(children: Sequence) -> Token | Meta | None:
    """The first child with a position (Lark's ``PropagatePositions._pp_get_meta``): a token,
    or the meta of a node that is not empty."""
    for child in children:
        if isinstance(child, Token):
            return child
        meta = child.meta
        if not meta.empty:
            return meta
    return None


def _propagate(meta: Meta, children: list) -> None:
    """Set a node's positions from its children (all of them, also those left out), as Lark's
    ``PropagatePositions``: from the container positions of a child node, where it has them
    (they count what was inlined or left out of it), else from the child's own."""
    first: Any = _pp_meta(children)
    if first is None:  # no child with a position (then neither from the end)
        return
    last: Any = _pp_meta(children[::-1])
    if isinstance(first, Meta) and hasattr(first, "container_line"):
        start = first.container_line, first.container_column, first.container_start_pos
    else:
        start = first.line, first.column, first.start_pos
    if not hasattr(meta, "line"):  # not yet set (an inlined ?rule's node keeps its own)
        meta.line, meta.column, meta.start_pos = start
        meta.empty = False
    meta.container_line, meta.container_column, meta.container_start_pos = start
    if isinstance(last, Meta) and hasattr(last, "container_end_line"):
        end = last.container_end_line, last.container_end_column, last.container_end_pos
    else:
        end = last.end_line, last.end_column, last.end_pos
    if not hasattr(meta, "end_line"):
        meta.end_line, meta.end_column, meta.end_pos = end
        meta.empty = False
    meta.container_end_line, meta.container_end_column, meta.container_end_pos = end


def _reducer(name: str, expand1: bool, include: Sequence[tuple[int, bool]] | None) -> Callable:
    """The node one rule makes of its children, as Lark's ParseTreeBuilder wraps it."""

    def reduce(children: list):
        kept = children
        if include is not None:
            kept = []
            for i, inline in include:
                if not inline:
                    kept.append(children[i])
                elif kept:
                    kept += children[i].children
                else:
                    kept = children[i].children
        if expand1 and len(kept) == 1:
            node = kept[0]
            if isinstance(node, Tree):
                _propagate(node.meta, children)
            return node
        meta = Meta()
        _propagate(meta, children)
        return Tree(name, kept, meta)

    return reduce


class Parser:
    """The LALR(1) parser of the tables' ``START``, ``END``, ``RULES`` and ``STATES``."""

    def __init__(self, table: ModuleType) -> None:
        self.lexer = Lexer(table)
        self.postlex = ContinuationLines()
        self.start = table.START
        self.end = table.END
        self.states = table.STATES
        self.rules = [
            (origin, size, _reducer(name, expand1, include))
            for origin, size, name, expand1, include in table.RULES
        ]

    def parse(self, text: str) -> Tree:
        """The parse tree of ``text``; UnexpectedCharacters or UnexpectedToken where it does not
        fit the grammar."""
        state_stack = [self.start]
        value_stack: list = []
        token = None
        for token in self.postlex.process(self.lexer.lex(text)):
            self._feed(token, state_stack, value_stack)
        if token is None:
            end = Token("$END", "", 0, 1, 1)
        else:
            end = Token.new_borrow_pos("$END", "", token)
        return self._feed(end, state_stack, value_stack, is_end=True)

    def _feed(self, token: Token, state_stack: list, value_stack: list, is_end: bool = False):
        states, rules = self.states, self.rules
        while True:
            actions = states[state_stack[-1]]
            action = actions.get(token.type)
            if action is None:
                expected = {s for s in actions if s.isupper()}
                raise UnexpectedToken(token, expected)
            if action >= 0:  # shift
                state_stack.append(action)
                value_stack.append(token)
                return None
            origin, size, reduce = rules[-1 - action]
            if size:
                children = value_stack[-size:]
                del state_stack[-size:]
                del value_stack[-size:]
            else:
                children = []
            value = reduce(children)
            state_stack.append(states[state_stack[-1]][origin])
            value_stack.append(value)
            if is_end and state_stack[-1] == self.end:
                return value_stack[-1]
