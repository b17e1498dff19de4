"""Fit -> the summary text, laid out like lavaan's ``summary()``.

Input: a :class:`~semlang.results.fit.Fit`. Output: one string (a
:class:`~semlang.results.summary_object.Summary`, which notebooks show as tables) — the
optimizer's report, the data, the model test (and, on request, the fit measures), then the
parameter estimates in lavaan's sections (Latent Variables, Regressions, Covariances, Intercepts,
Variances per group and level; Defined Parameters and Constraints at the end) with lavaan's
columns ``Estimate Std.Err z-value P(>|z|)`` (and ``Std.lv Std.all`` when standardized). A ``.``
marks residual terms (variances, covariances and intercepts of outcomes of regressions and of
indicators), ``(label)`` a labelled parameter. Long names and labels are shortened with R's
``abbreviate()`` rule, as lavaan does.

Every number printed comes from ``fit.estimates()`` and ``fit.fit_measures()``; the parameter
table only says where a row goes. Numbers are formatted in one place, :func:`format_number`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from semlang.options import Estimator, Information, Missing, StandardErrors, Test
from semlang.records import dataclass
from semlang.results.summary_object import HEADER, PAIRS, ROW, TITLE, Line, Summary
from semlang.syntax.ast import Op

if TYPE_CHECKING:
    from semlang.partable.table import ParamRow

DIGITS = 3
_CELL = 8  # lavaan's "%8.3f" column width
_NAME = 14  # width of a parameter's name (and label) in its row
_COLUMNS = {
    "est": "Estimate",
    "se": "Std.Err",
    "z": "z-value",
    "pvalue": "P(>|z|)",
    "std_lv": "Std.lv",
    "std_all": "Std.all",
    "ci_lower": "ci.lower",
    "ci_upper": "ci.upper",
}
_VOWELS = "aeiou"


def format_number(value: float, digits: int = DIGITS) -> str:
    """A number as the summary prints it: fixed with ``digits`` decimals, NA for a missing one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    value = float(value)
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    return f"{value:.{digits}f}"


def _count(value: float) -> str:
    """Counts and degrees of freedom: whole numbers without decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    return str(int(value)) if float(value).is_integer() else format_number(value)


# ---- R's abbreviate(): lavaan shortens names and labels with it ------------------------------


def abbreviate(text: str, minlength: int) -> str:
    """R's ``abbreviate(text, minlength, strict = TRUE)``: drop lower-case vowels from the right,
    then lower-case letters, then anything but the first letter of a word, until it fits."""
    text = text.strip()
    if len(text) <= minlength:
        return text
    buf = list(text)
    nspace = 0
    trailing = True
    for i in range(len(buf) - 1, 0, -1):
        if buf[i].isspace():
            if trailing:
                del buf[i:]
            else:
                nspace += 1
        else:
            trailing = False
        if len(buf) - nspace <= minlength:
            return _squeeze(buf, minlength)

    def first(i: int) -> bool:
        return buf[i - 1].isspace()

    def last(i: int) -> bool:
        return not buf[i - 1].isspace() and (i + 1 >= len(buf) or buf[i + 1].isspace())

    rules = (
        lambda i: buf[i] in _VOWELS and last(i),
        lambda i: buf[i] in _VOWELS and not first(i),
        lambda i: buf[i].islower() and last(i),
        lambda i: buf[i].islower() and not first(i),
        lambda i: not first(i) and not buf[i].isspace(),
    )
    for drop in rules:
        for i in range(len(buf) - 1, 0, -1):
            if i < len(buf) and drop(i):
                del buf[i]
            if len(buf) - nspace <= minlength:
                return _squeeze(buf, minlength)
    return _squeeze(buf, minlength)


def _squeeze(buf: list[str], minlength: int) -> str:
    if len(buf) > minlength:
        buf = [buf[0]] + [c for c in buf[1:] if not c.isspace()]
    return "".join(buf)


def abbreviate_unique(texts: list[str], minlength: int) -> list[str]:
    """R's ``abbreviate(texts, minlength)``: like :func:`abbreviate`, lengthened where two
    different texts would get the same abbreviation."""
    unique = list(dict.fromkeys(texts))
    short = {t: abbreviate(t, minlength) for t in unique}
    length = minlength
    while True:
        seen: dict[str, list[str]] = {}
        for t in unique:
            seen.setdefault(short[t], []).append(t)
        clashes = [t for group in seen.values() if len(group) > 1 for t in group]
        if not clashes or length > max(len(t) for t in unique):
            break
        length += 1
        short.update({t: abbreviate(t, length) for t in clashes})
    return [short[t] for t in texts]


# ---- the header -------------------------------------------------------------------------------


def _pairs(rows: Sequence[tuple[str, ...]], widths: tuple[int, ...]) -> list[str]:
    """lavaan's two- or three-column blocks: a left-aligned label, right-aligned values."""
    if not rows:
        return []
    cols = list(zip(*rows, strict=True))
    sizes = [max(w, *(len(c) for c in col)) for w, col in zip(widths, cols, strict=True)]
    # a wide value takes room from the label column (as far as the labels allow): the block
    # keeps its width and stays aligned with the others
    extra = sum(sizes[1:]) - sum(widths[1:])
    sizes[0] = max(max(len(c) for c in cols[0]), sizes[0] - extra)
    lines: list[str] = []
    for row in rows:
        cells = [row[0].ljust(sizes[0])] + [
            c.rjust(s) for c, s in zip(row[1:], sizes[1:], strict=True)
        ]
        lines.append(Line(("  " + " ".join(cells)).rstrip(), row, PAIRS))
    return lines


