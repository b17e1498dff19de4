"""The fit-measure functions of :mod:`semlang.results.measures` and
:mod:`semlang.results.residual_measures` on small inputs checked by hand (lavaan's definitions,
including the cases where lavaan returns 1 or NA)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from semlang.results import measures

# X² = 10 on 5 df against a baseline X²_0 = 110 on 10 df
ARGS = (10.0, 5.0, 110.0, 10.0)


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (measures.nnfi, 1 - (5 * 10) / (100 * 5)),
        (measures.rni, 1 - 5 / 100),
        (measures.nfi, 100 / 110),
        (measures.rfi, (11 - 2) / 11),
        (measures.pnfi, 0.5 * 100 / 110),
        (measures.ifi, 100 / 105),
    ],
)
def test_incremental_indices(function, expected):
    assert function(*ARGS) == pytest.approx(expected, rel=1e-12)


def test_incremental_indices_at_their_edges():
    assert math.isnan(measures.nfi(10.0, 12.0, 110.0, 10.0))  # df > df_0
    assert measures.nfi(0.0, 0.0, 110.0, 10.0) == 1.0  # saturated model
    assert math.isnan(measures.rfi(10.0, 12.0, 110.0, 10.0))
    assert measures.rfi(60.0, 5.0, 110.0, 10.0) == 1.0  # X²/df above X²_0/df_0
    assert measures.ifi(10.0, 5.0, 3.0, 10.0) == 1.0  # X²_0 − df < 0
    assert math.isnan(measures.rni(10.0, 5.0, 10.0, 10.0))  # X²_0 − df_0 == 0
    assert math.isnan(measures.pnfi(10.0, 5.0, 110.0, 0.0))
    assert math.isnan(measures.nfi(math.nan, 5.0, 110.0, 10.0))


def test_information_criteria_and_other_indices():
    assert measures.sabic(-100.0, 3, 22) == pytest.approx(200.0)  # log((22 + 2)/24) = 0
    assert measures.sabic(-100.0, 2, 46) == pytest.approx(200.0 + 2 * math.log(2.0))
    assert measures.ecvi(10.0, 5, 100) == pytest.approx(0.2)
    assert measures.mfi(10.0, 10.0, 50) == 1.0
    assert measures.mfi(20.0, 10.0, 5) == pytest.approx(math.exp(-1.0))
    assert measures.fmin(10.0, 5) == pytest.approx(1.0)
    # the 95% quantile of χ²(1) is 3.8414588...: N / (X²/χ²_crit) + 1
    assert measures.cn(3.841458820694124, 1, 100, 0.05) == pytest.approx(101.0)
    assert measures.cn(6.634896601021214, 1, 100, 0.01) == pytest.approx(101.0)
    assert math.isnan(measures.cn(0.0, 0, 100))
    assert measures.cn(0.0, 5, 100) == math.inf  # lavaan: qchisq(.95, df) / 0 + 1 = Inf


def test_not_close_fit_is_the_other_tail():
    close = measures.rmsea_pvalue(30.0, 20, 200, 1, close=0.08)
    assert measures.rmsea_notclose_pvalue(30.0, 20, 200, 1) == pytest.approx(1.0 - close)
    assert measures.rmsea_notclose_pvalue(30.0, 20, 200, 1, 0.0) == pytest.approx(
        1.0 - measures.chisq_pvalue(30.0, 20)
    )
    assert math.isnan(measures.rmsea_notclose_pvalue(0.0, 0, 200))


def test_gfi_family():
    identity = np.eye(2)
    assert measures.gfi([([1.0, 2.0], [1.0, 1.0], identity, 10)]) == pytest.approx(0.8)
    assert measures.gfi([([1.0, 2.0], [1.0, 1.0], np.ones(2), 10)]) == pytest.approx(0.8)
    two = [([1.0, 2.0], [1.0, 1.0], identity, 30), ([1.0, 2.0], [1.0, 2.0], identity, 10)]
    assert measures.gfi(two) == pytest.approx(0.75 * 0.8 + 0.25 * 1.0)
    assert measures.agfi(0.9, 10, 5) == pytest.approx(0.8)
    assert measures.agfi(0.9, 10, 0) == 1.0
    assert measures.pgfi(0.9, 10, 5) == pytest.approx(0.45)
    assert math.isnan(measures.pgfi(0.9, 0, 5))


# S = [[4, 1], [1, 1]], Σ̂ = [[2, .5], [.5, 1]], m = (2, 1), μ̂ = (1, 1)
S = np.array([[4.0, 1.0], [1.0, 1.0]])
SIGMA = np.array([[2.0, 0.5], [0.5, 1.0]])
M, MU = np.array([2.0, 1.0]), np.array([1.0, 1.0])
COR = 0.5 - 0.5 / math.sqrt(2.0)  # cor(S)_12 − cor(Σ̂)_12


def test_residual_summary_by_hand():
    out = measures.residual_summary([(S, M, SIGMA, MU, 10)])
    expected = {
        "rmr": math.sqrt((4 + 0.25 + 1) / 5),  # raw: 2, .5, 0 and means 1, 0
        "rmr_nomean": math.sqrt(4.25 / 3),
        "srmr": math.sqrt((0.25 + 0.0625 + 0.25) / 5),  # by the sample sds 2 and 1
        "srmr_bentler": math.sqrt((0.25 + 0.0625 + 0.25) / 5),
        "srmr_bentler_nomean": math.sqrt(0.3125 / 3),
        "crmr": math.sqrt((COR**2 + 0.25) / 3),  # the diagonal is not counted
        "crmr_nomean": COR,
        "srmr_mplus": math.sqrt((COR**2 + 0.25 + (1 - 1 / math.sqrt(2.0)) ** 2) / 5),
        "srmr_mplus_nomean": math.sqrt((COR**2 + 0.25) / 3),
    }
    assert list(out) == list(expected)
    for key, value in expected.items():
        assert out[key] == pytest.approx(value, rel=1e-12), key


def test_residual_summary_without_means_and_with_groups():
    one = measures.residual_summary([(S, None, SIGMA, None, 10)])
    assert one["rmr"] == one["rmr_nomean"] == pytest.approx(math.sqrt(4.25 / 3))
    assert one["srmr_mplus"] == one["srmr_mplus_nomean"]
    perfect = measures.residual_summary([(S, None, S, None, 30)])
    assert all(value == pytest.approx(0.0, abs=1e-15) for value in perfect.values())
    both = measures.residual_summary([(S, None, SIGMA, None, 10), (S, None, S, None, 30)])
    assert both["crmr"] == pytest.approx(0.25 * COR)
