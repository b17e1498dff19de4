"""Robust least squares for continuous data against lavaan 0.6.14: ULSM, ULSMV, ULSMVS, WLSM,
WLSMV, WLSMVS (and ULS or DWLS with se='robust.sem' and a scaled test) — the estimates, the
robust.sem standard errors E⁻¹ΔᵀWΓWΔE⁻¹/(N − G) with the estimator's own W, every test of
lavInspect(fit, "test") and every fit measure; Browne's residual tests with least squares; the
combinations lavaan refuses."""

from __future__ import annotations

import json
import math
from functools import cache

import pytest
from reference_cases import REFERENCE_DIR, assert_matches, fit_reference, load_case
from results.test_all_fit_measures import KNOWN_DIFFERENCES, _check, reference

import semlang
from semlang.errors import SemlangError
from semlang.options import Estimator, StandardErrors
from semlang.results import tests as test_registry

ROBUST_NAMES = {"ULSM", "ULSMV", "ULSMVS", "WLSM", "WLSMV", "WLSMVS"}


def _robust_ls_cases() -> list[str]:
    names = []
    for path in sorted((REFERENCE_DIR / "estimators").glob("*.json")):
        case = json.loads(path.read_text())
        options = case.get("options") or {}
        estimator = str(options.get("estimator", "ML"))
        robust = estimator in ROBUST_NAMES or (
            estimator in ("ULS", "DWLS") and options.get("se") == "robust.sem"
        )
        if robust and case.get("fit_measures"):
            names.append(path.stem)
    return names


CASES = _robust_ls_cases()


@cache
def fitted(name: str):
    return fit_reference(f"estimators/{name}")


def test_every_robust_reference_is_here():
    assert len(CASES) == 32  # 6 names x 4 models, 2 x 3 ULS/DWLS tests, 2 with fixed.x


@pytest.mark.parametrize("name", CASES)
def test_estimates_and_robust_standard_errors(name):
    fit = fitted(name)
    assert fit.converged and fit.options.se is StandardErrors.ROBUST_SEM
    ours = {(r.lhs, r.op, r.rhs, r.group): r for r in fit.estimates().itertuples()}
    rows = load_case(f"estimators/{name}")["estimates"]
    assert len(ours) == len(rows)
    for row in rows:
        mine = ours[row["lhs"], row["op"], row["rhs"], row.get("group") or 1]
        what = f"{name} {row['lhs']} {row['op']} {row['rhs']} group {row.get('group')}"
        assert_matches("est", mine.est, row["est"], what + " est")
        if row["se"] is not None:
            assert_matches("se", mine.se, row["se"], what + " se")


@pytest.mark.parametrize("name", CASES)
def test_each_test(name):
    """Every test's statistic (and per group), df, p-value, scaling factor and shift."""
    expected = load_case(f"estimators/{name}")["tests"]
    results = test_registry.test_results(fitted(name))
    assert [r.test.value for r in results] == list(expected)
    for result in results:
        ref, what = expected[result.test.value], f"{name} {result.test.value}"
        assert_matches("chisq", result.stat, ref["stat"], what + " stat")
        kind = "exact" if float(ref["df"]).is_integer() else "scaling"
        assert_matches(kind, result.df, ref["df"], what + " df")
        if ref["pvalue"] is None:  # ULS: the standard statistic has no known distribution
            assert math.isnan(fitted(name).fit_measures()["pvalue"]), what
        else:
            assert_matches("fit_index", result.pvalue, ref["pvalue"], what + " pvalue")
        for ours, key in ((result.scaling_factor, "scaling.factor"),
                          (result.shift_parameter, "shift.parameter")):  # fmt: skip
            if ref.get(key) is not None:
                assert_matches("scaling", ours, ref[key], f"{what} {key}")
        for ours, theirs in zip(result.stat_groups, ref["stat.group"], strict=True):
            assert_matches("chisq", ours, theirs, what + " stat.group")


@pytest.mark.parametrize("name", CASES)
def test_every_fit_measure(name):
    actual, expected = fitted(name).fit_measures(), reference(name)
    missing = [key for key in expected if key not in actual]
    assert not missing, f"{name}: not computed: {missing}"
    for key, value in expected.items():
        if (name, key) not in KNOWN_DIFFERENCES:
            _check(name, key, actual[key], value)


def test_robust_cfi_plain_when_the_baseline_factor_is_one():
    """DWLS's baseline has tr(UΓ) = df (W = diag(Γ)⁻¹): its Satorra-Bentler factor is 1, and
    lavaan's robust CFI and TLI are then the plain ones."""
    measures = fitted("hs_cfa_WLSM").fit_measures()
    assert measures["baseline_chisq_scaling_factor"] == pytest.approx(1.0, abs=1e-12)
    assert measures["cfi_robust"] == measures["cfi"]
    assert measures["tli_robust"] == measures["tli"]
    assert_matches("fit_index", measures["cfi_robust"], reference("hs_cfa_WLSM")["cfi"], "cfi")


