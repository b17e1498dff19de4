"""What the benchmark scripts share; import it before numpy.

One BLAS thread (the models are small; threaded BLAS only makes processes compete for the
cores), the paths of the reference cases and the shipped data, and the median time of an action.
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
