"""Modification indices and score tests against lavaan 0.6.14 (tests/reference/diagnostics/
modindices2_*.json, score2_*.json): two-level models, the observed and first-order information,
lavTestScore's epc table and user equality constraints (``a == b``) released."""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import semlang
from tests.reference_cases import assert_matches
from tests.test_groups import PREPS

DIAGNOSTICS = Path(__file__).resolve().parents[1] / "reference" / "diagnostics"
INFORMATION = ["expected", "observed", "first.order"]
SEPC = {"sepc.lv": "sepc_lv", "sepc.all": "sepc_all", "sepc.nox": "sepc_nox"}


@cache
def load(name: str) -> dict:
    return json.loads((DIAGNOSTICS / f"{name}.json").read_text())


@cache
def fitted(name: str):
    case = load(name)
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    if case.get("prep"):
        data = PREPS[case["prep"]](data)
    options = {key.replace(".", "_"): value for key, value in case["options"].items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.DataWarning)  # lavaan drops the same row
        return getattr(semlang, case["fun"])(case["model"], data, **options)


def as_float(column) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in column], dtype=float)


def check_table(
    table: pd.DataFrame, reference: list[dict], what: str, tiny: float = 0.0, rtol: float = 0.0
):
    """Row for row (by lhs, op, rhs, group, level) mi, epc and the standardized epcs. Rows whose
    index is below ``tiny`` in lavaan (numerically zero) must be below it here too; ``rtol``
    replaces the estimates' tolerance of the epcs by a relative one."""
    ref = pd.DataFrame(reference)
    keys = [k for k in ("lhs", "op", "rhs", "group", "level") if k in ref and k in table]
    assert len(ref) == len(table), f"{what}: {len(table)} rows, lavaan {len(ref)}"
    both = ref.merge(table, on=keys, suffixes=("_ref", ""), validate="one_to_one")
    assert len(both) == len(ref), f"{what}: the candidates differ from lavaan's"
    for _, row in both.iterrows():
        name = f"{what} {row.lhs}{row.op}{row.rhs}"
        if row.mi_ref < tiny:
            assert row.mi < tiny, name
            continue
        assert_matches("chisq", row.mi, row.mi_ref, f"{name} mi")
        # freeing a latent mean of a group whose other intercepts are all equal is nearly not
        # identified: |epc| > 5, where lavaan's stopping rule leaves ~1e-3 relative noise
        kind = "est" if abs(row.epc_ref) < 5 else "chisq"
        pairs = [("epc", row.epc, row.epc_ref)] + [
            (col, row[col], row[ref_col])
            for ref_col, col in SEPC.items()
            if row[ref_col] is not None and not np.isnan(row[ref_col])
        ]
        for col, value, expected in pairs:
            if rtol:
                assert abs(value - expected) <= rtol * abs(expected) + 2e-4, f"{name} {col}"
            else:
                assert_matches(kind, value, expected, f"{name} {col}")


MI_CASES = ["hs_cfa", "hs_groups_equal", "hs_fiml", "hs_fiml_mlr", "hs_user_eq",
            "hs_user_eq_groups"]  # fmt: skip
# lavaan's observed information is a numerical Hessian: for a marker loading (not identified
# once freed) its V stays just above the cut-off and lavaan reports a noise index; semlang's
# analytic Hessian gives V ≈ 0 and drops the row, as the expected information does
NOISE = {("hs_user_eq_groups", "observed"): [("textual", "=~", "x4", 1)]}


@pytest.mark.parametrize("information", INFORMATION)
@pytest.mark.parametrize("name", MI_CASES)
def test_modindices_information_matches_lavaan(name, information):
    case = load(f"modindices2_{name}")
    table = fitted(f"modindices2_{name}").modindices(information=information)
    reference = case[f"modindices_{information}"]
    for lhs, op, rhs, group in NOISE.get((name, information), []):
        reference = [
            r for r in reference if (r["lhs"], r["op"], r["rhs"], r.get("group", 1))
            != (lhs, op, rhs, group)
        ]  # fmt: skip
    check_table(table, reference, f"{name} {information}")


