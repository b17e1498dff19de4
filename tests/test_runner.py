"""Tests of semlang.runner: seeds, executors, failures, regeneration, resume, progress, dask."""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semlang.errors import OptionError
from semlang.runner import (
    Inadmissible,
    ReplicationResults,
    ResultsFileError,
    backends,
    run_replications,
)
from semlang.runner.backends import start_method
from semlang.runner.progress import ProgressBar, clock

ROOT = Path(__file__).resolve().parents[1]
SEED = 20240501


@pytest.fixture(autouse=True)
def _tasks_importable(monkeypatch):
    """Workers started with spawn import this module (and its tasks) by name."""
    monkeypatch.syspath_prepend(str(ROOT))


# Tasks live at module level so that worker processes can unpickle them.
def draw(index, rng):
    return {"x": float(rng.normal()), "u": rng.integers(0, 1000, size=3), "tag": f"r{index}"}


def flaky(index, rng):
    if index % 3 == 0:
        raise ValueError(f"bad replication {index}")
    return {"x": rng.random()}


def half_inadmissible(index, rng):
    value = rng.random()
    if value < 0.5:
        raise Inadmissible(f"draw {value:.3f} is too small")
    return {"value": value}


def two_never_admissible(index, rng):
    if index == 2:
        raise Inadmissible("Heywood case")
    return {"value": rng.random()}


def returns_list(index, rng):
    return [index]


def returns_object(index, rng):
    return {"thing": object()}


def uses_reserved_key(index, rng):
    return {"index": index}


def serial(task, n, **options):
    return run_replications(task, n, SEED, executor="serial", progress=False, **options)


class Recorder:
    """A task that remembers which replications it ran (in this process)."""

    def __init__(self, task):
        self.task, self.calls = task, []

    def __call__(self, index, rng):
        self.calls.append(index)
        return self.task(index, rng)


# --- results and seeds -------------------------------------------------------------------------


def test_results_are_plain_dicts_in_replication_order():
    out = serial(draw, 5)
    assert isinstance(out, ReplicationResults)
    assert [r["index"] for r in out.results] == [0, 1, 2, 3, 4]
    assert all(r["attempt"] == 1 for r in out.results)
    assert out.results[3]["tag"] == "r3"
    assert isinstance(out.results[0]["u"], list) and len(out.results[0]["u"]) == 3
    assert (out.n, out.n_completed, out.failures, out.regenerated) == (5, 5, (), 0)
    frame = out.to_frame()
    assert list(frame.columns) == ["index", "attempt", "x", "u", "tag"]
    assert frame["x"].tolist() == [r["x"] for r in out.results]


def test_each_replication_uses_its_documented_seed():
    out = serial(draw, 4)
    for index in range(4):
        rng = np.random.default_rng(np.random.SeedSequence(SEED, spawn_key=(index, 1)))
        expected = draw(index, rng)
        assert out.results[index]["x"] == expected["x"]
        assert out.results[index]["u"] == expected["u"].tolist()


def test_replications_and_seeds_give_different_draws():
    first = [r["x"] for r in serial(draw, 20).results]
    other = [r["x"] for r in run_replications(draw, 20, SEED + 1, executor="serial").results]
    assert len(set(first)) == 20
    assert not set(first) & set(other)


def test_seed_none_draws_fresh_entropy():
    first = run_replications(draw, 3, None, executor="serial", progress=False)
    second = run_replications(draw, 3, None, executor="serial", progress=False)
    assert first.results != second.results


@pytest.mark.parametrize("seed", [-1, 1.5, "seed", True])
def test_bad_seed_is_refused(seed):
    with pytest.raises(OptionError, match="seed"):
        run_replications(draw, 3, seed, executor="serial")


