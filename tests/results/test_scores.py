"""Factor scores against lavaan's lavPredict() and against direct computations.

References: ``scores_regression`` / ``scores_bartlett`` of the shipped cases (first 20 rows), the
extra lavaan cases (mean structure, multi-group, FIML) and
``tests/reference/scores/scores_cases.json`` (MIMIC with exogenous covariates, new data under
FIML, the micro-macro SEM by FIML). Tolerance: lavaan's 1e-3 for factor scores.
"""

import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_cases import assert_matches, load_case

import semlang
from semlang.errors import DataError, OptionError
from semlang.results.scores import dummy_observed, predict, score_weights

REFERENCE = Path(__file__).resolve().parents[1] / "reference"


def _options(case) -> dict:
    options = case["options"] or {}
    if isinstance(options, list):  # the shipped cases list the flags that are TRUE
        return {name.replace(".", "_"): True for name in options}
    return {name.replace(".", "_"): value for name, value in options.items()}


def _data(case) -> pd.DataFrame:
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    if "grade" in case["model"]:
        data = data[data["grade"].notna()].reset_index(drop=True)
    return data


@cache
def fitted(path: str):
    case = json.loads((REFERENCE / path).read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        fit = getattr(semlang, case.get("fun", "sem"))(case["model"], _data(case), **_options(case))
    return case, fit


def _compare(frame: pd.DataFrame, reference: list[dict] | dict, what: str) -> None:
    records = (
        reference if isinstance(reference, list) else pd.DataFrame(reference).to_dict("records")
    )
    for i, row in enumerate(records):
        for name, value in row.items():
            actual = frame.iloc[i][name]
            if value is None:
                assert np.isnan(actual), f"{what} row {i} {name}: {actual} should be NaN"
            else:
                assert_matches("score", actual, value, f"{what} row {i} {name}")


@pytest.mark.parametrize("name", ["bigfive_agree_equal", "hs_cfa", "micro_macro_sem"])
@pytest.mark.parametrize("method", ["regression", "bartlett"])
def test_shipped_cases_first_rows(name, method):
    case, fit = fitted(f"{name}.json")
    assert case["name"] == load_case(name)["name"]
    _compare(fit.predict(method=method), case[f"scores_{method}"], f"{name} {method}")


@pytest.mark.parametrize("method", ["regression", "bartlett"])
def test_mean_structure_every_row(method):
    case, fit = fitted("extra/hs_cfa_meanstructure_scores.json")
    scores = fit.predict(method=method)
    assert list(scores.index) == [r - 1 for r in case["scores"]["rows"]]
    _compare(scores, case["scores"][method], f"meanstructure {method}")


@pytest.mark.parametrize("method", ["regression", "bartlett"])
def test_multigroup_scores_per_group(method):
    case, fit = fitted("extra/hs_multigroup_scores.json")
    scores = fit.predict(method=method)
    assert list(scores.columns) == ["school", "visual", "textual", "speed"]
    for group in case["scores"]:
        rows = [r - 1 for r in group["rows"]]
        assert (scores.loc[rows, "school"] == group["group_label"]).all()
        _compare(scores.loc[rows], group[method], f"group {group['group_label']} {method}")


@pytest.mark.parametrize("sample", ["scores_first20", "scores_missing20"])
@pytest.mark.parametrize("method", ["regression", "bartlett"])
def test_fiml_rows_scored_from_their_observed_variables(sample, method):
    case, fit = fitted("extra/bfi_5factor_fiml_scores.json")
    scores = fit.predict(method=method)
    rows = [r - 1 for r in case[sample]["rows"]]
    _compare(scores.loc[rows], case[sample][method], f"bfi {sample} {method}")


@pytest.mark.parametrize("method", ["regression", "bartlett"])
def test_fiml_sem_with_observed_outcome_and_covariate(method):
    # y and Z are dummies in lavaan's LISREL form; row 19 observes only y and Z, whose row of
    # loadings (the structural coefficients) still measures xi
    case = _scores_case("micro_macro_fiml_cells")
    data = _data(case)
    for cell in case["missing_cells"]:
        rows = np.atleast_1d(cell["rows"]) - 1
        data.loc[rows, list(np.atleast_1d(cell["vars"]))] = np.nan
    fit = semlang.sem(case["model"], data, **_options(case))
    _compare(fit.predict(method=method), case[method], f"micro-macro FIML {method}")


def _scores_case(name: str) -> dict:
    cases = json.loads((REFERENCE / "scores" / "scores_cases.json").read_text())["cases"]
    return next(c for c in cases if c["name"] == name)


@pytest.mark.parametrize("name", ["mimic_hs", "mimic_hs_meanstructure"])
@pytest.mark.parametrize("method", ["regression", "bartlett"])
def test_exogenous_covariates(name, method):
    case = _scores_case(name)
    fit = semlang.sem(case["model"], _data(case), **_options(case))
    _compare(fit.predict(method=method), case[method], f"{name} {method}")


@pytest.mark.parametrize("method", ["regression", "bartlett"])
def test_new_data_with_missing_values_under_fiml(method):
    case = _scores_case("bfi_fiml_newdata")
    _, fit = fitted("extra/bfi_5factor_fiml_scores.json")
    new = _data(case).iloc[:12].copy()
    for cell in case["missing_cells"]:
        new.loc[new.index[cell["row"] - 1], cell["vars"]] = np.nan
    scores = fit.predict(data=new, method=method)
    assert list(scores.index) == list(new.index)
    _compare(scores, case[method], f"new data {method}")
    # row 1 observes no indicator of agree: no Bartlett score, a regression score from the rest
    assert np.isnan(scores.iloc[0]["agree"]) == (method == "bartlett")


@pytest.mark.parametrize("method", ["regression", "bartlett"])
def test_a_new_row_observing_nothing_has_no_score_under_fiml(method):
    # lavaan's lavPredict gives NA there (a regression score would otherwise be the prior mean)
    data = semlang.datasets.load("hs")
    fit = semlang.cfa("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", data, missing="fiml")
    new = data.head(3).copy()
    new.loc[new.index[0], ["x1", "x2", "x3", "x4", "x5", "x6"]] = np.nan
    scores = fit.predict(data=new, method=method)
    assert scores.iloc[0].isna().all()
    np.testing.assert_allclose(scores.iloc[1:], fit.predict(method=method).iloc[1:3])


# ---- direct computations -------------------------------------------------------------------
@cache
def hs_fit():
    return semlang.cfa(load_case("hs_cfa")["model"], semlang.datasets.load("hs"))


def _matrices(fit):
    frame = fit.estimates()
    latent = ["visual", "textual", "speed"]
    observed = [f"x{i}" for i in range(1, 10)]
    lam = np.zeros((9, 3))
    for row in frame[frame.op == "=~"].itertuples():
        lam[observed.index(row.rhs), latent.index(row.lhs)] = row.est
    theta = np.diag([frame[(frame.op == "~~") & (frame.lhs == v) & (frame.rhs == v)].est.iloc[0]
                     for v in observed])  # fmt: skip
    psi = np.array([[frame[(frame.op == "~~") & (((frame.lhs == a) & (frame.rhs == b)) |
                    ((frame.lhs == b) & (frame.rhs == a)))].est.iloc[0] for b in latent]
                    for a in latent])  # fmt: skip
    return latent, observed, lam, theta, psi


def test_regression_and_bartlett_formulas():
    fit = hs_fit()
    latent, observed, lam, theta, psi = _matrices(fit)
    x = semlang.datasets.load("hs")[observed].to_numpy()
    centered = x - x.mean(axis=0)
    sigma = lam @ psi @ lam.T + theta
    regression = centered @ np.linalg.solve(sigma, lam @ psi)
    theta_inv = np.linalg.inv(theta)
    bartlett = centered @ (np.linalg.solve(lam.T @ theta_inv @ lam, lam.T @ theta_inv)).T
    np.testing.assert_allclose(fit.predict()[latent].to_numpy(), regression, atol=1e-6)
    np.testing.assert_allclose(fit.predict(method="bartlett")[latent].to_numpy(), bartlett,
                               atol=1e-6)  # fmt: skip


def test_bartlett_weights_are_conditionally_unbiased():
    fit = hs_fit()
    _, _, lam, _, _ = _matrices(fit)
    weights = score_weights(fit, "bartlett")[0]
    np.testing.assert_allclose(weights.weights @ lam, np.eye(3), atol=1e-8)


def test_weights_reproduce_predict():
    fit = hs_fit()
    x = semlang.datasets.load("hs")[[f"x{i}" for i in range(1, 10)]].to_numpy()
    for method in ("regression", "bartlett"):
        (weights,) = score_weights(fit, method)
        assert weights.observed == tuple(f"x{i}" for i in range(1, 10))
        np.testing.assert_allclose(weights.apply(x), fit.predict(method=method).to_numpy())


def test_new_data_equals_fitted_rows_and_keeps_the_index():
    fit = hs_fit()
    data = semlang.datasets.load("hs")
    new = data.set_index(data.index + 1000)
    np.testing.assert_allclose(fit.predict(data=new).to_numpy(), fit.predict().to_numpy())
    assert list(fit.predict(data=new).index) == list(new.index)


def test_incomplete_new_rows_of_a_listwise_fit_get_nan():
    fit = hs_fit()
    new = semlang.datasets.load("hs").iloc[:3].copy()
    new.loc[new.index[1], "x4"] = np.nan
    scores = fit.predict(data=new)
    assert scores.iloc[1].isna().all()
    assert scores.iloc[[0, 2]].notna().all().all()


ALIASES = [
    ("Bartlett", "bartlett"),
    ("ML", "bartlett"),
    ("EBM", "regression"),
    ("Regression", "regression"),
]


@pytest.mark.parametrize("alias, method", ALIASES)
def test_method_aliases(alias, method):
    fit = hs_fit()
    pd.testing.assert_frame_equal(predict(fit, method=alias), predict(fit, method=method))


def test_unknown_method_and_bad_new_data():
    fit = hs_fit()
    with pytest.raises(OptionError, match="unknown factor-score method"):
        fit.predict(method="anderson")
    with pytest.raises(DataError, match="x9"):
        fit.predict(data=semlang.datasets.load("hs").drop(columns="x9"))
    _, multi = fitted("extra/hs_multigroup_scores.json")
    with pytest.raises(DataError, match="group column"):
        multi.predict(data=semlang.datasets.load("hs").drop(columns="school"))


def test_dummy_rule_of_the_micro_macro_sem():
    _, fit = fitted("micro_macro_sem.json")
    layout = fit.implied[0].layout
    dummies = [layout.observed[i] for i in dummy_observed(fit.table, 1, layout.observed)]
    assert dummies == ["y", "Z"]


def test_rows_dropped_by_listwise_deletion_keep_the_positions_of_the_others():
    data = semlang.datasets.load("hs").copy()
    data.loc[[0, 5, 300], "x1"] = np.nan
    model = load_case("hs_cfa")["model"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        fit = semlang.cfa(model, data)
    scores = fit.predict()
    assert len(scores) == 298 and 0 not in scores.index and 300 not in scores.index
    complete = data.drop(index=[0, 5, 300])
    np.testing.assert_allclose(scores.to_numpy(), fit.predict(data=complete).to_numpy())
