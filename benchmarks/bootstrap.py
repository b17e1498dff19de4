"""Times a bootstrap of the HS CFA (``hs_cfa``): R draws, in this process and in worker processes.

For each executor: the wall seconds of ``run_bootstrap`` (the draws, their collection and the
summaries; the fit itself is made once, before), the CPU seconds spent on the draws (this
process's for ``serial``, the workers' for ``processes``) and the draws per second. The target:
1000 draws in under 30 s on 2 cores. The CPU seconds tell what the draws cost on a busy machine,
where wall time also measures the other load (the 1-minute load average is printed).

    python benchmarks/bootstrap.py [--draws 1000] [--jobs 2] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
import warnings

import _bench  # before numpy: one BLAS thread

import semlang
from semlang.results.bootstrap import run_bootstrap

REFERENCE = _bench.REFERENCE / "hs_cfa.json"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_bootstrap(fit, executor: str, jobs: int) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of the draws, the result)."""
    cpu, children = time.process_time(), children_cpu()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_bootstrap(fit, executor=executor, n_jobs=jobs, progress=False)
    wall = time.perf_counter() - start
    used = time.process_time() - cpu if executor == "serial" else children_cpu() - children
    return wall, used, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    case = json.loads(REFERENCE.read_text())
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    fit = semlang.cfa(case["model"], data, se="bootstrap", bootstrap=args.draws, seed=args.seed)
    print(f"hs_cfa bootstrap, R = {args.draws}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'executor':<16} {'wall s':>8} {'draw CPU s':>11} {'draws/s':>8}  completed  failed")
    results = []
    for executor, jobs in (("serial", 1), ("processes", args.jobs)):
        wall, cpu, result = time_bootstrap(fit, executor, jobs)
        results.append(result)
        label = executor if executor == "serial" else f"{jobs} processes"
        print(
            f"{label:<16} {wall:8.2f} {cpu:11.2f} {args.draws / wall:8.1f}  "
            f"{result.n_completed:9d}  {result.n_failed:6d}"
        )
    same = (results[0].theta == results[1].theta).all()
    print(f"same draws in both runs: {bool(same)}")


if __name__ == "__main__":
    main()
