"""``semlang diagram MODEL [--data DATA.csv [--what est|std|none]] -o model.svg``: a path diagram.

Input: a model file and the model options; with ``--data`` also a data file and the fit options
(the model is fitted and its estimates, ``--what est``, or standardized estimates, ``--what
std``, are drawn on the arrows). Output: the picture ``-o`` names (default: the model's name with
``.svg``) — SVG (by Graphviz's ``dot`` program when installed, else by semlang's own layout),
PNG or PDF (these need Graphviz) or the DOT source (``.dot``) — and its path on stdout. Nothing
else is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from semlang.commands import EXIT_NOT_CONVERGED, EXIT_OK, Command, UsageError
from semlang.commands._common import (
    add_fit_options,
    add_kind_flags,
    add_model_argument,
    add_model_options,
    parameter_table,
)
from semlang.commands._data import add_data_options


def configure(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="picture to write (.svg, .png, .pdf or .dot; default: the model's name with .svg)",
    )
    parser.add_argument(
        "--data", metavar="DATA", help="fit the model to this CSV file (- for stdin) and draw it"
    )
    parser.add_argument(
        "--what",
        choices=("est", "std", "none"),
        help="with --data: estimates (est, the default), standardized estimates (std) or the "
        "model's labels and fixed values (none)",
    )
    add_data_options(parser)
    add_kind_flags(parser)
    add_model_options(parser)
    add_fit_options(parser)
    parser.add_argument("--ngroups", type=int, default=1, metavar="K", help="number of groups")


def run(args: argparse.Namespace) -> int:
    from semlang import diagram

    target = Path(args.output) if args.output else Path(args.model).with_suffix(".svg")
    diagram.check_format(target)
    status = EXIT_OK
    if args.data is None:
        if args.what not in (None, "none"):
            raise UsageError(
                f"--what {args.what} needs the estimates: give the data with --data DATA.csv"
            )
        picture = diagram.from_table(parameter_table(args, ngroups=max(args.ngroups, 1)))
    else:
        from semlang.commands.fit import fit_model

        fit = fit_model(args)
        picture = diagram.from_fit(fit, args.what or "est")
        status = EXIT_OK if fit.converged else EXIT_NOT_CONVERGED
    print(picture.save(target))
    sys.stdout.flush()
    return status


COMMANDS = (
    Command(
        path=("diagram",),
        help="draw the path diagram of a model, or of a fit with its estimates (SVG, PNG, DOT)",
        configure=configure,
        run=run,
        order=4,
    ),
)
