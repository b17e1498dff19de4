"""``semlang study micro-macro``: the published simulation study of the micro-macro methods.

Input: the number of replications, a seed and the design (flags; the defaults are the design of
the published study). Output on stdout: the percent bias of every method with its Monte Carlo
standard error beside the published values, summaries of the group scores and the mean
coefficient alpha (``--format text``), or the same as JSON (``--format json``: ``{"percent_bias",
"mc_se", "scores", "alpha_mean", "replications", "regenerated", ...}``). ``--plot FILE`` saves a
bar chart of the bias (needs matplotlib: ``pip install 'semlang[plot]'``). A progress bar is drawn
on stderr when it is a terminal. ``--results FILE`` keeps every finished replication in a file, so
an interrupted study resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys

from semlang.commands import EXIT_OK, Command
from semlang.commands._common import comma_list

FORMATS = ("text", "json")
DESCRIPTION = """\
Simulate the micro-macro design of Croon & van Veldhoven (2007) as in M. Clark (2020),
"Micro-macro models": 100 groups of 10 members, ICC .1 (sigma2_nu = 9), cor(Z, xi) = .3,
y = .3 + .3 Z + .3 xi + e with sigma2_e = .35, and report the percent bias of every method
(Unadjusted, BLUP_mixed, BLUP_mixed_hetvar, Factor Score, CV Adj, SEM, True, and CV Adj
(published code): the adjusted means as the published study's code computed them) beside the
published values. A data set whose factor model does not converge or has a negative variance is
drawn again, as in the published study; the count is reported.

examples:
  semlang study micro-macro --reps 1000 --seed 1
  semlang study micro-macro --reps 1000 --seed 1 --format json --plot bias.png
  semlang study micro-macro --reps 1000 --sigma-nu2 1          # a reliable measure
  semlang study micro-macro --reps 5000 --results study.jsonl --scheduler tcp://host:8786"""


def _group_size(text: str) -> int | tuple[int, int]:
    low, sep, high = text.partition("-")
    try:
        return (int(low), int(high)) if sep else int(low)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a group size (10) or a range of sizes (5-15)"
        ) from None


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--reps", type=int, default=1000, metavar="R", help="replications (default 1000)")
    add("--seed", type=int, default=1, metavar="S", help="random seed (default 1)")
    _design_flags(parser)
    add("--methods", type=comma_list, metavar="NAMES", help="methods (default: all eight)")
    add("--format", choices=FORMATS, default="text", help="output format")
    add("--plot", metavar="FILE", help="save a bar chart of the percent bias (e.g. bias.png)")
    _run_flags(parser)


def _design_flags(parser: argparse.ArgumentParser) -> None:
    """The data-generating design (defaults: the published study's)."""
    add = parser.add_argument
    add("--groups", type=int, default=100, metavar="G", help="groups per data set (default 100)")
    add(
        "--group-size",
        type=_group_size,
        default=10,
        metavar="N",
        help="members per group (default 10), or a range such as 5-15 (unbalanced)",
    )
    add(
        "--sigma-nu2",
        type=float,
        default=9.0,
        metavar="V",
        help="within-group variance of x (default 9: ICC .1)",
    )
    add(
        "--cor-z-xi",
        type=float,
        default=0.3,
        metavar="R",
        help="correlation of Z with the latent group score (default .3)",
    )
    add(
        "--sigma-e2",
        type=float,
        default=0.35,
        metavar="V",
        help="residual variance of y (default .35)",
    )


