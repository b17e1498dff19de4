"""Categorical models through semlang.sem (semlang's own sample statistics) against lavaan
0.6.14, and the mistakes a user can make with ordered data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from categorical_cases import case_data, fit_case, load
from reference_cases import assert_matches, row_key

import semlang


def _check(name: str, fit) -> None:
    frame = fit.estimates()
    mine = {(r.lhs, r.op, r.rhs, int(r.group)): r for r in frame.itertuples()}
    for ref in load(name)["estimates"]:
        row = mine[row_key(ref)]
        assert_matches("est", row.est, ref["est"], f"{name} {row_key(ref)} est")
        assert_matches("se", row.se, ref["se"], f"{name} {row_key(ref)} se")
        assert_matches("std_all", row.std_all, ref["std.all"], f"{name} {row_key(ref)} std.all")
    measures, ref = fit.fit_measures(), load(name)["fit_measures"]
    for key in ("chisq", "chisq.scaled", "baseline.chisq", "baseline.chisq.scaled"):
        assert_matches("chisq", measures[key.replace(".", "_")], ref[key], key)
    for key in ("cfi", "tli", "rmsea", "srmr", "wrmr", "cfi.scaled", "rmsea.scaled",
                "cfi.robust", "tli.robust", "rmsea.robust"):  # fmt: skip
        assert_matches("fit_index", measures[key.replace(".", "_")], ref[key], key)


@pytest.mark.parametrize("name", ["hs3_wlsmv", "hs2_wlsmv", "hs3_theta", "hs3_groups_thresholds",
                                  "hs3_pairwise", "mixed_cfa_wlsmv", "mixed_wlsmv"])  # fmt: skip
def test_fit_on_own_statistics(name):
    _check(name, fit_case(name, lavaan_statistics=False))


def test_bfi_five_factors_wlsmv():
    _check("bfi_wlsmv", fit_case("bfi_wlsmv", lavaan_statistics=False))


def test_a_covariate_fit_raises_no_runtime_warning():
    """The probit regressions on the covariate meet infinite outer thresholds: semlang's own
    arithmetic must not leak numpy's RuntimeWarnings to the user."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fit = fit_case("mixed_wlsmv", lavaan_statistics=False)
        _check("mixed_wlsmv", fit)
        fit.summary()


def test_ordered_true_and_pandas_categoricals_are_the_same_model():
    data = case_data(load("hs3_wlsmv"))
    model = load("hs3_wlsmv")["model_text"]
    by_names = fit_case("hs3_wlsmv", lavaan_statistics=False)
    everything = semlang.sem(model, data, ordered=True)
    frame = data.copy()
    for k in range(1, 10):
        frame[f"x{k}"] = pd.Categorical(frame[f"x{k}"], ordered=True)
    from_pandas = semlang.sem(model, frame)
    for other in (everything, from_pandas):
        assert other.options.estimator.value == "WLSMV"
        np.testing.assert_allclose(other.theta, by_names.theta, atol=1e-10)


def test_ml_with_ordered_data_is_refused():
    data = case_data(load("hs3_wlsmv"))
    with pytest.raises(semlang.OptionError, match="not available for ordered-categorical"):
        semlang.sem(load("hs3_wlsmv")["model_text"], data, ordered=True, estimator="ML")
    assert "not supported" in load("hs3_ml_refused")["error"]  # lavaan refuses it too


def test_ordered_name_not_in_the_model():
    data = case_data(load("hs3_wlsmv"))
    with pytest.raises(semlang.OptionError, match="'ageyr', which is not an observed variable"):
        semlang.sem("f =~ x1 + x2 + x3", data, ordered=["x1", "ageyr"])
    with pytest.raises(semlang.DataError, match="'x99', which is not a column"):
        semlang.sem("f =~ x1 + x2 + x3", data, ordered=["x1", "x99"])


def test_ordered_exogenous_covariate_is_refused():
    data = case_data(load("hs3_wlsmv"))
    data["sex"] = data["sex"].astype(int)
    with pytest.raises(semlang.OptionError, match="exogenous covariate 'sex' is declared ordered"):
        semlang.sem("f =~ x1 + x2 + x3\nf ~ sex", data, ordered=["x1", "x2", "x3", "sex"])


def test_thresholds_of_a_continuous_variable():
    data = case_data(load("hs3_wlsmv"))
    with pytest.raises(semlang.ModelSpecificationError, match="'x1' has thresholds"):
        semlang.sem("f =~ x1 + x2 + x3\nx1 | t1 + t2", data, ordered=["x2"])
    with pytest.raises(semlang.ModelSpecificationError, match=r"thresholds t1 \.\. t2, not 't3'"):
        semlang.sem("f =~ x1 + x2 + x3\nx1 | t1 + t2 + t3", data, ordered=True)


