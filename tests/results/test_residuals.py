"""fit.residuals() and fit.residual_summary() against lavaan's resid() and lavResiduals()."""

from __future__ import annotations

import numpy as np
import pytest
from diagnostics_cases import assert_close, fit_case, load, matrix, per_group, vector

from semlang.errors import NotSupportedError, OptionError

CASES = ["hs_cfa", "poldem", "poldem_meanstructure", "hs_groups", "hs_holes_fiml", "hs_mlr",
         "gaps14_hs_gls", "gaps14_hs_wls", "gaps14_hs_gls_groups",
         "gaps14_hs_wls_mimic"]  # fmt: skip
# least-squares fits whose standardized residuals lavaan 0.6.14 cannot compute (its h1
# information of ULS and DWLS is diagonal: "could not invert h1 information matrix")
REFUSED = ["gaps14_hs_uls", "gaps14_hs_dwls", "gaps14_hs_uls_groups"]
TYPES = ["raw", "cor", "cor.bollen", "cor.bentler", "standardized", "normalized"]
# residual moments within the estimates' tolerance; z-statistics (divided by small standard
# errors) a little wider
TOL = {"raw": (1e-4, 1e-3), "standardized": (2e-3, 2e-3), "normalized": (2e-4, 1e-3)}


def _pick(fit, result, label):
    return result if label is None else result[label]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("kind", TYPES)
def test_resid_matches_lavaan(name, kind):
    fit = fit_case(name)
    out = fit.residuals(type=kind)
    absolute, relative = TOL.get(kind, TOL["raw"])
    for label, ref in per_group(fit, load(name)["resid"][kind]).items():
        ours = _pick(fit, out, label)
        expected = matrix(ref["cov"])
        assert list(ours["cov"].index) == list(expected.index)
        assert_close(ours["cov"], expected, absolute, relative, f"{name} {kind} {label} cov")
        if "mean" in ref:
            assert_close(ours["mean"], vector(ref["mean"]), absolute, relative, "mean")
        else:
            assert "mean" not in ours


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("kind", ["cor.bentler", "cor.bollen", "raw"])
def test_lavresiduals_matches_lavaan(name, kind):
    fit = fit_case(name)
    out = fit.residuals(type=kind, summary=True)
    for label, ref in per_group(fit, load(name)["lavResiduals"][kind]).items():
        ours = _pick(fit, out, label)
        assert_close(ours["cov"], matrix(ref["cov"]), 1e-4, 1e-3, "cov")
        assert_close(ours["cov_z"], matrix(ref["cov.z"]), 2e-3, 2e-3, "cov.z")
        if "mean.z" in ref:
            assert_close(ours["mean_z"], vector(ref["mean.z"]), 2e-3, 2e-3, "mean.z")
        summary = ref["summary"]
        table = ours["summary"]
        # lavaan 0.6.14 spells one of the CRMR rows "ucrmr.cilupper"
        rows = [r.replace("cilupper", "ci.upper") for r in summary["_rows"]]
        assert list(table.index) == rows
        for column in ("cov", "mean", "total"):
            if column in summary:
                reference = np.array([np.nan if v is None else v for v in summary[column]])
                assert_close(table[column], reference, 2e-4, 1e-3, f"{name} {kind} {column}")
            else:
                assert column not in table


def test_residual_summary_is_the_srmr_of_fit_measures():
    fit = fit_case("hs_cfa")
    table = fit.residual_summary()
    assert table.loc["srmr", "cov"] == pytest.approx(
        load("hs_cfa")["fit_measures"]["srmr"], abs=1e-6
    )
    crmr = fit.residual_summary(type="cor.bollen")
    assert crmr.loc["crmr", "cov"] == pytest.approx(
        load("hs_cfa")["fit_measures"]["crmr"], abs=1e-6
    )


