"""Where threaded BLAS starts to pay: one thread against the library's default, by matrix size.

For each size n the work a fit does with its largest matrix — a product, an inverse and a
log-determinant of an n × n positive-definite matrix — is timed with one BLAS thread and with the
default (one per core). Printed: seconds and default / one (below 1: threads pay). The smallest n
where threads pay on an idle machine is the crossover ``semlang.blas.LARGE`` is set from.

    python benchmarks/blas_threads.py [--sizes 50 100 200 400 800]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import scipy.linalg  # noqa: F401 (its BLAS is controlled too)
from threadpoolctl import ThreadpoolController


def seconds(matrix: np.ndarray, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        matrix @ matrix
        np.linalg.inv(matrix)
        np.linalg.slogdet(matrix)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[25, 50, 100, 200, 300, 400, 600])
    args = parser.parse_args(argv)
    controller = ThreadpoolController()
    default = max(lib.num_threads for lib in controller.select(user_api="blas").lib_controllers)
    rng = np.random.default_rng(1)
    print(f"load average {os.getloadavg()[0]:.2f}; default BLAS threads: {default}\n")
    print(f"{'n':>5s} {'1 thread s':>11s} {'default s':>10s} {'default/one':>11s}")
    for n in args.sizes:
        a = rng.normal(size=(n, n))
        matrix = a @ a.T + n * np.eye(n)
        reps = max(5, min(200, int(3e8 / n**3)))
        with controller.limit(limits=1, user_api="blas"):
            one = seconds(matrix, reps)
        threaded = seconds(matrix, reps)
        print(f"{n:5d} {one:11.5f} {threaded:10.5f} {threaded / one:11.2f}")


if __name__ == "__main__":
    main()
