"""Time ``semlang.sam`` against a full ``semlang.sem`` fit on the Political Democracy model.

Input: the three-factor Political Democracy model (ind60 -> dem60 -> dem65) and the shipped
data. Output, on stdout: the median wall time of one ``sem`` fit (with its estimates table),
of one ``sam`` (local, two-step standard errors) and of ``fsr(method="croon")``, and each
method's time relative to ``sem``; with ``--cpu`` also the median CPU time of this process
(steadier than wall time on a busy machine).

The three calls take turns (sem, sam, fsr, sem, sam, ...) after one warm-up call each, so that
a change in the machine's load affects all three alike. One BLAS thread, as in the tests.

Usage: python benchmarks/sam_vs_sem.py [--reps K] [--cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time

import _bench  # noqa: F401  (before numpy: one BLAS thread)

import semlang
from semlang.twostep import fsr, sam

MODEL = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
"""


def median_seconds(actions: dict, reps: int, clock) -> dict[str, float]:
    """Median time of each action, the actions taking turns."""
    for action in actions.values():
        action()
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(reps):
        for name, action in actions.items():
            start = clock()
            action()
            times[name].append(clock() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--cpu", action="store_true", help="also report CPU time")
    args = parser.parse_args()
    data = semlang.datasets.load("PoliticalDemocracy")
    actions = {
        "sem  (full fit + estimates)": lambda: semlang.sem(MODEL, data).estimates(),
        "sam  (local, two-step SEs)": lambda: sam(MODEL, data).estimates(),
        "fsr  (Croon, two-step SEs)": lambda: fsr(MODEL, data).estimates(),
    }
    clocks = [("wall", time.perf_counter)] + ([("cpu", time.process_time)] if args.cpu else [])
    for label, clock in clocks:
        medians = median_seconds(actions, args.reps, clock)
        sem = next(iter(medians.values()))
        print(f"median {label} time of {args.reps} runs")
        for name, seconds in medians.items():
            print(f"  {name:<30}{seconds:.4f} s   / sem = {seconds / sem:.2f}")


if __name__ == "__main__":
    main()
