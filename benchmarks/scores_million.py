"""Time scoring 1,000,000 rows with a fitted model.

Input: the Holzinger-Swineford three-factor CFA fitted to the shipped data, and one million
rows drawn from its implied distribution (plus, for the FIML case, the Big Five CFA and one
million rows with about 2% of the values missing). Output, on stdout: the median wall time of
``fit.predict(data=...)`` (new data as a DataFrame, result as a DataFrame) and of the bare
matrix product with ``score_weights`` (``b + A x``), for regression and Bartlett scores.

Usage: python benchmarks/scores_million.py [--rows N] [--reps K]
"""

from __future__ import annotations

import argparse
import warnings

import _bench  # before numpy: one BLAS thread
import numpy as np
import pandas as pd

import semlang
from semlang.results.scores import score_weights

HS = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""

BFI = """
agree =~ A1 + A2 + A3 + A4 + A5
consc =~ C1 + C2 + C3 + C4 + C5
extra =~ E1 + E2 + E3 + E4 + E5
neuro =~ N1 + N2 + N3 + N4 + N5
open  =~ O1 + O2 + O3 + O4 + O5
"""


def draw(fit, rows: int, seed: int, missing: float = 0.0) -> pd.DataFrame:
    """``rows`` rows from the fitted model's implied normal distribution."""
    moments = fit.implied[0]
    names = moments.layout.observed
    rng = np.random.default_rng(seed)
    mean = moments.mu if fit.table.meanstructure else fit.sample.groups[0].mean
    values = rng.multivariate_normal(mean, moments.sigma, size=rows)
    if missing:
        values[rng.random(values.shape) < missing] = np.nan
    return pd.DataFrame(values, columns=list(names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        hs = semlang.cfa(HS, semlang.datasets.load("HolzingerSwineford1939"))
        bfi = semlang.cfa(BFI, semlang.datasets.load("bfi"), missing="fiml")
    frame = draw(hs, args.rows, seed=1)
    x = frame.to_numpy()
    print(f"rows {args.rows}")
    for method in ("regression", "bartlett"):
        seconds = _bench.median_seconds(
            lambda m=method: hs.predict(data=frame, method=m), args.reps
        )
        print(f"hs_cfa predict(data=...) {method:<10} {seconds:.3f} s")
        weights = score_weights(hs, method)[0]
        seconds = _bench.median_seconds(lambda w=weights: w.apply(x), args.reps)
        print(f"hs_cfa b + A x           {method:<10} {seconds:.3f} s")
    incomplete = draw(bfi, args.rows, seed=2, missing=0.02)
    for method in ("regression", "bartlett"):
        seconds = _bench.median_seconds(
            lambda m=method: bfi.predict(data=incomplete, method=m), max(1, args.reps // 2)
        )
        print(f"bfi FIML (2% missing) predict {method:<10} {seconds:.3f} s")


if __name__ == "__main__":
    main()
