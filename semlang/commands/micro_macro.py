"""``semlang micro-macro DATA``: a group-level outcome regressed on individual-level x, every way.

Input: long data (CSV, one row per group member) and the columns: ``--group``, ``--x`` (one or
more, comma-separated), ``--z`` (group-level covariates, optional) and ``--y`` (the group-level
outcome). Output on stdout: the coefficients of every method side by side with their standard
errors and the text of the full micro-macro SEM (``--format text``), or the same as JSON
(``--format json``: ``{"groups", "members", "coefficients": [...], "model": ...}``). Exit status 1
when a fitted model did not converge or has a negative variance (results are printed all the
same).
"""

from __future__ import annotations

import argparse
import json
import sys

from semlang.commands import EXIT_NOT_CONVERGED, EXIT_OK, Command
from semlang.commands._common import comma_list

FORMATS = ("text", "json")
SE_CHOICES = {"standard": "se", "HC0": "se_hc0", "HC3": "se_hc3"}
DESCRIPTION = """\
Regress a group-level outcome y on the aggregate of individual-level x and on group-level
covariates Z with every micro-macro method: Unadjusted (OLS on group means), BLUP_mixed,
BLUP_mixed_hetvar and Factor Score (OLS on the factor scores of a random-intercept, a
heterogeneous-variance and a one-factor model), CV Adj (Croon & van Veldhoven's adjusted means)
and SEM (the full micro-macro SEM; unbalanced groups by FIML). Two-step methods show OLS standard
errors (--se HC0 or HC3 for White's), the SEM its ML standard errors.

example:
  semlang micro-macro teams.csv --group team --x x --z Z --y y"""


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("data", help="long data: CSV with one row per group member")
    add("--group", required=True, metavar="COLUMN", help="group id column")
    add(
        "--x",
        required=True,
        type=comma_list,
        metavar="COLUMNS",
        help="individual-level column(s), comma-separated",
    )
    add(
        "--z",
        type=comma_list,
        default=(),
        metavar="COLUMNS",
        help="group-level covariate column(s), comma-separated (constant within groups)",
    )
    add("--y", required=True, metavar="COLUMN", help="group-level outcome (constant within groups)")
    add(
        "--methods",
        type=comma_list,
        metavar="NAMES",
        help="methods to run, comma-separated (default: all but True)",
    )
    add(
        "--se",
        choices=tuple(SE_CHOICES),
        default="standard",
        help="standard errors of the two-step methods in the text table (default: standard)",
    )
    add("--format", choices=FORMATS, default="text", help="output format")


def _number(value: float, width: int = 9) -> str:
    return f"{value:{width}.3f}" if value == value else " " * (width - 1) + "-"


def render_text(result, se: str = "se") -> str:
    """The side-by-side table, notes on inadmissible fits and the SEM's model text."""
    table = result.table(se)
    data = result.data
    methods = list(dict.fromkeys(name for name, _ in table.columns))
    width = max(18, *(len(m) + 2 for m in methods))
    term_width = max(10, *(len(str(t)) + 2 for t in table.index))
    sizes = data.sizes
    size_text = f"{sizes[0]} members each" if data.balanced else f"{sizes.min()}-{sizes.max()}"
    lines = [
        f"Micro-macro regression of {data.y_name} on {', '.join(data.x_names)} (aggregated)"
        + (f" and {', '.join(data.z_names)}" if data.z_names else ""),
        f"{data.n_groups} groups ({size_text}), {int(sizes.sum())} members",
        "",
        " " * term_width + "".join(f"{m:>{width}}" for m in methods),
        " " * term_width + "".join(f"{'est':>{width - 9}}{'se':>9}" for _ in methods),
    ]
    for term in table.index:
        row = f"{term!s:<{term_width}}"
        for method in methods:
            est, err = table.loc[term, (method, "est")], table.loc[term, (method, "se")]
            row += " " * (width - 18) + _number(est) + _number(err)
        lines.append(row)
    label = {"se": "conventional", "se_hc0": "HC0 (White)", "se_hc3": "HC3"}[se]
    lines += ["", f"Standard errors: {label} for the two-step methods, ML for the SEMs."]
    for method, estimate in result.estimates.items():
        if estimate.problem:
            lines.append(f"warning: {method.value}: {estimate.problem}; its estimates are not "
                         "trustworthy")  # fmt: skip
    lines += ["", "SEM (wide data: one row per group, one column per member):", result.model_string]
    twolevel = result.twolevel_model_string
    if twolevel is not None:
        lines += ["SEM (two-level: the long data as they are, cluster = the group):", twolevel]
    return "\n".join(lines)


def render_json(result) -> str:
    frame = result.coefficients()
    records = json.loads(frame.to_json(orient="records"))
    out = {
        "groups": result.data.n_groups,
        "members": int(result.data.sizes.sum()),
        "coefficients": records,
        "model": result.model_string,
        "twolevel_model": result.twolevel_model_string,
    }
    return json.dumps(out, indent=2) + "\n"


def run(args: argparse.Namespace) -> int:
    from semlang.micromacro.methods import micro_macro

    result = micro_macro(
        args.data, args.group, list(args.x), list(args.z) or None, args.y, methods=args.methods
    )
    if args.format == "json":
        sys.stdout.write(render_json(result))
    else:
        sys.stdout.write(render_text(result, SE_CHOICES[args.se]))
    sys.stdout.flush()
    problems = any(estimate.problem for estimate in result.estimates.values())
    return EXIT_NOT_CONVERGED if problems else EXIT_OK


COMMANDS = (
    Command(
        ("micro-macro",),
        "regress a group-level outcome on individual-level x: every micro-macro method",
        configure,
        run,
        DESCRIPTION,
        order=60,
    ),
)
