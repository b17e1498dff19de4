"""The data file of a command: a CSV path or ``-`` (standard input), its separator, its NA codes.

Input: parsed command-line arguments with ``data``, ``sep`` and ``na_values`` (added by
:func:`add_data_options`). Output: what the public API takes as data — the path itself when the
file is an ordinary comma-separated one (so the library's own checks and messages apply), or a
DataFrame read with the separator and the missing-value codes given (``--na-values .,-999``).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from semlang.commands._common import comma_list, local_or_shipped
from semlang.errors import DataError

STDIN = "-"


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """``--sep`` and ``--na-values`` (the data argument itself is the command's)."""
    parser.add_argument(
        "--sep",
        metavar="CHAR",
        help="the data's column separator (default ','; e.g. ';' or '\\t' for tabs)",
    )
    parser.add_argument(
        "--na-values",
        type=comma_list,
        metavar="CODES",
        help="values that mean missing besides empty fields and NA, e.g. '.,-999'",
    )


def _separator(text: str | None) -> str:
    if text is None:
        return ","
    text = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(text, text)
    if len(text) != 1:
        raise DataError(
            f"--sep takes one character, not {text!r}",
            hint="e.g. --sep ';' or --sep '\\t' (a tab)",
        )
    return text


def read_data(args: argparse.Namespace):
    """The data of ``args``: a path, or a DataFrame when read from stdin or with options."""
    source = local_or_shipped(args.data)  # (a shipped data set by its file name)
    sep = _separator(getattr(args, "sep", None))
    na_values = list(getattr(args, "na_values", None) or ())
    if source != STDIN and sep == "," and not na_values:
        return source
    name = "standard input" if source == STDIN else f"data file {source!r}"
    if source == STDIN:
        text = sys.stdin.read()
    else:
        path = Path(source)
        if not path.exists():
            raise DataError(f"data file {source!r} does not exist")
        text = path.read_text(encoding="utf-8-sig")
    return _frame(text.removeprefix("\ufeff"), sep, na_values, name)


def _frame(text: str, sep: str, na_values: list[str], name: str):
    import pandas as pd

    from semlang.estimate.data import check_unique_names

    if not text.strip():
        raise DataError(f"{name} is empty", hint="give a CSV table with a header line")
    check_unique_names(next(csv.reader(io.StringIO(text), delimiter=sep), []), name)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, na_values=na_values or None)
    except pd.errors.ParserError as error:
        raise DataError(f"{name} is not a readable CSV table: {error}") from None
    if frame.shape[1] == 1 and sep == ",":
        column = str(frame.columns[0])
        other = next((s for s in (";", "\t", "|") if s in column), None)
        if other is not None:
            raise DataError(
                f"{name} has one column, {column!r}: its values look separated by {other!r}",
                hint=f"give the separator, --sep {other!r}",
            )
    return frame
