"""Categorical models (thresholds, delta and theta, WLSMV and kin) against lavaan 0.6.14,
fitted on lavaan's own sample statistics (tests/reference/categorical_fit): the model side,
apart from the sample statistics."""

from __future__ import annotations

import numpy as np
import pytest
from categorical_cases import fit_case, load
from reference_cases import FIT_MEASURE_KIND, assert_matches, row_key

# lavaan's measures a categorical fit does not give yet (see docs/categorical.md)

SINGLE = ["hs3_wlsmv", "hs3_wlsmv_stdlv", "hs3_theta", "hs3_dwls", "hs3_wls", "hs3_uls",
          "hs3_ulsmv", "hs3_wlsm", "hs3_wlsmvs", "hs2_wlsmv", "hs3_syntax", "mixed_cfa_wlsmv",
          "hs3_pairwise", "mixed_wlsmv",
          "hs3_groups_configural", "hs3_groups_thresholds", "hs3_groups_intercepts",
          "hs3_groups_theta"]  # fmt: skip


@pytest.fixture(scope="module", params=SINGLE)
def case_fit(request):
    return request.param, fit_case(request.param)


def _kind(name: str) -> str:
    if name in FIT_MEASURE_KIND:
        return FIT_MEASURE_KIND[name]
    if "chisq" in name and "factor" not in name and "shift" not in name:
        return "chisq"
    if "factor" in name or "shift" in name or name.startswith("df"):
        return "scaling"
    return "fit_index"


def test_estimates(case_fit):
    name, fit = case_fit
    assert fit.converged
    frame = fit.estimates()
    mine = {(r.lhs, r.op, r.rhs, int(r.group)): r for r in frame.itertuples()}
    for ref in load(name)["estimates"]:
        row = mine[row_key(ref)]
        what = f"{name} {row_key(ref)}"
        assert_matches("est", row.est, ref["est"], what + " est")
        assert_matches("se", row.se, ref["se"], what + " se")
        assert_matches("std_all", row.std_all, ref["std.all"], what + " std.all")
        assert_matches("std_all", row.std_lv, ref["std.lv"], what + " std.lv")


def test_fit_measures(case_fit):
    name, fit = case_fit
    measures = fit.fit_measures()
    for key, value in load(name)["fit_measures"].items():
        key = key.replace(".", "_")
        actual = measures[key]
        if value is None:
            assert actual is None or np.isnan(actual), key
            continue
        assert_matches(_kind(key), actual, value, f"{name} {key}")


def test_gradient_and_information_are_the_derivatives():
    """The analytic gradient and Δ are those of finite differences (delta and theta, a
    covariate, groups)."""
    for name in ("hs3_wlsmv", "hs3_theta", "mixed_wlsmv", "hs3_groups_theta"):
        fit = fit_case(name)
        objective = fit.estimation.objective
        theta = fit.theta + 0.05 * np.sin(np.arange(len(fit.theta)))
        _, grad = objective.value_and_gradient_theta(theta)
        step = 1e-6
        numeric = np.array([
            (objective.value_theta(theta + step * e) - objective.value_theta(theta - step * e))
            / (2 * step) for e in np.eye(len(theta))
        ])  # fmt: skip
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)
        jac = objective.jacobians(theta)[0]
        numeric_jac = np.column_stack([
            (objective.vectors(theta + step * e)[0] - objective.vectors(theta - step * e)[0])
            / (2 * step) for e in np.eye(len(theta))
        ])  # fmt: skip
        np.testing.assert_allclose(jac, numeric_jac, rtol=1e-5, atol=1e-8)


SUMMARIES = ["hs3_wlsmv", "hs3_theta", "hs3_syntax", "mixed_cfa_wlsmv", "hs3_wlsmvs", "hs2_wlsmv",
             "hs3_pairwise", "mixed_wlsmv"]  # fmt: skip


@pytest.mark.parametrize("name", SUMMARIES)
def test_summary_is_lavaans(name):
    """summary(fit_measures=True, standardized=True) line by line as lavaan's (Thresholds and
    Scales y* sections included), but for the optimizer's name."""
    fit = fit_case(name)
    text = fit.summary(fit_measures=True, standardized=True)
    mine = [line.rstrip() for line in str(text).splitlines()]
    ref = [line.rstrip() for line in load(name)["summary"]]
    while ref and not ref[-1]:
        ref.pop()
    assert len(mine) == len(ref)
    for k, (a, b) in enumerate(zip(mine[1:], ref[1:], strict=True)):
        if "Optimization method" not in b:
            assert a == b, f"line {k + 2}"
