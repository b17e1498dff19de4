"""The command line with lavaan's estimators, standard errors and tests (numbers from
tests/reference/estimators/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reference_cases import assert_matches, load_case

from semlang.cli import main

DATA = Path(__file__).resolve().parents[1] / "semlang" / "datasets"
HS = str(DATA / "HolzingerSwineford1939.csv")


@pytest.fixture
def hs_model(tmp_path):
    path = tmp_path / "hs.sem"
    path.write_text(load_case("estimators/hs_cfa_ML")["model"], encoding="utf-8")
    return str(path)


def _json(argv, capsys) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "case, flags",
    [
        ("hs_cfa_MLM", ["--estimator", "MLM"]),
        ("hs_cfa_ULS", ["--estimator", "ULS"]),
        ("hs_cfa_ML_wishart", ["--likelihood", "wishart"]),
        ("hs_se_robust.sem_expected", ["--se", "robust.sem"]),
        ("hs_test_three", ["--test", "satorra.bentler,mean.var.adjusted,scaled.shifted"]),
    ],
)
def test_fit_options_on_the_command_line_match_lavaan(case, flags, hs_model, capsys):
    out = _json(["fit", hs_model, HS, "--cfa", *flags, "--format", "json"], capsys)
    reference = load_case(f"estimators/{case}")["fit_measures"]
    for name in ("chisq", "chisq.scaled", "cfi", "rmsea"):
        if reference.get(name) is not None:
            kind = "chisq" if name.startswith("chisq") else "fit_index"
            assert_matches(kind, out["fit_measures"][name.replace(".", "_")], reference[name])
    estimates = {(r["lhs"], r["op"], r["rhs"]): r for r in out["estimates"]}
    for row in load_case(f"estimators/{case}")["estimates"]:
        if row["se"]:
            mine = estimates[(row["lhs"], row["op"], row["rhs"])]
            assert_matches(
                "se", mine["se"], row["se"], f"{case} {row['lhs']}{row['op']}{row['rhs']}"
            )


def test_summary_shows_every_test_asked_for(hs_model, capsys):
    flags = ["--estimator", "MLM", "--test", "scaled.shifted"]
    assert main(["fit", hs_model, HS, "--cfa", *flags]) == 0
    out = capsys.readouterr().out
    assert "Satorra-Bentler correction" in out and "simple second-order correction" in out


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--test", "satora.bentler"], "did you mean 'satorra.bentler'"),
        (["--estimator", "GLS", "--se", "robust.huber.white"], "not available with"),
        (["--missing", "fiml", "--estimator", "ULS"], "needs a likelihood"),
    ],
)
def test_bad_fit_options_are_clear_errors(flags, message, hs_model, capsys):
    assert main(["fit", hs_model, HS, "--cfa", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