def test_groups_keyed_by_label():
    out = fit_case("hs_groups").residuals()
    assert list(out) == ["Pasteur", "Grant-White"]
    assert list(out["Pasteur"]["mean"].index) == [f"x{k}" for k in range(1, 10)]


def test_unknown_type_suggests_the_closest():
    with pytest.raises(OptionError, match="standardized"):
        fit_case("hs_cfa").residuals(type="standardised")


@pytest.mark.parametrize("kind", ["raw", "cor", "cor.bentler"])
def test_twolevel_residuals_per_level(kind):
    fit = fit_case("twolevel")
    ref = load("twolevel")["resid"][kind]
    out = fit.residuals(type=kind)
    assert list(out) == list(ref) == ["within", "cluster"]
    for level, entry in ref.items():
        assert list(out[level]["cov"].index) == entry["cov"]["rows"]
        assert_close(out[level]["cov"], matrix(entry["cov"]), 2e-4, 1e-3, f"{level} cov")
        assert_close(out[level]["mean"], vector(entry["mean"]), 2e-4, 1e-3, f"{level} mean")
    assert fit.residuals(type=kind, summary=True)["within"]["cov"].equals(out["within"]["cov"])


def test_twolevel_standardized_residuals_refused():
    fit = fit_case("twolevel")
    with pytest.raises(NotSupportedError):
        fit.residuals(type="standardized")
    with pytest.raises(NotSupportedError):
        fit.residual_summary()


@pytest.mark.parametrize("name", REFUSED)
def test_uls_dwls_standardized_residuals_refused_as_lavaan(name):
    fit = fit_case(name)
    ref = load(name)
    for kind in ("standardized", "normalized"):
        assert "could not invert" in ref["resid"][kind]["error"]
        with pytest.raises(NotSupportedError, match="nor in lavaan"):
            fit.residuals(type=kind)
    with pytest.raises(NotSupportedError, match="nor in lavaan"):
        fit.residuals(type="cor.bentler", summary=True)
    for label, entry in per_group(fit, ref["resid"]["raw"]).items():
        ours = _pick(fit, fit.residuals(type="raw"), label)
        assert_close(ours["cov"], matrix(entry["cov"]), 1e-4, 1e-3, f"{name} raw {label}")


# least-squares fits with robust standard errors: lavaan 0.6.14 gives their raw and correlation
# residuals but refuses the standardized and normalized ones and lavResiduals() (it asks for a
# first-order h1 information, which it has for no least-squares estimator)
ROBUST_LS = ["gaps14b_hs_wlsmv", "gaps14b_hs_ulsmv", "gaps14b_hs_wlsm", "gaps14b_hs_dwls_robust",
             "gaps14b_hs_wlsmv_groups"]  # fmt: skip


@pytest.mark.parametrize("name", ROBUST_LS)
def test_robust_least_squares_residuals_as_lavaan(name):
    fit = fit_case(name)
    ref = load(name)
    assert ref["se"] == "robust.sem"
    for kind in ("raw", "cor", "cor.bollen", "cor.bentler"):
        out = fit.residuals(type=kind)
        for label, entry in per_group(fit, ref["resid"][kind]).items():
            ours = _pick(fit, out, label)
            assert_close(ours["cov"], matrix(entry["cov"]), 1e-4, 1e-3, f"{name} {kind} {label}")
    for kind in ("standardized", "normalized"):
        assert 'information = "first.order" not available' in ref["resid"][kind]["error"]
        with pytest.raises(NotSupportedError, match=r"nor in lavaan 0\.6\.14: 'information"):
            fit.residuals(type=kind)
    for kind in ("cor.bentler", "cor.bollen", "raw"):
        assert "first.order" in ref["lavResiduals"][kind]["error"]
        with pytest.raises(NotSupportedError, match="robust standard errors"):
            fit.residuals(type=kind, summary=True)
    with pytest.raises(NotSupportedError, match="nor in lavaan"):
        fit.residual_summary()