def test_ordered_values_that_are_not_categories():
    data = case_data(load("hs3_wlsmv")).astype({"x1": float})
    data.loc[0, "x1"] = 1.5
    with pytest.raises(semlang.DataError, match="not a whole number"):
        semlang.sem("f =~ x1 + x2 + x3", data, ordered=True)
    data.loc[0, "x1"] = 1.0
    data["x2"] = 2
    with pytest.raises(semlang.DataError, match="only one observed category"):
        semlang.sem("f =~ x1 + x2 + x3", data, ordered=True)


def test_unknown_parameterization():
    with pytest.raises(semlang.OptionError, match="'delta' or 'theta'"):
        semlang.sem("f =~ x1 + x2 + x3", case_data(load("hs3_wlsmv")), ordered=True,
                    parameterization="gamma")  # fmt: skip


def test_cli_ordered(tmp_path, capsys):
    from categorical_cases import DIR

    from semlang.cli import main

    model = tmp_path / "hs.sem"
    model.write_text(load("hs3_wlsmv")["model_text"])
    data = str(DIR / "hs_cut3.csv")
    assert main(["fit", str(model), data, "--ordered", "all", "--parameterization", "theta"]) == 0
    out = capsys.readouterr().out
    assert "Scales y*:" in out and "44.800      62.839" in out
    names = ",".join(f"x{k}" for k in range(1, 10))
    assert main(["fit", str(model), data, "--ordered", names, "--estimator", "ML"]) == 2
    assert "not available for ordered-categorical data" in capsys.readouterr().err


def test_pairwise_is_for_ordered_data_and_fiml_is_not():
    data = case_data(load("hs3_pairwise"))
    with pytest.raises(semlang.OptionError, match="for ordered-categorical data only"):
        semlang.sem("f =~ x1 + x2 + x3", data, missing="pairwise")
    with pytest.raises(semlang.OptionError, match="missing='fiml' is not available"):
        semlang.sem("f =~ x1 + x2 + x3", data, ordered=True, missing="fiml")


def test_a_category_empty_in_one_group_and_too_many_categories():
    model = load("hs3_wlsmv")["model_text"]
    data = case_data(load("hs3_wlsmv"))
    data.loc[(data.school == "Pasteur") & (data.x1 == 3), "x1"] = 2
    with pytest.raises(semlang.DataError, match="category 3 of ordered variable 'x1' is empty"):
        semlang.sem(model, data, ordered=True, group="school")
    data["x1"] = np.arange(len(data)) % 150
    with pytest.raises(semlang.DataError, match="150 categories"):
        semlang.sem(model, data, ordered=True)


def test_what_ordered_data_do_not_have_yet_is_refused():
    fit = fit_case("hs3_wlsmv")
    for call in (fit.modindices, lambda: fit.residuals(summary=True),
                 lambda: fit.inspect("residuals")):  # fmt: skip
        with pytest.raises(semlang.NotSupportedError, match="ordered-categorical"):
            call()
    assert fit.r_squared()["x1"] == pytest.approx(1 - 0.397923614316148, abs=2e-4)
    data, model = case_data(load("hs3_wlsmv")), load("hs3_wlsmv")["model_text"]
    for option in ({"se": "bootstrap"}, {"test": "bollen.stine"}, {"information": "observed"}):
        with pytest.raises(semlang.OptionError, match="not available for ordered-categorical"):
            semlang.sem(model, data, ordered=True, **option)


def test_ordered_needs_the_data():
    for call in (semlang.compile_model, semlang.parameter_table):
        with pytest.raises(semlang.OptionError, match="ordered= needs the data"):
            call("f =~ x1 + x2 + x3", ordered=["x1"])


def test_lrt_of_the_invariance_sequence():
    """lavTestLRT's scaled difference tests (Satorra 2000, its default for WLSMV fits)."""
    ref = load("hs3_groups_lrt")
    fits = [fit_case(name, lavaan_statistics=False) for name in ref["models"]]
    with pytest.warns(semlang.SemlangWarning, match="same degrees of freedom"):
        table = semlang.lrt(*fits)  # (intercepts of ordered items are fixed: nothing to equate)
    assert 'method = "satorra.2000"' in table.attrs["heading"]
    expected = ref["table"]
    for column in ("Df", "Chisq", "Chisq diff", "Df diff", "Pr(>Chisq)"):
        for k, value in enumerate(expected[column]):
            actual = table[column].iloc[k]
            if value is None:
                assert np.isnan(actual)
            else:
                kind = "chisq" if "Chisq" in column else "fit_index"
                assert_matches(kind, actual, value, f"{column} {k}")


