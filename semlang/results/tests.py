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

from semlang.options import Test
from semlang.records import dataclass
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
    return fit.family.yuan_bentler_mplus(fit, base)  # one- or two-level


def _satorra_bentler_family(test: Test) -> Callable[..., dict]:
    def compute(fit, base: dict) -> dict:
        if hasattr(fit.family, "scaled_measures"):  # a family with statistics of its own
            return fit.family.scaled_measures(fit, base, test)
        from semlang.results.robust_tests import scaled_measures

        return scaled_measures(fit, base, test)

    return compute


def _browne(adf: bool, model_based: bool = False) -> Callable[..., dict]:
    def compute(fit, base: dict) -> dict:
        from semlang.results.robust_tests import browne_residual

        return browne_residual(fit, base, adf=adf, model_based=model_based)

    return compute


# test -> function(fit, standard measures) -> the scaled measures under lavaan's names
SCALED_TESTS: dict[Test, Callable[..., dict]] = {
    Test.YUAN_BENTLER_MPLUS: _yuan_bentler_mplus,
    Test.SATORRA_BENTLER: _satorra_bentler_family(Test.SATORRA_BENTLER),
    Test.MEAN_VAR_ADJUSTED: _satorra_bentler_family(Test.MEAN_VAR_ADJUSTED),
    Test.SCALED_SHIFTED: _satorra_bentler_family(Test.SCALED_SHIFTED),
    Test.YUAN_BENTLER: _satorra_bentler_family(Test.YUAN_BENTLER),
}

# test -> function(fit, standard measures) -> {stat, df, pvalue, stat_groups}: tests that are
# statistics of their own (not a scaled version of the standard one)
RESIDUAL_TESTS: dict[Test, Callable[..., dict]] = {
    Test.BROWNE_RESIDUAL_ADF: _browne(adf=True),
    Test.BROWNE_RESIDUAL_NT: _browne(adf=False),
    Test.BROWNE_RESIDUAL_ADF_MODEL: _browne(adf=True, model_based=True),
    Test.BROWNE_RESIDUAL_NT_MODEL: _browne(adf=False, model_based=True),
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
            from semlang.results.robust_fiml import fiml_robust_measures

            return fiml_robust_measures(fit, base)
        return {}
    return _scaled(test)(fit, base)


def _scaled(test: Test) -> Callable[..., dict]:
    """The function of a scaled or residual-based test (every such test has one)."""
    return RESIDUAL_TESTS[test] if test in RESIDUAL_TESTS else SCALED_TESTS[test]


def test_results(fit) -> tuple[TestResult, ...]:
    """One result per test of ``fit.options.test`` (lavaan's order; test='none' gives one
    result without a statistic, as lavaan)."""
    base = fit.fit_measures()
    out = []
    for test in fit.options.test:
        if test is Test.NONE:
            out.append(TestResult(test, math.nan, math.nan, math.nan))
            continue
        if test is Test.STANDARD:
            out.append(TestResult(test, base["chisq"], base["df"], base["pvalue"],
                                  stat_groups=fit.statistics.chisq_groups))  # fmt: skip
            continue
        if test in OTHER_TESTS:
            out.append(OTHER_TESTS[test](fit, base))
            continue
        values = base if test is fit.options.scaled_test else _scaled(test)(fit, base)
        if test in RESIDUAL_TESTS:
            out.append(TestResult(test, values["stat"], values["df"], values["pvalue"],
                                  stat_groups=values["stat_groups"]))  # fmt: skip
            continue
        out.append(_scaled_result(fit, test, values, base["df"]))
    return tuple(out)


def _scaled_result(fit, test: Test, values: dict, df: float) -> TestResult:
    """A scaled test's result; its groups' statistics T_g/c + f_g·shift (lavaan's)."""
    stat, df = values["chisq_scaled"], values.get("df_scaled", df)
    factor = values.get("chisq_scaling_factor", values.get("scaling_factor", math.nan))
    shift = values.get("chisq_shift_parameter", math.nan)
    weights = [n / fit.nobs for n in fit.sample.group_nobs]
    groups = tuple(
        t / factor + w * (0.0 if math.isnan(shift) else shift)
        for t, w in zip(fit.statistics.chisq_groups, weights, strict=True)
    )
    return TestResult(
        test, stat, df, values.get("pvalue_scaled", measures.chisq_pvalue(stat, df)),
        scaling_factor=factor, shift_parameter=shift, stat_groups=groups,
    )  # fmt: skip
