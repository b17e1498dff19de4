"""Time ``semlang.sam`` against a full ``semlang.sem`` fit on the Political Democracy model.

Input: the three-factor Political Democracy model (ind60 -> dem60 -> dem65) and the shipped
data. Output, on stdout: the median wall time of one ``sem`` fit (with its estimates table),
of one ``sam`` (local, two-step standard errors) and of ``fsr(method="croon")``, after one
warm-up call each.

Usage: python benchmarks/sam_vs_sem.py [--reps K]
"""

from __future__ import annotations

import argparse
import statistics
import time

import semlang
from semlang.twostep import fsr, sam

MODEL = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
"""


def median_seconds(action, reps: int) -> float:
    action()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    data = semlang.datasets.load("PoliticalDemocracy")
    sem = median_seconds(lambda: semlang.sem(MODEL, data).estimates(), args.reps)
    local = median_seconds(lambda: sam(MODEL, data).estimates(), args.reps)
    croon = median_seconds(lambda: fsr(MODEL, data).estimates(), args.reps)
    print(f"sem  (full fit + estimates)   {sem:.4f} s")
    print(f"sam  (local, two-step SEs)    {local:.4f} s   sam / sem = {local / sem:.2f}")
    print(f"fsr  (Croon, two-step SEs)    {croon:.4f} s   fsr / sem = {croon / sem:.2f}")


if __name__ == "__main__":
    main()
