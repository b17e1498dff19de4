"""Start-up: ``semlang --version``, ``--help``, ``check``, ``fit`` and the first ``semlang.cfa()``
in a fresh interpreter, each as a whole process, beside the goals; and what each imports.

Each command runs ``--reps`` times in a new process (as ``python -m semlang.cli ...``, the entry
point's own code); printed: the median wall seconds, the median CPU seconds of the process (user +
system: on a busy machine the better guide to what an idle one gives), the goal and the wall
seconds as a share of it (at most 1 meets the goal). Then, from ``python -X importtime``, the
libraries each command imports and their cumulative import seconds.

The first ``semlang.cfa()`` is timed from a fresh interpreter to the fitted model: ``import
semlang``, reading the data set into a pandas DataFrame (so pandas' import counts) and the fit.
The row after it (no goal) is the same with pandas imported before the clock starts, as in a
session that has already read its data: what semlang itself adds. Python's compiled bytecode is
used as an installed package has it (``PYTHONDONTWRITEBYTECODE`` is dropped, so the first,
untimed run of each command writes it).

    python benchmarks/startup.py [--reps 7]
"""

from __future__ import annotations

import argparse
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "semlang" / "datasets" / "HolzingerSwineford1939.csv"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
LIBRARIES = (
    "numpy", "pandas", "scipy.linalg", "scipy.optimize", "scipy.stats", "sympy", "networkx",
    "lark", "threadpoolctl",
)  # fmt: skip


def commands(model: Path) -> list[tuple[str, list[str], float]]:
    """(name, python arguments, goal in seconds)."""
    cli = ["-m", "semlang.cli"]
    first_fit = (
        f"import semlang; semlang.cfa(open({str(model)!r}).read(), "
        "semlang.datasets.load('HolzingerSwineford1939'))"
    )
    return [
        ("semlang --version", [*cli, "--version"], 0.15),
        ("semlang --help", [*cli, "--help"], 0.15),
        ("semlang check", [*cli, "check", str(model), "--cfa"], 0.4),
        ("semlang fit (HS CFA)", [*cli, "fit", str(model), str(DATA), "--cfa"], 0.6),
        ("first semlang.cfa()", ["-c", first_fit], 0.5),
        ("  pandas imported before", ["-c", _after_pandas(first_fit)], math.nan),
    ]


def _after_pandas(code: str) -> str:
    """``code`` timed inside the process, after ``import pandas`` (the CPU seconds printed)."""
    return (
        "import resource, sys, time; import pandas\n"
        "def cpu():\n"
        "    r = resource.getrusage(resource.RUSAGE_SELF)\n"
        "    return r.ru_utime + r.ru_stime\n"
        f"wall, used = time.perf_counter(), cpu()\n{code}\n"
        "print(time.perf_counter() - wall, cpu() - used, file=sys.stderr)"
    )


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_once(arguments: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process (or of the part it times itself and reports
    as the last line of its stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *arguments], env=environment(), capture_output=True, check=True, text=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if "def cpu()" in "".join(arguments):
        wall, cpu = map(float, done.stderr.splitlines()[-1].split())
    return wall, cpu


def imported(arguments: list[str]) -> dict[str, float]:
    """Cumulative import seconds of each library the process imports (``-X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *arguments],
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    out = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)$", line)
        if match and match.group(2) in LIBRARIES:
            out[match.group(2)] = int(match.group(1)) / 1e6
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        model = Path(folder) / "hs.sem"
        model.write_text(HS_MODEL)
        rows = []
        for name, arguments, goal in commands(model):
            run_once(arguments)  # warm the file cache
            times = [run_once(arguments) for _ in range(args.reps)]
            wall = statistics.median(t[0] for t in times)
            cpu = statistics.median(t[1] for t in times)
            rows.append((name, wall, cpu, goal, imported(arguments)))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(
        f"{'command':24s} {'wall s':>7s} {'CPU s':>7s} {'goal s':>7s} {'wall/goal':>9s}"
        "  imports (cumulative s)"
    )
    for name, wall, cpu, goal, libraries in rows:
        shown = ", ".join(f"{k} {v:.3f}" for k, v in libraries.items()) or "-"
        goal_text = "-" if math.isnan(goal) else f"{goal:.2f}"
        ratio = "-" if math.isnan(goal) else f"{wall / goal:.2f}"
        print(f"{name:24s} {wall:7.3f} {cpu:7.3f} {goal_text:>7s} {ratio:>9s}  {shown}")


if __name__ == "__main__":
    main()