def _run_flags(parser: argparse.ArgumentParser) -> None:
    """Where and how the replications run."""
    add = parser.add_argument
    add(
        "--results",
        metavar="FILE",
        help="append every finished replication to FILE (JSON lines); a rerun resumes from it",
    )
    add(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a dask cluster (e.g. tcp://host:8786; pip install 'semlang[dask]') "
        "instead of local processes",
    )
    add("--jobs", type=int, metavar="N", help="local processes at most (default: one per CPU)")
    add(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    add(
        "--max-iterations",
        type=int,
        default=100,
        metavar="N",
        help="iteration limit of each fit; beyond it the data set is drawn again (default 100)",
    )


def _published_bias(summary) -> dict:
    from semlang.micromacro.study import PUBLISHED, StudyDesign

    if summary.design.is_published:
        return PUBLISHED["percent_bias"]
    if summary.design == StudyDesign(sigma2_nu=1.0):
        return PUBLISHED["percent_bias_sigma_nu2_1"]
    return {}


def _design_text(summary) -> str:
    d = summary.design
    size = d.group_size if isinstance(d.group_size, int) else "{}-{}".format(*d.group_size)
    b0, b_xi, b_z = d.coefficients
    icc = d.sigma2_xi / (d.sigma2_xi + d.sigma2_nu)
    return (
        f"{summary.replications} data sets of {d.n_groups} groups x {size} members; "
        f"sigma2_nu = {d.sigma2_nu:g} (ICC {icc:.3f}), cor(Z, xi) = {d.cor_z_xi:g}, "
        f"y = {b0:g} + {b_z:g} Z + {b_xi:g} xi + e, sigma2_e = {d.sigma2_e:g}"
    )


NAME_WIDTH = 25


def _bias_lines(summary) -> list[str]:
    from semlang.micromacro.study import PUBLISHED

    published = _published_bias(summary)
    head = f"{'Method':<{NAME_WIDTH}}" + "".join(f"{t:>18}" for t in ("Intercept", "Z", "X"))
    if published:
        head += "   published:" + "".join(f"{t:>10}" for t in ("Intercept", "Z", "X"))
    lines = ["Percent bias (Monte Carlo standard error)", head]
    for method in summary.methods:
        row = f"{method:<{NAME_WIDTH}}"
        for term in ("Intercept", "Z", "X"):
            bias, se = summary.percent_bias[method][term], summary.mc_se[method][term]
            row += f"{bias:>10.3f} ({se:5.2f})"
        if method in published:
            row += " " * 13 + "".join(f"{published[method][t]:>10.3f}" for t in published[method])
        lines.append(row)
    if summary.design.is_published:
        original = PUBLISHED["percent_bias_croon_van_veldhoven"]
        values = "; ".join(
            f"{method} " + " ".join(f"{v:.1f}" for v in bias.values())
            for method, bias in original.items()
        )
        lines.append(f"Croon & van Veldhoven (2007), the same design: {values}")
    return lines


def _score_row(method: str, stats: dict) -> str:
    from semlang.micromacro.study import SCORE_STATISTICS

    row = f"{method:<{NAME_WIDTH}}{stats['n']:>9d}"
    return row + "".join(f"{stats[c]:>9.2f}" for c in SCORE_STATISTICS)


def _score_lines(summary) -> list[str]:
    from semlang.micromacro.study import PUBLISHED, SCORE_STATISTICS

    head = f"{'Scores':<{NAME_WIDTH}}" + "".join(f"{c:>9}" for c in ("n", *SCORE_STATISTICS))
    lines = ["Group scores over all data sets", head]
    lines += [_score_row(method, stats) for method, stats in summary.scores.items()]
    if summary.design.is_published:
        lines += ["published (M. Clark 2020):"]
        for method in summary.scores:
            if method in PUBLISHED["scores"]:
                lines.append(_score_row(method, {"n": 100000} | PUBLISHED["scores"][method]))
    return lines


def render_text(summary) -> str:
    """The study's tables as text."""
    from semlang.micromacro.study import PUBLISHED

    reasons = ", ".join(f"{k}: {v}" for k, v in summary.failure_reasons.items())
    lines = [
        "Micro-macro simulation study",
        _design_text(summary),
        f"data sets drawn again: {summary.regenerated}" + (f" ({reasons})" if reasons else ""),
    ]
    if summary.failed:
        lines.append(f"replications without a result: {summary.failed}")
    lines += ["", *_bias_lines(summary), "", *_score_lines(summary), ""]
    if summary.alpha_mean is not None:
        text = f"Coefficient alpha of the members' measurements: mean {summary.alpha_mean:.3f}, "
        text += f"max {summary.alpha_max:.3f}"
        if summary.design.is_published:
            text += f" (published: mean {PUBLISHED['alpha_mean']}, max {PUBLISHED['alpha_max']})"
        lines.append(text)
    per_rep = summary.seconds_per_replication
    text = f"time: {summary.elapsed:.1f} s"
    if summary.resumed:
        text += f" ({summary.resumed} replications read back from the results file)"
    if per_rep == per_rep:
        text += f" ({per_rep:.4f} s per replication)"
    lines.append(text)
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from semlang.micromacro.study import StudyDesign, plot_bias, require_matplotlib, run_study

    if args.plot:
        require_matplotlib()  # before the study runs, not after

    design = StudyDesign(
        n_groups=args.groups,
        group_size=args.group_size,
        sigma2_nu=args.sigma_nu2,
        cor_z_xi=args.cor_z_xi,
        sigma2_e=args.sigma_e2,
    )
    summary = run_study(
        design,
        args.reps,
        args.seed,
        methods=args.methods,
        executor=args.scheduler,
        n_jobs=args.jobs,
        progress=args.progress,
        results_path=args.results,
        max_iterations=args.max_iterations,
    )
    if args.format == "json":
        sys.stdout.write(json.dumps(summary.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(render_text(summary))
    sys.stdout.flush()
    if args.plot:
        plot_bias(summary, args.plot)
    return EXIT_OK


COMMANDS = (
    Command(("study",), "simulation studies that reproduce published results"),
    Command(
        ("study", "micro-macro"),
        "the micro-macro simulation study (bias of every method, as published)",
        configure,
        run,
        DESCRIPTION,
    ),
)
