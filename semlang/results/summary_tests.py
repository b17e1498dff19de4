"""Fit -> the "Model Test User Model" block of the summary, laid out as lavaan prints it.

Input: a :class:`~semlang.results.fit.Fit` and its fit measures. Output: the block's lines: the
standard statistic, each scaled test beside it in a "Scaled" column (statistic, df, p-value,
scaling factor, the shift of the scaled-and-shifted test and lavaan's label of the test) and
each residual-based test (Browne's) in a block of its own.
"""

from __future__ import annotations

import math

from semlang.options import Test
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


def model_test(fit, measures: dict) -> list[str]:
    """The model test: the standard statistic, each scaled test beside it (the first from the
    fit measures) and each residual-based test in a block of its own, as lavaan prints them."""
    df = measures.get("df")
    lines = ["Model Test User Model:"]
    extra = [t for t in fit.options.test if t not in (Test.STANDARD, Test.NONE)]
    results = {}
    if len(extra) > 1 or (extra and not extra[0].is_scaled):
        from semlang.results.tests import test_results

        results = {r.test: r for r in test_results(fit)}
    first = fit.options.scaled_test
    if first is None:
        rows = [("", ""), ("Test statistic", format_number(measures.get("chisq")))]
        rows.append(("Degrees of freedom", _count(df)))
        if df:
            rows.append(("P-value (Chi-square)", format_number(measures.get("pvalue"))))
        return lines + _pairs(rows, (43, 8)) + _residual_blocks(extra, results)
    shift = measures.get("chisq_shift_parameter", math.nan)
    factor = measures.get("scaling_factor", measures.get("chisq_scaling_factor", math.nan))
    values = (measures["chisq_scaled"], measures.get("df_scaled", df),
              measures.get("pvalue_scaled", math.nan), factor, shift)  # fmt: skip
    rows = [("", "Standard", "Scaled"), *_scaled_rows(first, measures, values)]
    for test in extra:
        if test.is_scaled and test is not first:
            r = results[test]
            values = (r.stat, r.df, r.pvalue, r.scaling_factor, r.shift_parameter)
            rows += [("", "", ""), *_scaled_rows(test, measures, values)]
    return lines + _pairs(rows, (43, 8, 11)) + _residual_blocks(extra, results)


def _scaled_rows(test: Test, measures: dict, values: tuple) -> list[tuple[str, str, str]]:
    """One scaled test's rows: statistic, df, p-value, scaling factor (and shift), its label."""
    stat, df_scaled, pvalue, factor, shift = values
    df = measures.get("df")
    rows = [
        ("Test Statistic", format_number(measures["chisq"]), format_number(stat)),
        ("Degrees of freedom", _count(df), _count(df_scaled)),
    ]
    if df:
        rows.append(("P-value (Chi-square)", format_number(measures.get("pvalue")),
                     format_number(pvalue)))  # fmt: skip
        rows.append(("Scaling correction factor", "", format_number(factor)))
        if test is Test.SCALED_SHIFTED:
            rows.append(("Shift parameter", "", format_number(shift)))
        rows.append((f"  {TEST_LABELS[test]}", "", ""))
    return rows


def _residual_blocks(tests: list[Test], results: dict) -> list[str]:
    """A block per residual-based test (a statistic of its own, not scaled)."""
    lines: list[str] = []
    for test in tests:
        if test.is_scaled or test not in results:
            continue
        r = results[test]
        rows = [
            ("", ""),
            (TEST_LABELS.get(test, test.value), ""),
            ("Test statistic", format_number(r.stat)),
            ("Degrees of freedom", _count(r.df)),
        ]
        if r.df:
            rows.append(("P-value (Chi-square)", format_number(r.pvalue)))
        lines += _pairs(rows, (43, 8))
    return lines
