"""The Big Five example gives lavaan's numbers; the READMEs show the real commands and output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from reference_cases import assert_matches, load_case

from semlang.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "bigfive"
MODEL = ROOT / "semlang" / "datasets" / "bigfive_agree.sem"


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(info string, content) of every fenced code block of a markdown text."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w*)\n(.*?)```", text, re.S)]


def _readme_command_and_output() -> tuple[list[str], str]:
    blocks = _fenced_blocks((EXAMPLE / "README.md").read_text(encoding="utf-8"))
    kinds = [kind for kind, _ in blocks]
    console = kinds.index("console")
    command = blocks[console][1].strip()
    assert command.startswith("$ semlang ")
    assert kinds[console + 1] == "text", "the output follows the command"
    return command[len("$ semlang ") :].split(), blocks[console + 1][1]


def _run(argv: list[str], capsys, monkeypatch, where: Path = ROOT) -> tuple[int, str, str]:
    monkeypatch.chdir(where)
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def reference():
    return load_case("bigfive_agree_equal")


def test_model_file_is_the_reference_model(reference):
    text = MODEL.read_text(encoding="utf-8")
    statements = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    expected = [line.strip() for line in reference["model"].splitlines() if line.strip()]
    assert statements == expected
    assert reference["fun"] == "cfa" and reference["options"] == {"meanstructure": True}


def test_readme_shows_the_real_output(capsys, monkeypatch, tmp_path):
    argv, shown = _readme_command_and_output()
    assert argv[:3] == ["fit", "bigfive_agree.sem", "bigfive_agree.csv"]
    assert "--cfa" in argv and "--meanstructure" in argv
    # the shipped model and data are found by name in any directory
    code, out, err = _run(argv, capsys, monkeypatch, where=tmp_path)
    assert code == 0, err
    assert out == shown


def test_a_local_file_comes_before_the_shipped_one(capsys, monkeypatch, tmp_path):
    (tmp_path / "bigfive_agree.sem").write_text("agree =~ A1 + A2 + A3\n", encoding="utf-8")
    code, out, err = _run(
        ["fit", "bigfive_agree.sem", "bigfive_agree.csv", "--cfa", "--format", "json"],
        capsys,
        monkeypatch,
        where=tmp_path,
    )
    assert code == 0, err
    assert json.loads(out)["fit_measures"]["df"] == 0  # three indicators: the local model


def test_an_unknown_name_is_a_missing_file(capsys, monkeypatch, tmp_path):
    code, _, err = _run(["fit", "nothing_shipped.sem", "bigfive_agree.csv"], capsys,
                        monkeypatch, where=tmp_path)  # fmt: skip
    assert code == 2
    assert err.startswith("error: 'nothing_shipped.sem': No such file or directory")


def test_readme_shows_the_model_file():
    blocks = _fenced_blocks((EXAMPLE / "README.md").read_text(encoding="utf-8"))
    model = MODEL.read_text(encoding="utf-8")
    assert ("", model) in blocks


def _row(estimates: list[dict], lhs: str, op: str, rhs: str) -> dict:
    (row,) = [r for r in estimates if (r["lhs"], r["op"], r["rhs"]) == (lhs, op, rhs)]
    return row


def test_json_output_has_lavaans_numbers(capsys, monkeypatch, reference):
    argv, _ = _readme_command_and_output()
    code, out, err = _run([*argv, "--format", "json"], capsys, monkeypatch)
    assert code == 0, err
    result = json.loads(out)
    measures = result["fit_measures"]
    assert_matches("chisq", measures["chisq"], 744.709, "chisq")
    assert measures["df"] == 13
    estimates = result["estimates"]
    intercepts = [-2.412, 4.797, 4.599, 4.682, 4.551]
    for k, value in enumerate(intercepts, start=1):
        row = _row(estimates, f"A{k}", "~1", "")
        assert round(row["est"], 3) == value
        assert round(row["se"], 3) == 0.026
    for k in range(1, 6):
        row = _row(estimates, f"A{k}", "~~", f"A{k}")
        assert (round(row["est"], 3), round(row["se"], 3)) == (1.201, 0.016)
        assert row["label"] == "var"
    factor = _row(estimates, "agree", "~~", "agree")
    assert (round(factor["est"], 3), round(factor["se"], 3)) == (0.571, 0.022)
    # and every estimate and SE against the reference, within its tolerance
    for ref in reference["estimates"]:
        row = _row(estimates, ref["lhs"], ref["op"], ref["rhs"])
        assert_matches("est", row["est"], ref["est"], f"{ref['lhs']}{ref['op']}{ref['rhs']}")
        assert_matches("se", row["se"], ref["se"], f"{ref['lhs']}{ref['op']}{ref['rhs']}")


def test_readme_states_the_sample_size_and_numbers():
    text = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    _, shown = _readme_command_and_output()
    assert "  Number of observations                          2709" in shown.split("\n")
    assert "  Test statistic                               744.709" in shown.split("\n")
    assert "χ² = 744.709 on 13 degrees of freedom" in text


def test_example_python_runs(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)  # the shipped files need no source tree
    code = dict(_fenced_blocks((EXAMPLE / "README.md").read_text(encoding="utf-8")))["python"]
    namespace: dict = {}
    exec(compile(code, "examples/bigfive/README.md", "exec"), namespace)
    assert_matches("chisq", namespace["fit"].fit_measures()["chisq"], 744.709, "chisq")
    assert "  Test statistic                               744.709" in capsys.readouterr().out


# ---- the project's README ---------------------------------------------------------------------


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def _readme_setup() -> tuple[list[str], list[str]]:
    """The lines of the README's two set-up blocks: the user's, the developer's."""
    user, dev = [block.strip().split("\n") for kind, block in _fenced_blocks(_readme())
                 if kind == "bash"][:2]  # fmt: skip
    return user, dev


def test_readme_setup_makes_a_venv_and_runs_the_example_command():
    user, _ = _readme_setup()
    argv, _ = _readme_command_and_output()
    assert user == [
        "python3 -m venv .venv",
        ". .venv/bin/activate",
        "pip install -e . && semlang " + " ".join(argv),
    ]
    assert "Python 3.10 or newer" in _readme()


def test_ci_runs_the_readme_install_and_test_command():
    """.ci/run installs the project and runs the test command exactly as the README says."""
    _, dev = _readme_setup()
    assert dev == [
        'pip install -e ".[dev]"',
        "ruff check && ruff format --check && mypy && pytest -n auto",
    ]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert dev[0] in ci
    assert f"{dev[1]} || exit" in ci  # (|| exit: a failing check ends the run under set -e)


def test_readme_python_quick_start_runs():
    code = dict(_fenced_blocks(_readme()))["python"]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    reference = load_case("hs_cfa")["fit_measures"]
    assert namespace["measures"]["df"] == reference["df"]
    assert_matches("chisq", namespace["again"].fit_measures()["chisq"], reference["chisq"])


def test_readme_error_example_is_real(tmp_path, capsys, monkeypatch):
    shown = dict(_fenced_blocks(_readme()))["text"]
    model = "visual  =~ x1 + x2 + x3\ntextual =~ x4 + x5 + xx6\nspeed   =~ x7 + x8 + x9\n"
    (tmp_path / "model.sem").write_text(model, encoding="utf-8")
    data = ROOT / "semlang" / "datasets" / "HolzingerSwineford1939.csv"
    monkeypatch.chdir(tmp_path)
    code = main(["fit", "model.sem", str(data)])
    assert code == 2
    assert capsys.readouterr().err == shown