def _version() -> str:
    from semlang import __version__

    return __version__


def _opening(fit) -> list[str]:
    n = fit.iterations
    after = f"after {n} iteration{'s' if n != 1 else ''}"
    if fit.converged:
        return [f"semlang {_version()} ended normally {after}"]
    return [
        f"semlang {_version()} did NOT end normally {after}",
        "** WARNING ** Estimates below are most likely unreliable",
    ]


# lavaan prints the robust ML variants' discrepancy, ML, on the "Estimator" line
_ESTIMATOR_NAME = {e: "ML" for e in Estimator if e.is_likelihood}


def _rotation(fit) -> list[str]:
    """lavaan's rotation lines of a model with efa blocks (:mod:`semlang.esem.summary`)."""
    if not fit.table.efa_sets:
        return []
    from semlang.esem.summary import rotation_rows

    return ["", *_pairs(rotation_rows(fit), (33, 18))]


def _optimizer(fit) -> list[str]:
    table = getattr(fit, "unrotated", fit).table  # (a rotated solution counts the fitted ones)
    free_rows = sum(1 for row in table.rows if row.is_model_parameter and row.is_free)
    explicit = sum(1 for row in table.rows if row.op is Op.EQUAL)
    inequality = sum(1 for row in table.rows if row.op in (Op.LESS, Op.GREATER))
    method = str(getattr(fit.estimation.optimization, "method", "")).upper()
    estimator = _ESTIMATOR_NAME.get(fit.options.estimator, fit.options.estimator.value)
    estimator = getattr(getattr(fit, "family", None), "summary_estimator", estimator)  # (DWLS)
    rows = [
        ("Estimator", estimator),
        ("Optimization method", method),
        ("Number of model parameters", str(free_rows)),
    ]
    equality = free_rows - table.n_free + explicit
    if equality:
        rows.append(("Number of equality constraints", str(equality)))
    if inequality:
        rows.append(("Number of inequality constraints", str(inequality)))
    if fit.options.starts:
        from semlang.results.multistart import summary_rows

        rows += summary_rows(fit)
    return _pairs(rows, (40, 11))


def _data(fit) -> list[str]:
    table, options = fit.table, fit.table.options
    nobs = fit.sample.group_nobs
    dropped = fit.sample.n_dropped
    rows: list[tuple[str, ...]]
    if table.ngroups == 1 and dropped:
        rows = [
            ("", "Used", "Total"),
            ("Number of observations", str(nobs[0]), str(nobs[0] + dropped)),
        ]
        return _pairs(rows, (43, 8, 11))
    if table.ngroups == 1:
        rows = [("Number of observations", str(nobs[0]))]
    else:
        rows = [("Number of observations per group:", "")]
        rows += [(f"  {label}", str(n)) for label, n in zip(table.group_labels, nobs, strict=False)]
    nclusters = fit.sample.nclusters
    if options.cluster and nclusters is not None:
        rows.append((f"Number of clusters [{options.cluster}]", _count(nclusters)))
    if options.missing.is_fiml or options.missing is Missing.PAIRWISE:
        patterns = fit.sample.missing_pattern_counts
        if table.ngroups == 1 and patterns:
            rows.append(("Number of missing patterns", str(patterns[0])))
        elif patterns:
            rows.append(("Number of missing patterns per group:", ""))
            rows += [
                (f"  {label}", str(n))
                for label, n in zip(table.group_labels, patterns, strict=False)
            ]
    return _pairs(rows, (43, 8))


