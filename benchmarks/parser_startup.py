"""The parser's share of a fresh process: importing the parser and reading the first model, with
the LALR driver running the prebuilt tables (what semlang does) beside Lark loading the same
grammar's serialized parser (what it did before; Lark's own cache of the built parser, made by an
untimed first run) and parsing the same text into the same syntax tree.

Each side runs ``--reps`` times in a new process, alternating; printed: the median CPU
milliseconds of each (measured inside the process, from before the imports to the syntax tree),
whether Lark was imported, and the ratio Lark / driver. The modules both sides use (semlang's
errors and syntax-tree nodes) are imported before the clock starts. The goal behind it: the first
``semlang.cfa()`` of a fresh interpreter in 0.5 s (``benchmarks/startup.py``), of which
semlang's own start-up is a small part once pandas is imported.

    python benchmarks/parser_startup.py [--reps 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from startup import HS_MODEL, environment

_CLOCK = (
    "import resource, sys\n"
    "import semlang.errors, semlang.syntax.ast, semlang.syntax.modifiers  # both sides use them\n"
    "def cpu():\n"
    "    r = resource.getrusage(resource.RUSAGE_SELF)\n"
    "    return r.ru_utime + r.ru_stime\n"
    "start = cpu()\n"
)
DRIVER = (
    _CLOCK + "from semlang.syntax.parser import parse\n"
    "tree = parse(MODEL)\n"
    "print(cpu() - start, 'lark' in sys.modules)\n"
)
LARK = (
    _CLOCK + "import lark\n"
    "from semlang.errors import Source\n"
    "from semlang.syntax import parser\n"
    "from semlang.syntax.transformer import to_ast\n"
    "made = lark.Lark(parser.grammar_text(), postlex=parser._ContinuationLines(),\n"
    "                 propagate_positions=True, cache=CACHE, **parser._OPTIONS)\n"
    "tree = to_ast(made.parse(MODEL), Source(MODEL, '<model>'))\n"
    "print(cpu() - start, 'lark' in sys.modules)\n"
)


def run(code: str, cache: Path) -> tuple[float, bool]:
    """(CPU seconds, whether lark was imported) of one fresh process running ``code``."""
    program = f"MODEL = {HS_MODEL!r}\nCACHE = {str(cache)!r}\n{code}"
    done = subprocess.run(  # (compiled bytecode, as an installed package has it)
        [sys.executable, "-c", program],
        env=environment(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds, imported = done.stdout.split()
    return float(seconds), imported == "True"


def main(argv: list[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--reps", type=int, default=15)
    args = options.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "lark.cache"
        run(DRIVER, cache), run(LARK, cache)  # bytecode, Lark's cache, the file cache
        times: dict[str, list[float]] = {"driver": [], "lark": []}
        imports = {}
        for _ in range(args.reps):
            for name, code in (("driver", DRIVER), ("lark", LARK)):
                seconds, imports[name] = run(code, cache)
                times[name].append(seconds)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(f"{'parser':8s} {'CPU ms (median)':>16s} {'min':>7s}  lark imported")
    for name, values in times.items():
        median, low = statistics.median(values) * 1e3, min(values) * 1e3
        print(f"{name:8s} {median:16.1f} {low:7.1f}  {imports[name]}")
    ratio = statistics.median(times["lark"]) / statistics.median(times["driver"])
    print(f"\nLark / driver: {ratio:.1f}x (import the parser and read the first model)")


if __name__ == "__main__":
    main()
