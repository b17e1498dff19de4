"""Times two-level fits (``cluster=``) of the two-level reference cases, lavaan beside them.

For each case: the median seconds of a whole ``semlang.sem(model, long_data, cluster=...)`` call
with its estimates and fit measures (parse, compile, the data's cluster statistics, the
unrestricted EM, estimation, standard errors, baseline model — what lavaan's own timing
includes), and of a fit of the compiled model alone, over ``--reps`` runs. With the peers module
(``benchmarks/peers.py``) and R + lavaan, lavaan's median seconds in the same run and the ratio
semlang / lavaan; otherwise the lavaan time stored in the reference file (another machine).

    python benchmarks/twolevel.py [--reps 20] [--no-peers]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import warnings
from pathlib import Path

import _bench  # before numpy: one BLAS thread

import semlang

HERE = Path(__file__).resolve().parent
CASES = ("twolevel_demo", "micro_macro_twolevel")


def time_case(name: str, reps: int) -> tuple[float, float]:
    """(median seconds of a whole sem() call with results, of a fit of the compiled model)."""
    case = _bench.load_case(name)
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    options = case["options"]

    def whole() -> None:
        fit = semlang.sem(case["model"], data, **options)
        fit.estimates()
        fit.fit_measures()

    compiled = semlang.compile_model(case["model"], case["fun"], **options)

    def compiled_fit() -> None:
        fit = semlang.fit(compiled, data)
        fit.estimates()
        fit.fit_measures()

    whole()  # warm up (imports, caches)
    return _bench.median_seconds(whole, reps), _bench.median_seconds(compiled_fit, reps)


def lavaan_seconds(name: str, use_peers: bool) -> tuple[float | None, str]:
    """lavaan's median seconds per fit and where the number comes from."""
    if use_peers and shutil.which("Rscript"):
        sys.path.insert(0, str(HERE))
        try:
            import peers
        except ImportError:
            peers = None
        if peers is not None:
            return float(
                peers.lavaan_seconds(_bench.REFERENCE / f"{name}.json", _bench.DATA)
            ), "this run"
    return _bench.load_case(name).get("lavaan_seconds_median"), "reference file (other machine)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    columns = ("sem() s", "fit s", "lavaan s", "us/lavaan")
    header = f"{'case':22s} " + " ".join(f"{c:>9s}" for c in columns) + "  source"
    print(header)
    print("-" * len(header))
    for name in CASES:
        whole, compiled = time_case(name, args.reps)
        lavaan, source = lavaan_seconds(name, not args.no_peers)
        ratio = f"{whole / lavaan:9.3f}" if lavaan else f"{'-':>9s}"
        shown = f"{lavaan:9.3f}" if lavaan else f"{'-':>9s}"
        print(f"{name:22s} {whole:9.4f} {compiled:9.4f} {shown} {ratio}  {source}")


if __name__ == "__main__":
    main()
