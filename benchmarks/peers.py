"""Peer timings: how long lavaan (R) and semopy (Python) take to fit a reference case.

Input: a reference case (``tests/reference/<case>.json``: model, data file, lavaan options) and
the data directory. Output: the peer's median seconds per fit, timed inside the peer's own
process (start-up excluded), or None when the peer is not available or cannot fit that model.

- lavaan: ``benchmarks/lavaan_seconds.R`` run by ``Rscript`` (found on PATH), or
  ``benchmarks/lavaan_server.R`` kept running by :class:`LavaanSession` and asked case by case
  (for benchmarks that alternate lavaan's fits with semlang's).
- semopy: ``benchmarks/semopy_seconds.py`` run by the Python named in the environment variable
  ``SEMOPY_PYTHON`` (semopy lives in its own environment, apart from semlang's). That script
  states which models semopy cannot fit as lavaan does (multi-group, two-level, constraints).

Both run with one BLAS thread (see ``_single_threaded_env``), so that the times compare like
with like: R's reference BLAS is single-threaded.

Usage as a script: ``python benchmarks/peers.py DATA_DIR CASE.json [CASE.json ...] [--reps N]
[--timeout S]`` prints a Markdown table of both peers' seconds ("-": not available).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from _bench import BLAS_THREADS

HERE = Path(__file__).resolve().parent
LAVAAN_SCRIPT = HERE / "lavaan_seconds.R"
LAVAAN_SERVER = HERE / "lavaan_server.R"
SEMOPY_SCRIPT = HERE / "semopy_seconds.py"
_MEDIAN = re.compile(r"_seconds_median\s+([0-9.eE+-]+)")


def _single_threaded_env() -> dict[str, str]:
    """The environment with one BLAS / OpenMP thread unless the caller set a number.

    Models of this size gain nothing from threaded BLAS, and on a busy machine OpenBLAS threads
    waiting for each other make a fit many times slower; R's reference BLAS has one thread.
    """
    env = dict(os.environ)
    for name in BLAS_THREADS:
        env.setdefault(name, "1")
    return env


def _run_and_parse(cmd: list[str], timeout: float | None) -> float | None:
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=_single_threaded_env(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    match = _MEDIAN.search(proc.stdout)
    return float(match.group(1)) if match else None


def lavaan_seconds(
    case_json: Path,
    data_dir: Path,
    reps: int = 5,
    timeout: float | None = None,
    with_results: bool = False,
) -> float | None:
    """lavaan's median seconds per fit of the case (``with_results``: each fit followed by
    ``parameterEstimates()`` and ``fitMeasures()``); None without R or lavaan."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    cmd = [rscript, str(LAVAAN_SCRIPT), str(case_json), str(data_dir), str(reps)]
    if with_results:
        cmd.append("results")
    return _run_and_parse(cmd, timeout)


class LavaanSession:
    """One R process running ``lavaan_server.R``, asked for lavaan's seconds per fit case by case,
    so that a benchmark can alternate lavaan's fits with its own in one run (R and lavaan start
    once). Use as a context manager; without ``Rscript`` :meth:`seconds` gives None."""

    def __init__(self, data_dir: Path):
        rscript = shutil.which("Rscript")
        self.process = None
        if rscript is not None:
            self.process = subprocess.Popen(
                [rscript, str(LAVAAN_SERVER), str(data_dir)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=_single_threaded_env(),
            )

    def seconds(self, case_json: Path, reps: int, with_results: bool = True) -> float | None:
        """lavaan's median seconds per fit over ``reps`` fits (None if lavaan failed)."""
        if self.process is None or self.process.poll() is not None:
            return None
        request = f"{case_json}\t{reps}" + ("\tresults" if with_results else "")
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        words = self.process.stdout.readline().split()
        return float(words[1]) if words[:1] == ["seconds"] else None

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
            self.process.wait(timeout=30)

    def __enter__(self) -> LavaanSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def semopy_seconds(
    case_json: Path, data_dir: Path, reps: int = 5, timeout: float | None = None
) -> float | None:
    """semopy's median seconds per fit of the same model; None without semopy or for a model
    semopy cannot fit as lavaan does."""
    python = os.environ.get("SEMOPY_PYTHON")
    if not python:
        return None
    cmd = [python, str(SEMOPY_SCRIPT), str(case_json), str(data_dir), "--reps", str(reps)]
    return _run_and_parse(cmd, timeout)


def _fmt(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="lavaan and semopy seconds per fit")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("cases", type=Path, nargs="+", help="reference case JSON files")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per peer and case")
    args = parser.parse_args(argv)
    print("| case | lavaan seconds | semopy seconds |")
    print("| --- | ---: | ---: |")
    for case in args.cases:
        lav = lavaan_seconds(case, args.data_dir, args.reps, args.timeout)
        sem = semopy_seconds(case, args.data_dir, args.reps, args.timeout)
        print(f"| {case.stem} | {_fmt(lav)} | {_fmt(sem)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
