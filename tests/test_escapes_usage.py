"""Escapes found by using semlang as a newcomer would (syntax, the command line, processes): each
gives a clear message, or does what lavaan does. (Ctrl-C and SIGTERM in a real process:
tests/test_interrupt.py.)"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_cases import assert_matches

import semlang
import semlang.commands.fit as fit_command
from semlang import simulation
from semlang.cli import main
from semlang.errors import DataError, OptionError, SemlangWarning
from semlang.micromacro import micro_macro
from semlang.runner import Interrupted, run_replications

ROOT = Path(__file__).resolve().parents[1]
HS = str(ROOT / "semlang" / "datasets" / "HolzingerSwineford1939.csv")
VISUAL = "visual =~ x1 + x2 + x3\n"


@pytest.fixture
def hs():
    return semlang.datasets.load("HolzingerSwineford1939")


@pytest.fixture
def model_file(tmp_path):
    def write(text: str, encoding: str = "utf-8") -> str:
        path = tmp_path / "model.sem"
        path.write_text(text, encoding=encoding)
        return str(path)

    return write


def run(argv, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---- exit statuses: an internal error is not "did not converge" ----


def _crash(args):
    raise ValueError("cannot reshape array of size 0")


def test_an_internal_error_exits_3_with_a_short_message(monkeypatch, model_file, capsys):
    monkeypatch.setattr(fit_command, "fit_model", _crash)
    code, out, err = run(["fit", model_file(VISUAL), HS], capsys)
    assert code == 3 and out == ""
    assert "internal error: ValueError: cannot reshape array of size 0" in err
    assert "bug in semlang" in err and "run again with --debug" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback_of_an_internal_error(monkeypatch, model_file, capsys):
    monkeypatch.setattr(fit_command, "fit_model", _crash)
    code, _, err = run(["fit", model_file(VISUAL), HS, "--debug"], capsys)
    assert code == 3
    assert "Traceback (most recent call last)" in err and "in _crash" in err
    assert "internal error: ValueError" in err and "--debug to see" not in err


def test_user_errors_keep_exit_status_2(model_file, capsys):
    code, _, err = run(["fit", model_file("visual =~ x1 + x2 + nope\n"), HS], capsys)
    assert code == 2 and "nope" in err and "internal error" not in err


def test_ctrl_c_outside_replications_exits_130(monkeypatch, model_file, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(fit_command, "fit_model", interrupted)
    code, _, err = run(["fit", model_file(VISUAL), HS], capsys)
    assert code == 130 and err.strip() == "stopped: interrupted"


# ---- an interrupted run keeps its results file and says how to resume ----


def _task_stopping_at(stop: int | None):
    def task(index, rng):
        if index == stop:
            raise KeyboardInterrupt
        return {"value": float(rng.normal())}

    return task


def test_an_interrupted_run_keeps_its_finished_replications(tmp_path):
    path = tmp_path / "run.jsonl"
    with pytest.raises(Interrupted) as info:
        run_replications(_task_stopping_at(3), 6, 7, executor="serial", results_path=path)
    assert isinstance(info.value, KeyboardInterrupt)
    assert str(info.value) == (
        f"replications interrupted after 3 of 6 replications; the finished ones are kept in "
        f"{path}: run again with the same arguments and results file to resume"
    )
    resumed = run_replications(_task_stopping_at(None), 6, 7, executor="serial", results_path=path)
    whole = run_replications(_task_stopping_at(None), 6, 7, executor="serial")
    assert resumed.n_resumed == 3
    assert [r["value"] for r in resumed.results] == [r["value"] for r in whole.results]


def test_an_interrupted_run_without_a_file_says_nothing_was_kept():
    with pytest.raises(Interrupted, match="after 2 of 5 replications; they were not kept"):
        run_replications(_task_stopping_at(2), 5, 1, executor="serial")


# ---- seeds and sizes are checked before anything runs ----


@pytest.mark.parametrize("seed", ["x", 1.5, -1, True])
def test_simulate_refuses_a_seed_that_is_no_whole_number(seed):
    with pytest.raises(OptionError, match="seed must be a non-negative whole number"):
        semlang.simulate(VISUAL, 10, seed=seed)


@pytest.mark.parametrize("seed", ["abc", 1.5])
def test_a_fit_refuses_a_bad_seed_at_once(hs, seed):
    with pytest.raises(OptionError, match="option 'seed' must be a whole number >= 0"):
        semlang.cfa(VISUAL, hs, seed=seed)


def test_simulate_refuses_a_draw_larger_than_any_memory():
    with pytest.raises(OptionError) as info:
        semlang.simulate(VISUAL, 10**12)
    assert "simulating 1,000,000,000,000 rows of 3 variables needs about 72,000.0 GB" in str(
        info.value
    )
    assert "fewer rows" in info.value.hint


def test_simulate_compares_the_need_with_the_memory_available(monkeypatch):
    monkeypatch.setattr(simulation, "_available_memory", lambda: 2 * 10**9)
    with pytest.raises(OptionError, match=r"needs about 7\.2 GB of memory, more than the 2\.0 GB"):
        semlang.simulate(VISUAL, 10**8)
    assert semlang.simulate(VISUAL, 10, seed=1).shape == (10, 3)


def test_simulate_turns_a_memory_error_into_the_same_message(monkeypatch):
    def exhausted(*args):
        raise MemoryError

    monkeypatch.setattr(simulation, "_available_memory", lambda: None)
    monkeypatch.setattr(simulation, "_draw_groups", exhausted)
    with pytest.raises(OptionError, match=r"simulating 1,000 rows of 3 variables needs about"):
        semlang.simulate(VISUAL, 1000)


# ---- silent behaviour made visible ----


def test_a_covariance_repeated_the_same_way_round_is_ignored_with_a_warning():
    # lavaan 0.6.14: "duplicated elements in model syntax have been ignored: x1 ~~ x2", and
    # x1 ~~ x2 stays free (the later 0.5* is dropped)
    with pytest.warns(SemlangWarning, match=r"'x1 ~~ x2' \(line 3\) repeats line 2 and is ignored"):
        table = semlang.parameter_table(VISUAL + "x1 ~~ x2\nx1 ~~ 0.5*x2\n")
    frame = table.to_frame()
    row = frame[(frame.lhs == "x1") & (frame.op == "~~") & (frame.rhs == "x2")]
    assert len(row) == 1 and row.free.iloc[0] > 0


def test_unused_bootstrap_and_group_partial_flags_warn(model_file, capsys):
    model = model_file(VISUAL)
    code, _, err = run(["fit", model, HS, "--bootstrap", "100", "--format", "csv"], capsys)
    assert code == 0
    assert "warning: --bootstrap 100 has no effect without --se bootstrap" in err
    code, _, err = run(["check", model, "--group-partial", "visual=~x2"], capsys)
    assert code == 0
    assert "warning: --group-partial has no effect without --group-equal" in err


def test_bootstrap_with_its_se_does_not_warn_of_an_unused_flag(model_file, capsys):
    argv = ["fit", model_file(VISUAL), HS, "--se", "bootstrap", "--bootstrap", "20", "--seed", "1"]
    code, _, err = run([*argv, "--format", "csv"], capsys)
    assert code == 0 and "has no effect" not in err


# ---- names lavaan accepts ----


def test_non_ascii_names_fit_as_their_ascii_twins(hs):
    renamed = hs.rename(columns={"x1": "é1", "x2": "因子2"})
    accented = semlang.cfa("visuél =~ é1 + 因子2 + x3", renamed).estimates()
    plain = semlang.cfa(VISUAL, hs).estimates()
    assert list(accented.lhs[:3]) == ["visuél"] * 3
    assert list(accented.rhs[:3]) == ["é1", "因子2", "x3"]
    np.testing.assert_allclose(accented.est, plain.est, rtol=1e-12)


def test_a_model_file_with_a_byte_order_mark_fits(model_file, capsys):
    code, with_bom, _ = run(["fit", model_file(VISUAL, "utf-8-sig"), HS, "--format", "csv"], capsys)
    assert code == 0
    assert Path(model_file(VISUAL, "utf-8-sig")).read_bytes().startswith(b"\xef\xbb\xbf")
    _, without, _ = run(["fit", model_file(VISUAL), HS, "--format", "csv"], capsys)
    assert with_bom == without


def test_double_star_is_a_power_as_in_lavaan(hs):
    fit = semlang.cfa("visual =~ x1 + a*x2 + b*x3\nz := a**b", hs)
    estimates = fit.estimates()
    z = estimates[estimates.op == ":="].iloc[0]
    # lavaan 0.6.14: cfa("visual =~ x1 + a*x2 + b*x3; z := a**b", HolzingerSwineford1939)
    assert_matches("est", z.est, 0.7571508499, "z := a**b")
    assert_matches("se", z.se, 0.1373731584, "z := a**b")
    a, b = estimates.est[1], estimates.est[2]
    assert z.est == pytest.approx(a**b, rel=1e-12)


# ---- confusing messages ----


def test_micro_macro_with_groups_of_one_member_says_so():
    long = semlang.datasets.load("micro_macro_long").groupby("group").head(1)
    with pytest.raises(DataError, match="every group of 'group' has one member"):
        micro_macro(long, group="group", x="x", z="Z", y="y")


def test_micro_macro_with_x_constant_within_groups_says_so():
    long = semlang.datasets.load("micro_macro_long")
    long["x"] = long.groupby("group")["x"].transform("mean")
    with pytest.raises(DataError, match="'x' does not vary within groups") as info:
        micro_macro(long, group="group", x="x", z="Z", y="y")
    assert "group-level variable goes in z" in info.value.hint


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (json.dumps([{"x1": 1.0, "x2": 2.0}, {"x1": 1.5, "x2": 2.0}]), "holds JSON, not CSV"),
        (json.dumps({"x1": {"0": 1.0}, "x2": {"0": 2.0}}), "holds JSON, not CSV"),
        (b"PK\x03\x04 a zip archive", r"is a spreadsheet \(or zip\) file, not CSV"),
        (b"\x00\x01binary", "is a binary file, not CSV"),
    ],
)
def test_a_data_file_that_is_not_csv_is_named_as_such(tmp_path, content, message):
    path = tmp_path / "data.csv"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        semlang.cfa(VISUAL, str(path))


def test_a_csv_file_still_reads(tmp_path, hs):
    path = tmp_path / "hs.csv"
    hs.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SemlangWarning)
        fit = semlang.cfa(VISUAL, str(path))
    assert isinstance(fit.estimates(), pd.DataFrame) and fit.converged
