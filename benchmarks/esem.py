"""Exploratory SEM and composites beside lavaan: the cases of tests/reference/esem/.

Each case is fitted as lavaan fitted it (`cfa()`/`sem()` of the model string with the case's
options: efa blocks with their rotation, groups, MLR/MLM/ULS, `<~` composites), with
`estimates()` and `fit_measures()` on semlang's side and `parameterEstimates()` and
`fitMeasures()` on lavaan's (one R process, `lavaan_server.R`). The two sides alternate block by
block for `--rounds` rounds; the ratio is the median over the rounds of lavaan's block over
semlang's next to it. Printed: the table and the lowest ratio against the goal of 5.

    python benchmarks/esem.py [--reps 5] [--rounds 3] [--match hs_geomin]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import warnings

import _bench  # before numpy: one BLAS thread
import peers

import semlang

CASES = _bench.REFERENCE / "esem"
GOAL = 5.0


def semlang_action(case: dict):
    """One fit of the case from its model string, with estimates() and fit_measures()."""
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    options = {k.replace(".", "_"): v for k, v in (case.get("options") or {}).items()}
    function = getattr(semlang, case["fun"])

    def fit_with_results() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = function(case["model"], data, **options)
            fit.estimates()
            fit.fit_measures()

    return fit_with_results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="fits per block")
    parser.add_argument("--rounds", type=int, default=3, help="alternating blocks per side")
    parser.add_argument("--match", default=None, help="only cases whose name contains this")
    args = parser.parse_args(argv)
    paths = [
        p
        for p in sorted(CASES.glob("*.json"))
        if "error" not in p.stem and (args.match is None or args.match in p.stem)
    ]
    print("| case | semlang s | lavaan s | lavaan / semlang |")
    print("|---|---:|---:|---:|")
    ratios = {}
    with peers.LavaanSession(_bench.DATA) as lavaan:
        for path in paths:
            case = json.loads(path.read_text())
            action = semlang_action(case)
            action()  # untimed: first-use imports
            ours, theirs, pairs = [], [], []
            for number in range(args.rounds):
                lavaan_first = number % 2 == 1  # who goes first alternates
                other = lavaan.seconds(path, args.reps) if lavaan_first else None
                mine = _bench.median_seconds(action, args.reps)
                if not lavaan_first:
                    other = lavaan.seconds(path, args.reps)
                ours.append(mine)
                if other:
                    theirs.append(other)
                    pairs.append(other / mine)
            ratio = statistics.median(pairs) if pairs else None
            shown = f"{statistics.median(theirs):.3f} | {ratio:.1f}" if ratio else "- | -"
            print(f"| {path.stem} | {statistics.median(ours):.3f} | {shown} |", flush=True)
            if ratio:
                ratios[path.stem] = ratio
    if ratios:
        name = min(ratios, key=ratios.__getitem__)
        print(f"\nlowest lavaan / semlang: {ratios[name]:.1f} ({name}); goal: {GOAL:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
