"""Times the polychoric matrix of the 25 bfi items beside lavaan, and the statistics with Γ.

Two pieces of work, each done by both in the same run (lavaan inside one R process, start-up
excluded):

- ``matrix``: ``semlang.polychoric(items, ordered=True).cor`` beside
  ``lavCor(items, ordered=items)`` (listwise, thresholds and polychoric correlations);
- ``gamma``: the same plus Γ (``.gamma``: the casewise scores and the sandwich) beside lavaan's
  ``muthen1984(..., WLS.W = TRUE)``, the function lavaan's WLSMV runs for them, on the complete
  rows.

The rounds alternate semlang and lavaan; each round takes the median of ``--reps`` calls on each
side, and the ratio reported is the median over the rounds of lavaan's time / semlang's.

    python benchmarks/polychoric.py [--reps 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import warnings
from pathlib import Path

import _bench  # before numpy: one BLAS thread

import semlang

ITEMS = [f"{trait}{k}" for trait in "ACENO" for k in range(1, 6)]

R_CODE = r"""
suppressMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); reps <- as.integer(args[2])
it <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5), paste0("N", 1:5), paste0("O", 1:5))
X <- as.matrix(na.omit(d[, it]))
lev <- apply(X, 2, function(x) length(unique(x)))
one_cor <- function() lavCor(d[, it], ordered = it)
one_gamma <- function() lavaan:::muthen1984(Data = X, ov.names = it,
  ov.types = rep("ordered", length(it)), ov.levels = lev, WLS.W = TRUE)
median_of <- function(f) {
  f(); median(sapply(seq_len(reps), function(i) system.time(f())[["elapsed"]]))
}
cat(sprintf("matrix %.5f\ngamma %.5f\n", median_of(one_cor), median_of(one_gamma)))
"""


def semlang_seconds(data, reps: int) -> dict[str, float]:
    items = data[ITEMS]

    def matrix():
        return semlang.polychoric(items, ordered=True).cor

    def with_gamma():
        return semlang.polychoric(items, ordered=True).gamma

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matrix()
        return {
            "matrix": _bench.median_seconds(matrix, reps),
            "gamma": _bench.median_seconds(with_gamma, reps),
        }


def lavaan_seconds(script: Path, reps: int) -> dict[str, float] | None:
    if shutil.which("Rscript") is None:
        return None
    out = subprocess.run(
        ["Rscript", str(script), str(_bench.DATA / "bfi.csv"), str(reps)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line.split()[0]: float(line.split()[1]) for line in out.splitlines() if line.strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data = semlang.datasets.load("bfi")
    ratios: dict[str, list[float]] = {"matrix": [], "gamma": []}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "lavaan_polychoric.R"
        script.write_text(R_CODE)
        for round_ in range(1, args.rounds + 1):
            ours = semlang_seconds(data, args.reps)
            theirs = lavaan_seconds(script, args.reps)
            for work, seconds in ours.items():
                line = f"round {round_} {work:7s} semlang {seconds:.4f} s"
                if theirs:
                    ratio = theirs[work] / seconds
                    ratios[work].append(ratio)
                    line += f"  lavaan {theirs[work]:.4f} s  x{ratio:.1f}"
                print(line, flush=True)
    for work, values in ratios.items():
        if values:
            print(f"{work}: lavaan / semlang, median over rounds: x{statistics.median(values):.1f}")


if __name__ == "__main__":
    main()
