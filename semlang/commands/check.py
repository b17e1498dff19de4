"""``semlang check MODEL``: is the model well formed, and how many degrees of freedom has it?

Input: a model file and the model options (``--ngroups K`` for a multi-group model, since no data
say how many groups there are). Output: the parameter table with lavaan's defaults applied, the
structural checks of :func:`semlang.graph.check`, and the degrees of freedom that need no data:
the sample moments (per group p(p+1)/2 variances and covariances, plus p means with a mean
structure; fixed exogenous covariates excluded; in a two-level model the within level has no
means) minus the free parameters (a shared label is one parameter; each ``==`` constraint takes
one away). Exit status 2 on an error in the model and when the degrees of freedom are negative.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from semlang.commands import EXIT_OK, EXIT_USER_ERROR, Command
from semlang.commands._common import (
    add_kind_flags,
    add_model_argument,
    add_model_options,
    columns_chunks,
    parameter_table,
)
from semlang.records import dataclass


@dataclass(frozen=True)
class DegreesOfFreedom:
    moments: int
    parameters: int

    @property
    def df(self) -> int:
        return self.moments - self.parameters


def degrees_of_freedom(table) -> DegreesOfFreedom:
    """Sample moments and free parameters of a parameter table (no data needed), counted as the
    fit counts them (:mod:`semlang.estimate.families`)."""
    from semlang.estimate.families import free_parameter_count, moments_count

    return DegreesOfFreedom(moments_count(table), free_parameter_count(table))


def configure(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    add_kind_flags(parser)
    add_model_options(parser)
    parser.add_argument(
        "--ngroups", type=int, default=1, metavar="K", help="number of groups (default 1)"
    )


def structural_checks(table) -> list[str]:
    from semlang import graph

    return list(graph.check(table))


def report(table) -> tuple[str, DegreesOfFreedom]:
    """The text ``check`` prints for ``table``."""
    counts = degrees_of_freedom(table)
    return "".join(report_chunks(table, counts)), counts


def report_chunks(table, counts: DegreesOfFreedom) -> Iterator[str]:
    """The text of :func:`report` in pieces, made as they are written (a table of hundreds of
    thousands of rows is printed without its whole text in memory)."""
    groups = f"{table.ngroups} group{'s' if table.ngroups != 1 else ''}"
    levels = f", {table.nlevels} levels" if table.nlevels > 1 else ""
    kind = table.options.model_type.value
    yield f"Parameter table ({kind}, {groups}{levels}):\n\n"
    yield from columns_chunks(table.to_columns())
    problems = structural_checks(table)
    lines = ["Structural checks: " + ("passed" if not problems else "")]
    lines += [f"  - {problem}" for problem in problems]
    lines += [
        "",
        f"  Sample moments                {counts.moments:>8}",
        f"  Free parameters               {counts.parameters:>8}",
        f"  Degrees of freedom            {counts.df:>8}",
    ]
    yield "\n" + "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    if args.ngroups < 1:
        print(f"error: --ngroups must be at least 1, not {args.ngroups}", file=sys.stderr)
        return EXIT_USER_ERROR
    table = parameter_table(args, ngroups=args.ngroups)
    if table.definitions or table.constraints:  # bounds that contradict, defined values at 0
        from semlang.compile.parameters import build_parameter_space

        build_parameter_space(table)
    counts = degrees_of_freedom(table)
    for chunk in report_chunks(table, counts):
        sys.stdout.write(chunk)
    if counts.df < 0:
        print(
            f"error: the model has {counts.parameters} free parameters but only "
            f"{counts.moments} sample moments (df = {counts.df} < 0): it is not identified\n"
            "hint: fix or equate parameters (e.g. scale each latent variable) until df >= 0",
            file=sys.stderr,
        )
        return EXIT_USER_ERROR
    return EXIT_OK


COMMANDS = (
    Command(
        path=("check",),
        help="check a model and count its degrees of freedom (no data needed)",
        description=(
            "Parse a model, apply the defaults, print the parameter table, the structural\n"
            "checks and the degrees of freedom (sample moments minus free parameters)."
        ),
        configure=configure,
        run=run,
        order=2,
    ),
)
