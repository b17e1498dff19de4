"""The code in docs/*.md runs as written and prints what the page says it prints.

Each ```python block runs in one namespace per page, in order. Lines starting with ``# `` right
after a block's last print are the expected output of that block; they are compared with what
the block printed (whitespace at line ends ignored).
"""

import contextlib
import io
import re
import warnings
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
PAGES = ["architecture.md", "measurement_models.md", "estimators.md", "diagnostics.md"]
PAGES += ["categorical.md"]
PAGES += ["efa.md"]


def _blocks(page: Path):
    for match in BLOCK.finditer(page.read_text()):
        code = match.group(1)
        expected = [
            line[2:] if line.startswith("# ") else line[1:]
            for line in code.splitlines()
            if line.startswith("#")
        ]
        yield code, expected


@pytest.mark.parametrize("name", PAGES)
def test_page_runs_and_prints_what_it_says(name):
    namespace: dict = {}
    for code, expected in _blocks(DOCS / name):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, f"{name}", "exec"), namespace)
        printed = [line.rstrip() for line in out.getvalue().splitlines()]
        assert printed == [line.rstrip() for line in expected], f"{name}:\n{code}"
