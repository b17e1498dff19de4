"""Times the ordered-categorical work on the 25 bfi items beside lavaan 0.6.14 in the same run.

Two pieces of work, each done by both (lavaan inside one R process, start-up excluded):

- ``matrix``: the polychoric matrix with the thresholds, ``semlang.polychoric(items,
  ordered=True).cor`` beside ``lavCor(items, ordered=items)`` (as ``polychoric.py``);
- ``wlsmv``: the five-factor CFA of the 25 items as ordered with WLSMV (the model of the
  ``bfi_wlsmv`` reference case), with standard errors, the scaled-shifted test and the fit
  measures: ``semlang.sem(...)`` then ``.estimates()`` and ``.fit_measures()`` beside
  ``sem(...)`` then ``parameterEstimates()`` and ``fitMeasures()``.

The rounds alternate semlang and lavaan; each round takes the median of ``--reps`` calls on each
side (``--fit-reps`` for the fits), of wall time and of CPU time (both sides single-threaded),
and the ratios reported are the medians over the rounds of lavaan's time / semlang's. On a
shared machine only the ratios mean anything, and the CPU-time ratio is the steadier one.

    python benchmarks/categorical.py [--reps 10] [--fit-reps 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import _bench  # before numpy: one BLAS thread
from polychoric import ITEMS

import semlang

CASE = _bench.load_case("categorical_fit/bfi_wlsmv")

R_CODE = r"""
suppressMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); reps <- as.integer(args[2]); fit_reps <- as.integer(args[3])
model <- readLines(args[4])
it <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5), paste0("N", 1:5), paste0("O", 1:5))
one_cor <- function() lavCor(d[, it], ordered = it)
one_fit <- function() {
  fit <- sem(model, data = d, ordered = it, estimator = "WLSMV")
  parameterEstimates(fit); fitMeasures(fit)
}
median_of <- function(f, n) {
  f(); t <- sapply(seq_len(n), function(i) system.time(f())[c("elapsed", "user.self", "sys.self")])
  c(median(t[1, ]), median(t[2, ] + t[3, ]))
}
m <- median_of(one_cor, reps); w <- median_of(one_fit, fit_reps)
cat(sprintf("matrix %.5f %.5f\nwlsmv %.5f %.5f\n", m[1], m[2], w[1], w[2]))
"""


def wall_and_cpu(action, reps: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``reps`` calls of ``action``."""
    wall, cpu = [], []
    for _ in range(reps):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def semlang_seconds(data, reps: int, fit_reps: int) -> dict[str, tuple[float, float]]:
    items = data[ITEMS]

    def matrix():
        return semlang.polychoric(items, ordered=True).cor

    def wlsmv():
        fit = semlang.sem(CASE["model_text"], data, **CASE["options"])
        return fit.estimates(), fit.fit_measures()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matrix()
        wlsmv()
        return {
            "matrix": wall_and_cpu(matrix, reps),
            "wlsmv": wall_and_cpu(wlsmv, fit_reps),
        }


def lavaan_seconds(
    script: Path, model: Path, reps: int, fit_reps: int
) -> dict[str, tuple[float, float]] | None:
    if shutil.which("Rscript") is None:
        return None
    out = subprocess.run(
        [
            "Rscript",
            str(script),
            str(_bench.DATA / "bfi.csv"),
            str(reps),
            str(fit_reps),
            str(model),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line.split() for line in out.splitlines() if line.strip()]
    return {row[0]: (float(row[1]), float(row[2])) for row in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--fit-reps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data = semlang.datasets.load("bfi")
    ratios: dict[str, list[tuple[float, float]]] = {"matrix": [], "wlsmv": []}
    with tempfile.TemporaryDirectory() as tmp:
        script, model = Path(tmp) / "lavaan_categorical.R", Path(tmp) / "model.lav"
        script.write_text(R_CODE)
        model.write_text(CASE["model_text"])
        for round_ in range(1, args.rounds + 1):
            ours = semlang_seconds(data, args.reps, args.fit_reps)
            theirs = lavaan_seconds(script, model, args.reps, args.fit_reps)
            for work, (wall, cpu) in ours.items():
                line = f"round {round_} {work:6s} semlang {wall:.4f} s (cpu {cpu:.4f})"
                if theirs:
                    their_wall, their_cpu = theirs[work]
                    ratios[work].append((their_wall / wall, their_cpu / cpu))
                    line += f"  lavaan {their_wall:.4f} s (cpu {their_cpu:.4f})"
                    line += f"  x{their_wall / wall:.1f} (cpu x{their_cpu / cpu:.1f})"
                print(line, flush=True)
    for work, values in ratios.items():
        if values:
            wall = statistics.median(v[0] for v in values)
            cpu = statistics.median(v[1] for v in values)
            print(f"{work}: lavaan / semlang, median over rounds: x{wall:.1f} (cpu x{cpu:.1f})")


if __name__ == "__main__":
    main()
