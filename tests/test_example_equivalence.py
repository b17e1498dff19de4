"""examples/cfa_mixed_equivalence runs and its README shows the real output."""

import importlib.util
import re
from pathlib import Path

import pytest

pytest.importorskip("statsmodels")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cfa_mixed_equivalence"


def _run() -> str:
    spec = importlib.util.spec_from_file_location("equivalence_example", EXAMPLE / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main()


def test_readme_shows_the_real_output():
    output = _run()
    readme = (EXAMPLE / "README.md").read_text()
    shown = re.search(r"```text\n(.*?)```", readme, re.S).group(1)
    assert shown.strip() == output.strip()
    scores = [line.split() for line in output.splitlines() if re.match(r"\s+\d+\s+-?\d", line)]
    published = ["-0.453", "-0.312", "-0.594", "-0.031", "-0.453", "-0.031",
                 "-0.453", "-1.720", "-0.312", "-0.453", "-1.297", "-1.157"]  # fmt: skip
    assert [s[1] for s in scores] == published
    assert [s[2] for s in scores] == published
