"""The grammar ships inside the wheel: build it, install it apart from the source tree, parse."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        check=True,
    )  # fmt: skip
    return next(out.glob("semlang-*.whl"))


def test_wheel_contains_the_grammar(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "semlang/grammar/semlang.lark" in names
    assert "semlang/datasets/bigfive_agree.csv" in names


def test_installed_wheel_parses_a_model(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True,
    )  # fmt: skip
    script = (
        "import semlang, pathlib\n"
        f"assert pathlib.Path(semlang.__file__).is_relative_to(pathlib.Path(r'{target}'))\n"
        "from semlang.syntax.parser import grammar_text\n"
        "from importlib import resources\n"
        "assert (resources.files('semlang') / 'grammar' / 'semlang.lark').is_file()\n"
        "table = semlang.parameter_table('f =~ x1 + x2 + x3', 'cfa')\n"
        "print(len(table.rows))\n"
    )
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "7"