@pytest.mark.parametrize("information", INFORMATION)
def test_two_level_modindices_match_lavaan(information):
    case = load("modindices2_twolevel")
    table = fitted("modindices2_twolevel").modindices(information=information)
    assert list(table.columns[:5]) == ["lhs", "op", "rhs", "group", "level"]
    # lavaan's numerical Hessian keeps the two marker loadings (noise indices, see NOISE)
    reference = [r for r in case[f"modindices_{information}"] if r["op"] != "=~"]
    # lavaan's two-level estimates stop ~1e-4 from the optimum (the level-2 intercepts), which
    # moves the weakly determined level-2 epcs by up to 0.4%
    check_table(table, reference, f"twolevel {information}", tiny=1e-4, rtol=1e-2)
    big = table.loc[table.mi > 1e-4]
    assert set(zip(big.lhs, big.rhs, big.level, strict=True)) >= {("y1", "y2", 1), ("y2", "y3", 2)}


def test_two_level_first_order_leaves_out_the_covariates():
    """lavaan's first-order information of a two-level model has no rows for the fixed
    covariates' own moments: their candidates (x1 ~~ x2, w1 ~ w2, ...) get no index."""
    table = fitted("modindices2_twolevel").modindices(information="first.order")
    assert sorted(zip(table.lhs, table.rhs, table.level, strict=True)) == [
        ("y1", "y2", 1), ("y1", "y2", 2), ("y1", "y3", 1), ("y1", "y3", 2), ("y2", "y3", 1),
        ("y2", "y3", 2),
    ]  # fmt: skip


def test_unknown_information_is_an_option_error():
    with pytest.raises(semlang.OptionError, match="'hessian'"):
        fitted("modindices2_hs_cfa").modindices(information="hessian")


# ---------------------------------------------------------------- lavTestScore

SCORE_CASES = ["hs_add", "hs_groups_release", "hs_groups_add", "hs_fiml_add",
               "hs_user_eq_release", "hs_user_eq_all", "hs_user_eq_groups_release"]  # fmt: skip


def score(name: str, information: str, **options):
    case = load(f"score2_{name}")
    return semlang.score_test(
        fitted(f"score2_{name}"), add=case.get("add") or None,
        release=case.get("release") or None, information=information, **options,
    )  # fmt: skip


def check_tests(frame: pd.DataFrame, reference: list[dict], what: str, epc_sign: float = 1.0):
    assert list(frame.lhs) == [r["lhs"] for r in reference], what
    assert list(frame.rhs) == [r["rhs"] for r in reference], what
    for (_, row), ref in zip(frame.iterrows(), reference, strict=True):
        assert row.df == ref["df"]
        assert_matches("chisq", row.X2, ref["X2"], f"{what} {row.lhs}")
        if "epc" in ref:
            assert_matches("est", row.epc, epc_sign * ref["epc"], f"{what} epc {row.lhs}")


def check_epc_table(table: pd.DataFrame, reference: list[dict], what: str, sign: float = 1.0):
    ref = pd.DataFrame(reference)
    assert list(table.lhs + table.op + table.rhs) == list(ref.lhs + ref.op + ref.rhs), what
    assert list(table.free) == list(ref.free), what
    if "group" in ref:
        assert list(table.group) == list(ref.group)
    est, epc = as_float(ref.est), sign * as_float(ref.epc)
    assert np.array_equal(np.isnan(table.epc), np.isnan(epc)), f"{what}: free rows differ"
    for k in range(len(ref)):
        name = f"{what} {ref.lhs[k]}{ref.op[k]}{ref.rhs[k]}"
        assert_matches("est", table.est[k], est[k], f"{name} est")
        if np.isnan(epc[k]):
            continue
        assert_matches("est", table.epc[k], epc[k], f"{name} epc")
        assert_matches("est", table.epv[k], est[k] + epc[k], f"{name} epv")
        if abs(epc[k]) < 1e-4:
            continue  # the sign of a vanishing change is noise
        for ref_col, col in SEPC.items():
            value = sign * as_float(ref[ref_col])[k]
            if not np.isnan(value):
                assert_matches("est", table[col][k], value, f"{name} {col}")