def _test(fit, measures: dict) -> list[str]:
    from semlang.results.summary_tests import model_test

    return model_test(fit, measures)


def _fit_measures(measures: dict) -> list[str]:
    from semlang.results.summary_measures import fit_measure_blocks

    return fit_measure_blocks(measures)


def _se_pairs(rows: list[tuple[str, str]]) -> list[str]:
    """lavaan's standard-error lines: labels in 38 columns, values right-aligned in >= 13."""
    width = max([13, *(len(value) for _, value in rows)])
    return [f"  {label:<38} {value:>{width}}" for label, value in rows]


# lavaan's default h1 information of the least-squares estimators (WLS, DWLS, ULS)
_UNSTRUCTURED = (Estimator.WLS, Estimator.DWLS, Estimator.ULS)


def _se_block(fit) -> list[str]:
    options = fit.options
    se, info = options.se, options.information
    rows: list[tuple[str, str]] = []
    if se is StandardErrors.NONE:
        return ["Parameter Estimates:", ""]  # lavaan: no lines about standard errors
    if se is StandardErrors.ROBUST_HUBER_WHITE:
        rows.append(("Standard errors", "Sandwich"))
    elif se is StandardErrors.FIRST_ORDER:  # lavaan: standard errors of the first-order information
        rows += [("Standard errors", "Standard"), ("Information", "First.order"),
                 ("Information saturated (h1) model", "Structured")]  # fmt: skip
        return ["Parameter Estimates:", "", *_se_pairs(rows)]
    else:
        rows.append(("Standard errors", se.value.capitalize()))
    if se is StandardErrors.BOOTSTRAP:
        rows.append(("Number of requested bootstrap draws", str(options.bootstrap)))
        rows.append(("Number of successful bootstrap draws", str(fit.bootstrap.n_completed)))
    else:
        bread = "Information bread" if se is StandardErrors.ROBUST_HUBER_WHITE else "Information"
        rows.append((bread, info.value.capitalize()))
        if info is Information.OBSERVED:
            rows.append(("Observed information based on", "Hessian"))
        else:
            h1 = "Unstructured" if options.estimator in _UNSTRUCTURED else "Structured"
            h1 = getattr(getattr(fit, "family", None), "summary_h1", h1)  # (categorical)
            rows.append(("Information saturated (h1) model", h1))
    return ["Parameter Estimates:", "", *_se_pairs(rows)]


# ---- the parameter sections -------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """One estimates row: its table row and its formatted cells."""

    row: ParamRow
    label: str
    est: float
    cells: tuple[str, ...]


