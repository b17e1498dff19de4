"""semlang.efa() of ordered items and an exploratory SEM with ordered indicators against lavaan
0.6.14 (tests/reference/efa_ordered/, tools/efa_ordered_reference.R): rotated loadings,
thresholds, residual variances and factor correlations with their robust standard errors, the
scaled and robust fit measures, the printed summary; and the refusals of bad input."""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import pandas as pd
import pytest

import semlang
from tests.reference_cases import REFERENCE_DIR, assert_matches, load_case

HS3 = REFERENCE_DIR / "categorical_fit" / "hs_cut3.csv"  # x1..x9 cut into 3 categories
ITEMS = [f"x{i}" for i in range(1, 10)]
EFA_CASES = (
    "hs3_geomin",
    "hs3_oblimin",
    "hs3_varimax_ulsmv",
    "hs3_none_dwls",
    "mixed_geomin",
    "bfi_geomin",
)
SLOW = ("bfi_geomin",)
MEASURES = {
    "npar": "exact", "df": "exact", "chisq": "chisq", "chisq_scaled": "chisq",
    "baseline_chisq": "chisq", "baseline_chisq_scaled": "chisq",
    "chisq_scaling_factor": "scaling", "pvalue": "fit_index", "pvalue_scaled": "fit_index",
    "cfi": "fit_index", "tli": "fit_index", "cfi_scaled": "fit_index", "tli_scaled": "fit_index",
    "cfi_robust": "fit_index", "tli_robust": "fit_index", "rmsea": "fit_index",
    "rmsea_scaled": "fit_index", "rmsea_robust": "fit_index",
    "rmsea_ci_upper_scaled": "fit_index", "rmsea_ci_upper_robust": "fit_index",
    "srmr": "fit_index", "wrmr": "fit_index",
}  # fmt: skip


def case(name: str) -> dict:
    return load_case(f"efa_ordered/{name}")


def hs3() -> pd.DataFrame:
    return pd.read_csv(HS3)


def mixed() -> pd.DataFrame:
    """hs3's x1..x3 (ordered) with the original x4..x9 (continuous)."""
    data = hs3()
    original = semlang.datasets.load("HolzingerSwineford1939")
    for name in ITEMS[3:]:
        data[name] = original[name]
    return data


@cache
def fitted(name: str):
    ref = case(name)
    loaders = {"bfi": lambda: semlang.datasets.load("bfi"), "mixed": mixed}
    data = loaders.get(name.split("_")[0], hs3)()
    options = {k.replace(".", "_"): v for k, v in ref["options"].items()}
    return semlang.efa(data[ref["variables"]], nfactors=ref["nfactors"],
                       rotation=ref["rotation"], **options)  # fmt: skip


def params(names):
    return [pytest.param(n, marks=(pytest.mark.slow,) if n in SLOW else ()) for n in names]


def by_key(rows) -> dict:
    return {(r["lhs"], r["op"], r["rhs"]): r for r in rows}


@pytest.mark.parametrize("name", params(EFA_CASES))
def test_estimates_and_robust_standard_errors(name):
    ref, result = case(name), fitted(name)
    for key, fit in ref["fits"].items():
        mine = by_key(result[int(key.removeprefix("nf"))].estimates().to_dict("records"))
        for at, row in by_key(fit["estimates"]).items():
            if row["op"] == "~1":  # intercepts of y* and the factors' means, fixed to 0
                continue
            what = f"{name} {key} {' '.join(at)}"
            assert_matches("est", mine[at]["est"], row["est"], what + " est")
            assert_matches("std_all", mine[at]["std_all"], row["std.all"], what + " std")
            assert_matches("se", mine[at]["se"], row["se"], what + " se")


@pytest.mark.parametrize("name", params(EFA_CASES))
def test_scaled_and_robust_fit_measures(name):
    ref, result = case(name), fitted(name)
    assert result[result.nfactors[0]].summary_estimator == ref["estimator"]  # DWLS, ULS
    for m, measures in zip(np.atleast_1d(ref["nfactors"]), ref["fit_measures"], strict=True):
        mine = result[int(m)].fit_measures
        for measure, kind in MEASURES.items():
            what = f"{name} nf{m} {measure}"
            reference = measures.get(measure.replace("_", "."))
            if reference is None:  # (DWLS: no scaled test)
                assert measure not in mine or np.isnan(mine[measure]), what
                continue
            assert_matches(kind, mine[measure], reference, what)


# lavaan's standard errors of the standardized solution of a rotated model come from forward
# differences (step 0.001) through a rotation solved to 1e-5 (see tests/test_efa.py): semlang
# takes the same steps and matches within this tolerance; oblimin's flat criterion makes
# lavaan's numbers noisier than that (up to 0.02), so that case is not compared
STD_SE_TOLERANCE = (2e-3, 0.03)


