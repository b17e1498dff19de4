"""Model texts for comparing the LALR driver with Lark: every model string in the test suite,
the docs and the reference files, the model files shipped with the package and the examples,
and mistakes made from them (truncations, deletions and insertions of one character).

Output: lists of strings; :func:`tree_shape` and :func:`outcome` give what is compared.
"""

from __future__ import annotations

import ast
import json
import random
import re
from functools import cache
from pathlib import Path

from semlang.errors import ModelError
from semlang.syntax.parser import parse

ROOT = Path(__file__).resolve().parents[2]
_OPERATORS = re.compile(r"=~|~|:=|==|\blevel:|\bgroup:")
_FENCE = re.compile(r"```(\w*)\n(.*?)```", re.DOTALL)


def _looks_like_a_model(text: str) -> bool:
    return 0 < len(text) <= 20000 and bool(_OPERATORS.search(text))


def _python_strings(code: str) -> list[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _json_strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for item in value for s in _json_strings(item)]
    return []


@cache
def model_texts() -> tuple[str, ...]:
    """Every string that looks like a model in tests/, docs/, README.md, examples/ and the
    reference files, and every ``.sem`` file, once each, in a fixed order."""
    found: list[str] = []
    for path in sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "examples").rglob("*.py")):
        found += _python_strings(path.read_text(encoding="utf-8"))
    for path in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        for language, block in _FENCE.findall(path.read_text(encoding="utf-8")):
            found += _python_strings(block) if language == "python" else [block]
    for path in sorted((ROOT / "tests" / "reference").rglob("*.json")):
        try:
            found += _json_strings(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue
    for path in sorted(ROOT.rglob("*.sem")):
        found.append(path.read_text(encoding="utf-8"))
    return tuple(dict.fromkeys(t for t in found if _looks_like_a_model(t)))


_INSERTED = "=~+-*/^?()\n;:,#!'\"@[{ 1a.\t\r\ufeff~<>|%"


@cache
def broken_texts(seed: int = 16, per_model: int = 12, models: int = 150) -> tuple[str, ...]:
    """Mistakes made from short valid models: truncations, one character deleted, one
    character inserted (seeded, so the same every run)."""
    rng = random.Random(seed)
    valid = [t for t in model_texts() if len(t) <= 400 and outcome(t)[0] == "ok"]
    out: list[str] = []
    for text in valid[:models]:
        n = len(text)
        for _ in range(per_model // 3):
            cut = rng.randrange(n)
            out.append(text[:cut])
            at = rng.randrange(n)
            out.append(text[:at] + text[at + 1 :])
            at = rng.randrange(n + 1)
            out.append(text[:at] + rng.choice(_INSERTED) + text[at:])
    return tuple(dict.fromkeys(out))


def outcome(text: str) -> tuple:
    """("ok", the syntax tree) or ("error", class, message, span, hint) of parsing ``text``."""
    try:
        return ("ok", parse(text, "model.sem"))
    except ModelError as error:
        return ("error", type(error).__name__, error.message, error.span, error.hint)


_META = (
    "empty", "line", "column", "start_pos", "end_line", "end_column", "end_pos",
    "container_line", "container_column", "container_start_pos",
    "container_end_line", "container_end_column", "container_end_pos",
)  # fmt: skip
_TOKEN = ("type", "value", "start_pos", "line", "column", "end_line", "end_column", "end_pos")


def tree_shape(tree) -> tuple:
    """A parse tree (the driver's or Lark's) as nested tuples: each node's name, its positions
    (every field of its meta) and children; each token's class name left out, its fields kept.
    Built without recursion (trees of deeply nested text are deep)."""
    done: dict[int, tuple] = {}
    todo = [(tree, False)]
    while todo:
        node, visited = todo.pop()
        if isinstance(node, str):
            done[id(node)] = ("token", *(getattr(node, f) for f in _TOKEN))
        elif not visited:
            todo.append((node, True))
            todo += [(child, False) for child in node.children]
        else:
            meta = tuple(getattr(node.meta, f, "-") for f in _META)
            children = tuple(done[id(c)] for c in node.children)
            done[id(node)] = ("tree", str(node.data), meta, children)
    return done[id(tree)]
