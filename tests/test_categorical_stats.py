"""Thresholds, polychoric/polyserial correlations and Γ against lavaan 0.6.14.

References: ``tests/reference/categorical/<case>.json`` made by
``tools/categorical_stats_reference.R`` (lavCor, and lavInspect of a WLSMV fit: sampstat, wls.obs,
gamma, wls.v) with the cut data beside them as CSV. Thresholds and correlations are compared with
the tolerance of estimates ("est"), Γ and the DWLS weights with that of standard errors ("se").
"""

from __future__ import annotations

import json
import warnings
from functools import cache

import numpy as np
import pandas as pd
import pytest
from reference_cases import REFERENCE_DIR, assert_matches

import semlang
from semlang.categorical import sample_statistics

CATEGORICAL = REFERENCE_DIR / "categorical"
CSV = {
    "hs_cut3": "hs_cut3.csv",
    "hs_binary": "hs_binary.csv",
    "hs_mixed": "hs_mixed.csv",
    "hs_cut3_groups": "hs_cut3.csv",
    "hs_cut3_pairwise": "hs_cut3_holes.csv",
    "hs_mixed_pairwise": "hs_mixed_holes.csv",
    "zero_cells": "zero_cells.csv",
}
# conditional on covariates (from a WLSMV model fit)
EXOGENOUS_CSV = {"hs_mixed_exo": "hs_mixed.csv", "hs_binary_exo": "hs_binary.csv"}


@cache
def reference(name: str) -> dict:
    return json.loads((CATEGORICAL / f"{name}.json").read_text())


def _data(name: str) -> pd.DataFrame:
    if name == "bfi_items":
        return semlang.datasets.load("bfi")
    return pd.read_csv(CATEGORICAL / (CSV | EXOGENOUS_CSV)[name])


@cache
def statistics(name: str):
    ref = reference(name)
    group = ref.get("group") or None
    exogenous = ref.get("exogenous", [])
    exogenous = [exogenous] if isinstance(exogenous, str) else exogenous
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return sample_statistics(
            _data(name),
            ref["variables"],
            ref["ordered"],
            group=group,
            exogenous=exogenous,
            missing=ref.get("missing", "listwise"),
        )


def _matrix(block) -> np.ndarray:
    return np.array(block["values"], dtype=float)


CASES = [*CSV, "bfi_items", *EXOGENOUS_CSV]


@pytest.mark.parametrize("name", CASES)
def test_wls_obs_matches_lavaan(name):
    stats = statistics(name)
    for g, group_ref in zip(stats.groups, reference(name)["groups"], strict=True):
        assert g.nobs == group_ref["nobs"]
        assert list(g.wls_obs_names) == group_ref["wls_obs"]["names"]
        for label, mine, theirs in zip(
            g.wls_obs_names, g.wls_obs, group_ref["wls_obs"]["values"], strict=True
        ):
            assert_matches("est", mine, theirs, f"{name} group {g.label} {label}")


@pytest.mark.parametrize("name", CASES)
def test_gamma_matches_lavaan(name):
    stats = statistics(name)
    for g, group_ref in zip(stats.groups, reference(name)["groups"], strict=True):
        diagonal = group_ref["gamma_diag"]["values"]
        for k, (mine, theirs) in enumerate(zip(np.diag(g.nacov), diagonal, strict=True)):
            assert_matches("se", mine, theirs, f"{name} Γ[{k}, {k}]")
        for k, (mine, theirs) in enumerate(
            zip(g.wls_vd, group_ref["wls_v_diag"]["values"], strict=True)
        ):
            assert_matches("se", mine, theirs, f"{name} DWLS weight {k}")
        if "gamma" in group_ref:
            full = _matrix(group_ref["gamma"])
            assert np.abs(g.nacov - full).max() <= 1e-4 + 5e-3 * np.abs(full).max()
        else:
            for row, values in zip(
                group_ref["gamma_rows"]["index"], group_ref["gamma_rows"]["values"], strict=True
            ):
                for k, (mine, theirs) in enumerate(zip(g.nacov[row - 1], values, strict=True)):
                    assert_matches("se", mine, theirs, f"{name} Γ[{row - 1}, {k}]")
        if np.linalg.cond(g.nacov) < 1e8:
            assert np.allclose(g.wls_v @ g.nacov, np.eye(len(g.wls_obs)), atol=1e-8)


