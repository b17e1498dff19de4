"""The command line: exit statuses, messages, output formats, check/parse/diagram, the registry."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from reference_cases import REFERENCE_DIR, assert_matches, load_case

from semlang.cli import main
from semlang.commands import Command, build_parser, discover, reported_warnings
from semlang.errors import DataWarning, HeywoodWarning

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "semlang" / "datasets"
HS = str(DATA / "HolzingerSwineford1939.csv")
BIGFIVE = str(DATA / "bigfive_agree.csv")
HS_MODEL = "visual  =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed   =~ x7 + x8 + x9\n"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def model_file(tmp_path):
    def write(text: str, name: str = "model.sem") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def agree(model_file):
    return model_file(load_case("bigfive_agree_equal")["model"], "agree.sem")


# ---- fit: exit statuses and messages ------------------------------------------------------------


def test_fit_prints_the_summary(agree, capsys):
    code, out, err = run(["fit", agree, BIGFIVE, "--cfa", "--meanstructure"], capsys)
    assert code == 0, err
    assert "  Test statistic                               744.709" in out.split("\n")
    assert err == ""


def test_syntax_error_is_located_in_the_file(model_file, capsys):
    path = model_file("visual =~ x1 + x2 + x3\ntextual ~= x4 + x5 + x6\n", "bad.sem")
    code, out, err = run(["fit", path, HS], capsys)
    assert code == 2
    assert out == ""
    assert re.match(rf"{re.escape(str(path))}:2:9: error: ", err)
    assert "textual ~= x4" in err and "^^" in err
    assert "Traceback" not in err


def test_unknown_variable_names_the_spot_and_a_close_column(model_file, capsys):
    path = model_file(HS_MODEL.replace("x6", "xx6"))
    code, out, err = run(["fit", path, HS, "--cfa"], capsys)
    assert code == 2 and out == ""
    first = err.split("\n")[0]
    assert first.startswith(f"{path}:2:22: error: ")
    assert "'xx6'" in first
    assert "x6" in err.split("hint:")[1]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "{missing}", HS], "No such file or directory"),
        (["fit", "{model}", "{missing}"], "does not exist"),
        (["fit", "{model}", HS, "--se", "bogus"], "'se'"),
        (["fit", "{model}", HS, "--group-equal", "loadngs"], "did you mean 'loadings'?"),
        (["fit", "{model}", HS, "--group", "schol"], "schol"),
        (["fit", "{model}", HS, "--bootstrap", "many"], "invalid int value"),
        (["fit", "{model}"], "the following arguments are required: data"),
        (["check", "{missing}"], "No such file or directory"),
        (["diagram", "{model}", "-o", "{missing}/x.svg"], "No such file or directory"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_user_errors_exit_2(argv, message, model_file, tmp_path, capsys):
    model = model_file(HS_MODEL)
    filled = [a.format(model=model, missing=tmp_path / "nothing.here") for a in argv]
    code, _, err = run(filled, capsys)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_not_converged_exits_1_with_results_and_one_warning(model_file, capsys):
    code, out, err = run(
        ["fit", model_file(HS_MODEL), HS, "--cfa", "--max-iterations", "1"], capsys
    )
    assert code == 1
    assert "did NOT end normally after 1 iteration" in out
    assert "Latent Variables:" in out
    warnings = [line for line in err.split("\n") if line.startswith("warning: ")]
    assert len(warnings) == 1 and "did not converge" in warnings[0]


def test_data_warning_goes_to_stderr(model_file, capsys):
    path = model_file("agree =~ A1 + A2 + A3 + A4 + A5\n")
    code, out, err = run(["fit", path, DATA / "bfi.csv", "--cfa"], capsys)
    assert code == 0
    lines = [line for line in err.split("\n") if line]
    assert len(lines) == 1 and lines[0].startswith("warning: 91 of 2800 rows")
    assert "  Number of observations                          2709        2800" in out.split("\n")


def test_each_warning_message_once(capsys):
    with reported_warnings():
        for _ in range(3):
            warnings.warn("rows were removed", DataWarning, stacklevel=1)
        warnings.warn("negative variance", HeywoodWarning, stacklevel=1)
    assert capsys.readouterr().err == "warning: rows were removed\nwarning: negative variance\n"


# ---- fit: formats -------------------------------------------------------------------------------

COLUMNS = ["lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue"]
COLUMNS += ["ci_lower", "ci_upper", "std_lv", "std_all", "std_nox"]


def test_json_parses_back(model_file, capsys):
    reference = load_case("hs_cfa")
    code, out, _ = run(
        ["fit", model_file(reference["model"]), HS, "--cfa", "--format", "json"], capsys
    )
    assert code == 0
    result = json.loads(out)
    assert list(result) == [
        "semlang_version", "converged", "iterations", "nobs", "groups", "options", "warnings",
        "estimates", "fit_measures",
    ]  # fmt: skip
    assert result["converged"] is True and result["warnings"] == []
    assert result["nobs"] == 301 and result["groups"] == [{"group": "1", "nobs": 301}]
    assert result["options"]["model"]["model_type"] == "cfa"
    assert result["options"]["fit"]["estimator"] == "ML"
    assert all(list(row) == COLUMNS for row in result["estimates"])
    fixed = result["estimates"][0]
    assert (fixed["est"], fixed["se"], fixed["z"], fixed["pvalue"]) == (1.0, 0.0, None, None)
    for ref in reference["estimates"]:
        key = (ref["lhs"], ref["op"], ref["rhs"])
        (row,) = [r for r in result["estimates"] if (r["lhs"], r["op"], r["rhs"]) == key]
        assert_matches("est", row["est"], ref["est"], ref["lhs"] + ref["op"] + ref["rhs"])
        assert_matches("se", row["se"], ref["se"], ref["lhs"] + ref["op"] + ref["rhs"])
        assert_matches("std_all", row["std_all"], ref["std.all"], "std.all")
    measures = result["fit_measures"]
    assert measures["df"] == reference["fit_measures"]["df"]
    assert isinstance(measures["df"], int) and isinstance(measures["chisq"], float)
    assert_matches("chisq", measures["chisq"], reference["fit_measures"]["chisq"], "chisq")


def test_csv_parses_back(model_file, capsys):
    path = model_file(HS_MODEL)
    code, out, _ = run(["fit", path, HS, "--cfa", "--format", "csv"], capsys)
    assert code == 0
    frame = pd.read_csv(io.StringIO(out), keep_default_na=False, na_values=[""])
    assert list(frame.columns) == COLUMNS
    _, out_json, _ = run(["fit", path, HS, "--cfa", "--format", "json"], capsys)
    rows = json.loads(out_json)["estimates"]
    assert len(frame) == len(rows)
    for column in ("est", "se", "std_all"):
        assert frame[column].tolist() == [r[column] for r in rows]  # full precision
    assert frame["z"].isna().tolist() == [r["z"] is None for r in rows]


def test_csv_fit_measures(model_file, capsys):
    code, out, _ = run(
        ["fit", model_file(HS_MODEL), HS, "--cfa", "--format", "csv", "--fit-measures"], capsys
    )
    assert code == 0
    frame = pd.read_csv(io.StringIO(out))
    assert list(frame.columns) == ["measure", "value"]
    values = dict(zip(frame.measure, frame.value, strict=True))
    reference = load_case("hs_cfa")["fit_measures"]
    assert values["df"] == reference["df"]
    assert_matches("chisq", values["chisq"], reference["chisq"], "chisq")


def test_options_are_passed_through(model_file, capsys):
    reference = load_case("hs_multigroup")
    argv = [
        "fit",
        model_file(reference["model"]),
        HS,
        "--cfa",
        "--group",
        "school",
        "--group-equal",
        "loadings,intercepts",
        "--format",
        "json",
    ]
    code, out, _ = run(argv, capsys)
    assert code == 0
    measures = json.loads(out)["fit_measures"]
    assert measures["df"] == reference["fit_measures"]["df"]
    assert_matches("chisq", measures["chisq"], reference["fit_measures"]["chisq"], "chisq")
    stdlv = load_case("hs_cfa_stdlv")
    code, out, _ = run(
        ["fit", model_file(HS_MODEL), HS, "--cfa", "--std-lv", "--format", "json"], capsys
    )
    assert code == 0
    (row,) = [r for r in json.loads(out)["estimates"] if (r["lhs"], r["rhs"]) == ("visual", "x1")]
    (ref,) = [r for r in stdlv["estimates"] if (r["lhs"], r["rhs"]) == ("visual", "x1")]
    assert_matches("est", row["est"], ref["est"], "visual=~x1 with std.lv")
    code, out, _ = run(["fit", model_file(HS_MODEL), HS, "--cfa", "--standardized"], capsys)
    assert code == 0
    assert "P(>|z|)   Std.lv  Std.all" in out


# ---- check ---------------------------------------------------------------------------------------

_CHECK_FLAGS = {"std.lv": "--std-lv", "orthogonal": "--orthogonal"}


def _check_argv(case: dict, path: Path) -> list[str]:
    argv = ["check", str(path), f"--{case.get('fun') or 'sem'}"]
    options = case.get("options") or {}
    for name, value in options.items():
        if name in _CHECK_FLAGS and value:
            argv.append(_CHECK_FLAGS[name])
        elif name == "meanstructure":
            argv.append("--meanstructure" if value else "--no-meanstructure")
        elif name == "fixed.x":
            argv.append("--fixed-x" if value else "--no-fixed-x")
        elif name == "group":
            argv += ["--ngroups", str(len(case["nobs"]))]
        elif name in ("group.equal", "group.partial"):
            argv += ["--" + name.replace(".", "-"), ",".join(value)]
        elif name in ("missing", "estimator", "cluster"):
            argv += [f"--{name}", str(value)]
    return argv


def _reference_models() -> list[Path]:
    files = sorted(REFERENCE_DIR.rglob("*.json"))
    return [
        f
        for f in files
        if "model" in json.loads(f.read_text())
        and "df" in (json.loads(f.read_text()).get("fit_measures") or {})
    ]


@pytest.mark.parametrize(
    "file", _reference_models(), ids=lambda f: str(f.relative_to(REFERENCE_DIR))
)
def test_check_counts_lavaans_degrees_of_freedom(file, tmp_path, capsys):
    case = json.loads(file.read_text())
    path = tmp_path / "model.sem"
    path.write_text(case["model"], encoding="utf-8")
    code, out, err = run(_check_argv(case, path), capsys)
    assert code == 0, err
    assert "Traceback" not in err
    assert re.search(r"^\s*id\s+lhs\s+op\s+rhs", out, re.M), "the parameter table is printed"
    df = int(re.search(r"Degrees of freedom\s+(-?\d+)", out).group(1))
    assert df == case["fit_measures"]["df"]


def test_check_bad_model_exits_2(model_file, capsys):
    path = model_file("f =~ x1 + \n", "bad.sem")
    code, _, err = run(["check", path], capsys)
    assert code == 2
    assert err.startswith(f"{path}:1:") and "error:" in err and "Traceback" not in err


def test_check_negative_degrees_of_freedom_exits_2(model_file, capsys):
    # 3 moments; 5 parameters: a loading, three variances and the residual covariance
    code, out, err = run(["check", model_file("f =~ x1 + x2\nx1 ~~ x2\n")], capsys)
    assert code == 2
    assert re.search(r"Degrees of freedom\s+-2$", out, re.M)
    assert "not identified" in err


# ---- parse and diagram ---------------------------------------------------------------------------


def test_parse_ast(model_file, capsys):
    path = model_file("f =~ a*x1 + x2\nab := a*2\n")
    code, out, _ = run(["parse", path, "--stage", "ast"], capsys)
    assert code == 0
    lines = out.split("\n")
    assert lines[0] == f"Model {path}"
    assert lines[1].startswith("  Relation(") and lines[1].endswith("@1:1")
    assert any("Term(name='x1')" in line and line.endswith("@1:6") for line in lines)
    assert any("Modifier(kind='label', values=('a',))" in line for line in lines)
    assert any(line.strip().startswith("Definition(") and line.endswith("@2:1") for line in lines)


def test_parse_partable(model_file, capsys):
    code, out, _ = run(["parse", model_file(HS_MODEL), "--stage", "partable", "--cfa"], capsys)
    assert code == 0
    header = out.split("\n")[0].split()
    assert header[:4] == ["id", "lhs", "op", "rhs"]
    rows = out.strip().split("\n")[1:]
    assert len(rows) == 24  # 9 loadings, 9 residual variances, 3 factor variances, 3 covariances


def test_parse_graph(model_file, capsys):
    code, out, _ = run(["parse", model_file(HS_MODEL), "--stage", "graph"], capsys)
    assert code == 0
    assert out.startswith("Nodes (12):")
    assert "visual -> x1" in out


def test_diagram_writes_dot(model_file, tmp_path, capsys):
    target = tmp_path / "hs.dot"
    code, out, err = run(["diagram", model_file(HS_MODEL), "-o", target], capsys)
    assert code == 0, err
    assert target.is_file() and "digraph" in target.read_text()
    assert out.split("\n") == [str(target), ""]


# ---- the registry and the process ----------------------------------------------------------------


def test_built_in_commands_are_discovered():
    paths = [c.path for c in discover()]
    assert paths[:4] == [("fit",), ("check",), ("parse",), ("diagram",)]


def test_a_module_can_add_a_nested_command(capsys):
    calls = []

    def configure(parser):
        parser.add_argument("n", type=int)

    commands = [
        Command(("study",), "simulation studies"),
        Command(("study", "micro-macro"), "a study", configure, lambda a: calls.append(a.n) or 0),
    ]
    parser = build_parser(commands)
    args = parser.parse_args(["study", "micro-macro", "7"])
    assert args._command.run(args) == 0 and calls == [7]
    assert "simulation studies" in parser.format_help()


def test_help_and_version(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "fit" in out and "check" in out
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.startswith("semlang ")


def test_console_entry_point_sets_one_blas_thread(agree):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    code = (
        "import sys, semlang.cli\n"
        "assert 'numpy' not in sys.modules, 'numpy imported before the thread settings'\n"
        "status = semlang.cli.main(['check', sys.argv[1]])\n"
        "import os\n"
        "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'], status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(agree)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().split("\n")[-1] == "1 1 0"


def test_table_text_blanks_missing_values_and_whole_floats():
    from semlang.commands._common import columns_chunks, columns_text, frame_text

    columns = {
        "id": [1, 2, 3],
        "lhs": ["f", "x1", None],
        "value": [1.0, float("nan"), 0.25],
        "label": ["a", "", None],
        "line": [3, None, 12],
        "exo": [0, 1, 0],
    }
    expected = (
        "id lhs value label line exo\n"
        " 1   f     1     a    3   0\n"
        " 2  x1                    1\n"
        " 3      0.25         12   0\n"
    )
    assert columns_text(columns) == expected
    assert frame_text(pd.DataFrame(columns)) == expected
    chunks = list(columns_chunks(columns, rows=2))  # the header, then two lines at a time
    assert chunks == [expected[:28], expected[28:84], expected[84:]]
    negative = {"free": [-12, 3], "ok": [True, False]}
    assert columns_text(negative) == "free    ok\n -12  True\n   3 False\n"
