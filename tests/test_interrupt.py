"""Ctrl-C and SIGTERM during a study: a clean stop, no worker left behind, a resumable file."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPS = 600  # long enough that the study is still running when the signal comes, even under load
STUDY = ["study", "micro-macro", "--reps", str(REPS), "--methods", "SEM", "--jobs", "2"]

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").exists(), reason="reads the process tree from /proc (Linux)"
)


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # the thread ended meanwhile
            found.update(int(c) for c in (task / "children").read_text().split())
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _as_a_terminal_job() -> None:
    """In the child before exec: Ctrl-C and SIGTERM at their defaults and not blocked, as a shell
    starts a foreground job, whatever the test runner's process has set for itself."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def _start(arguments: list[str]) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "semlang.cli", *arguments]
    return subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=_as_a_terminal_job,
    )


def _wait_for_records(process: subprocess.Popen, results: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if results.exists() and len(results.read_text().splitlines()) >= 3:
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.kill()
    pytest.fail("the study wrote no replication in time")


def _wait_for_workers(process: subprocess.Popen, timeout: float = 60.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = _children(process.pid)
        if workers:
            return workers
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.kill()
    pytest.fail("no worker process started in time")


def _wait_gone(workers: set[int]) -> None:
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)


def _stopped(process: subprocess.Popen) -> tuple[str, str]:
    """The output of a process told to stop; it (and its group) is killed if it does not."""
    try:
        return process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("the process did not stop within 30 s")


def _finished(results: Path) -> int:
    lines = results.read_text().splitlines()
    return sum(bool(json.loads(line).get("final")) for line in lines[1:])


@pytest.mark.parametrize(
    ("whom", "signum"),
    [("group", signal.SIGINT), ("main", signal.SIGTERM)],
    ids=["ctrl-c", "sigterm"],
)
def test_a_stopped_study_exits_cleanly_and_resumes(tmp_path, whom, signum):
    results = tmp_path / "study.jsonl"
    process = _start([*STUDY, "--results", str(results)])
    _wait_for_records(process, results)
    workers = _children(process.pid)
    assert workers, "the study runs in worker processes"
    if whom == "group":  # Ctrl-C in a terminal reaches every process of the foreground group
        os.killpg(process.pid, signum)
    else:  # SIGTERM (kill PID) reaches the main process only
        os.kill(process.pid, signum)
    _, err = _stopped(process)
    assert process.returncode == 128 + signum
    assert "Traceback" not in err
    assert "micro-macro study interrupted after" in err
    assert f"kept in {results}" in err and "same arguments and results file to resume" in err
    _wait_gone(workers)

    kept = _finished(results)
    assert 0 < kept < REPS
    if whom == "group":
        return  # resuming is checked once, after SIGTERM
    again = subprocess.run(
        [sys.executable, "-m", "semlang.cli", *STUDY, "--results", str(results)],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert f"({kept} replications read back from the results file)" in again.stdout
    assert _finished(results) == REPS


def test_ctrl_c_during_a_bootstrap_stops_it_cleanly(tmp_path):
    hs = ROOT / "semlang" / "datasets" / "HolzingerSwineford1939.csv"
    model = tmp_path / "hs.sem"
    model.write_text("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n", encoding="utf-8")
    process = _start(["fit", str(model), str(hs), "--se", "bootstrap", "--bootstrap", "100000"])
    workers = _wait_for_workers(process)
    time.sleep(1.0)  # past the pool's start-up: the draws are under way
    workers |= _children(process.pid)
    os.killpg(process.pid, signal.SIGINT)
    out, err = _stopped(process)
    assert process.returncode == 130
    assert "Traceback" not in err
    assert "bootstrap interrupted after" in err and "of 100000 replications" in err
    assert out == ""
    _wait_gone(workers)


def test_workers_end_themselves_when_the_main_process_is_killed(tmp_path):
    results = tmp_path / "study.jsonl"
    process = _start([*STUDY, "--results", str(results)])
    _wait_for_records(process, results)
    workers = _children(process.pid)
    assert workers
    os.kill(process.pid, signal.SIGKILL)  # no chance to clean up
    process.communicate(timeout=30)
    _wait_gone(workers)  # each worker sees its main process gone