@pytest.mark.parametrize(
    "name", ["hs_cut3", "hs_mixed", "hs_cut3_groups", "hs_cut3_pairwise", "hs_mixed_pairwise"]
)
def test_polychoric_matches_lavcor(name):
    ref = reference(name)
    group = ref.get("group") or None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        result = semlang.polychoric(
            _data(name)[ref["variables"] + ([group] if group else [])],
            ordered=ref["ordered"],
            group=group,
            missing=ref["missing"],
        )
    cors = result.cor if group else {"": result.cor}
    ths = result.thresholds if group else {"": result.thresholds}
    cor_refs = ref["cor"] if group else {"": ref["cor"]}
    th_refs = ref["th"] if group else {"": ref["th"]}
    assert list(cors) == list(cor_refs)
    for label, cor in cors.items():
        assert list(cor.columns) == cor_refs[label]["cols"]
        np.testing.assert_allclose(cor.to_numpy(), _matrix(cor_refs[label]), atol=2e-4)
        th_ref = th_refs[label]
        # lavCor's thresholds include the means of continuous variables; ours are the thresholds
        expected = {
            n: v for n, v in zip(th_ref["names"], th_ref["values"], strict=True) if "|" in n
        }
        assert list(ths[label].index) == list(expected)
        for key, value in expected.items():
            assert_matches("est", ths[label][key], value, f"{name} {key}")


def test_conditional_on_a_covariate_gives_residual_thresholds_and_slopes():
    g = statistics("hs_mixed_exo").groups[0]
    ss = reference("hs_mixed_exo")["groups"][0]["sampstat"]
    assert g.exogenous == ("ageyr",)
    slopes = _matrix(ss["res.slopes"]).ravel()
    for mine, theirs in zip(g.slopes.ravel(), slopes, strict=True):
        assert_matches("est", mine, theirs, "slope")
    for mine, theirs in zip(g.th[:6], ss["res.th"]["values"][:6], strict=True):
        assert_matches("est", mine, theirs, "residual threshold")


@pytest.mark.parametrize("name", list(EXOGENOUS_CSV))
def test_statistics_on_covariates_raise_no_runtime_warning(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        g = statistics.__wrapped__(name).groups[0]  # not the cached statistics
        assert np.all(np.isfinite(g.nacov))
    assert g.exogenous[0] == "ageyr"


def test_zero_cells_follow_lavaan():
    stats = statistics("zero_cells")
    g = stats.groups[0]
    expected = [tuple(pair) for pair in reference("zero_cells")["zero_cell_tables"][0]]
    assert g.zero_cell_tables == tuple(expected)
    # the 2 x 2 table of a and b has one empty cell: 0.5 moved into it, keeping the margins
    assert_matches("est", g.cor[0, 1], _matrix(reference("zero_cells")["cor"])[0, 1], "a~~b")
    # c and a reach the bound of 0.999, with lavaan's warning
    assert g.cor[2, 0] == pytest.approx(0.999, abs=1e-9)
    with (
        pytest.warns(semlang.DataWarning, match=r"correlation of c and a is \(nearly\) 1.0"),
        pytest.warns(semlang.NotPositiveDefiniteWarning, match="used as it is"),
    ):
        sample_statistics(_data("zero_cells"), ordered=True)


def test_bfi_polychoric_matrix_and_thresholds():
    ref = reference("bfi_items")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        result = semlang.polychoric(semlang.datasets.load("bfi")[ref["variables"]], ordered=True)
    np.testing.assert_allclose(result.cor.to_numpy(), _matrix(ref["cor"]), atol=2e-4)
    assert list(result.thresholds.index) == ref["th"]["names"]
    np.testing.assert_allclose(result.thresholds.to_numpy(), ref["th"]["values"], atol=2e-4)
    assert result.nobs == 2436
    assert result.gamma.shape == (425, 425)


def test_ordered_categorical_columns_are_taken_as_ordered():
    data = pd.read_csv(CATEGORICAL / "hs_cut3.csv")[["x1", "x2", "x3"]]
    labels = ["low", "mid", "high"]
    as_categories = pd.DataFrame(
        {
            name: pd.Categorical.from_codes(data[name] - 1, categories=labels, ordered=True)
            for name in data
        }
    )
    by_codes = semlang.polychoric(data, ordered=True)
    by_categories = semlang.polychoric(as_categories)
    np.testing.assert_allclose(by_categories.cor.to_numpy(), by_codes.cor.to_numpy(), atol=1e-12)
    assert by_categories.statistics.groups[0].levels[0] == ("low", "mid", "high")
