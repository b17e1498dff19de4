"""The parse tree of :mod:`semlang.syntax.lalr`: tokens, tree nodes, their positions, the
non-recursive transformer that walks a tree, and the errors of reading text that does not fit
the grammar.

Input: what the lexer and the LALR driver make. Output: objects with the fields of Lark's
``Token``, ``Tree``, ``Meta``, ``UnexpectedCharacters`` and ``UnexpectedToken`` that
:mod:`semlang.syntax.transformer` and :mod:`semlang.syntax.messages` read, so that a tree or an
error looks the same whether the driver or Lark itself read the text.
"""

from __future__ import annotations

from typing import Any


class Token(str):
    """A piece of the text: the string itself, with its terminal's name (``type``) and where it
    is (0-based offsets ``start_pos``/``end_pos``, 1-based ``line``/``column`` of its start and
    ``end_line``/``end_column`` just after its end), as Lark's Token."""

    __slots__ = (
        "column",
        "end_column",
        "end_line",
        "end_pos",
        "line",
        "start_pos",
        "type",
        "value",
    )

    type: str
    start_pos: int | None
    value: Any
    line: int | None
    column: int | None
    end_line: int | None
    end_column: int | None
    end_pos: int | None

    def __new__(
        cls,
        type: str,
        value: Any,
        start_pos: int | None = None,
        line: int | None = None,
        column: int | None = None,
        end_line: int | None = None,
        end_column: int | None = None,
        end_pos: int | None = None,
    ) -> Token:
        self = super().__new__(cls, value)
        self.type = type
        self.start_pos = start_pos
        self.value = value
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column
        self.end_pos = end_pos
        return self

    @classmethod
    def new_borrow_pos(cls, type_: str, value: Any, borrow: Token) -> Token:
        """A token of another type and value at ``borrow``'s place."""
        return cls(
            type_,
            value,
            borrow.start_pos,
            borrow.line,
            borrow.column,
            borrow.end_line,
            borrow.end_column,
            borrow.end_pos,
        )

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r})"

    def __reduce__(self):
        return (self.__class__, (self.type, self.value, self.start_pos, self.line, self.column))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Token) and self.type != other.type:
            return False
        return str.__eq__(self, other)

    __hash__ = str.__hash__


class Meta:
    """Where a tree node is in the text (set as Lark's ``propagate_positions`` sets it): ``empty``
    until a child with a position is known; then ``line``, ``column``, ``start_pos``,
    ``end_line``, ``end_column``, ``end_pos``, and the ``container_*`` positions of the text the
    node takes up with the children that were left out of the tree."""

    __slots__ = (
        "column",
        "container_column",
        "container_end_column",
        "container_end_line",
        "container_end_pos",
        "container_line",
        "container_start_pos",
        "empty",
        "end_column",
        "end_line",
        "end_pos",
        "line",
        "start_pos",
    )  # fmt: skip

    empty: bool
    line: int
    column: int
    start_pos: int
    end_line: int
    end_column: int
    end_pos: int
    container_line: int
    container_column: int
    container_start_pos: int
    container_end_line: int
    container_end_column: int
    container_end_pos: int

    def __init__(self) -> None:
        self.empty = True


class Tree:
    """A node of the parse tree: its rule's name (``data``), its children (trees and tokens)
    and its :class:`Meta`."""

    __slots__ = ("_meta", "children", "data")

    def __init__(self, data: str, children: list, meta: Meta | None = None) -> None:
        self.data = data
        self.children = children
        self._meta = meta

    @property
    def meta(self) -> Meta:
        if self._meta is None:
            self._meta = Meta()
        return self._meta

    def __repr__(self) -> str:
        return f"Tree({self.data!r}, {self.children!r})"

    def __eq__(self, other: object) -> bool:
        try:
            return self.data == other.data and self.children == other.children  # type: ignore[attr-defined]
        except AttributeError:
            return False

    def __hash__(self) -> int:
        return hash((self.data, tuple(self.children)))


class Transformer:
    """Calls, from the leaves up, the method named as each node (with the node's meta and its
    transformed children) and puts what it returns in the node's place, as Lark's
    Transformer_NonRecursive with ``v_args(meta=True)``; a node without a method stays a node.
    Tokens (any ``str``) pass unchanged; trees may be this module's or Lark's."""

    def transform(self, tree: Any) -> Any:
        """The transformed ``tree``, without recursion (nodes in post-order from a stack)."""
        rev_postfix = []
        todo = [tree]
        while todo:
            node = todo.pop()
            rev_postfix.append(node)
            if not isinstance(node, str) and node is not None:
                todo += node.children
        stack: list = []
        for node in reversed(rev_postfix):
            if isinstance(node, str) or node is None:
                stack.append(node)
                continue
            size = len(node.children)
            args = stack[-size:] if size else []
            if size:
                del stack[-size:]
            method = getattr(self, node.data, None)
            stack.append(
                Tree(node.data, args, node.meta) if method is None else method(node.meta, args)
            )
        (result,) = stack
        return result


class UnexpectedInput(Exception):
    """Text that does not fit the grammar; ``pos_in_stream`` is the offset where it stops."""

    pos_in_stream: int | None = None
    line: int | None = None
    column: int | None = None


class UnexpectedCharacters(UnexpectedInput):
    """No terminal matches the text at ``pos_in_stream`` (``allowed``: the terminals that the
    lexer knows)."""

    def __init__(
        self,
        text: str,
        pos: int,
        line: int | None,
        column: int | None,
        allowed: frozenset[str] | set[str] | None = None,
    ) -> None:
        self.pos_in_stream = pos
        self.line = line
        self.column = column
        self.allowed = allowed
        self.char = text[pos : pos + 1]
        super().__init__(
            f"No terminal matches {self.char!r} in the current parser context, "
            f"at line {line} col {column}"
        )


class UnexpectedToken(UnexpectedInput):
    """The parser cannot take ``token`` here (``expected``: the terminals it could take)."""

    def __init__(self, token: Token, expected: set[str]) -> None:
        self.token = token
        self.expected = expected
        self.pos_in_stream = getattr(token, "start_pos", None)
        self.line = getattr(token, "line", None)
        self.column = getattr(token, "column", None)
        super().__init__(f"Unexpected token {token!r}; expected one of {sorted(expected)}")


class UnexpectedEOF(UnexpectedInput):
    """The text ended where the parser expected more (``expected``)."""

    def __init__(self, expected: set[str]) -> None:
        self.expected = expected
        self.token = Token("<EOF>", "")
        self.pos_in_stream = -1
        self.line = -1
        self.column = -1
        super().__init__(f"Unexpected end of input; expected one of {sorted(expected)}")
