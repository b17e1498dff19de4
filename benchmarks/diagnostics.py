"""Times modification indices (``fit.modindices()``) beside lavaan's ``modindices()``.

For the Holzinger-Swineford CFA and the 100-indicator CFA: the median seconds of
``fit.modindices()`` on a fitted model (the fit itself excluded) over ``--reps`` runs, and with R
and lavaan lavaan's median seconds of ``modindices(fit)`` in the same run
(``benchmarks/lavaan_modindices_seconds.R``, timed inside R; one call on the 100-indicator CFA,
where it takes minutes) and the ratio lavaan / semlang.

    python benchmarks/diagnostics.py [--reps 5] [--no-peers]
"""

from __future__ import annotations

import argparse
import shutil
import warnings

import _bench  # before numpy: one BLAS thread
from peers import HERE, _run_and_parse

import semlang

CASES = ("hs_cfa", "large_cfa_p100")
LAVAAN_REPS = {"large_cfa_p100": 1}  # lavaan's modindices() takes minutes there
LAVAAN_SCRIPT = HERE / "lavaan_modindices_seconds.R"


def semlang_seconds(name: str, reps: int) -> tuple[float, int]:
    """(median seconds of fit.modindices(), number of rows)."""
    case = _bench.load_case(name)
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    options = {key.replace(".", "_"): value for key, value in (case["options"] or {}).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = getattr(semlang, case["fun"])(case["model"], data, **options)
    rows = len(fit.modindices())
    return _bench.median_seconds(fit.modindices, reps), rows


def lavaan_seconds(name: str, reps: int) -> float | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    case_json = _bench.REFERENCE / f"{name}.json"
    return _run_and_parse([rscript, str(LAVAAN_SCRIPT), str(case_json), str(_bench.DATA),
                           str(reps)], timeout=None)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args()
    print("| case | rows | semlang s | lavaan s | lavaan / semlang |")
    print("|---|---|---|---|---|")
    for name in CASES:
        ours, rows = semlang_seconds(name, args.reps)
        reps = LAVAAN_REPS.get(name, args.reps)
        theirs = None if args.no_peers else lavaan_seconds(name, reps)
        ratio = f"{theirs / ours:.1f}" if theirs else "-"
        shown = f"{theirs:.4f}" if theirs else "-"
        print(f"| {name} | {rows} | {ours:.4f} | {shown} | {ratio} |")


if __name__ == "__main__":
    main()
