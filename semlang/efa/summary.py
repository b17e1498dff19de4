"""The text summary of an EfaList, laid out as lavaan's summary(efa()).

Input: an EfaList and the display options (cutoff, dot_cutoff, alpha_level, nd). Output: text —
the header, the fit table ("Overview models" for several numbers of factors), the eigenvalues
of the correlation matrix, then per number of factors the standardized loadings (blank below
``dot_cutoff``, "." below ``cutoff``, "*" where |z| of the standardized loading exceeds the
normal quantile of ``alpha_level``), unique variances and communalities, the sums of squared
loadings and the factor correlations.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .. import __version__

PARAMETER_LINES = {"geomin": ("Geomin epsilon", "geomin_epsilon"),
                   "orthomax": ("Orthomax gamma", "orthomax_gamma"),
                   "cf": ("Crawford-Ferguson gamma", "cf_gamma"),
                   "oblimin": ("Oblimin gamma", "oblimin_gamma"),
                   "promax": ("Promax kappa", "promax_kappa")}  # fmt: skip
DEFAULTS = {"geomin_epsilon": 0.001, "orthomax_gamma": 1, "cf_gamma": 0, "oblimin_gamma": 0,
            "promax_kappa": 4}  # fmt: skip


def render(result, cutoff: float, dot_cutoff: float, alpha_level: float, nd: int) -> str:
    """The summary text (see the module docstring)."""
    fits = list(result)
    first = fits[0]
    lines = [f"semlang {__version__} -- exploratory factor analysis", ""]
    lines += _header(first, nd)
    width = 19 + max(0, nd - 3) * 4
    total = getattr(first, "ntotal", None)  # rows with a missing value deleted: both counts
    if total is not None and total != first.nobs:
        lines += ["", " " * 35 + f"{'Used':>{width}}{'Total':>12}"]
        lines += [f"  {'Number of observations':<33}{first.nobs:>{width}}{total:>12}"]
    else:
        lines += ["", f"  {'Number of observations':<33}{first.nobs:>{width}}"]
    lines += ["", "Overview models:" if len(fits) > 1 else "Fit measures:"]
    lines += _matrix_lines(result.fit_table(), nd, shift=2)
    lines += ["", "Eigenvalues correlation matrix:", ""]
    lines += _vector_lines(first.eigenvalues, [f"ev{i + 1}" for i in range(len(first.variables))],
                           nd)  # fmt: skip
    for k, fit in enumerate(fits):
        if len(fits) > 1:
            lines += [""] if k == 0 else []
            lines += [f"Number of factors:  {fit.nfactors} "]
        lines += _one_fit(fit, cutoff, dot_cutoff, alpha_level, nd)
    return "\n".join(lines) + "\n"


def _header(fit, nd: int) -> list[str]:
    r = fit.rotation
    rows = [("Estimator", fit.summary_estimator)]
    if r.method == "none":
        rows.append(("Rotation method", "NONE"))
    else:
        kind = "ORTHOGONAL" if r.orthogonal else "OBLIQUE"
        rows.append(("Rotation method", f"{r.method.upper()} {kind}"))
        if r.method in PARAMETER_LINES:
            label, key = PARAMETER_LINES[r.method]
            rows.append((label, _r_number(fit.options.get(key, DEFAULTS[key]))))
        algorithm = "PROMAX" if r.method == "promax" else str(fit.options.get("algorithm", "gpa"))
        starts = 0 if r.method == "promax" else fit.options.get("rstarts", 30)
        rows.append(("Rotation algorithm (rstarts)", f"{algorithm.upper()} ({starts})"))
        rows.append(("Standardized metric", "TRUE" if fit.options["std_ov"] else "FALSE"))
        rows.append(("Row weights", r.row_weights[:1].upper() + r.row_weights[1:]))
    width = 18 + max(0, nd - 3) * 4
    return [f"  {a:<33} {b:>{width}}" for a, b in rows]


def _r_number(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def r_format(values, nd: int, digits: int = 7) -> list[str]:
    """R's format(round(x, nd)): the fewest decimals (≤ nd) that show every value to ``digits``
    significant digits; NA for nan; right-justified to a common width."""
    decimals = 0
    for v in values:
        if v is None or not math.isfinite(v):
            continue
        v = round(v, nd)
        whole = len(str(int(abs(v)))) if abs(v) >= 1 else 0
        limit = max(0, min(nd, digits - whole))
        needed = next((d for d in range(limit + 1) if abs(round(v, d) - v) < 1e-9), limit)
        decimals = max(decimals, needed)
    texts = [f"{round(v, nd):.{decimals}f}" if v is not None and math.isfinite(v) else "NA"
             for v in values]  # fmt: skip
    width = max((len(t) for t in texts), default=0)
    return [t.rjust(width) for t in texts]


def _matrix_lines(frame, nd: int, shift: int = 0) -> list[str]:
    """A numeric table as lavaan prints a lavaan.matrix (columns formatted one by one)."""
    columns = [r_format(list(frame[c].astype(float)), nd) for c in frame.columns]
    pairs = zip(frame.columns, columns, strict=True)
    widths = [max(len(str(c)), len(col[0]) if col else 0) for c, col in pairs]
    names = [str(i) for i in frame.index]
    name_width = max(len(n) for n in names)
    pad = " " * shift
    out = [pad + " " * name_width + "".join(f" {c!s:>{w}}" for c, w in
                                            zip(frame.columns, widths, strict=True))]  # fmt: skip
    for i, name in enumerate(names):
        cells = "".join(f" {col[i]:>{w}}" for col, w in zip(columns, widths, strict=True))
        out.append(pad + f"{name:<{name_width}}" + cells)
    return out


def _vector_lines(values, names, nd: int, line_width: int = 80) -> list[str]:
    """A named vector as R prints it: cells of width nd + 4, wrapped at ``line_width``."""
    texts = r_format(list(values), nd)
    width = nd + 4
    per_line = max(1, line_width // (width + 1))
    out = []
    for start in range(0, len(texts), per_line):
        chunk = slice(start, start + per_line)
        out.append(" ".join(f"{n:>{width}}" for n in names[chunk]) + " ")
        out.append(" ".join(f"{t:>{width}}" for t in texts[chunk]) + " ")
    return out


def _stars(values, ses, alpha_level: float) -> np.ndarray:
    if ses is None or np.isnan(ses).any():
        return np.full(np.shape(values), "")
    ses = np.where(ses < np.sqrt(np.finfo(float).eps), 1.0, ses)
    critical = stats.norm.ppf(1.0 - alpha_level / 2.0)
    return np.where(np.abs(values / ses) > critical, "*", " ")


def _one_fit(fit, cutoff, dot_cutoff, alpha_level, nd) -> list[str]:
    L = fit.loadings.to_numpy()
    se = None if fit.loadings_se is None else fit.loadings_se.to_numpy()
    lines = [""]
    significance = f" (* = significant at {round(alpha_level * 100)}% level)"
    with_se = se is not None and alpha_level > 0
    lines += [f"Standardized loadings:{significance if with_se else ''}", ""]
    lines += _loading_lines(fit, L, se, cutoff, dot_cutoff, alpha_level, nd)
    lines += ["", *_sumsq_lines(fit, L, nd)]
    if not fit.rotation.orthogonal and fit.nfactors > 1:
        lines += ["", f"Factor correlations:{significance if with_se else ''}", ""]
        lines += _psi_lines(fit, alpha_level, nd)
    lines.append("")
    return lines


def _loading_lines(fit, L, se, cutoff, dot_cutoff, alpha_level, nd) -> list[str]:
    width = 3 + nd
    cells = np.array([[f"{round(v, nd):.{nd}f}".rjust(width) for v in row] for row in L])
    if dot_cutoff < cutoff:
        cells[(np.abs(L) < cutoff) & (np.abs(L) > dot_cutoff)] = ".".rjust(width)
    cells[np.abs(L) < min(dot_cutoff, cutoff)] = " " * width
    stars = _stars(L, se, alpha_level)
    cells = np.char.add(cells, stars)
    cell_width = max(len(c) for c in cells.ravel())
    names = list(fit.variables)
    name_width = max(len(n) for n in names)
    resvar = fit.unique_variances.to_numpy()
    tail = [r_format(list(np.concatenate([resvar, 1.0 - resvar])), nd)]
    wide = 12 + nd
    header = " " * name_width + "".join(
        " " + f"{f:>{width}}".ljust(cell_width) for f in fit.factors
    ) + "".join(" " + f"{h:>{wide}}" for h in ("unique.var", "communalities"))  # fmt: skip
    out = [header]
    p = len(names)
    for i, name in enumerate(names):
        row = "".join(" " + c.ljust(cell_width) for c in cells[i])
        row += f" {tail[0][i]:>{wide}} {tail[0][p + i]:>{wide}}"
        out.append(f"{name:<{name_width}}" + row)
    return out


def _sumsq_lines(fit, L, nd) -> list[str]:
    import pandas as pd

    Phi = fit.rotation.factor_cor
    sumsq = np.diag(Phi @ (L.T @ L))
    names = fit.factors
    if fit.nfactors > 1:
        order = np.argsort(-sumsq, kind="stable")
        sumsq, names = sumsq[order], [names[i] for i in order]
    p = len(fit.variables)
    table = np.vstack([sumsq, sumsq / sumsq.sum(), sumsq / p, np.cumsum(sumsq / p)])
    if fit.nfactors > 1:
        total = table.sum(axis=1)
        total[3] = total[2]
        table = np.column_stack([table, total])
        names = [*names, "total"]
        kind = "ortho" if fit.rotation.orthogonal else "obliq"
        label = f"Sum of sq ({kind}) loadings"
    else:
        label = "Sum of squared loadings"
    rows = [label, "Proportion of total", "Proportion var", "Cumulative var"]
    return _matrix_lines(pd.DataFrame(table, index=rows, columns=names), nd)


def _psi_lines(fit, alpha_level, nd) -> list[str]:
    Phi = fit.rotation.factor_cor
    m = fit.nfactors
    se = None
    if fit.se_std is not None:
        p = len(fit.variables)
        se = np.zeros((m, m))
        lower = [(j, k) for k in range(m) for j in range(k + 1, m)]
        tail = fit.se_std[p * m + p :]
        if tail.size == 0:  # unrotated: Φ = I is fixed
            tail = np.zeros(len(lower))
        for value, (j, k) in zip(tail, lower, strict=True):
            se[j, k] = se[k, j] = value
    stars = _stars(Phi, se, alpha_level)
    width = 3 + nd
    numbers = [[f"{v:.{nd}f}" for v in row] for row in Phi]
    if fit.rotation.method == "none":  # Φ = I, which R prints as 1 and 0
        numbers = [[t.strip() for t in r_format(list(row), nd)] for row in Phi]
    names = fit.factors
    cell = width + (1 if se is not None else 0)
    out = [" " * max(len(n) for n in names) + "".join(" " + f"{f:>{width}}".ljust(cell)
                                                       for f in names)]  # fmt: skip
    for j, name in enumerate(names):
        cells = []
        for k in range(m):
            text = (numbers[j][k].rjust(width) + (stars[j, k] if k < j else
                    (" " if se is not None else ""))) if k <= j else " " * cell  # fmt: skip
            cells.append(text.ljust(cell))
        out.append(f"{name:<{max(len(n) for n in names)}}" + "".join(" " + c for c in cells))
    return out