@pytest.mark.parametrize("name", params([n for n in EFA_CASES if n != "hs3_oblimin"]))
def test_standard_errors_of_the_standardized_solution(name):
    ref, result = case(name), fitted(name)
    absolute, relative = STD_SE_TOLERANCE
    for key, fit in ref["fits"].items():
        mine = by_key(result[int(key.removeprefix("nf"))].estimates().to_dict("records"))
        for at, row in by_key(fit["estimates"]).items():
            if row["op"] in ("=~", "|", "~~"):
                diff = abs(mine[at]["se_std"] - row["se.std"])
                assert diff <= absolute + relative * abs(row["se.std"]), f"{name} {key} {at}"


@pytest.mark.parametrize("name", params(EFA_CASES))
def test_summary_as_lavaan(name):
    """Line for line lavaan's (after its first line); stars may differ where lavaan's noisy
    standardized SEs put z next to the cut-off."""
    mine = [line.rstrip() for line in fitted(name).summary().splitlines()[1:]]
    theirs = [line.rstrip() for line in case(name)["summary"][1:]]
    for lines in (mine, theirs):
        while lines and not lines[-1]:
            lines.pop()
    assert [line.replace("*", " ").rstrip() for line in mine] == [
        line.replace("*", " ").rstrip() for line in theirs
    ]
    assert sum(a != b for a, b in zip(mine, theirs, strict=True)) <= 2


def test_thresholds_and_comparison_table():
    result = fitted("hs3_varimax_ulsmv")
    ref = by_key(case("hs3_varimax_ulsmv")["fits"]["nf2"]["estimates"])
    thresholds = result[2].thresholds
    assert list(thresholds.index[:2]) == ["x1|t1", "x1|t2"]
    assert_matches("est", thresholds["x1|t2"], ref[("x1", "|", "t2")]["est"], "x1|t2")
    table = result.fit_table()
    assert list(table.columns) == ["chisq", "df", "pvalue", "cfi", "rmsea"]
    measures = case("hs3_varimax_ulsmv")["fit_measures"][0]
    assert_matches("chisq", table["chisq"].iloc[0], measures["chisq.scaled"], "chisq scaled")
    assert_matches("fit_index", table["rmsea"].iloc[0], measures["rmsea.robust"], "rmsea")


# ---- an exploratory SEM with ordered indicators and a structural part ----


ESEM_CASES = ("esem_hs3_structural", "esem_hs3_theta", "esem_hs3_groups")


