"""Times every continuous-data estimator, test and standard-error type beside lavaan.

For each case of ``tests/reference/estimators/`` that lavaan fitted from a shipped data file as
it is (the cases with prepared data are left out): semlang's seconds per fit of the compiled
model under the case's fit options (estimation, standard errors, every test and fit measure) and
lavaan's for the same work (the fit, ``parameterEstimates()`` and ``fitMeasures()``, in one R
process kept running, ``lavaan_server.R``; when ``Rscript`` is on PATH). The two sides alternate
case by case and round by round — a block of ``--reps`` fits of one, then of the other, who goes
first alternating — so that both meet the same load; each block gives its median, a side's
figure is the median of its blocks and the ratio the median of the rounds' ratios (lavaan's
block / semlang's block next to it). Then WLS (ADF) on 30 variables: 465 moments and a 465 x 465
weight matrix. The last lines: the range of the ratios and the cases below ``--goal``.

    python benchmarks/estimators.py [--reps 5] [--rounds 5] [--no-peers] [--match MLM]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import _bench  # before numpy: one BLAS thread
import peers

# A process that has fitted a few models computes RMSEA intervals with scipy's compiled CDF
# (semlang.results.measures); imported here so that its one-time import does not fall into
# one case's timed block.
import scipy.special  # noqa: F401

import semlang
from semlang.options import FIT_OPTION_NAMES, Estimator

ESTIMATORS = _bench.REFERENCE / "estimators"
ADF_MODEL = "\n".join(
    f"f{k} =~ " + " + ".join(f"y{10 * (k - 1) + i}" for i in range(1, 11)) for k in (1, 2, 3)
)


def _options(case: dict) -> tuple[dict, dict]:
    """(model options, fit options) of a case, lavaan's names in snake_case."""
    model, fit = {}, {}
    for key, value in (case.get("options") or {}).items():
        name = key.replace(".", "_")
        (fit if name in FIT_OPTION_NAMES else model)[name] = value
    if "fixed_x" not in model and not Estimator(str(fit.get("estimator", "ML"))).is_likelihood:
        model["fixed_x"] = False  # lavaan's default for the least-squares estimators
    return model, fit


def cases(match: str | None) -> list[Path]:
    out = []
    for path in sorted(ESTIMATORS.glob("*.json")):
        case = json.loads(path.read_text())
        if "estimates" not in case or case.get("prep") or "bollen" in path.stem:
            continue
        if match and not any(part and part in path.stem for part in match.split(",")):
            continue
        out.append(path)
    return out


def semlang_action(case: dict):
    """One fit of the compiled model under the case's fit options, with estimates() and
    fit_measures() (the compiled model made once, outside)."""
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    model_options, fit_options = _options(case)
    labels = None
    if model_options.get("group"):
        labels = tuple(str(v) for v in data[model_options["group"]].dropna().unique())
    compiled = semlang.compile_model(case["model"], case["fun"], group_labels=labels,
                                     **model_options)  # fmt: skip

    def fit_with_results() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = semlang.fit(compiled, data, **fit_options)
            fit.estimates()
            fit.fit_measures()

    return fit_with_results


@dataclass
class Timing:
    """Per round (semlang's block, then lavaan's, or the other way round): medians per fit."""

    ours: list[float] = field(default_factory=list)
    theirs: list[float] = field(default_factory=list)

    def ratio(self) -> float | None:
        """The median over the rounds of lavaan's time / semlang's in the same round."""
        pairs = [t / o for o, t in zip(self.ours, self.theirs, strict=False) if t]
        return statistics.median(pairs) if pairs else None


def time_case(path: Path, case: dict, lavaan, rounds: int, reps: int) -> Timing:
    """Alternate semlang's and lavaan's blocks of ``reps`` fits, ``rounds`` times."""
    action = semlang_action(case)
    action()  # untimed: first-use imports
    timing = Timing()
    for number in range(rounds):
        ours_first = number % 2 == 0  # who goes first alternates

        def lavaan_block() -> None:
            if lavaan is not None:
                timing.theirs.append(lavaan.seconds(path, reps, with_results=True))

        if not ours_first:
            lavaan_block()
        timing.ours.append(_bench.median_seconds(action, reps))
        if ours_first:
            lavaan_block()
    return timing


def adf_case() -> dict:
    return {"name": "adf_p30", "fun": "cfa", "data": "large_cfa_p100.csv", "model": ADF_MODEL,
            "options": {"estimator": "WLS"}}  # fmt: skip


def _row(name: str, timing: Timing) -> tuple[str, float | None]:
    ours = statistics.median(timing.ours)
    theirs = [t for t in timing.theirs if t]
    ratio = timing.ratio()
    lavaan = f"{statistics.median(theirs):.4f}" if theirs else "-"
    shown = f"{ratio:.1f}" if ratio else "-"
    return f"| {name} | {ours:.4f} | {lavaan} | {shown} |", ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="fits per block")
    parser.add_argument("--rounds", type=int, default=5, help="alternating blocks per side")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--match", default=None, help="only cases whose name contains this "
                        "(or one of several, comma-separated)")  # fmt: skip
    parser.add_argument("--goal", type=float, default=5.0, help="list the cases below this ratio")
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.1f}; {args.rounds} rounds of {args.reps} fits")
    print("| case | semlang s | lavaan s | x lavaan |")
    print("| --- | ---: | ---: | ---: |")
    ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        lavaan = None if args.no_peers else stack.enter_context(peers.LavaanSession(_bench.DATA))
        adf = Path(tmp) / "adf_p30.json"
        adf.write_text(json.dumps(adf_case()))
        for path in [*cases(args.match), adf]:
            case = json.loads(path.read_text())
            try:
                timing = time_case(path, case, lavaan, args.rounds, args.reps)
            except semlang.SemlangError as error:
                print(f"| {case['name']} | {error.message} | - | - |", flush=True)
                continue
            row, ratio = _row(case["name"], timing)
            print(row, flush=True)
            if ratio:
                ratios[case["name"]] = ratio
    if ratios:
        values = sorted(ratios.values())
        below = sorted((r, name) for name, r in ratios.items() if r < args.goal)
        print(f"\n{len(values)} cases: {values[0]:.1f}x to {values[-1]:.1f}x "
              f"(median {statistics.median(values):.1f}x); {len(values) - len(below)} at or "
              f"above {args.goal:g}x; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        for ratio, name in below:
            print(f"below: {name} {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
