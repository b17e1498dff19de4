"""The wheel holds what an installed semlang needs: build it, install it apart from the source
tree, and run it there (the grammar, the shipped examples, ``python -m semlang``, the metadata)."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import semlang

ROOT = Path(__file__).resolve().parents[1]

# the wheel is built with the build backend itself (no download): the dev extra installs it
pytest.importorskip("hatchling", reason="building the wheel needs hatchling (the dev extra)")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        check=True,
    )  # fmt: skip
    return next(out.glob("semlang-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True,
    )  # fmt: skip
    return target


def _run_installed(target: Path, where: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"}
    return subprocess.run(
        [sys.executable, *args], cwd=where, env=env, capture_output=True, text=True
    )


def test_wheel_contains_the_grammar_and_the_examples(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "semlang/grammar/semlang.lark" in names
    assert "semlang/datasets/bigfive_agree.csv" in names
    assert "semlang/datasets/bigfive_agree.sem" in names
    assert "semlang/py.typed" in names
    assert "semlang/__main__.py" in names


def test_wheel_metadata_has_the_version_and_the_license(wheel):
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert f"\nVersion: {semlang.__version__}\n" in metadata  # the one version, semlang's
    assert wheel.name.startswith(f"semlang-{semlang.__version__}-")
    assert "\nLicense-Expression: MIT\n" in metadata
    assert "\nClassifier: Typing :: Typed\n" in metadata
    assert "\nRequires-Python: >=3.10\n" in metadata
    (license_file,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert archive.read(license_file) == (ROOT / "LICENSE").read_bytes()


def test_installed_wheel_parses_a_model(installed, tmp_path):
    script = (
        "import semlang, pathlib\n"
        f"assert pathlib.Path(semlang.__file__).is_relative_to(pathlib.Path(r'{installed}'))\n"
        "from importlib import resources\n"
        "assert (resources.files('semlang') / 'grammar' / 'semlang.lark').is_file()\n"
        "table = semlang.parameter_table('f =~ x1 + x2 + x3', 'cfa')\n"
        "print(len(table.rows))\n"
    )
    result = _run_installed(installed, tmp_path, "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "7"


def test_installed_wheel_runs_as_python_m_semlang(installed, tmp_path):
    result = _run_installed(installed, tmp_path, "-m", "semlang", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"semlang {semlang.__version__}\n"


def test_installed_wheel_checks_the_shipped_example_model(installed, tmp_path):
    result = _run_installed(installed, tmp_path, "-m", "semlang", "check", "bigfive_agree.sem")
    assert result.returncode == 0, result.stderr
    (line,) = [x for x in result.stdout.splitlines() if "Degrees of freedom" in x]
    assert line.split()[-1] == "13"  # 15 moments of the five items, 2 free parameters
