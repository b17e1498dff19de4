"""Model text -> syntax tree.

Input: the model text (and the name it is reported under).
Output: a :class:`semlang.syntax.ast.Model`.
The grammar is ``grammar/semlang.lark`` (shipped inside the wheel as ``semlang/grammar``), a Lark
grammar. Lark builds its LALR tables ahead of time (:mod:`semlang.syntax.lalr_table`, written by
``tools/make_parser_table.py``) and a small driver (:mod:`semlang.syntax.lalr`) runs them, so
reading a model does not import Lark. When the tables are stale (another grammar or Lark
version), Lark itself builds the parser from the grammar, once per process (that takes longer
than the rest of ``semlang check``); both make the same tree. Parse errors never escape: they
become :class:`~semlang.errors.ModelSyntaxError` with the spot and a hint
(:mod:`semlang.syntax.messages`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from semlang.errors import ModelSyntaxError, OptionError, Source
from semlang.syntax import ast
from semlang.syntax.continuation import ContinuationLines as _ContinuationLines
from semlang.syntax.transformer import to_ast
from semlang.syntax.tree import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

if TYPE_CHECKING:
    from lark import Lark

__all__ = ["build_parser", "grammar_text", "parse", "table_key", "variable_names"]

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
    from importlib import resources  # (its import costs more than the rest of a parse)

    packaged = resources.files("semlang") / "grammar" / "semlang.lark"
    return packaged.read_text(encoding="utf-8")


# How the parser is built (the post-lexer and positions are given to Lark besides).
_OPTIONS = {"parser": "lalr", "lexer": "basic", "maybe_placeholders": False}
# The form of the tables in lalr_table.py (what tools/make_parser_table.py writes).
TABLE_FORMAT = 2


def lark_version() -> str | None:
    """The installed Lark's version, read from its ``__init__.py`` without importing it (that
    would cost more than the rest of a parse); Lark's ``__version__`` when the file does not say
    it plainly; None without Lark."""
    from importlib.util import find_spec

    spec = find_spec("lark")
    if spec is None or spec.origin is None:
        return None
    try:
        found = re.search(
            r"^__version__\s*(?::\s*str\s*)?=\s*[\"']([^\"']+)[\"']",
            Path(spec.origin).read_text(encoding="utf-8"),
            re.MULTILINE,
        )
    except OSError:
        found = None
    if found is not None:
        return found.group(1)
    import lark

    return str(lark.__version__)


def table_key(grammar: str, version: str | None = None) -> str:
    """What the prebuilt tables must have been built from: the grammar, the options, the tables'
    form and Lark's version (``version``, else the installed one's)."""
    version = version or lark_version()
    made_from = f"{grammar}\n{sorted(_OPTIONS.items())}\ntables {TABLE_FORMAT}\nlark {version}"
    return _sha256(made_from.encode("utf-8"))


def _sha256(data: bytes) -> str:
    """The SHA-256 hex digest of ``data``: Python's built-in one where it has it (importing
    ``hashlib`` loads OpenSSL, some milliseconds of ``semlang check``), else hashlib's."""
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]  # Python 3.10, 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found]  # Python 3.12 on
        except ImportError:
            from hashlib import sha256
    return sha256(data).hexdigest()


def build_parser(grammar: str) -> Lark:
    """Lark's parser built from the grammar's text (what the prebuilt tables are made from)."""
    from lark import Lark

    return Lark(grammar, postlex=_ContinuationLines(), propagate_positions=True, **_OPTIONS)


class _TreeMaker(Protocol):
    def parse(self, text: str) -> Any: ...


class _LarkParser:
    """Lark's parser, its errors turned into those of :mod:`semlang.syntax.tree`."""

    def __init__(self, grammar: str) -> None:
        self.lark = build_parser(grammar)

    def parse(self, text: str) -> Any:
        from lark import exceptions

        try:
            return self.lark.parse(text)
        except exceptions.UnexpectedCharacters as error:
            raise UnexpectedCharacters(
                text, error.pos_in_stream or 0, error.line, error.column, error.allowed
            ) from None
        except exceptions.UnexpectedToken as error:
            raise UnexpectedToken(error.token, set(error.expected)) from None
        except exceptions.UnexpectedEOF as error:
            raise UnexpectedEOF(set(error.expected)) from None


@cache
def _parser() -> _TreeMaker:
    """The driver of the prebuilt tables when they are those of this grammar and the installed
    Lark (or when Lark is not installed, so cannot build others); else Lark's parser."""
    grammar = grammar_text()
    from semlang.syntax import lalr_table

    if table_key(grammar, lark_version() or lalr_table.LARK_VERSION) != lalr_table.KEY:
        return _LarkParser(grammar)
    from semlang.syntax.lalr import Parser

    return Parser(lalr_table)


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
        from semlang.syntax.messages import syntax_error  # (the messages only when needed)

        raise syntax_error(error, source) from None
    return to_ast(tree, source)
