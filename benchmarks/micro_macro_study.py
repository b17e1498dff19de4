"""Times the published micro-macro study: 1000 replications of eight methods, four model fits each.

Prints the wall time of the whole study on local worker processes, the seconds per replication,
the CPU seconds it used (this process and its workers: a measure that does not depend on what
else the machine runs), and the CPU cost of each of the four fitted models per data set. With
``--lavaan`` (R and lavaan installed), lavaan's median seconds per fit of the same SEM is timed
in the same run for comparison (the study fits that SEM once per replication, beside three
factor models).

    python benchmarks/micro_macro_study.py [--reps 1000] [--jobs 2] [--seed 1] [--lavaan]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import time
import warnings

import _bench  # before numpy: one BLAS thread
import numpy as np

import semlang
from semlang.micromacro.methods import Method, MethodModels
from semlang.micromacro.study import StudyDesign, run_study

FITTED = (Method.BLUP_MIXED, Method.BLUP_MIXED_HETVAR, Method.FACTOR_SCORE, Method.SEM)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def time_fits(n: int = 50) -> dict[str, float]:
    """Median CPU seconds per fit of each fitted model, on ``n`` simulated data sets."""
    design = StudyDesign()
    data = [s.data for s in (design.generate(np.random.default_rng(k)) for k in range(n))]
    models = MethodModels.build(data[0], FITTED, max_iterations=100)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in FITTED:
            times = []
            for d in data:
                start = time.process_time()
                semlang.fit(models.compiled[method], d.wide)
                times.append(time.process_time() - start)
            out[method.value] = float(np.median(times))
    return out


def lavaan_seconds(reps: int = 20) -> float | None:
    """lavaan's median seconds per fit of the micro-macro SEM, or None without R/lavaan."""
    if shutil.which("Rscript") is None:
        return None
    script = _bench.ROOT / "benchmarks" / "lavaan_seconds.R"
    case = _bench.REFERENCE / "micro_macro_sem.json"
    command = ["Rscript", str(script), str(case), str(_bench.DATA), str(reps)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in result.stdout.splitlines():
        words = line.split()
        if "lavaan_seconds_median" in words:
            return float(words[words.index("lavaan_seconds_median") + 1])
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lavaan", action="store_true", help="time lavaan's SEM fit too")
    args = parser.parse_args()

    fits = time_fits()
    print("CPU seconds per fit (median of 50 data sets):")
    for name, seconds in fits.items():
        print(f"  {name:<20} {seconds:.4f}")
    print(f"  {'all four':<20} {sum(fits.values()):.4f}")

    cpu, wall = cpu_seconds(), time.perf_counter()
    summary = run_study(reps=args.reps, seed=args.seed, n_jobs=args.jobs)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    print(
        f"study: {summary.replications} replications (+{summary.regenerated} drawn again), "
        f"{args.jobs} worker processes"
    )
    print(f"  wall time             {wall:.1f} s ({wall / args.reps:.4f} s per replication)")
    print(f"  CPU time              {cpu:.1f} s ({cpu / args.reps:.4f} s per replication)")
    print(f"  load average (1 min)  {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    if args.lavaan:
        seconds = lavaan_seconds()
        text = (
            "not available (needs Rscript with lavaan)" if seconds is None else f"{seconds:.4f} s"
        )
        print(f"lavaan, one fit of the micro-macro SEM: {text}")


if __name__ == "__main__":
    main()
