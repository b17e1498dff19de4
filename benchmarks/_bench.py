"""What the benchmark scripts share; import it before numpy.

One BLAS thread (the models are small; threaded BLAS only makes processes compete for the
cores), the paths of the reference cases and the shipped data, the median time of an action and
a process's own peak memory.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
for _name in BLAS_THREADS:
    os.environ.setdefault(_name, "1")

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference"
DATA = ROOT / "semlang" / "datasets"


def load_case(name: str) -> dict:
    """A reference case (``tests/reference/<name>.json``)."""
    return json.loads((REFERENCE / f"{name}.json").read_text())


def median_seconds(action: Callable[[], object], reps: int) -> float:
    """Median wall time of ``reps`` calls of ``action``."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peer_table(names, ours_once: Callable[[str], float], theirs_once: Callable[[str], float] | None,
               reps: int, goal: float = 5.0) -> None:  # fmt: skip
    """Print, per case, the medians of ``reps`` interleaved runs of semlang's and the peer's
    (``theirs_once`` None: semlang's alone) and their ratio, then the lowest ratio."""
    print("| case | semlang s | lavaan s | lavaan / semlang |")
    print("|---|---:|---:|---:|")
    ratios = {}
    for name in names:
        ours, theirs = [], []
        for _ in range(reps):  # interleaved, so both see the same load
            ours.append(ours_once(name))
            if theirs_once is not None:
                theirs.append(theirs_once(name))
        mine = statistics.median(ours)
        peer = statistics.median(theirs) if theirs else None
        shown = f"{peer:.3f} | {peer / mine:.1f}" if peer else "- | -"
        print(f"| {name} | {mine:.3f} | {shown} |", flush=True)
        if peer:
            ratios[name] = peer / mine
    if ratios:
        lowest = min(ratios, key=ratios.__getitem__)
        print(f"\nlowest lavaan / semlang: {ratios[lowest]:.1f} ({lowest}); goal: {goal:g}")


def own_peak_mb() -> float:
    """This process's peak resident memory (MB): the high-water mark of its own address space
    (``VmHWM``). ``ru_maxrss`` would not do for a child process: Linux carries it over ``exec``
    from the parent, so a child reported its parent's resident set when that was larger."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux
