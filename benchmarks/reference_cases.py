"""Times semlang on every reference case, and lavaan and semopy beside it when they are installed.

For each case: the compile time (parse, parameter table, compile) and the median time per fit of
the compiled model (estimation, standard errors and fit measures — what lavaan's own timing
includes), over ``--reps`` fits. With R + lavaan (``Rscript`` on PATH) and semopy (the Python in
SEMOPY_PYTHON), their median seconds per fit are measured in the same run and the ratios printed.
Also: one compiled micro-macro SEM fitted to 100 simulated data sets.

    python benchmarks/reference_cases.py [--reps 20] [--no-peers] [--cases hs_cfa poldem_sem]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import _bench  # before numpy: one BLAS thread

import semlang
from semlang.micromacro.generate import generate_micro_macro
from semlang.options import FIT_OPTION_NAMES

HERE = Path(__file__).resolve().parent


def case_names() -> list[str]:
    return sorted(
        p.stem for p in _bench.REFERENCE.glob("*.json") if "estimates" in _bench.load_case(p.stem)
    )


def _options(case: dict) -> tuple[dict, dict]:
    """(model options, fit options) of a case, lavaan's names in snake_case."""
    model, fit = {}, {}
    for key, value in (case.get("options") or {}).items():
        name = key.replace(".", "_")
        (fit if name in FIT_OPTION_NAMES else model)[name] = value
    return model, fit


def time_case(name: str, reps: int) -> tuple[float, float]:
    """(compile seconds, median seconds per fit) of one case."""
    case = _bench.load_case(name)
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    options, fit_options = _options(case)
    labels = None
    if options.get("group"):
        labels = tuple(str(v) for v in data[options["group"]].dropna().unique())
    start = time.perf_counter()
    compiled = semlang.compile_model(case["model"], case["fun"], group_labels=labels, **options)
    compile_seconds = time.perf_counter() - start

    def fit_with_results() -> None:
        fit = semlang.fit(compiled, data, **fit_options)
        fit.estimates()
        fit.fit_measures()

    return compile_seconds, _bench.median_seconds(fit_with_results, reps)


def micro_macro_hundred() -> float:
    """Seconds to fit one compiled micro-macro SEM to 100 simulated data sets."""
    items = [f"x{k}" for k in range(1, 11)]
    model = (
        "xi =~ " + " + ".join(f"1*{x}" for x in items) + "\n"
        + "\n".join(f"{x} ~~ v*{x}" for x in items) + "\ny ~ xi + Z\nxi ~~ Z\n"
    )  # fmt: skip
    data = [generate_micro_macro(seed=k).wide for k in range(100)]
    compiled = semlang.compile_model(model, "sem")
    start = time.perf_counter()
    for frame in data:
        semlang.fit(compiled, frame).estimates()
    return time.perf_counter() - start


def _peers(name: str, reps: int, use: bool) -> tuple[float | None, float | None]:
    if not use:
        return None, None
    try:
        sys.path.insert(0, str(HERE))
        import peers
    except ImportError:
        return None, None
    path = _bench.REFERENCE / f"{name}.json"
    lavaan = peers.lavaan_seconds(path, _bench.DATA, reps=5, timeout=600)
    return lavaan, peers.semopy_seconds(path, _bench.DATA, reps=3, timeout=120)


def _show(value: float | None, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if value is not None else "-"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--cases", nargs="*", default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    header = (
        f"{'case':22s} {'compile s':>10s} {'fit s':>9s} {'lavaan s':>9s} {'lavaan/us':>9s} "
        f"{'semopy s':>9s} {'semopy/us':>9s}"
    )
    print(header)
    print("-" * len(header))
    names = args.cases or case_names()
    ours = {name: time_case(name, args.reps) for name in names}  # all of semlang's first
    for name in names:
        compile_seconds, fit_seconds = ours[name]
        lavaan, semopy = _peers(name, args.reps, not args.no_peers)
        ratio_l = lavaan / fit_seconds if lavaan else None
        ratio_s = semopy / fit_seconds if semopy else None
        print(
            f"{name:22s} {compile_seconds:10.4f} {fit_seconds:9.4f} {_show(lavaan):>9s} "
            f"{_show(ratio_l, 1):>9s} {_show(semopy):>9s} {_show(ratio_s, 1):>9s}"
        )
    print(f"\nmicro-macro SEM, one compiled model, 100 data sets: {micro_macro_hundred():.3f} s")


if __name__ == "__main__":
    main()