@pytest.mark.parametrize(
    ("executor", "n_jobs", "chunk_size"),
    [("processes", 1, None), ("processes", 2, None), ("processes", 2, 3), (None, 2, 1)],
)
def test_same_results_on_every_executor(executor, n_jobs, chunk_size):
    expected = serial(draw, 23)
    out = run_replications(
        draw, 23, SEED, executor=executor, n_jobs=n_jobs, chunk_size=chunk_size, progress=False
    )
    assert out.results == expected.results


def process_id(index, rng):
    return {"pid": os.getpid(), "x": float(rng.normal())}


def test_this_process_runs_chunks_beside_its_worker():
    out = run_replications(process_id, 12, SEED, n_jobs=2, chunk_size=1, progress=False)
    pids = {r["pid"] for r in out.results}
    assert os.getpid() in pids and len(pids) == 2  # this process and one worker
    assert [r["x"] for r in out.results] == [r["x"] for r in serial(process_id, 12).results]


@pytest.mark.parametrize("load", [0.0, 1.2, 7.5])
def test_processes_follow_the_free_cpus_but_two_may_always_work(monkeypatch, load):
    monkeypatch.setattr(backends, "available_cpus", lambda: 8)
    monkeypatch.setattr(backends.os, "getloadavg", lambda: (load, load, load))
    free = {0.0: 8, 1.2: 8, 7.5: 2}[load]  # 8 - load free, plus this process, rounded
    assert [backends.processes_for(n) for n in (1, 2, 4, 16)] == [1, 2, min(4, free), free]


@pytest.mark.parametrize(
    ("n", "workers", "kept"), [(1000, 2, False), (37, 3, False), (60, 2, True)]
)
def test_guided_chunks_cover_every_index_once_and_shrink(n, workers, kept):
    chunks = backends.guided_chunks(list(range(n)), workers, kept)
    assert [i for chunk in chunks for i in chunk] == list(range(n))
    sizes = [len(chunk) for chunk in chunks]
    assert sizes == sorted(sizes, reverse=True)
    assert max(sizes) <= (backends.MAX_KEPT_CHUNK if kept else backends.MAX_CHUNK)
    assert min(sizes[:-1], default=backends.MIN_CHUNK) >= backends.MIN_CHUNK


