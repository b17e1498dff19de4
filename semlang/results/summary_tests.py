"""Fit -> the "Model Test User Model" block of the summary, laid out as lavaan prints it.

Input: a :class:`~semlang.results.fit.Fit`. Output: the block's lines, in lavaan's order: each
scaled test beside the standard statistic in a "Scaled" column (statistic, df, p-value, scaling
factor, the shift of the scaled-and-shifted test and lavaan's label of the test), then each test
that is a statistic of its own (the standard one when no test is scaled, Browne's residual tests,
the Bollen-Stine bootstrap p-value) in a column of its own; with several groups each block is
followed by the groups' statistics ("Test statistic for each group"). With ``test="none"`` there
is no block, as in lavaan.
"""

from __future__ import annotations

import math

from semlang.options import Estimator, Test
from semlang.results.summary import _count, _pairs, format_number

# lavaan's label of each test in the summary
TEST_LABELS = {
    Test.SATORRA_BENTLER: "Satorra-Bentler correction",
    Test.YUAN_BENTLER: "Yuan-Bentler correction",
    Test.YUAN_BENTLER_MPLUS: "Yuan-Bentler correction (Mplus variant)",
    Test.MEAN_VAR_ADJUSTED: "mean and variance adjusted correction",
    Test.SCALED_SHIFTED: "simple second-order correction",
    Test.BROWNE_RESIDUAL_ADF: "Browne's residual-based (ADF) test",
    Test.BROWNE_RESIDUAL_NT: "Browne's residual-based (NT) test",
    Test.BROWNE_RESIDUAL_ADF_MODEL: "Browne's residual (ADF model-based) test",
    Test.BROWNE_RESIDUAL_NT_MODEL: "Browne's residual (NT model-based) test",
}
_ONE, _TWO = (43, 8), (43, 8, 11)


def model_test(fit, measures: dict) -> list[str]:
    """The model test block as lavaan prints it (no lines for ``test="none"``)."""
    if not fit.options.test or fit.options.test[0] is Test.NONE:
        return []
    results = _results(fit, measures)
    standard = next(r for r in results if r.test is Test.STANDARD)
    scaled = [r for r in results if r.test.is_scaled]
    single = [r for r in results if not r.test.is_scaled]
    if scaled:
        single = [r for r in single if r.test is not Test.STANDARD]
    labels = _group_labels(fit)
    lines = ["Model Test User Model:"]
    for k, result in enumerate(scaled):
        head = ("", "Standard", "Scaled") if k == 0 else ("", "", "")
        rows: list[tuple[str, ...]] = [head, *_scaled_rows(fit, standard, result)]
        lines += _pairs(rows, _TWO) + _groups(labels, _TWO, standard, result)
    for result in single:
        rows = [("", ""), *_single_rows(fit, result)]
        lines += _pairs(rows, _ONE) + _groups(labels, _ONE, result)
    return lines


def _results(fit, measures: dict) -> list:
    """The tests' results; the standard statistic alone from the measures."""
    from semlang.results.tests import TestResult, test_results

    if any(t not in (Test.STANDARD, Test.NONE) for t in fit.options.test):
        return [r for r in test_results(fit) if r.test is not Test.NONE]
    groups = fit.statistics.chisq_groups if fit.table.ngroups > 1 else ()
    stat, df, pvalue = (measures.get(k, math.nan) for k in ("chisq", "df", "pvalue"))
    return [TestResult(Test.STANDARD, stat, df, pvalue, stat_groups=groups)]


def _group_labels(fit) -> list[str]:
    table = fit.table
    return list(table.group_labels) if table.ngroups > 1 else []


def _pvalue_label(fit, test: Test) -> str:
    """lavaan's reference distribution of a statistic, in the p-value's label."""
    if test is Test.BOLLEN_STINE:
        return "P-value (Bollen-Stine bootstrap)"
    if test is Test.STANDARD and fit.options.estimator is Estimator.ULS:
        return "P-value (Unknown)"
    return "P-value (Chi-square)"


def _scaled_rows(fit, standard, result) -> list[tuple[str, str, str]]:
    """One scaled test's rows beside the standard statistic: statistic, df, p-value, scaling
    factor (and shift), its label; the test's observed information when it is not the SEs'."""
    rows = [
        ("Test Statistic", format_number(standard.stat), format_number(result.stat)),
        ("Degrees of freedom", _count(standard.df), _count(result.df)),
    ]
    if standard.df:
        rows.append((_pvalue_label(fit, Test.STANDARD), format_number(standard.pvalue),
                     format_number(result.pvalue)))  # fmt: skip
        rows.append(("Scaling correction factor", "", format_number(result.scaling_factor)))
        if result.test is Test.SCALED_SHIFTED:
            rows.append(("Shift parameter", "", format_number(result.shift_parameter)))
        rows.append((f"  {TEST_LABELS[result.test]}", "", ""))
    if fit.options.test_observed_h1 and fit.options.information.value == "observed":
        rows.append(("Observed information based on", "H1", ""))
    return rows


def _single_rows(fit, result) -> list[tuple[str, str]]:
    """A statistic of its own: its label (if lavaan gives one), statistic, df, p-value."""
    rows: list[tuple[str, str]] = []
    if result.test in TEST_LABELS:
        rows.append((TEST_LABELS[result.test], ""))
    rows += [("Test statistic", format_number(result.stat)), ("Degrees of freedom",
             _count(result.df))]  # fmt: skip
    if result.df:
        rows.append((_pvalue_label(fit, result.test), format_number(result.pvalue)))
    return rows


def _groups(labels: list[str], widths: tuple[int, ...], *results) -> list[str]:
    """lavaan's "Test statistic for each group" lines (several groups only)."""
    if not labels:
        return []
    rows = [
        (f"  {label}", *(format_number(r.stat_groups[g]) for r in results))
        for g, label in enumerate(labels)
    ]
    return ["  Test statistic for each group:", *_pairs(rows, widths)]
