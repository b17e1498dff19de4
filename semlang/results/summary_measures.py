"""Fit measures -> lavaan's ``summary(fit.measures = TRUE)`` blocks of the summary.

Input: the fit's measures (``fit.fit_measures()``, lavaan's names with '_'). Output: the lines of
the blocks Model Test Baseline Model, User Model versus Baseline Model, Loglikelihood and
Information Criteria, Root Mean Square Error of Approximation and Standardized Root Mean Square
Residual, for the measures the fit has: with a scaled test in two columns ("Standard", "Scaled")
plus the robust rows in the second, else in one column.
"""

from __future__ import annotations

from semlang.results.summary import _count, _pairs, format_number

# lavaan's summary(fit.measures = TRUE): (title, rows); a row is (label, standard key, scaled
# key) — with a scaled test the two columns "Standard" and "Scaled", else the first key (or,
# for the robust rows, the second) in one column; None is a blank line between sub-blocks.
# "{level}", "{close}" and "{notclose}" in labels come from the measures.
_MEASURE_SECTIONS = (
    (
        "Model Test Baseline Model:",
        (
            ("Test statistic", "baseline_chisq", "baseline_chisq_scaled"),
            ("Degrees of freedom", "baseline_df", "baseline_df_scaled"),
            ("P-value", "baseline_pvalue", "baseline_pvalue_scaled"),
            ("Scaling correction factor", None, "baseline_chisq_scaling_factor"),
        ),
    ),
    (
        "User Model versus Baseline Model:",
        (
            ("Comparative Fit Index (CFI)", "cfi", "cfi_scaled"),
            ("Tucker-Lewis Index (TLI)", "tli", "tli_scaled"),
            None,
            ("Robust Comparative Fit Index (CFI)", None, "cfi_robust"),
            ("Robust Tucker-Lewis Index (TLI)", None, "tli_robust"),
        ),
    ),
    (
        "Loglikelihood and Information Criteria:",
        (
            ("Loglikelihood user model (H0)", "logl", "logl"),
            ("Scaling correction factor", None, "scaling_factor_h0"),
            ("    for the MLR correction", None, "scaling_factor_h0"),
            ("Loglikelihood unrestricted model (H1)", "unrestricted_logl", "unrestricted_logl"),
            ("Scaling correction factor", None, "scaling_factor_h1"),
            ("    for the MLR correction", None, "scaling_factor_h1"),
            None,
            ("Akaike (AIC)", "aic", "aic"),
            ("Bayesian (BIC)", "bic", "bic"),
            ("Sample-size adjusted Bayesian (SABIC)", "bic2", "bic2"),
        ),
    ),
    (
        "Root Mean Square Error of Approximation:",
        (
            ("RMSEA", "rmsea", "rmsea_scaled"),
            ("{level} Percent confidence interval - lower", "rmsea_ci_lower",
             "rmsea_ci_lower_scaled"),
            ("{level} Percent confidence interval - upper", "rmsea_ci_upper",
             "rmsea_ci_upper_scaled"),
            ("P-value H_0: RMSEA <= {close}", "rmsea_pvalue", "rmsea_pvalue_scaled"),
            ("P-value H_0: RMSEA >= {notclose}", "rmsea_notclose_pvalue",
             "rmsea_notclose_pvalue_scaled"),
            None,
            ("Robust RMSEA", None, "rmsea_robust"),
            ("{level} Percent confidence interval - lower", None, "rmsea_ci_lower_robust"),
            ("{level} Percent confidence interval - upper", None, "rmsea_ci_upper_robust"),
            ("P-value H_0: Robust RMSEA <= {close}", None, "rmsea_pvalue_robust"),
            ("P-value H_0: Robust RMSEA >= {notclose}", None, "rmsea_notclose_pvalue_robust"),
        ),
    ),
    ("Standardized Root Mean Square Residual:", (("SRMR", "srmr", "srmr"),)),
)  # fmt: skip


def _measure_cell(measures: dict, key: str | None) -> str:
    if key is None or key not in measures:
        return ""
    value = measures[key]
    return _count(value) if "df" in key.split("_") else format_number(value)


def _measure_row(measures: dict, row: tuple, scaled: bool) -> tuple[str, ...] | None:
    """One row's cells, or None when the fit has none of its measures."""
    label, standard, other = row
    if not any(k in measures for k in (standard, other) if k):
        return None
    labels = {
        "level": format(100 * measures.get("rmsea_ci_level", 0.90), "g"),
        "close": f"{measures.get('rmsea_close_h0', 0.05):.3f}",
        "notclose": f"{measures.get('rmsea_notclose_h0', 0.08):.3f}",
    }
    label = label.format(**labels)
    blank = label.startswith("    ")  # "for the MLR correction" under a scaling factor
    if scaled:
        if blank:
            return (label, "", "")
        return (label, _measure_cell(measures, standard), _measure_cell(measures, other))
    if standard is None and not other.endswith("_robust"):
        return None  # a scaled-only row
    return (label, "") if blank else (label, _measure_cell(measures, standard or other))


def _measure_rows(measures: dict, items: tuple, scaled: bool) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    pending = False
    for item in items:
        if item is None:
            pending = bool(rows)
            continue
        row = _measure_row(measures, item, scaled)
        if row is None:
            continue
        if pending:
            rows.append(("",) * len(row))
            pending = False
        rows.append(row)
    return rows


def fit_measure_blocks(measures: dict) -> list[str]:
    """lavaan's ``summary(fit.measures = TRUE)`` blocks, for the measures the fit has."""
    scaled = "chisq_scaled" in measures
    widths = (43, 8, 11) if scaled else (43, 8)
    lines: list[str] = []
    for title, items in _MEASURE_SECTIONS:
        rows = _measure_rows(measures, items, scaled)
        if rows:
            lines += ["", title, "", *_pairs(rows, widths)]
    return lines
