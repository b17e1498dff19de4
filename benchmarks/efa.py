"""Times semlang.efa() beside lavaan's efa() on the EFA reference cases.

For each case of ``tests/reference/efa/`` (data, numbers of factors, rotation, estimator): one
semlang.efa() call and one lavaan efa() call (timed inside R, its start-up excluded) in turn,
``--reps`` times, then the medians and the ratio lavaan / semlang. Both compute the rotated
solution with standard errors, the fit measures and (lavaan) the standardized solution.

    python benchmarks/efa.py [--reps 3] [--cases hs_geomin bfi_geomin] [--no-peers]

(``--cases hs_geomin_delta hs_oblimin_delta`` times the standard errors by the delta method.)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import time
import warnings

import _bench  # before numpy: one BLAS thread

import semlang

CASES = ("hs_geomin", "hs_oblimin", "hs_varimax", "hs_promax", "hs_nf1to3", "bfi_geomin",
         "bfi_oblimin", "bfi_varimax", "bfi_promax")  # fmt: skip

LAVAAN = r"""
suppressMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
case <- fromJSON(args[1], simplifyVector = TRUE)
file <- if (startsWith(case$data, "Holzinger")) "HolzingerSwineford1939.csv" else "bfi.csv"
d <- na.omit(read.csv(file.path(args[2], file))[, case$variables])
ra <- if (length(case$rotation_args) == 0) list() else case$rotation_args
opts <- if (length(case$options) == 0) list() else case$options
set.seed(1)
t <- system.time(do.call(efa, c(list(data = d, nfactors = case$nfactors,
                                     rotation = case$rotation, rotation.args = ra), opts)))
cat(t[["elapsed"]], "\n")
"""


def semlang_once(case: dict) -> float:
    data = semlang.datasets.load("hs" if case["data"].startswith("Holzinger") else "bfi")
    args = {k.replace(".", "_"): v for k, v in (case["rotation_args"] or {}).items()}
    options = case["options"] or {}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = semlang.efa(
            data[case["variables"]],
            nfactors=case["nfactors"],
            rotation=case["rotation"],
            rotation_args=args,
            estimator=options.get("estimator", "ML"),
            rotation_se=options.get("rotation.se", "bordered"),
        )
        for fit in result:  # what lavaan computes too: the standardized solution with SEs
            fit.estimates()
    return time.perf_counter() - start


def lavaan_once(name: str, rscript: str) -> float:
    path = _bench.REFERENCE / "efa" / f"{name}.json"
    out = subprocess.run([rscript, "-e", LAVAAN, str(path), str(_bench.DATA)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return float(out.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args()
    rscript = None if args.no_peers else shutil.which("Rscript")
    semlang_once(_bench.load_case("efa/hs_varimax"))  # imports and first-call costs
    _bench.peer_table(
        args.cases,
        lambda name: semlang_once(_bench.load_case(f"efa/{name}")),
        (lambda name: lavaan_once(name, rscript)) if rscript else None,
        args.reps,
    )


if __name__ == "__main__":
    main()
