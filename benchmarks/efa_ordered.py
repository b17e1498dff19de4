"""Times semlang.efa() of ordered items beside lavaan's efa(..., ordered = ...).

For each case of ``tests/reference/efa_ordered/`` made by efa() (the HS items cut into three
categories, partly ordered, the 25 bfi items): one semlang.efa() call and one lavaan efa() call
(timed inside R, its start-up excluded) in turn, ``--reps`` times, then the medians and the
ratio lavaan / semlang. Both compute the thresholds and polychoric correlations, the WLSMV fit,
the rotated solution with robust standard errors, the scaled fit measures and (lavaan) the
standardized solution.

    python benchmarks/efa_ordered.py [--reps 3] [--cases hs3_geomin bfi_geomin] [--no-peers]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import time
import warnings

import _bench  # before numpy: one BLAS thread
import pandas as pd

import semlang

CASES = ("hs3_geomin", "hs3_oblimin", "hs3_varimax_ulsmv", "mixed_geomin", "bfi_geomin")
HS3 = _bench.REFERENCE / "categorical_fit" / "hs_cut3.csv"

LAVAAN = r"""
suppressMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
case <- fromJSON(args[1], simplifyVector = TRUE)
if (startsWith(case$data, "bfi")) {
  d <- read.csv(file.path(args[2], "bfi.csv"))
} else {
  d <- read.csv(args[3])
  if (startsWith(case$data, "hs_cut3's")) {
    hs <- read.csv(file.path(args[2], "HolzingerSwineford1939.csv"))
    d[paste0("x", 4:9)] <- hs[paste0("x", 4:9)]
  }
}
d <- d[, case$variables]
set.seed(1)
t <- system.time(fit <- do.call(efa, c(list(data = d, nfactors = case$nfactors,
                                             rotation = case$rotation), case$options)))
t2 <- system.time(for (f in unclass(fit)[grep("^nf", names(fit))]) standardizedSolution(f))
cat(t[["elapsed"]] + t2[["elapsed"]], "\n")
"""


def case_data(case: dict) -> pd.DataFrame:
    if case["data"].startswith("bfi"):
        return semlang.datasets.load("bfi")[case["variables"]]
    data = pd.read_csv(HS3)
    if case["data"].startswith("hs_cut3's"):  # x4..x9 continuous
        original = semlang.datasets.load("HolzingerSwineford1939")
        for name in [f"x{i}" for i in range(4, 10)]:
            data[name] = original[name]
    return data[case["variables"]]


def semlang_once(case: dict) -> float:
    data = case_data(case)
    options = {k.replace(".", "_"): v for k, v in case["options"].items()}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = semlang.efa(data, nfactors=case["nfactors"], rotation=case["rotation"],
                             **options)  # fmt: skip
        for fit in result:  # what lavaan computes too: the standardized solution with SEs
            fit.estimates()
    return time.perf_counter() - start


def lavaan_once(name: str, rscript: str) -> float:
    path = _bench.REFERENCE / "efa_ordered" / f"{name}.json"
    out = subprocess.run([rscript, "-e", LAVAAN, str(path), str(_bench.DATA), str(HS3)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return float(out.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args()
    rscript = None if args.no_peers else shutil.which("Rscript")
    semlang_once(_bench.load_case("efa_ordered/hs3_oblimin"))  # imports and first-call costs
    _bench.peer_table(
        args.cases,
        lambda name: semlang_once(_bench.load_case(f"efa_ordered/{name}")),
        (lambda name: lavaan_once(name, rscript)) if rscript else None,
        args.reps,
    )


if __name__ == "__main__":
    main()
