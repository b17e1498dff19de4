"""``semlang fit MODEL DATA``: fit a model to a CSV file and print the results.

Input: a model file, a data file (CSV with a header line) and lavaan's options as flags. Output
on stdout: the lavaan-style summary (``--format text``, the default), or the estimates and fit
measures as JSON (``--format json``: ``{"estimates": [...], "fit_measures": {...}}``), or the
estimates table as CSV (``--format csv``; with ``--fit-measures`` the fit measures as a
``measure,value`` table instead). Exit status 1 when the optimizer did not converge.
"""

from __future__ import annotations

import argparse
import sys

from semlang.commands import EXIT_NOT_CONVERGED, EXIT_OK, Command
from semlang.commands._common import (
    add_fit_options,
    add_kind_flags,
    add_model_argument,
    add_model_options,
    options_of,
    read_model,
    relocated,
)
from semlang.commands._data import add_data_options, read_data
from semlang.errors import ModelError

FORMATS = ("text", "json", "csv")
DESCRIPTION = """\
Fit a model to a CSV file. Output: the lavaan-style summary (--format text), or the estimates
and fit measures as JSON (--format json), or the estimates table as CSV (--format csv; with
--fit-measures the fit measures instead). Exit status: 0 success, 1 the optimizer did not
converge (results are printed all the same), 2 a mistake in the model, the data or an option,
3 an internal error (a bug: please report it; --debug shows the traceback), 130/143 stopped by
Ctrl-C/SIGTERM."""


def configure(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument(
        "data",
        help="data file (CSV with the variable names in the first line; - for stdin), or a "
        "shipped data set: bigfive_agree.csv, HolzingerSwineford1939.csv, ...",
    )
    add_data_options(parser)
    add_kind_flags(parser)
    add_model_options(parser)
    add_fit_options(parser)
    parser.add_argument(
        "--standardized", action="store_true", help="add the Std.lv and Std.all columns"
    )
    parser.add_argument(
        "--fit-measures",
        action="store_true",
        help="text: add the fit-measure blocks; csv: print the fit measures instead of the "
        "estimates (json always has both)",
    )
    parser.add_argument(
        "--rsquare", action="store_true", help="text: add the R-Square block of each group"
    )
    parser.add_argument(
        "--modindices",
        action="store_true",
        help="text: print the modification indices after the summary",
    )
    parser.add_argument(
        "--minimum-value",
        type=float,
        default=0.0,
        metavar="MI",
        help="with --modindices: only the indices above MI (lavaan's minimum.value)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")


def fit_model(args: argparse.Namespace):
    """Fit the model file of ``args`` to its data file with the options given."""
    import semlang

    text = read_model(args.model)
    function = {"cfa": semlang.cfa, "sem": semlang.sem, "growth": semlang.growth}[args.kind]
    try:
        return function(text, read_data(args), **options_of(args))
    except ModelError as error:
        raise relocated(error, text, args.model) from None


def render(
    fit, output: str, standardized: bool = False, fit_measures: bool = False, rsquare: bool = False
) -> str:
    """The results of ``fit`` in one of :data:`FORMATS`."""
    if output in ("json", "csv"):
        from semlang.results import export

        if output == "json":
            return export.to_json(fit) + "\n"
        return export.fit_measures_csv(fit) if fit_measures else export.to_csv(fit)
    from semlang.results.summary import summary_text

    return summary_text(fit, standardized=standardized, fit_measures=fit_measures, rsquare=rsquare)


def modindices_block(fit, minimum_value: float) -> str:
    """The "Modification Indices:" block printed after the summary (``--modindices``)."""
    from semlang.results.modindices import modindices_text

    return "\n" + "\n".join(modindices_text(fit.modindices(minimum_value=minimum_value))) + "\n"


def run(args: argparse.Namespace) -> int:
    fit = fit_model(args)
    text = render(fit, args.format, args.standardized, args.fit_measures, args.rsquare)
    sys.stdout.write(text)
    if args.modindices and args.format == "text":
        sys.stdout.write(modindices_block(fit, args.minimum_value))
    sys.stdout.flush()
    return EXIT_OK if fit.converged else EXIT_NOT_CONVERGED


COMMANDS = (
    Command(
        path=("fit",),
        help="fit a model to a data file and print the results",
        description=DESCRIPTION,
        configure=configure,
        run=run,
        order=1,
    ),
)
