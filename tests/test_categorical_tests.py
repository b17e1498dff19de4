"""Categorical fits against lavaan 0.6.14 (tools/categorical_tests_reference.R): the
Satorra-Bentler (2001) scaled difference test of WLSM and ULSM fits (lavTestLRT's default for
them), standardizedSolution()'s standard errors of WLSMV fits (delta, theta, a covariate), and
the robust RMSEA on the catML model's degrees of freedom (fixed thresholds, latent means)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from categorical_cases import case_data, fit_case, load, options
from reference_cases import assert_matches

import semlang


@pytest.mark.parametrize("estimator", ["wlsm", "ulsm"])
def test_satorra_bentler_2001_difference(estimator):
    ref = load(f"lrt_{estimator}")
    data = case_data(ref)
    fits = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        for key, equal in ref["group_equal"].items():
            extra = {"group_equal": equal} if equal else {}
            fit = semlang.sem(ref["model_text"], data, **options(ref), **extra)
            measures = fit.fit_measures()
            for name, value in ref["measures"][key].items():
                kind = "scaling" if "factor" in name else "chisq"
                assert_matches(kind, measures[name.replace(".", "_")], value, f"{key} {name}")
            fits.append(fit)
    table = semlang.lrt(*fits)
    assert 'method = "satorra.bentler.2001"' in table.attrs["heading"]
    for column in ("Df", "Chisq", "Chisq diff", "Df diff", "Pr(>Chisq)"):
        for k, value in enumerate(ref["table"][column]):
            actual = table[column].iloc[k]
            if value is None:
                assert np.isnan(actual), (column, k)
            else:
                kind = "chisq" if "Chisq" in column else "fit_index"
                assert_matches(kind, actual, value, f"{estimator} {column} {k}")


@pytest.mark.parametrize("name", ["hs3_wlsmv", "hs3_theta", "mixed_wlsmv",
                                  "hs3_groups_thresholds"])  # fmt: skip
def test_standardized_solution_standard_errors(name):
    """The derived values (residual variances of y* in the delta parameterization, scale factors
    in the theta one) move with θ, as in lavaan's numerical Jacobian."""
    ref = load(f"stdsol_{name}")
    fit = fit_case(name, lavaan_statistics=False)
    for kind in ("std_all", "std_lv"):
        mine = fit.standardized_solution(type=kind.replace("_", "."))
        rows = {(r.lhs, r.op, r.rhs, r.group): r for r in mine.itertuples()}
        theirs = ref[kind]
        groups = theirs.get("group", [1] * len(theirs["lhs"]))
        keys = zip(theirs["lhs"], theirs["op"], theirs["rhs"], groups, strict=True)
        for k, key in enumerate(keys):
            row, what = rows[key], f"{name} {kind} {key}"
            assert_matches("std_all", row.est_std, theirs["est.std"][k], what)
            if theirs["se"][k] is None:
                assert np.isnan(row.se) or row.se == 0.0, what
                continue
            assert_matches("se", row.se, theirs["se"][k], what + " se")
            for column in ("ci.lower", "ci.upper"):
                assert_matches("std_all", getattr(row, column.replace(".", "_")),
                               theirs[column][k], f"{what} {column}")  # fmt: skip


@pytest.mark.parametrize("name", ["robust_fixed_threshold", "robust_latent_means"])
def test_robust_measures_on_the_catml_degrees_of_freedom(name):
    """lavaan's catML model drops the thresholds and intercepts: with a fixed threshold its df
    (of the robust RMSEA, its interval and p-values) is one less than the model's, which the
    robust CFI and TLI keep."""
    ref = load(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        fit = semlang.sem(ref["model_text"], case_data(ref), **options(ref))
    measures = fit.fit_measures()
    robust = [key for key in ref["fit_measures"] if key.endswith(".robust")]
    assert len(robust) == 9
    for key in ["chisq", "df", *robust]:
        kind = "chisq" if key == "chisq" else "fit_index"
        assert_matches(kind, measures[key.replace(".", "_")], ref["fit_measures"][key], key)