def test_scaled_shifted_baseline_factor_one_only_up_to_rounding():
    """With WLSMV the baseline's c = a(df − shift)/df is 1 only up to rounding: lavaan's exact
    test c == 1 fails in most cases (the robust formulas apply, as here) and holds in some
    (hs_mimic_WLSMV, whose robust TLI lavaan reports as the plain one)."""
    for name in ("hs_cfa_WLSMV", "poldem_path_WLSMV", "hs_mimic_WLSMV_fixed.x"):
        expected = reference(name)
        assert expected["tli_robust"] != pytest.approx(expected["tli"], abs=1e-3), name
        _check(name, "tli_robust", fitted(name).fit_measures()["tli_robust"],
               expected["tli_robust"])  # fmt: skip
    odd = reference("hs_mimic_WLSMV")
    assert odd["tli_robust"] == pytest.approx(odd["tli"], abs=1e-12)
    ours = fitted("hs_mimic_WLSMV").fit_measures()
    assert abs(ours["tli_robust"] - odd["tli_robust"]) < 0.03  # 1.00283 against 1.03135


def test_robust_names_minimise_uls_or_dwls():
    for robust, plain in (("hs_cfa_ULSMV", "hs_cfa_ULS"), ("hs_cfa_WLSM", "hs_cfa_DWLS")):
        assert fitted(robust).family.estimator is Estimator[plain.rsplit("_", 1)[1]]
        assert_matches("chisq", fitted(robust).fit_measures()["chisq"],
                       reference(plain)["chisq"], robust)  # fmt: skip


# lavaan 0.6.14's Browne residual tests with least squares (lavInspect(fit, "test")): each group
# counts n_g − 1; WLS, DWLS and ULS keep the sample Γ (their ADF test is the same model-based)
BROWNE = {
    ("ULS", "browne.residual.adf"): 80.0517839,
    ("ULS", "browne.residual.nt"): 74.52629022,
    ("ULS", "browne.residual.adf.model"): 80.0517839,
    ("ULS", "browne.residual.nt.model"): 79.34721323,
    ("DWLS", "browne.residual.nt.model"): 79.09350672,
    ("GLS", "browne.residual.adf"): 83.56242536,
    ("GLS", "browne.residual.adf.model"): 65.45220998,
    ("GLS", "browne.residual.nt.model"): 125.1507857,
    ("WLS", "browne.residual.adf.model"): 83.31857974,
    ("WLSMV", "browne.residual.nt"): 75.00999583,
}
HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
MIMIC = "visual =~ x1 + x2 + x3\nvisual ~ ageyr + sex"


@pytest.mark.parametrize(("estimator", "test"), list(BROWNE))
def test_browne_residual_tests(estimator, test):
    data = semlang.datasets.load("HolzingerSwineford1939")
    result = test_registry.test_results(semlang.cfa(HS, data, estimator=estimator, test=test))[-1]
    assert result.test is semlang.options.Test(test) and result.df == 24
    assert_matches("chisq", result.stat, BROWNE[estimator, test], f"{estimator} {test}")


@pytest.mark.parametrize(
    ("estimator", "options", "test", "expected"),
    [("ULS", {}, "browne.residual.adf", 4.123357341),
     ("DWLS", {"fixed_x": True}, "browne.residual.nt", 3.971960671),
     ("ML", {"fixed_x": True}, "browne.residual.nt", 4.00657763),
     ("ULS", {"fixed_x": True}, "browne.residual.nt.model", 3.941490657)],
)  # fmt: skip
def test_browne_residual_tests_with_covariates(estimator, options, test, expected):
    """With fixed.x covariates lavaan's normal-theory Γ is Γ_NT(S) − Γ_NT(R), R = S less the
    residual covariance of the other variables given the covariates."""
    data = semlang.datasets.load("HolzingerSwineford1939")
    fit = semlang.sem(MIMIC, data, estimator=estimator, test=test, **options)
    stat = test_registry.test_results(fit)[-1].stat
    assert_matches("chisq", stat, expected, f"{estimator} {test}")


def test_browne_residual_test_of_groups():
    data = semlang.datasets.load("HolzingerSwineford1939")
    fit = semlang.cfa(HS, data, estimator="ULS", test="browne.residual.adf", group="school")
    assert_matches("chisq", test_registry.test_results(fit)[-1].stat, 118.2254514, "ULS groups")


@pytest.mark.parametrize(
    "name",
    ["error_hs_cfa_GLS_robust.sem", "error_hs_cfa_WLS_satorra.bentler",
     "error_hs_cfa_DWLS_yuan.bentler"],
)  # fmt: skip
def test_refused_as_lavaan(name):
    assert "lavaan ERROR" in load_case(f"estimators/{name}")["error"]
    with pytest.raises(SemlangError, match=r"not available|needs a likelihood"):
        fit_reference(f"estimators/{name}")


def test_robust_names_not_bootstrapped():
    data = semlang.datasets.load("HolzingerSwineford1939")
    with pytest.raises(SemlangError, match="estimator='ULS' with se='bootstrap'"):
        semlang.cfa(HS, data, estimator="ULSM", se="bootstrap")


def test_wls_with_robust_sem_has_the_standard_errors_of_wls():
    # lavaan fits WLS with se='robust.sem'; with W = Γ⁻¹ its sandwich is the standard covariance
    # matrix (lavaan 0.6.14's SEs of the two fits differ by 3e-16), so the WLS reference holds
    case = load_case("estimators/hs_cfa_WLS")
    data = semlang.datasets.load("HolzingerSwineford1939")
    fit = semlang.cfa(case["model"], data, estimator="WLS", se="robust.sem", fixed_x=False)
    rows = fit.estimates()
    for (_, row), ref in zip(rows.iterrows(), case["estimates"], strict=True):
        assert (row.lhs, row.op, row.rhs) == (ref["lhs"], ref["op"], ref["rhs"])
        assert_matches("se", row.se, ref["se"], f"{row.lhs} {row.op} {row.rhs}")
