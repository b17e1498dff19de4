"""Write semlang/syntax/lalr_table.py: the LALR tables of the model grammar, built in advance.

Run after changing grammar/semlang.lark or upgrading Lark (the tests say when):

    python tools/make_parser_table.py

Lark builds its parser from the grammar (LALR(1), basic lexer, the post-lexer and positions as
at run time); this script writes what that parser is made of as plain Python data, read by the
driver of :mod:`semlang.syntax.lalr`: the lexer's combined regular expressions exactly as Lark
compiles them (terminals in Lark's order of priority, length and name), the ignored and
newline-holding terminals, the parse table and, for each rule, how Lark shapes its tree node.
``KEY`` records what the tables were built from (:func:`semlang.syntax.parser.table_key`); the
parser uses the tables when the key matches and Lark itself otherwise.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import lark
from lark import parse_tree_builder as ptb
from lark.parsers.lalr_analysis import Shift

from semlang.syntax.parser import build_parser, grammar_text, table_key

TARGET = Path(__file__).resolve().parents[1] / "semlang" / "syntax" / "lalr_table.py"

HEADER = '''"""The LALR tables of ``grammar/semlang.lark``, built in advance by Lark
(``tools/make_parser_table.py`` wrote this file; do not edit it).

:func:`semlang.syntax.parser._parser` runs them with :mod:`semlang.syntax.lalr` when ``KEY``
matches the grammar and Lark's version, and uses Lark itself otherwise.
``PATTERNS``: the lexer's combined regular expressions (compiled with ``FLAGS``), tried in turn;
``UNLESS``: per terminal, the patterns whose full match renames a token of it (Lark's keywords).
``RULES``: per rule, (its nonterminal, its length, the tree node's name, whether a single child
stands for the node, which children are kept: None for all, else (index, inlined) pairs).
``STATES``: per state, symbol -> action: a state to go to (>= 0) or ``-1 - rule`` to reduce.
"""

# fmt: off
# ruff: noqa: E501
'''


_TYPES = {
    "PATTERNS": "tuple[str, ...]",
    "FLAGS": "int",
    "IGNORE": "tuple[str, ...]",
    "NEWLINE_TYPES": "tuple[str, ...]",
    "ALLOWED": "tuple[str, ...]",
    "UNLESS": "dict[str, tuple[str, ...]]",
    "START": "int",
    "END": "int",
    "RULES": "tuple[tuple[str, int, str, bool, tuple[tuple[int, bool], ...] | None], ...]",
    "STATES": "tuple[dict[str, int], ...]",
}


def _lexer_data(parser: lark.Lark) -> dict[str, object]:
    """The basic lexer Lark made of the grammar's terminals, as plain data."""
    lexer = parser.parser.lexer.lexer  # behind the post-lexer's connector
    assert isinstance(lexer, lark.lexer.BasicLexer) and lexer.re is re
    assert not lexer.user_callbacks and not lexer.use_bytes
    scanner = lexer.scanner  # builds the combined expressions and the keyword callbacks
    unless = {}
    for name, callback in sorted(lexer.callback.items()):
        assert isinstance(callback, lark.lexer.UnlessCallback)
        unless[name] = tuple(m.pattern for m in callback.scanner._mres)
    return {
        "PATTERNS": tuple(m.pattern for m in scanner._mres),
        "FLAGS": lexer.g_regex_flags,
        "IGNORE": tuple(sorted(lexer.ignore_types)),
        "NEWLINE_TYPES": tuple(sorted(lexer.newline_types)),
        "ALLOWED": tuple(sorted(scanner.allowed_types - lexer.ignore_types)),
        "UNLESS": unless,
    }


def _rule_shape(rule, chain) -> tuple:
    """(origin, size, node name, expand single child, kept children) of one rule, read from
    the wrapper chain Lark's ParseTreeBuilder made for it."""
    expand1 = False
    include = None
    for wrapper in chain:
        if wrapper is ptb.ExpandSingleChild:
            expand1 = True
        elif isinstance(wrapper, partial) and wrapper.func is ptb.ChildFilterLALR_NoPlaceholders:
            include = tuple((int(i), bool(inline)) for i, inline in wrapper.args[0])
        else:
            assert wrapper is ptb.PropagatePositions, wrapper
    name = rule.alias or rule.options.template_source or rule.origin.name
    return (str(rule.origin.name), len(rule.expansion), str(name), expand1, include)


def _parser_data(parser: lark.Lark) -> dict[str, object]:
    """The parse table and the tree shapes of the rules, as plain data; the states numbered in
    the order a walk from the start state (symbols in sorted order) meets them, so that the
    file is the same whenever it is made (Lark's own numbering varies between runs)."""
    options = parser.options
    assert not options.maybe_placeholders and not options.keep_all_tokens
    assert options.propagate_positions is True and options.tree_class is None
    builders = parser._parse_tree_builder.rule_builders
    rule_index = {id(rule): i for i, (rule, _) in enumerate(builders)}
    table = parser.parser.parser._parse_table
    ((start, start_state),) = table.start_states.items()
    order = [start_state]
    number = {start_state: 0}
    for state in order:  # grows while it is walked
        for symbol in sorted(table.states[state]):
            action, arg = table.states[state][symbol]
            if action is Shift and arg not in number:
                number[arg] = len(order)
                order.append(arg)
    end_state = table.end_states[start]
    if end_state not in number:  # reached by the last reduction only
        number[end_state] = len(order)
        order.append(end_state)
    assert len(order) == len(table.states)
    states = []
    for state in order:
        actions = {}
        for symbol in sorted(table.states[state]):
            action, arg = table.states[state][symbol]
            actions[str(symbol)] = number[arg] if action is Shift else -1 - rule_index[id(arg)]
        states.append(actions)
    return {
        "START": 0,
        "END": number[end_state],
        "RULES": tuple(_rule_shape(rule, chain) for rule, chain in builders),
        "STATES": tuple(states),
    }


def table_text() -> str:
    """The text of semlang/syntax/lalr_table.py for the current grammar and Lark."""
    grammar = grammar_text()
    parser = build_parser(grammar)
    data = {**_lexer_data(parser), **_parser_data(parser)}
    lines = [
        HEADER,
        f"LARK_VERSION = {lark.__version__!r}\n",
        f"KEY = {table_key(grammar)!r}\n",
    ]
    lines += [f"{name}: {_TYPES[name]} = {value!r}\n" for name, value in data.items()]
    return "".join(lines)


def main() -> None:
    text = table_text()
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.name} ({len(text)} characters)")


if __name__ == "__main__":
    main()
