"""The summary as an object: the text of lavaan's ``summary()``, and the same as HTML and LaTeX.

Input: the lines of :func:`semlang.results.summary.summary_text`; a line that is a row of a
table (a parameter section, a block of labels and values) is a :class:`Line` that keeps its
cells. Output: a :class:`Summary`, a ``str`` whose text is the summary (so it prints, compares,
concatenates and writes exactly as the text) and which, in a notebook, shows as tables
(``_repr_html_``); :meth:`Summary.to_latex` gives a LaTeX fragment (``verbatim`` text and
``tabular`` tables).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

PLAIN, TITLE, HEADER, ROW, PAIRS = "plain", "title", "header", "row", "pairs"


class Line(str):
    """A line of the summary that remembers its cells and its kind (title, header, row, pairs)."""

    cells: tuple[str, ...]
    kind: str

    def __new__(cls, text: str, cells: Iterable[str] = (), kind: str = PLAIN) -> Line:
        line = super().__new__(cls, text)
        line.cells = tuple(cells)
        line.kind = kind
        return line


def _runs(lines: list[str]) -> list[tuple[str, list[str]]]:
    """Consecutive lines grouped: a title, a table (a header and its rows), pairs, or text."""
    runs: list[tuple[str, list[str]]] = []
    for line in lines:
        kind = getattr(line, "kind", PLAIN)
        kind = "table" if kind in (HEADER, ROW) else kind
        if kind == "table" and getattr(line, "kind", "") == HEADER:
            runs.append((kind, [line]))
        elif runs and runs[-1][0] == kind and kind != TITLE:
            runs[-1][1].append(line)
        else:
            runs.append((kind, [line]))
    return runs


def _trimmed(lines: list[str]) -> list[str]:
    text = "\n".join(lines).strip("\n")
    return text.split("\n") if text.strip() else []


class Summary(str):
    """The summary of a fit: its text (``str(summary)``), ``_repr_html_`` and ``to_latex()``."""

    lines: tuple[str, ...]

    def __new__(cls, lines: Iterable[str] = ()) -> Summary:
        lines = tuple(lines)
        summary = super().__new__(cls, "\n".join(lines) + "\n" if lines else "")
        summary.lines = lines
        return summary

    def __repr__(self) -> str:  # the text itself, not a quoted string with \n escapes
        return str.__str__(self)

    def __reduce__(self):
        return (str, (str.__str__(self),))

    def _repr_html_(self) -> str:
        parts = ['<div class="semlang-summary">']
        for kind, lines in _runs(list(self.lines)):
            if kind == TITLE:
                parts.append(f"<p><b>{_escape(lines[0].rstrip(':'))}</b></p>")
            elif kind in ("table", PAIRS):
                # (only a Line has a kind: the lines of tables and pairs are Lines)
                parts.append(_html_table(cast(list[Line], lines), header=kind == "table"))
            elif _trimmed(lines):
                text = _escape("\n".join(_trimmed(lines)))
                parts.append(f"<pre>{text}</pre>")
        parts.append("</div>")
        return "\n".join(parts)

    def to_latex(self) -> str:
        """The summary as a LaTeX fragment: text in ``verbatim``, tables as ``tabular``."""
        parts = []
        for kind, lines in _runs(list(self.lines)):
            if kind == TITLE:
                parts.append(f"\\paragraph{{{_latex(lines[0].rstrip(':'))}}}")
            elif kind in ("table", PAIRS):
                parts.append(_latex_table(cast(list[Line], lines), header=kind == "table"))
            elif _trimmed(lines):
                parts.append(
                    "\\begin{verbatim}\n" + "\n".join(_trimmed(lines)) + "\n\\end{verbatim}"
                )
        return "\n".join(parts) + "\n"


def warnings_html(messages: Iterable[str]) -> str:
    """Warnings as a highlighted list (nothing when there are none)."""
    items = "".join(f"<li>{_escape(m)}</li>" for m in messages)
    if not items:
        return ""
    return (
        '<div class="semlang-warnings" style="border-left:4px solid #c60; padding-left:8px">'
        f"<b>Warnings</b><ul>{items}</ul></div>\n"
    )


def _escape(text: str) -> str:
    import html  # (for notebooks only: the text summary does without it)

    return html.escape(text)


def _html_table(lines: list[Line], header: bool) -> str:
    out = ['<table class="semlang-table">']
    for k, line in enumerate(lines):
        if not any(c.strip() for c in line.cells):
            continue
        tag = "th" if header and k == 0 else "td"
        cells = []
        for j, cell in enumerate(line.cells):
            align = "left" if j == 0 else "right"
            text = _escape(cell.rstrip() if j == 0 else cell.strip())
            style = f"text-align:{align}" + ("; white-space:pre" if j == 0 else "")
            cells.append(f'<{tag} style="{style}">{text}</{tag}>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    ">": r"\textgreater{}", "<": r"\textless{}", "|": r"\textbar{}",
}  # fmt: skip


def _latex(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


def _latex_table(lines: list[Line], header: bool) -> str:
    width = max(len(line.cells) for line in lines)
    out = [f"\\begin{{tabular}}{{l{'r' * (width - 1)}}}"]
    for k, line in enumerate(lines):
        if not any(c.strip() for c in line.cells):
            continue
        cells = [_latex(c.strip()) for c in line.cells]
        cells += [""] * (width - len(cells))
        out.append(" & ".join(cells) + r" \\")
        if header and k == 0:
            out.append(r"\hline")
    out.append(r"\end{tabular}")
    return "\n".join(out)
