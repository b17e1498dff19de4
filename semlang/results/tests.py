"""Fit -> the test statistics the options ask for (lavaan's ``test=``), one registry.

Input: a :class:`~semlang.results.fit.Fit` and its standard measures. Output: the measures of the
first scaled test (``chisq_scaled``, ``scaling_factor``, the scaled and robust CFI/TLI/RMSEA, ...
under lavaan's names) and one :class:`TestResult` per test asked for, as lavaan's
``lavInspect(fit, "test")``. A new scaled test is a function in :data:`SCALED_TESTS`; a test that
is not a scaling of the standard statistic (the Bollen-Stine bootstrap) is a function in
:data:`OTHER_TESTS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from semlang.errors import NotSupportedError
from semlang.options import Test
from semlang.results import measures


@dataclass(frozen=True)
class TestResult:
    """One test statistic: its value, df, p-value and, for scaled tests, the scaling; for
    bootstrap tests the number of successful draws (lavaan's ``boot.length``)."""

    test: Test
    stat: float
    df: float
    pvalue: float
    scaling_factor: float = math.nan
    shift_parameter: float = math.nan
    stat_groups: tuple[float, ...] = ()
    boot_length: int | None = None


def _yuan_bentler_mplus(fit, base: dict) -> dict:
    from semlang.results.robust import scaled_test

    return scaled_test(fit, base)


# test -> function(fit, standard measures) -> the scaled measures under lavaan's names
SCALED_TESTS: dict[Test, Callable[..., dict]] = {
    Test.YUAN_BENTLER_MPLUS: _yuan_bentler_mplus,
}


def _bollen_stine(fit, base: dict) -> TestResult:
    from semlang.results.bootstrap_lavaan import bollen_stine_pvalue

    draws = fit.bollen_stine
    return TestResult(Test.BOLLEN_STINE, base["chisq"], base["df"],
                      bollen_stine_pvalue(base["chisq"], draws),
                      stat_groups=fit.statistics.chisq_groups,
                      boot_length=draws.n_completed)  # fmt: skip


# test -> function(fit, standard measures) -> its TestResult (tests that are not scaled)
OTHER_TESTS: dict[Test, Callable[..., TestResult]] = {
    Test.BOLLEN_STINE: _bollen_stine,
}


def scaled_measures(fit, base: dict) -> dict:
    """The ``*_scaled`` and ``*_robust`` measures of the fit's first scaled test; without one,
    under FIML, lavaan's FIML-corrected robust CFI/TLI/RMSEA; else {}."""
    test = fit.options.scaled_test
    if test is None:
        if fit.table.options.missing.is_fiml and fit.table.nlevels == 1:
            from semlang.results.robust import fiml_robust_measures

            return fiml_robust_measures(fit, base)
        return {}
    return _scaled(test)(fit, base)


def _scaled(test: Test) -> Callable[..., dict]:
    if test not in SCALED_TESTS:
        raise NotSupportedError(
            f"test={test.value!r} is not computed yet", None, None,
            hint="use test='yuan.bentler.mplus' (estimator='MLR')",
        )  # fmt: skip
    return SCALED_TESTS[test]


def test_results(fit) -> tuple[TestResult, ...]:
    """One result per test of ``fit.options.test`` (lavaan's order; none for test='none')."""
    base = fit.fit_measures()
    out = []
    for test in fit.options.test:
        if test is Test.NONE:
            continue
        if test is Test.STANDARD:
            out.append(TestResult(test, base["chisq"], base["df"], base["pvalue"],
                                  stat_groups=fit.statistics.chisq_groups))  # fmt: skip
            continue
        if test in OTHER_TESTS:
            out.append(OTHER_TESTS[test](fit, base))
            continue
        values = base if test is fit.options.scaled_test else _scaled(test)(fit, base)
        stat, df = values["chisq_scaled"], values.get("df_scaled", base["df"])
        out.append(TestResult(
            test, stat, df, values.get("pvalue_scaled", measures.chisq_pvalue(stat, df)),
            scaling_factor=values.get("chisq_scaling_factor", math.nan),
            shift_parameter=values.get("chisq_shift_parameter", math.nan),
        ))  # fmt: skip
    return tuple(out)
