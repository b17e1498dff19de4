"""Times ``fit.standardized_solution()`` (std.all with delta-method standard errors) on every
``tests/reference/diagnostics/standardized_*.json`` case beside lavaan's ``standardizedSolution()``
on the same fit (the median recorded in the reference file). The goal: at least 10x faster.

The fit is made once, before; like lavaan's call, each timed call standardizes the estimates,
builds the Jacobian of the standardized values and multiplies it into the covariance matrix of
the estimates (which lavaan also keeps with the fit).

    python benchmarks/diagnostics_standardized.py [--reps 50]
"""

from __future__ import annotations

import argparse
import json
import warnings

import _bench  # before numpy: one BLAS thread
import numpy as np

import semlang

CASES = sorted((_bench.REFERENCE / "diagnostics").glob("standardized_*.json"))


def case_fit(case: dict):
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    if case.get("prep") == "hs_holes":
        i = np.arange(1, len(data) + 1)
        data = data.copy()
        data.loc[i % 7 == 0, "x1"] = np.nan
        data.loc[i % 9 == 2, "x4"] = np.nan
        data.loc[i % 11 == 4, "x8"] = np.nan
        data.loc[(i % 13 == 1) & (i % 2 == 1), "x3"] = np.nan
    options = {k.replace(".", "_"): v for k, v in (case["options"] or {}).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        fit = getattr(semlang, case["fun"])(case["model"], data, **options)
    fit.vcov  # noqa: B018 - the covariance of the estimates is made with the fit, as in lavaan
    return fit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=50)
    args = parser.parse_args()
    print(f"{'case':<18} {'semlang ms':>11} {'lavaan ms':>10} {'ratio':>7}")
    for path in CASES:
        case = json.loads(path.read_text())
        fit = case_fit(case)
        ours = _bench.median_seconds(lambda f=fit: f.standardized_solution(), args.reps)
        lavaan = case["lavaan_standardized_solution_seconds_median"]
        print(f"{case['name']:<18} {ours * 1e3:>11.2f} {lavaan * 1e3:>10.1f} {lavaan / ours:>7.1f}")


if __name__ == "__main__":
    main()