def test_spawned_workers_give_the_same_results():
    """With another thread running, workers are spawned rather than forked."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert start_method() == "spawn"
        out = run_replications(draw, 9, SEED, n_jobs=2, progress=False)
    finally:
        stop.set()
        thread.join()
    assert out.results == serial(draw, 9).results


def test_no_replications():
    out = serial(draw, 0)
    assert out.results == () and out.n_completed == 0
    assert list(out.to_frame().columns) == ["index", "attempt"]


# --- failures and regeneration -----------------------------------------------------------------


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_failures_are_counted_with_their_messages(executor):
    out = run_replications(flaky, 8, SEED, executor=executor, n_jobs=2, progress=False)
    assert [r["index"] for r in out.results] == [1, 2, 4, 5, 7]
    assert [f.index for f in out.failures] == [0, 3, 6]
    failure = out.failures[1]
    assert (failure.attempt, failure.kind, failure.error) == (1, "error", "ValueError")
    assert failure.message == "bad replication 3"
    assert failure.given_up and "flaky" in failure.where
    assert (out.n_completed, out.n_failed, out.n_errors, out.n_inadmissible) == (5, 3, 3, 0)
    assert out.regenerated == 0
    assert out.failures_frame()["message"].tolist() == [f.message for f in out.failures]


def test_inadmissible_is_counted_apart_from_errors():
    out = serial(half_inadmissible, 20)
    assert out.n_inadmissible == len(out.failures) > 0
    assert out.n_errors == 0
    assert all(
        f.kind == "inadmissible" and f.error == "semlang.runner.Inadmissible" for f in out.failures
    )
    assert out.n_completed + out.n_failed == 20


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_inadmissible_replications_are_regenerated(executor):
    options = {"executor": executor, "n_jobs": 2, "regenerate_failed": True}
    out = run_replications(half_inadmissible, 30, SEED, progress=False, **options)
    assert out.n_completed == 30 and out.n_failed == 0
    assert out.regenerated == sum(r["attempt"] - 1 for r in out.results) > 0
    assert out.regenerated == len(out.failures) == out.n_inadmissible
    for result in out.results:
        index, attempt = result["index"], result["attempt"]
        failed = [f.attempt for f in out.failures if f.index == index]
        assert failed == list(range(1, attempt))
        seq = np.random.SeedSequence(SEED, spawn_key=(index, attempt))
        assert result["value"] == np.random.default_rng(seq).random() >= 0.5
    assert out.results == serial(half_inadmissible, 30, regenerate_failed=True).results


def test_regeneration_stops_after_max_attempts():
    out = serial(two_never_admissible, 4, regenerate_failed=True, max_attempts=3)
    assert [r["index"] for r in out.results] == [0, 1, 3]
    assert [(f.index, f.attempt, f.given_up) for f in out.failures] == [
        (2, 1, False),
        (2, 2, False),
        (2, 3, True),
    ]
    assert (out.n_failed, out.regenerated) == (1, 2)


@pytest.mark.parametrize(
    ("task", "error", "message"),
    [
        (returns_list, "TypeError", "returned list, not a dict"),
        (returns_object, "TypeError", "not plain data"),
        (uses_reserved_key, "ValueError", "reserved key"),
    ],
)
def test_results_that_are_not_plain_dicts_are_failures(task, error, message):
    out = serial(task, 2)
    assert out.n_completed == 0
    assert [f.error for f in out.failures] == [error, error]
    assert message in out.failures[0].message


# --- arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"executor": "threads"}, "unknown executor"),
        ({"executor": 3}, "unknown executor"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"n_jobs": 1.5}, "n_jobs"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"label": 5}, "label"),
    ],
)
def test_bad_options_are_refused(options, match):
    with pytest.raises(OptionError, match=match):
        run_replications(draw, 3, SEED, **options)


def test_bad_task_or_count_is_refused():
    with pytest.raises(OptionError, match="callable"):
        run_replications("draw", 3, SEED)
    with pytest.raises(OptionError, match="n must be"):
        run_replications(draw, -1, SEED)


def test_unpicklable_task_is_refused_for_processes_only():
    lock = threading.Lock()

    def locked(index, rng):
        with lock:
            return {"x": rng.random()}

    with pytest.raises(OptionError, match="not picklable") as caught:
        run_replications(locked, 3, SEED, n_jobs=2, progress=False)
    assert "executor='serial'" in str(caught.value)
    assert [r["x"] for r in serial(locked, 3).results] == _first_uniforms(3)


def _first_uniforms(n):
    return [
        np.random.default_rng(np.random.SeedSequence(SEED, spawn_key=(i, 1))).random()
        for i in range(n)
    ]


def test_missing_dask_is_explained(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(OptionError, match="dask") as caught:
        run_replications(draw, 3, SEED, executor="tcp://127.0.0.1:8786")
    assert "pip install 'semlang[dask]'" in str(caught.value)


# --- results file and resume -------------------------------------------------------------------


def _lines(path):
    return path.read_text().splitlines()


def test_results_file_records_identity_then_replications(tmp_path):
    path = tmp_path / "run.jsonl"
    out = serial(flaky, 4, results_path=path, label="study", run_key={"model": "m1"})
    lines = [json.loads(line) for line in _lines(path)]
    identity = lines[0]["identity"]
    assert lines[0]["format"] == "semlang.replications"
    assert (identity["seed"]["entropy"], identity["n"], identity["label"]) == (SEED, 4, "study")
    assert identity["run_key"] == {"model": "m1"}
    assert sorted(record["index"] for record in lines[1:]) == [0, 1, 2, 3]
    assert out.results == serial(flaky, 4).results


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_resume_skips_finished_replications(tmp_path, executor):
    full_path, part_path = tmp_path / "full.jsonl", tmp_path / "part.jsonl"
    full = serial(flaky, 12, results_path=full_path)
    lines = _lines(full_path)
    finished = [line for line in lines[1:] if json.loads(line)["index"] < 5]
    torn = lines[-1][: len(lines[-1]) // 2]
    part_path.write_text("\n".join([lines[0], *finished]) + "\n" + torn)
    recorder = Recorder(flaky)
    task = recorder if executor == "serial" else flaky
    out = run_replications(
        task, 12, SEED, executor=executor, n_jobs=2, results_path=part_path, progress=False
    )
    assert (out.results, out.failures) == (full.results, full.failures)
    assert out.n_resumed == 5
    if executor == "serial":
        assert recorder.calls == list(range(5, 12))
    again = Recorder(flaky)
    rerun = run_replications(again, 12, SEED, executor="serial", results_path=part_path)
    assert again.calls == [] and rerun.n_resumed == 12
    assert (rerun.results, rerun.failures) == (full.results, full.failures)


def test_replication_cut_short_runs_again(tmp_path):
    path = tmp_path / "run.jsonl"
    options = {"regenerate_failed": True, "max_attempts": 20}
    full = serial(half_inadmissible, 10, results_path=path, **options)
    lines = _lines(path)
    regenerated = next(r["index"] for r in full.results if r["attempt"] > 1)
    kept = [line for line in lines[1:] if not json.loads(line).get("final")]
    kept += [line for line in lines[1:] if json.loads(line)["index"] != regenerated]
    path.write_text("\n".join([lines[0], *dict.fromkeys(kept)]) + "\n")
    recorder = Recorder(half_inadmissible)
    out = run_replications(recorder, 10, SEED, executor="serial", results_path=path, **options)
    assert set(recorder.calls) == {regenerated}
    assert (out.results, out.failures) == (full.results, full.failures)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seed": SEED + 1}, "seed"),
        ({"n": 7}, "n"),
        ({"label": "bootstrap"}, "label"),
        ({"run_key": "model 2"}, "run_key"),
        ({"regenerate_failed": True}, "max_attempts"),
    ],
)
def test_results_file_of_another_run_is_refused(tmp_path, change, field):
    path = tmp_path / "run.jsonl"
    serial(draw, 6, results_path=path, run_key="model 1")
    before = path.read_text()
    options = {"seed": SEED, "n": 6, "label": "replications", "run_key": "model 1", **change}
    seed, n = options.pop("seed"), options.pop("n")
    with pytest.raises(ResultsFileError, match=f"another run .*{field}") as caught:
        run_replications(draw, n, seed, executor="serial", results_path=path, **options)
    assert isinstance(caught.value, OptionError)
    assert "results_path" in str(caught.value)
    assert path.read_text() == before


def test_file_that_is_not_a_results_file_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("some notes\n")
    with pytest.raises(ResultsFileError, match="not a semlang results file"):
        serial(draw, 3, results_path=path)
    header = _lines_of_a_run(tmp_path)[0]
    for line in ["{broken", '{"index": 1, "attempt": 1, "status": "ok"}', '{"index": 3}']:
        path.write_text(f"{header}\n{line}\n{{}}\n")
        with pytest.raises(ResultsFileError, match=r"notes.txt:2: not a replication record"):
            serial(draw, 3, results_path=path)


def _lines_of_a_run(tmp_path):
    path = tmp_path / "other.jsonl"
    serial(draw, 3, results_path=path)
    return _lines(path)


def test_foreign_file_without_newline_is_left_alone(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("no newline at the end")
    with pytest.raises(ResultsFileError, match="not a semlang results file"):
        serial(draw, 3, results_path=path)
    assert path.read_text() == "no newline at the end"


def test_header_cut_short_starts_the_run_afresh(tmp_path):
    full, path = tmp_path / "full.jsonl", tmp_path / "run.jsonl"
    serial(draw, 3, results_path=full)
    path.write_text(_lines(full)[0][:25])
    out = serial(draw, 3, results_path=path)
    assert out.n_resumed == 0
    assert path.read_text() == full.read_text()


def test_run_key_must_be_plain_data(tmp_path):
    with pytest.raises(OptionError, match="run_key"):
        serial(draw, 2, results_path=tmp_path / "run.jsonl", run_key={"model": object()})
    with pytest.raises(OptionError, match="run_key"):
        serial(draw, 2, results_path=tmp_path / "run.jsonl", run_key=3)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(0, 12),
    cut=st.integers(0, 12),
    chunk_size=st.integers(1, 5),
    regenerate=st.booleans(),
)
def test_any_interruption_resumes_to_the_same_results(n, cut, chunk_size, regenerate):
    options = {"regenerate_failed": regenerate, "max_attempts": 3}
    full = serial(half_inadmissible, n, **options)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.jsonl"
        serial(half_inadmissible, n, results_path=path, chunk_size=chunk_size, **options)
        lines = _lines(path)
        path.write_text("\n".join(lines[: 1 + cut]) + "\n")
        out = serial(half_inadmissible, n, results_path=path, chunk_size=chunk_size, **options)
    assert (out.results, out.failures, out.regenerated) == (
        full.results,
        full.failures,
        full.regenerated,
    )


# --- progress ----------------------------------------------------------------------------------


def test_progress_is_written_to_stderr_when_asked(capsys):
    serial(flaky, 5)
    assert capsys.readouterr().err == ""
    run_replications(flaky, 5, SEED, executor="serial", progress=True, label="bootstrap")
    err = capsys.readouterr().err
    last = err.rstrip("\n").split("\r")[-1]
    assert last.startswith("bootstrap: 5/5 [########################] 100%")
    assert "failures 2" in last and "elapsed" in last and "ETA 0:00" in last
    assert err.endswith("\n")


def test_progress_is_off_when_stderr_is_not_a_terminal(capsys):
    run_replications(draw, 3, SEED, executor="serial")
    assert capsys.readouterr().err == ""


def test_progress_bar_estimates_the_time_left():
    stream = io.StringIO()
    bar = ProgressBar(100, 20, "study", stream, min_interval=3600)
    bar.update(40, 1, force=True)
    bar.update(50, 2)  # throttled: not drawn
    assert stream.getvalue().count("\r") == 1
    bar.done = 40
    assert bar.line(10.0).endswith("failures 2 | 0:10 elapsed | ETA 0:30")
    assert clock(3725) == "1:02:05" and clock(65.4) == "1:05"


# --- dask (optional) ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as cluster:
        yield cluster


def test_finished_run_starts_no_workers(tmp_path):
    pytest.importorskip("dask.distributed")
    path = tmp_path / "run.jsonl"
    full = serial(draw, 4, results_path=path)
    # nothing listens on port 9: connecting would fail
    out = run_replications(draw, 4, SEED, executor="tcp://127.0.0.1:9", results_path=path)
    assert out.results == full.results and out.n_resumed == 4


def test_dask_client_gives_the_same_results(dask_cluster):
    from dask.distributed import Client

    with Client(dask_cluster) as client:
        out = run_replications(half_inadmissible, 15, SEED, executor=client, regenerate_failed=True)
        assert client.status == "running"
    expected = serial(half_inadmissible, 15, regenerate_failed=True)
    assert (out.results, out.failures) == (expected.results, expected.failures)


def test_dask_scheduler_address_gives_the_same_results(dask_cluster, tmp_path):
    path = tmp_path / "run.jsonl"
    address = dask_cluster.scheduler_address
    out = run_replications(flaky, 10, SEED, executor=address, chunk_size=3, results_path=path)
    expected = serial(flaky, 10)
    assert (out.results, out.failures) == (expected.results, expected.failures)
    assert len(_lines(path)) == 11