@pytest.mark.parametrize("name", ["hs3_wlsmv", "hs2_wlsmv", "mixed_cfa_wlsmv", "hs3_theta"])
def test_ebm_factor_scores(name):
    """lavPredict's default for ordered data: the posterior modes (EBM), first 20 rows."""
    scores = fit_case(name, lavaan_statistics=False).predict()
    ref = load(name)["scores_ebm"]
    assert list(scores.columns) == ref["cols"]
    for k, row in enumerate(ref["values"]):
        for j, value in enumerate(row):
            assert_matches("score", scores.iloc[k, j], value, f"{name} row {k} {ref['cols'][j]}")


@pytest.mark.parametrize(("name", "rows"), [("hs3_wlsmv", 131), ("hs2_wlsmv", 41),
                                            ("mixed_cfa_wlsmv", 246)])  # fmt: skip
def test_ml_factor_scores(name, rows):
    """lavPredict(fit, method = "ML"), every row. Where a factor has no finite estimate (all its
    ordered indicators at one end) semlang gives NaN and lavaan whatever its optimizer stopped
    at, or NA; on those rows lavaan's other factors are off too (its joint optimizer stops
    early), so only the rows where every factor has an estimate are compared."""
    scores = fit_case(name, lavaan_statistics=False).predict(method="ML")
    ref = load(f"scores_ml_{name}")["scores_ml"]
    assert list(scores.columns) == ref["cols"]
    theirs = np.array([[np.nan if v is None else v for v in row] for row in ref["values"]])
    mine = scores.to_numpy()
    assert np.isnan(mine[np.isnan(theirs).any(axis=1)]).any(axis=1).all()  # lavaan's NA rows
    full = ~np.isnan(mine).any(axis=1) & ~np.isnan(theirs).any(axis=1)
    assert full.sum() == rows
    for k in np.flatnonzero(full):
        for j, column in enumerate(ref["cols"]):
            assert_matches("score", mine[k, j], theirs[k, j], f"{name} row {k} {column}")


@pytest.mark.parametrize("name", ["hs3_wlsmv", "mixed_cfa_wlsmv", "hs3_groups_thresholds"])
def test_inspect_sampstat_and_implied(name):
    fit = fit_case(name)  # (on lavaan's statistics: sampstat is lavaan's own)
    case = load(name)
    labels = list(fit.table.group_labels)
    sampstat = fit.inspect("sampstat")
    mine = [sampstat[k] for k in labels] if len(labels) > 1 else [sampstat]
    refs = [case["sampstat"][k] for k in labels] if len(labels) > 1 else [case["sampstat"]]
    for ours, ref in zip(mine, refs, strict=True):
        np.testing.assert_allclose(ours["cov"].to_numpy(), ref["cov"]["values"], atol=1e-10)
        np.testing.assert_allclose(ours["mean"].to_numpy(), ref["mean"]["values"], atol=1e-10)
        assert list(ours["th"].index) == ref["th"]["names"]
        np.testing.assert_allclose(ours["th"].to_numpy(), ref["th"]["values"], atol=1e-10)
    implied = fit.inspect("implied")
    first = implied[labels[0]] if len(labels) > 1 else implied
    wls_est = case["wls_est"]
    wls_est = wls_est[labels[0]] if len(labels) > 1 else wls_est
    th = dict(zip(wls_est["names"], wls_est["values"], strict=True))
    for label, value in first["th"].items():
        assert_matches("est", value, th[label], label)


def test_raw_residuals_are_lavaans_wls_obs_less_wls_est():
    fit = fit_case("hs3_wlsmv")
    case = load("hs3_wlsmv")
    resid = fit.residuals()
    obs = dict(zip(case["wls_obs"]["names"], case["wls_obs"]["values"], strict=True))
    est = dict(zip(case["wls_est"]["names"], case["wls_est"]["values"], strict=True))
    for label, value in resid["th"].items():
        assert abs(value - (obs[label] - est[label])) < 2e-4, label
    cov = resid["cov"]
    for a, b in (("x1", "x2"), ("x4", "x9"), ("x7", "x8")):
        assert abs(cov.loc[b, a] - (obs[f"{a}~~{b}"] - est[f"{a}~~{b}"])) < 2e-4
    assert resid["type"] == "raw" and np.allclose(np.diag(cov), 0.0)
