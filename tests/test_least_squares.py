"""The least-squares estimators GLS, WLS (ADF), DWLS and ULS against lavaan 0.6.14: estimates,
standard errors, χ² (per group), the baseline and the indices; the analytic gradient and
Hessian of each weight type against finite differences; WLS refused with too few rows."""

import numpy as np
import pytest
from reference_cases import FIT_MEASURE_KIND, assert_matches, fit_measures, load_case, row_key
from reference_cases import fit_reference as fit_case

import semlang
from semlang.errors import EstimationError

ESTIMATORS = ("GLS", "WLS", "DWLS", "ULS")
CASES = [f"estimators/{m}_{e}" for m in ("hs_cfa", "poldem", "growth", "hs_groups")
         for e in ESTIMATORS]  # fmt: skip
MEASURES = ("npar", "chisq", "df", "baseline_chisq", "baseline_df", "cfi", "tli", "rmsea",
            "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue", "pvalue", "srmr")  # fmt: skip


@pytest.fixture(scope="module", params=CASES)
def fitted(request):
    return request.param, fit_case(request.param)


def test_estimates_and_standard_errors(fitted):
    name, fit = fitted
    assert fit.converged
    assert fit.family.name == name.rsplit("_", 1)[1]
    assert not fit.family.likelihood_based
    ours = {(r.lhs, r.op, r.rhs, r.group): r for r in fit.estimates().itertuples()}
    reference = load_case(name)["estimates"]
    assert len(ours) == len(reference)
    for row in reference:
        mine = ours[row_key(row)]
        what = f"{name} {row['lhs']} {row['op']} {row['rhs']} group {row.get('group')}"
        assert_matches("est", mine.est, row["est"], what + " est")
        assert_matches("se", mine.se, row["se"], what + " se")


def test_fit_measures(fitted):
    name, fit = fitted
    ours = fit.fit_measures()
    reference = fit_measures(name)
    for key in MEASURES:
        assert_matches(FIT_MEASURE_KIND[key], ours[key], reference[key], f"{name} {key}")
    assert "logl" not in ours and "aic" not in ours
    standard = load_case(name)["tests"]["standard"]
    for mine, theirs in zip(fit.statistics.chisq_groups, standard["stat.group"], strict=True):
        assert_matches("chisq", mine, theirs, f"{name} chisq per group")


def test_summary_names_the_estimator():
    fit = fit_case("estimators/hs_cfa_GLS")
    text = fit.summary(fit_measures=True)
    assert "GLS" in next(line for line in text.splitlines() if "Estimator" in line)
    assert "Loglikelihood" not in text
    assert "77.47" in text


def _gradient_check(fit):
    objective = fit.estimation.objective
    rng = np.random.default_rng(1)
    phi = fit.estimation.phi * (1 + 0.05 * rng.standard_normal(len(fit.estimation.phi)))
    value, gradient = objective.value_and_gradient(phi)
    numeric = np.zeros_like(phi)
    for k in range(len(phi)):
        step = np.zeros_like(phi)
        step[k] = 1e-6 * max(1.0, abs(phi[k]))
        numeric[k] = (objective.value(phi + step) - objective.value(phi - step)) / (2 * step[k])
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-8)
    theta = fit.model.space.theta(phi)
    J = fit.model.space.jacobian(phi)
    hessian = J.T @ objective.hessian_theta(theta) @ J
    np.testing.assert_allclose(hessian, objective.hessian_numeric(phi), rtol=1e-5, atol=1e-7)
    return value


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_gradient_and_hessian_against_finite_differences(estimator):
    fit = fit_case(f"estimators/growth_{estimator}")  # a mean structure, one group
    assert _gradient_check(fit) > fit.objective_value
    fit = fit_case(f"estimators/hs_groups_{estimator}")  # two groups, equal loadings
    assert _gradient_check(fit) > fit.objective_value


def test_wls_refused_with_too_few_rows():
    case = load_case("estimators/error_hs_first30_WLS")
    assert "Gamma" in case["error"]
    data = semlang.datasets.load("HolzingerSwineford1939").iloc[:30]
    with pytest.raises(EstimationError, match=r"estimator=.WLS.*45 sample moments.*30 rows"):
        semlang.cfa(case["model"], data, estimator="WLS")
