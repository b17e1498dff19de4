"""What the commands share: the model file, the model-type flags and the lavaan options.

Input: parsed command-line arguments. Output: model text, keyword options for the public API
(lavaan's names in snake_case, only those the user set, so every default stays the library's),
the parameter table of a model file, and a table printed as text.
"""

from __future__ import annotations

import argparse
import itertools
import math
import warnings
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from semlang.errors import ModelError, Source

if TYPE_CHECKING:  # imported where a frame is printed, not for --help or --version
    import pandas as pd

_SHIPPED_SUFFIXES = (".sem", ".csv")


def local_or_shipped(name: str) -> str:
    """``name`` itself, unless there is no such file and semlang ships one of that name (a model
    or data set of :mod:`semlang.datasets`, e.g. ``bigfive_agree.sem``): then the shipped file, so
    that the examples run from any directory."""
    if Path(name).suffix not in _SHIPPED_SUFFIXES or Path(name).name != name or Path(name).exists():
        return name
    shipped = resources.files("semlang") / "datasets" / name
    return str(shipped) if shipped.is_file() else name


def read_model(path: str) -> str:
    """The text of a model file (errors of the file system are reported by the caller)."""
    return Path(local_or_shipped(path)).read_text(encoding="utf-8")


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model", help="model file (lavaan model syntax), or a shipped example: bigfive_agree.sem"
    )


def add_kind_flags(parser: argparse.ArgumentParser) -> None:
    """``--cfa | --sem | --growth``: whose defaults apply (lavaan's cfa(), sem(), growth())."""
    kinds = parser.add_mutually_exclusive_group()
    for kind, text in (
        ("cfa", "confirmatory factor analysis defaults (lavaan's cfa())"),
        ("sem", "structural equation model defaults (lavaan's sem(); the default)"),
        ("growth", "latent growth model defaults (lavaan's growth())"),
    ):
        kinds.add_argument(f"--{kind}", dest="kind", action="store_const", const=kind, help=text)
    parser.set_defaults(kind="sem")