@cache
def esem_fit(name: str = "esem_hs3_structural"):
    ref = case(name)
    options = {k.replace(".", "_"): v for k, v in ref["options"].items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return getattr(semlang, ref["fun"])(ref["model"], hs3(), **options)


def group_key(row) -> tuple:
    return (row["lhs"], row["op"], row["rhs"], row.get("group", 1))


def factor_names(mine: pd.DataFrame, theirs: pd.DataFrame) -> dict[str, str]:
    """Our factor -> lavaan's, matched by their loadings: in group 2 of esem_hs3_groups two
    factors tie in lavaan's order.lv.by = "index" (the average row of their largest loadings),
    which then keeps the order the rotation found them in."""
    a = mine.pivot(index="rhs", columns="lhs", values="est").fillna(0.0)
    b = theirs.pivot(index="rhs", columns="lhs", values="est").loc[a.index].fillna(0.0)
    return {f: min(b.columns, key=lambda g: float(np.abs(a[f] - b[g]).sum())) for f in a.columns}


@pytest.mark.parametrize("name", ESEM_CASES)
def test_esem_with_ordered_indicators(name):
    ref, fit = case(name), esem_fit(name)
    assert fit.options.estimator.value == "WLSMV"
    frame, theirs = fit.estimates(), pd.DataFrame(ref["estimates"])
    for table in (frame, theirs):
        if "group" not in table:
            table["group"] = 1
    for group in sorted(set(frame.group)):
        loadings = (frame.op == "=~") & (frame.group == group)
        rename = factor_names(
            frame[loadings], theirs[(theirs.op == "=~") & (theirs.group == group)]
        )
        for column in ("lhs", "rhs"):
            rows = frame.group == group
            frame.loc[rows, column] = [rename.get(v, v) for v in frame.loc[rows, column]]
        if group == 1:
            assert all(k == v for k, v in rename.items())
    mine = {group_key(r): r for r in frame.to_dict("records")}
    for row in ref["estimates"]:
        at, what = group_key(row), f"{name} {group_key(row)}"
        if at not in mine:  # a correlation of two renamed factors: the other way round
            at = (at[2], at[1], at[0], at[3])
        assert_matches("est", mine[at]["est"], row["est"], what + " est")
        assert_matches("std_all", mine[at]["std_all"], row["std.all"], what + " std")
        assert_matches("se", mine[at]["se"], row["se"], what + " se")
    measures = fit.fit_measures()
    theirs_fm = dict(zip(ref["fit_measures"]["names"], ref["fit_measures"]["values"], strict=True))
    for measure, kind in MEASURES.items():
        assert_matches(kind, measures[measure], theirs_fm[measure.replace("_", ".")], measure)


def renamed(frame: pd.DataFrame, theirs: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (lhs, op, rhs, est, group) with each group's factors renamed to lavaan's."""
    frame = frame.copy()
    for group in sorted(set(frame.group)):
        rows = frame.group == group
        ours_loadings = frame[rows & (frame.op == "=~")]
        rename = factor_names(ours_loadings, theirs[(theirs.op == "=~") & (theirs.group == group)])
        for column in ("lhs", "rhs"):
            frame.loc[rows, column] = [rename.get(v, v) for v in frame.loc[rows, column]]
    return frame


@pytest.mark.parametrize("name", ESEM_CASES)
def test_esem_standardized_solution_with_ordered_indicators(name):
    """standardizedSolution()'s standard errors: forward differences through the rotation from
    the unrotated parameters, as lavaan (kind se_std_rotated: lavaan's numerical noise)."""
    ref, fit = case(name), esem_fit(name)
    theirs = pd.DataFrame(ref["estimates"]).assign(se_std=ref["se_std"])
    std = fit.standardized_solution().rename(columns={"est_std": "value"})
    std["est"] = fit.estimates()["est"].to_numpy()  # (the same rows, for the factor names)
    for table in (std, theirs):
        if "group" not in table:
            table["group"] = 1
    mine = {group_key(r): r for r in renamed(std, theirs).to_dict("records")}
    for row in theirs.to_dict("records"):
        at, what = group_key(row), f"{name} {group_key(row)}"
        if at not in mine:  # a correlation of two renamed factors: the other way round
            at = (at[2], at[1], at[0], at[3])
        assert_matches("std_all", mine[at]["value"], row["std.all"], what + " std")
        assert_matches("se_std_rotated", mine[at]["se"], row["se_std"], what + " se_std")


def test_esem_unrotated_solution():
    ref = case("esem_hs3_structural")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        fit = semlang.sem(ref["model"], hs3(), ordered=ITEMS, rotation="none")
    mine = by_key(fit.estimates().to_dict("records"))
    for row in ref["unrotated"]:
        at = (row["lhs"], row["op"], row["rhs"])
        assert_matches("est", mine[at]["est"], row["est"], f"unrotated {' '.join(at)}")


# ---- bad input ----


def test_ml_with_ordered_items_is_refused():
    assert "estimator ML for ordered data is not supported" in case("errors")["ml_estimator"]
    with pytest.raises(semlang.OptionError, match="'ML' is not available for ordered") as error:
        semlang.efa(hs3()[ITEMS], nfactors=2, ordered=True, estimator="ML")
    assert "WLSMV" in error.value.hint


def test_ordered_name_not_among_the_items():
    # lavaan warns and ignores the name; semlang stops, naming it
    assert case("errors")["unknown_ordered"] is None
    with pytest.raises(semlang.DataError, match="'x10', which is not one of the items"):
        semlang.efa(hs3()[ITEMS], nfactors=2, ordered=["x1", "x10"])


def test_ordered_needs_the_data():
    cov = hs3()[ITEMS].cov()
    with pytest.raises(semlang.OptionError, match="ordered= needs the data"):
        semlang.efa(sample_cov=cov, sample_nobs=301, nfactors=2, ordered=True)


def test_ordered_categorical_columns_are_ordered_without_being_named():
    data = hs3()[ITEMS].apply(lambda c: pd.Categorical(c, ordered=True))
    fit = semlang.efa(data, nfactors=3)[3]
    assert fit.estimator == "WLSMV"
    ref = by_key(case("hs3_geomin")["fits"]["nf3"]["estimates"])
    mine = by_key(fit.estimates().to_dict("records"))
    for at in [("f1", "=~", "x1"), ("x9", "|", "t2"), ("f2", "~~", "f3")]:
        assert_matches("est", mine[at]["est"], ref[at]["est"], str(at))


def test_without_standard_errors_and_promax():
    data = hs3()[ITEMS]
    quiet = semlang.efa(data, nfactors=3, ordered=True, se=False)[3]
    assert quiet.se is None and quiet.se_std is None
    ref = by_key(case("hs3_geomin")["fits"]["nf3"]["estimates"])
    assert_matches("est", quiet.loadings.loc["x9", "f3"], ref[("f3", "=~", "x9")]["est"], "x9")
    assert "Standardized loadings:\n" in quiet.summary()  # no stars without standard errors
    promax = semlang.efa(data, nfactors=2, ordered=True, rotation="promax")[2]
    assert promax.se is None  # promax minimizes no criterion (efa() of continuous items, too)
    assert "Rotation algorithm (rstarts)              PROMAX (0)" in promax.summary()