@pytest.mark.parametrize("information", INFORMATION)
@pytest.mark.parametrize("name", SCORE_CASES)
def test_score_test_matches_lavaan(name, information):
    reference = load(f"score2_{name}")[information]
    out = score(name, information, cumulative=True, epc=True)
    what = f"{name} {information}"
    assert out["test"].df[0] == reference["test"][0]["df"]
    assert_matches("chisq", out["test"].X2[0], reference["test"][0]["X2"], f"{what} total")
    check_tests(out["uni"], reference["uni"], f"{what} uni")
    if (name, information) != ("hs_groups_add", "observed"):  # see the test below
        check_tests(out["cumulative"], reference["cumulative"], f"{what} cumulative")
    check_epc_table(out["epc"], reference["epc"], f"{what} epc")


def test_negative_univariate_statistic_orders_last():
    """With the observed information an added parameter's statistic can be negative (the
    information is not positive definite there). lavaan then sorts its model's own constraints
    (statistic 0) before it and releases one of them in the cumulative test; semlang takes the
    added parameters alone, in decreasing order."""
    out = score("hs_groups_add", "observed", cumulative=True)
    uni = out["uni"].X2.to_numpy()
    assert uni[1] < 0 < uni[0]
    assert list(out["cumulative"].lhs) == ["x7~~x8", "x7~~x8.g2"]
    assert_matches("chisq", out["cumulative"].X2[1], out["test"].X2[0], "all")


@pytest.mark.parametrize("information", INFORMATION)
def test_two_level_score_test(information):
    """lavTestScore on a two-level model: the statistics are lavaan's; lavaan's epc there has
    the opposite sign of its own modindices() epc (its two-level gradient's sign), semlang's
    has the modindices() sign."""
    reference = load("score2_twolevel_add")[information]
    out = score("twolevel_add", information, epc=True)
    assert_matches("chisq", out["test"].X2[0], reference["test"][0]["X2"], "total")
    check_tests(out["uni"], reference["uni"], "uni", epc_sign=-1.0)
    mi = fitted("score2_twolevel_add").modindices(information=information)
    row = mi[(mi.lhs == "y1") & (mi.rhs == "y2") & (mi.level == 1)]
    assert_matches("est", out["uni"].epc[0], row.epc.iloc[0], "as modindices")
    check_epc_table(out["epc"], reference["epc"], "twolevel epc", sign=-1.0)


def test_release_numbers_follow_lavaan():
    """User ``==`` rows first, in the model's order, then the rows sharing a label."""
    case = load("score2_hs_user_eq_all")
    out = semlang.score_test(fitted("score2_hs_user_eq_all"))
    assert list(zip(out["uni"].lhs, out["uni"].rhs, strict=True)) == [
        (c["lhs"], c["rhs"]) for c in case["constraints"]
    ]
    assert_matches("chisq", out["test"].X2[0], case["expected"]["test"][0]["X2"], "all")


def test_score_test_errors():
    fit = fitted("score2_hs_add")
    with pytest.raises(semlang.ModelError, match="no equality constraints"):
        semlang.score_test(fit)
    with pytest.raises(semlang.ModelError, match="not both"):
        semlang.score_test(fitted("score2_hs_user_eq_all"), add="x1 ~~ x4", release=[1])
    with pytest.raises(semlang.ModelError, match="no equality constraint 4"):
        semlang.score_test(fitted("score2_hs_user_eq_all"), release=[4])


def test_two_level_summary_lists_the_level():
    lines = fitted("modindices2_twolevel").summary(modindices=True).splitlines()
    start = lines.index("Modification Indices:")
    assert lines[start + 2].split() == [
        "lhs", "op", "rhs", "group", "level", "mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"
    ]  # fmt: skip
    assert any(line.split()[1:6] == ["y2", "~~", "y3", "1", "2"] for line in lines[start + 3 :])