def comma_list(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Options that shape the parameter table (they need no data)."""
    add = parser.add_argument
    add(
        "--std-lv",
        action="store_true",
        default=None,
        help="scale latent variables by fixing their variances to 1 (lavaan's std.lv)",
    )
    add(
        "--meanstructure",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="model the means: intercepts of observed variables, means of latent ones",
    )
    add(
        "--fixed-x",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="treat exogenous covariates as fixed (lavaan's fixed.x; on by default)",
    )
    add(
        "--orthogonal",
        action="store_true",
        default=None,
        help="uncorrelated exogenous latent variables",
    )
    add(
        "--group-equal",
        type=comma_list,
        metavar="WORDS",
        help="equal across groups, e.g. loadings,intercepts (lavaan's group.equal)",
    )
    add(
        "--group-partial",
        type=comma_list,
        metavar="PARAMS",
        help="parameters freed from --group-equal, e.g. 'f=~x2,x3~1'",
    )
    add("--missing", metavar="METHOD", help="listwise (default), fiml or ml.x")
    add(
        "--estimator",
        metavar="NAME",
        help="ML (default), MLM, MLMV, MLMVS, MLF, MLR, GLS, WLS, DWLS or ULS",
    )
    add(
        "--cluster",
        metavar="COLUMN",
        help="cluster column: of a two-level model, or for cluster-robust standard errors",
    )


def _ordered(text: str) -> tuple[str, ...] | bool:
    """--ordered: 'all' (lavaan's ordered = TRUE) or comma-separated column names."""
    return True if text.strip().lower() == "all" else comma_list(text)


def add_fit_options(parser: argparse.ArgumentParser) -> None:
    """Options that only matter when fitting to data."""
    add = parser.add_argument
    add("--group", metavar="COLUMN", help="fit one model per group of this column")
    add(
        "--ordered",
        type=_ordered,
        metavar="COLUMNS",
        help="ordered-categorical variables, e.g. x1,x2, or 'all' (every observed endogenous "
        "variable); fitted by WLSMV unless --estimator says otherwise",
    )
    add("--parameterization", metavar="KIND", help="delta (default) or theta (ordered data)")
    add("--information", metavar="KIND", help="expected (default) or observed")
    add(
        "--se",
        metavar="TYPE",
        help="standard, robust, robust.sem, robust.huber.white, first.order, bootstrap or none",
    )
    add(
        "--test",
        type=comma_list,
        metavar="TESTS",
        help="standard, satorra.bentler, yuan.bentler, yuan.bentler.mplus, mean.var.adjusted, "
        "scaled.shifted, browne.residual.adf, browne.residual.nt, bollen.stine or none "
        "(several: comma-separated)",
    )
    add("--likelihood", metavar="KIND", help="normal (default) or wishart")
    add("--bootstrap", type=int, metavar="R", help="number of bootstrap draws (--se bootstrap)")
    add("--seed", type=int, metavar="S", help="random seed (bootstrap, --starts)")
    add(
        "--scheduler",
        metavar="ADDRESS",
        help="where to run replications: a dask scheduler address, or 'processes'",
    )
    add("--max-iterations", type=int, metavar="N", help="iteration limit of the optimizer")
    add("--rotation", metavar="NAME", help="rotation of efa blocks (default geomin; none)")
    add(
        "--starts",
        type=int,
        metavar="K",
        help="refit from K random starting values and report whether a better optimum exists "
        "(reproducible with --seed)",
    )


_OPTION_NAMES = {
    "std_lv": "std_lv",
    "meanstructure": "meanstructure",
    "fixed_x": "fixed_x",
    "orthogonal": "orthogonal",
    "group_equal": "group_equal",
    "group_partial": "group_partial",
    "missing": "missing",
    "estimator": "estimator",
    "cluster": "cluster",
    "ordered": "ordered",
    "parameterization": "parameterization",
    "group": "group",
    "information": "information",
    "se": "se",
    "test": "test",
    "likelihood": "likelihood",
    "bootstrap": "bootstrap",
    "seed": "seed",
    "scheduler": "executor",
    "max_iterations": "max_iterations",
    "starts": "starts",
    "rotation": "rotation",
}


def options_of(args: argparse.Namespace) -> dict[str, Any]:
    """The library options the user set on the command line (unset ones are left out); a
    warning for a flag that has no effect without another one."""
    options = {}
    for attribute, name in _OPTION_NAMES.items():
        value = getattr(args, attribute, None)
        if value is not None:
            options[name] = value
    _warn_unused(options)
    return options


def _warn_unused(options: dict[str, Any]) -> None:
    from semlang.errors import SemlangWarning

    words = {str(options.get("se", "")).lower(), *(str(t).lower() for t in options.get("test", ()))}
    draws = bool(words & {"bootstrap", "boot", "bollen.stine"})
    if "bootstrap" in options and not draws:
        warnings.warn(
            f"--bootstrap {options['bootstrap']} has no effect without --se bootstrap (or "
            "--test bollen.stine); add one of them to draw bootstrap samples",
            SemlangWarning,
            stacklevel=3,
        )
    if options.get("group_partial") and not options.get("group_equal"):
        warnings.warn(
            "--group-partial has no effect without --group-equal: it frees parameters from the "
            "equality constraints --group-equal makes (e.g. --group-equal loadings "
            "--group-partial 'visual=~x2')",
            SemlangWarning,
            stacklevel=3,
        )


def relocated(error: ModelError, text: str, name: str) -> ModelError:
    """``error`` reported under the model file's name (the API names a model ``<model>``)."""
    source = error.source
    if source is None or source.name == name or source.text != text:
        return error
    return error.located(Source(text, name))


def parameter_table(args: argparse.Namespace, ngroups: int = 1):
    """The parameter table of the model file of ``args`` (no data needed; nothing of the
    estimation is imported, so ``check`` and ``parse`` start quickly)."""
    from semlang.options import make_fit_options, make_options, split_options
    from semlang.partable import build_partable
    from semlang.syntax.parser import parse

    text = read_model(args.model)
    model, fit, _ = split_options(options_of(args))
    tree = parse(text, args.model)
    table = build_partable(tree, make_options(args.kind, **model), ngroups=ngroups)
    make_fit_options(table.options, table.nlevels, **fit)  # the fit options checked too
    return table


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or _is_na(value):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _is_na(value: Any) -> bool:
    return type(value).__name__ == "NAType"  # pandas.NA, without importing pandas


def records_text(records: list[dict]) -> str:
    """Rows (dicts with the same keys) as aligned text: missing values blank, whole-number
    floats without decimals, each column right-aligned (as pandas' ``to_string(index=False)``)."""
    columns = list(records[0]) if records else []
    return _aligned(columns, [[_cell(record[c]) for c in columns] for record in records])


def columns_text(columns: dict[str, list]) -> str:
    """Columns (lists of one length) as the text of :func:`records_text`, for tables of
    hundreds of thousands of rows (:func:`columns_chunks` joined)."""
    return "".join(columns_chunks(columns))


def columns_chunks(columns: dict[str, list], rows: int = 10_000) -> Iterator[str]:
    """The text of :func:`columns_text` in pieces of ``rows`` lines, made as they are asked for
    (a large table is written without its whole text in memory). Columns of ints or of strings
    are formatted by one template per line; the others cell by cell, each distinct value once."""
    names = [str(name) for name in columns]
    cells = [_column_cells(values) for values in columns.values()]
    widths = [max(len(name), _width(column)) for name, column in zip(names, cells, strict=True)]
    template = " ".join(f"%{width}s" for width in widths) + "\n"  # (faster than str.format)
    yield template % tuple(names)
    lines = map(template.__mod__, zip(*cells, strict=True))
    while chunk := "".join(itertools.islice(lines, rows)):
        yield chunk


def _column_cells(values: list) -> list:
    """The column itself if its values are all ints or all strings (formatted as they are),
    else the text of each cell (:func:`_cell`; equal values share one string)."""
    kinds = set(map(type, values))
    if kinds <= {int} or kinds <= {str}:
        return values
    return list(map(_Cells().__getitem__, values))


class _Cells(dict):
    """value -> :func:`_cell` of it, each distinct value formatted once."""

    def __missing__(self, value: Any) -> str:
        text = self[value] = _cell(value)
        return text


def _width(cells: list) -> int:
    if not cells:
        return 0
    if type(cells[0]) is int:  # the longest is the largest or the most negative
        return max(len(str(min(cells))), len(str(max(cells))))
    return max(map(len, cells))


def _aligned(columns: list[str], rows: list[list[str]]) -> str:
    """Each column right-aligned to its widest cell or header, one space apart."""
    widths = [max([len(c), *(len(row[k]) for row in rows)]) for k, c in enumerate(columns)]
    lines = [" ".join(text.rjust(w) for text, w in zip(line, widths, strict=True))
             for line in [columns, *rows]]  # fmt: skip
    return "\n".join(lines) + "\n"


def _cells(column: pd.Series) -> list[str]:
    import pandas as pd

    if pd.api.types.is_integer_dtype(column.dtype):
        return [str(v) for v in column.tolist()]
    return [_cell(v) for v in column.tolist()]


def frame_text(frame: pd.DataFrame) -> str:
    """A table as aligned text; missing values blank, whole-number floats without decimals."""
    columns = [[str(name), *_cells(frame[name])] for name in frame.columns]
    widths = [max(map(len, column)) for column in columns]
    lines = (
        " ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True))
        for cells in zip(*columns, strict=True)
    )
    return "\n".join(lines) + "\n"  # (as DataFrame.to_string(index=False), many times faster)
