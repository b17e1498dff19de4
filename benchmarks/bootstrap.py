"""Times a bootstrap of the HS CFA (``hs_cfa``): R draws in this process and on local processes.

Each repeat runs ``run_bootstrap`` serially and on ``--jobs`` processes (this one and workers),
one after the other, who goes first alternating, so that both meet the same load; a repeat's
ratio is the parallel wall time over the serial one next to it. Printed: per executor the median
wall seconds (the draws, their collection and the summaries; the fit itself is made once,
before), the median CPU seconds of the draws (this process's and its workers') and draws per
second; then the median of the repeats' ratios (the goal: at most 0.65 on a quiet 2-core
machine, at most 1 on a busy one), the figure a machine with idle cores would give as far as the
CPU time tells (the CPU seconds of the parallel run's busiest process — this one or a worker —
over the serial run's: what the wall ratio comes to when nothing else competes for the cores,
start-up and waiting aside) and the 1-minute load average before and after.

    python benchmarks/bootstrap.py [--draws 1000] [--jobs 2] [--seed 1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
import warnings

import _bench  # before numpy: one BLAS thread

import semlang
from semlang.results.bootstrap import run_bootstrap

REFERENCE = _bench.REFERENCE / "hs_cfa.json"


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds of this process and of its finished children (the workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time(), children.ru_utime + children.ru_stime


def time_bootstrap(fit, executor: str, jobs: int) -> tuple[float, tuple[float, float], object]:
    """(wall seconds, CPU seconds of this process and of the workers, the result)."""
    own, workers = cpu_seconds()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_bootstrap(fit, executor=executor, n_jobs=jobs, progress=False)
    wall = time.perf_counter() - start
    own_after, workers_after = cpu_seconds()
    return wall, (own_after - own, workers_after - workers), result


def hs_fit(draws: int, seed: int):
    case = json.loads(REFERENCE.read_text())
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    return semlang.cfa(case["model"], data, se="bootstrap", bootstrap=draws, seed=seed)


def compare(draws: int = 1000, jobs: int = 2, seed: int = 1, repeats: int = 3) -> dict:
    """Serial and parallel bootstraps of the HS CFA, alternating: medians and the ratio."""
    fit = hs_fit(draws, seed)
    load_before = os.getloadavg()[0]
    wall: dict[str, list[float]] = {"serial": [], "processes": []}
    cpu: dict[str, list[float]] = {"serial": [], "processes": []}
    ratios, idle_ratios, same = [], [], True
    for number in range(repeats):
        order = ("serial", "processes") if number % 2 == 0 else ("processes", "serial")
        results, used = {}, {}
        for executor in order:
            seconds, used[executor], results[executor] = time_bootstrap(fit, executor, jobs)
            wall[executor].append(seconds)
            cpu[executor].append(sum(used[executor]))
        ratios.append(wall["processes"][-1] / wall["serial"][-1])
        # on idle cores the parallel run lasts about as long as its busiest process's CPU time
        idle_ratios.append(max(used["processes"]) / sum(used["serial"]))
        same &= bool((results["serial"].theta == results["processes"].theta).all())
    return {
        "draws": draws, "jobs": jobs, "repeats": repeats, "same_draws": same,
        "wall": {k: statistics.median(v) for k, v in wall.items()},
        "cpu": {k: statistics.median(v) for k, v in cpu.items()},
        "ratio": statistics.median(ratios), "ratios": ratios,
        "idle_ratio": statistics.median(idle_ratios),
        "load_before": load_before, "load_after": os.getloadavg()[0],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    out = compare(args.draws, args.jobs, args.seed, args.repeats)
    print(f"hs_cfa bootstrap, R = {args.draws}, {os.cpu_count()} CPUs, {args.repeats} repeats, "
          f"load average {out['load_before']:.1f} -> {out['load_after']:.1f}")  # fmt: skip
    print(f"{'executor':<16} {'wall s':>8} {'CPU s':>8} {'draws/s':>8}")
    for executor in ("serial", "processes"):
        label = executor if executor == "serial" else f"{args.jobs} processes"
        wall, cpu = out["wall"][executor], out["cpu"][executor]
        print(f"{label:<16} {wall:8.2f} {cpu:8.2f} {args.draws / wall:8.1f}")
    shown = ", ".join(f"{r:.2f}" for r in out["ratios"])
    print(f"parallel / serial: {out['ratio']:.2f} (repeats: {shown}); CPU-bound figure for idle "
          f"cores (busiest process's CPU / serial CPU): {out['idle_ratio']:.2f}")  # fmt: skip
    print(f"same draws in both: {out['same_draws']}")


if __name__ == "__main__":
    main()
