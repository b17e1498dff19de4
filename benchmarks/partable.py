"""How the parameter table scales: semlang beside lavaan's ``lavaanify`` on large CFAs.

Input: numbers of factors (default 100, 500, 1000), each measured by 5 indicators, the factors
correlated (``sem()``'s defaults: 1000 factors give 510,500 rows, nearly all factor
covariances). Output: a Markdown table per size: the table's rows, semlang's seconds for
``semlang.parameter_table`` (median of ``--reps``, in this process, the first call's imports
excluded), lavaan's seconds for ``lavaanify(model, auto = TRUE)`` on the same text (Rscript, R
start-up excluded, when ``Rscript`` is on PATH), semlang's time over lavaan's, and the whole
``semlang check`` process (seconds and peak memory, start-up and the printed table included).

Usage: ``python benchmarks/partable.py [--factors 100 500 1000] [--reps 3] [--no-check]``
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bench import ROOT, median_seconds

HERE = Path(__file__).resolve().parent
_LAVAAN = re.compile(r"lavaanify_seconds_median\s+([0-9.]+)\s+rows\s+(\d+)")


def model_text(factors: int, indicators: int = 5) -> str:
    """``f1 =~ x1_1 + ... + x1_5`` and so on, one line per factor."""
    lines = [
        f"f{i} =~ " + " + ".join(f"x{i}_{j}" for j in range(1, indicators + 1))
        for i in range(1, factors + 1)
    ]
    return "\n".join(lines) + "\n"


def lavaan_seconds(path: Path, reps: int) -> tuple[float, int] | None:
    """lavaanify's median seconds and rows for the model file, or None without R."""
    if shutil.which("Rscript") is None:
        return None
    cmd = ["Rscript", str(HERE / "lavaanify_seconds.R"), str(path), str(reps)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    found = _LAVAAN.search(proc.stdout)
    return (float(found.group(1)), int(found.group(2))) if found else None


_CHECK = """
import sys
sys.path.insert(0, sys.argv[2])
from _bench import own_peak_mb
from semlang.cli import main
try:
    main(["check", sys.argv[1]])
except SystemExit:
    pass
print("peak_mb", own_peak_mb(), file=sys.stderr)
"""


def check_process(path: Path) -> tuple[float, float]:
    """Seconds and peak resident megabytes of ``semlang check MODEL`` as its own process."""
    cmd = [sys.executable, "-c", _CHECK, str(path), str(HERE)]
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False, cwd=ROOT
    )
    seconds = time.perf_counter() - start
    return seconds, float(proc.stderr.split("peak_mb")[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-check", action="store_true", help="skip the 'semlang check' runs")
    args = parser.parse_args(argv)

    import semlang

    semlang.parameter_table("f =~ x1 + x2 + x3")  # imports and the parser, once
    print("| factors | rows | semlang s | lavaanify s | semlang / lavaan | check s | check MB |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for factors in sorted(args.factors):
            text = model_text(factors)
            path = Path(tmp) / f"cfa{factors}.sem"
            path.write_text(text)
            rows = len(semlang.parameter_table(text).rows)
            ours = median_seconds(lambda t=text: semlang.parameter_table(t), args.reps)
            peer = lavaan_seconds(path, args.reps)
            theirs = f"{peer[0]:.3f}" if peer else "-"
            ratio = f"{ours / peer[0]:.2f}" if peer and peer[0] > 0 else "-"
            if peer and peer[1] != rows:
                ratio += f" (lavaan: {peer[1]} rows)"
            check = ("-", "-") if args.no_check else check_process(path)
            shown = [f"{v:.2f}" if isinstance(v, float) else v for v in check]
            print(
                f"| {factors} | {rows} | {ours:.3f} | {theirs} | {ratio} | "
                + " | ".join(shown)
                + " |"
            )


if __name__ == "__main__":
    main()
