"""The command line's data input (stdin, --sep, --na-values) and its usage messages."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

import semlang
from semlang.cli import main

DATA = Path(__file__).resolve().parents[1] / "semlang" / "datasets"
HS = DATA / "HolzingerSwineford1939.csv"
MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "hs.sem"
    path.write_text(MODEL)
    return str(path)


def _json(argv, capsys, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main([*argv, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if code == 0 else None


def test_data_from_stdin_with_a_separator(model, capsys, monkeypatch):
    _, from_file = _json(["fit", model, str(HS)], capsys)
    text = HS.read_text().replace(",", ";")
    code, from_stdin = _json(["fit", model, "-", "--sep", ";"], capsys, text, monkeypatch)
    assert code == 0
    assert from_stdin["estimates"] == from_file["estimates"]
    assert from_stdin["fit_measures"]["chisq"] == from_file["fit_measures"]["chisq"]


def test_a_semicolon_file_without_sep_says_which_separator(model, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(HS.read_text().replace(",", ";")))
    assert main(["fit", model, "-"]) == 2
    assert "--sep ';'" in capsys.readouterr().err


def test_na_values(model, tmp_path, capsys):
    frame = semlang.datasets.load("HolzingerSwineford1939")
    coded = frame.astype(object)
    coded.loc[[0, 5, 9], "x1"] = "."
    coded.loc[[2, 7], "x5"] = -999
    path = tmp_path / "coded.csv"
    coded.to_csv(path, index=False)
    code, result = _json(["fit", model, str(path), "--na-values", ".,-999"], capsys)
    assert code == 0
    assert result["nobs"] == 301 - 5
    assert result["warnings"] == [
        "5 of 301 rows were removed: they have missing values in model variables (listwise "
        "deletion; use missing='fiml' to keep them)"
    ]
    expected = frame.copy()
    expected.loc[[0, 5, 9], "x1"] = np.nan
    expected.loc[[2, 7], "x5"] = np.nan
    with pytest.warns(semlang.DataWarning):
        fit = semlang.sem(MODEL, expected)
    assert result["fit_measures"]["chisq"] == pytest.approx(fit.fit_measures()["chisq"], 1e-12)


def test_empty_stdin_is_a_clear_error(model, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["fit", model, "-"]) == 2
    assert "standard input is empty" in capsys.readouterr().err


def test_unknown_flag_shows_the_commands_usage(model, capsys):
    assert main(["fit", model, str(HS), "--foo"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: semlang fit ") and "unrecognized arguments: --foo" in err


def test_parse_help_shows_the_default_stage(capsys):
    assert main(["parse", "--help"]) == 0
    assert "(default: partable)" in " ".join(capsys.readouterr().out.split())