def _cells(frame, columns: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Formatted numeric cells; Std.Err, z and p blank for fixed rows, z and p blank without SE."""
    formatted = {c: [format_number(v) for v in frame[c].to_numpy(dtype=float)] for c in columns}
    se = frame["se"].to_numpy(dtype=float)
    for k, value in enumerate(se):
        blank = ("se", "z", "pvalue") if value == 0 else ("z", "pvalue") if np.isnan(value) else ()
        for c in blank:
            formatted[c][k] = ""
    width = {c: max(_CELL, *(len(v) for v in formatted[c])) for c in columns}
    return [tuple(formatted[c][k].rjust(width[c]) for c in columns) for k in range(len(frame))]


def _entries(fit, columns: tuple[str, ...], level: float = 0.95) -> list[_Entry]:
    frame = fit.estimates() if level == 0.95 else fit.estimates(level=level)
    rows = fit.table.rows
    if len(frame) != len(rows):
        raise ValueError("the estimates do not match the parameter table row for row")
    labels = frame["label"].fillna("").astype(str).tolist()
    est = frame["est"].to_numpy(dtype=float)
    cells = _cells(frame, columns)
    return [_Entry(r, lab, e, c) for r, lab, e, c in zip(rows, labels, est, cells, strict=True)]


def _name_cells(names: list[str], labels: list[str], prefixes: list[str]) -> list[str]:
    """lavaan's row names: ``prefix`` (3 wide), the name, and ``(label)`` right-aligned in 14."""
    if any(labels):
        short = abbreviate_unique(labels, 4)
        marks = [f" ({s})" if lab else "" for s, lab in zip(short, labels, strict=True)]
        width = max(len(m) for m in marks)
        body = [
            abbreviate(n, _NAME - width).ljust(_NAME - width) + m.rjust(width)
            for n, m in zip(names, marks, strict=True)
        ]
    else:
        body = [abbreviate(n, _NAME).ljust(_NAME) for n in names]
    return [p.rjust(3) + b for p, b in zip(prefixes, body, strict=True)]


def _print_matrix(
    title: str, header: tuple[str, ...], rows: Sequence[tuple[str, ...]]
) -> list[str]:
    widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]
    lines = ["", Line(f"{title}:", (), TITLE)]
    for k, r in enumerate([header, *rows]):
        text = (" " + " ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))).rstrip()
        lines.append(Line(text, r, ROW if k else HEADER))
    return lines


def _residual_names(table) -> set[str]:
    """lavaan's eqs.y, ov.ind and lv.ind: outcomes of regressions and indicators."""
    names = {row.lhs for row in table.rows if row.op is Op.REGRESSION}
    names |= {row.rhs for row in table.rows if row.op is Op.MEASURED}
    return names


def _section(
    title: str, entries: list[_Entry], header: tuple[str, ...], residual: set[str], grouped: bool,
    efa_of: dict[str, str] | None = None,
) -> list[str]:  # fmt: skip
    if not entries:
        return []
    name_of = (lambda r: r.lhs) if title in ("Intercepts", "Scales y*") else (lambda r: r.rhs)
    if title == "Thresholds":
        name_of = lambda r: f"{r.lhs}|{r.rhs}"  # noqa: E731
    names = [name_of(e.row) for e in entries]
    dotted = title in ("Covariances", "Intercepts", "Variances")
    prefixes = ["  ." if dotted and n in residual else "" for n in names]
    cells = _name_cells(names, [e.label for e in entries], prefixes)
    blank = ("",) * len(entries[0].cells)
    rows: list[tuple[str, ...]] = []
    previous = None
    for entry, cell in zip(entries, cells, strict=True):
        if grouped:
            lhs = f"{entry.row.lhs} {entry.row.op.value}"
            if efa_of and entry.row.op is Op.MEASURED and entry.row.lhs in efa_of:
                lhs += f" {efa_of[entry.row.lhs]}"  # lavaan: 'f1 =~ efa1', the factor's block
            if lhs != previous:
                dot = "." if title == "Covariances" and entry.row.lhs in residual else ""
                rows.append((f"{dot:>1}{lhs:<15}", *blank))
            previous = lhs
        rows.append((cell, *entry.cells))
    return _print_matrix(title, header, rows)


# lavaan's sections of a block: title, which rows, whether rows are grouped under "lhs op"
_SECTIONS = (
    ("Latent Variables", lambda r, ov: r.op is Op.MEASURED and r.lhs not in ov, True),
    ("Composites", lambda r, ov: r.op is Op.FORMATIVE, True),
    ("Regressions", lambda r, ov: r.op is Op.REGRESSION, True),
    ("Covariances", lambda r, ov: r.op is Op.COVARIANCE and r.lhs != r.rhs and not r.exo, True),
    ("Intercepts", lambda r, ov: r.op is Op.INTERCEPT and not r.exo, False),
    ("Thresholds", lambda r, ov: r.op is Op.THRESHOLD, False),
    ("Variances", lambda r, ov: r.op is Op.COVARIANCE and r.lhs == r.rhs and not r.exo, False),
    ("Scales y*", lambda r, ov: r.op is Op.SCALING, False),
)


def _block_sections(entries, block, header, residual, efa_of=None) -> list[str]:
    mine = [e for e in entries if e.row.block == block.index and e.row.is_model_parameter]
    observed = set(block.observed)
    lines: list[str] = []
    for title, belongs, grouped in _SECTIONS:
        chosen = [e for e in mine if belongs(e.row, observed)]
        lines += _section(title, chosen, header, residual, grouped, efa_of)
    return lines


def _constraint_text(row) -> str:
    lhs, op, rhs = row.lhs, row.op, row.rhs
    if op is Op.LESS:
        return f"0 - ({lhs})" if rhs == "0" else f"{rhs} - ({lhs})"
    return f"{lhs} - 0" if rhs == "0" else f"{lhs} - ({rhs})"


def _model_wide(entries: list[_Entry], header: tuple[str, ...]) -> list[str]:
    defined = [e for e in entries if e.row.op is Op.DEFINED]
    lines: list[str] = []
    if defined:
        names = _name_cells([e.row.lhs for e in defined], [""] * len(defined), [""] * len(defined))
        rows = [(n, *e.cells) for n, e in zip(names, defined, strict=True)]
        lines += _print_matrix("Defined Parameters", header, rows)
    constraints = [e for e in entries if e.row.op in (Op.EQUAL, Op.LESS, Op.GREATER)]
    if constraints:
        rows = [
            (f"   {abbreviate(_constraint_text(e.row), 41):<41}", f"{format_number(abs(e.est)):>8}")
            for e in constraints
        ]
        lines += _print_matrix("Constraints", ("", "|Slack|".rjust(_CELL)), rows)
    return lines


def _rsquare_section(rsquare) -> list[str]:
    """lavaan's "R-Square:" block of one group or level."""
    if rsquare is None or rsquare.empty:
        return []
    names = list(rsquare.index)
    cells = _name_cells(names, [""] * len(names), [""] * len(names))
    rows = [(c, f"{format_number(v):>{_CELL}}") for c, v in zip(cells, rsquare, strict=True)]
    return _print_matrix("R-Square", ("", "Estimate".rjust(_CELL)), rows)


def _estimates(
    fit, standardized: bool, rsquare: bool = False, ci: bool = False, level: float = 0.95
) -> list[str]:
    columns: tuple[str, ...] = ("est", "se", "z", "pvalue")
    columns += ("ci_lower", "ci_upper") if ci else ()  # lavaan's summary(ci = TRUE)
    columns += ("std_lv", "std_all") if standardized else ()
    entries = _entries(fit, columns, level)
    header = ("", *(_COLUMNS[c].rjust(_CELL) for c in columns))
    table = fit.table
    residual = _residual_names(table)
    efa_of = {factor: s.name for s in table.efa_sets for factor in s.factors}
    level_labels = ("within", fit.table.options.cluster or "cluster")
    lines: list[str] = []
    if rsquare:
        from semlang.results.inspect import r_squared_blocks

        r2_blocks = r_squared_blocks(fit)
    for block in table.blocks:
        if table.ngroups > 1 and block.level == 1:
            label = table.group_labels[block.group - 1]
            lines += ["", "", f"Group {block.group} [{label}]:"]
        if table.nlevels > 1:
            lines += ["", "", f"Level {block.level} [{level_labels[block.level - 1]}]:"]
        lines += _block_sections(entries, block, header, residual, efa_of)
        if rsquare:
            lines += _rsquare_section(r2_blocks[table.blocks.index(block)])
    return lines + _model_wide(entries, header)


def summary_text(
    fit,
    standardized: bool = False,
    *,
    fit_measures: bool = False,
    rsquare: bool = False,
    ci: bool = False,
    level: float = 0.95,
    modindices: bool = False,
) -> Summary:
    """The lavaan-style summary of ``fit`` (``standardized``: add Std.lv and Std.all columns;
    ``fit_measures``: add lavaan's fit-measure blocks after the model test; ``rsquare``: an
    "R-Square:" block after each group's or level's parameters; ``ci``: add the ci.lower and
    ci.upper columns at ``level``; ``modindices``: the modification indices at the end)."""
    measures = fit.fit_measures()
    lines = _opening(fit)
    lines += ["", *_optimizer(fit), *_rotation(fit), "", *_data(fit), "", *_test(fit, measures)]
    if fit_measures and Test.NONE not in fit.options.test:  # lavaan: none without a test
        lines += _fit_measures(measures)
    lines += ["", *_se_block(fit)]
    lines += _estimates(fit, standardized, rsquare, ci, level)
    if modindices:
        from semlang.results.modindices import modindices_text

        lines += ["", *modindices_text(fit.modindices())]
    return Summary(lines)
