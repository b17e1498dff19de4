"""``semlang diagram MODEL -o model.svg``: draw the path diagram of a model.

Input: a model file, the model options and the output path. Output: the files
:func:`semlang.graph.render_diagram` writes — the Graphviz DOT source always, the picture (SVG,
PNG, ... by the suffix of ``-o``) when Graphviz's ``dot`` program is installed — one path a line
on stdout; a warning when only the DOT source could be written.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from semlang.commands import EXIT_OK, Command
from semlang.commands._common import (
    add_kind_flags,
    add_model_argument,
    add_model_options,
    parameter_table,
)
from semlang.errors import SemlangWarning


def configure(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="picture to write (.svg, .png, .pdf or .dot; default: the model's name with .svg)",
    )
    add_kind_flags(parser)
    add_model_options(parser)
    parser.add_argument("--ngroups", type=int, default=1, metavar="K", help="number of groups")


def run(args: argparse.Namespace) -> int:
    from semlang import graph

    target = Path(args.output) if args.output else Path(args.model).with_suffix(".svg")
    table = parameter_table(args, ngroups=max(args.ngroups, 1))
    written = [Path(p) for p in graph.render_diagram(table, target)]
    for path in written:
        print(path)
    if target.suffix.lower() != ".dot" and target not in written:
        dot = [str(p) for p in written if p.suffix == ".dot"]
        warnings.warn(
            f"could not write {str(target)!r} (is Graphviz's 'dot' program installed?); "
            f"wrote the DOT source {', '.join(dot) or 'only'} instead",
            SemlangWarning,
            stacklevel=1,
        )
    sys.stdout.flush()
    return EXIT_OK


COMMANDS = (
    Command(
        path=("diagram",),
        help="draw the path diagram of a model (DOT, and SVG/PNG with Graphviz)",
        configure=configure,
        run=run,
        order=4,
    ),
)
