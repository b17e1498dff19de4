"""Cluster-robust inference for single-level models (cluster= without 'level:' blocks) against
lavaan 0.6.14 on Demo.twolevel: ML (lavaan's default there: robust.cluster standard errors and
the Yuan-Bentler test with the h1 observed information), se='robust.cluster', MLR and MLM."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from reference_cases import assert_matches, fit_measures, fit_reference, load_case

import semlang
from semlang.errors import DataError, OptionError
from semlang.options import Information, StandardErrors
from semlang.options import Test as LavaanTest
from semlang.results import tests as lavaan_tests

ROBUST_CASES = ("twolevel_cluster_ML", "twolevel_cluster_ML_robust_cluster", "twolevel_cluster_MLR")
MODEL = "fw =~ y1 + y2 + y3\nfw ~ x1 + x2 + x3"
SCALED_MEASURES = {
    "chisq": "chisq",
    "chisq_scaled": "chisq",
    "baseline_chisq_scaled": "chisq",
    "chisq_scaling_factor": "fit_index",
    "baseline_chisq_scaling_factor": "fit_index",
    "scaling_factor_h1": "fit_index",
    "scaling_factor_h0": "fit_index",
    "cfi_scaled": "fit_index",
    "tli_scaled": "fit_index",
    "cfi_robust": "fit_index",
    "tli_robust": "fit_index",
    "rmsea_scaled": "fit_index",
    "rmsea_ci_upper_scaled": "fit_index",
    "rmsea_pvalue_scaled": "fit_index",
    "rmsea_robust": "fit_index",
    "rmsea_ci_upper_robust": "fit_index",
    "rmsea_pvalue_robust": "fit_index",
    "df": "exact",
    "npar": "exact",
}


@cache
def _fit(name: str):
    return fit_reference(f"estimators/{name}")


def _check_estimates(name: str) -> None:
    reference = load_case(f"estimators/{name}")["estimates"]
    est = _fit(name).estimates()
    assert len(est) == len(reference)
    for row, ref in zip(est.itertuples(), reference, strict=True):
        what = f"{name} {row.lhs}{row.op}{row.rhs}"
        assert (row.lhs, row.op, row.rhs) == (ref["lhs"], ref["op"], ref["rhs"])
        assert_matches("est", row.est, ref["est"], what)
        assert_matches("se", row.se, ref["se"], what)


@pytest.mark.parametrize("name", [*ROBUST_CASES, "twolevel_cluster_MLM"])
def test_estimates_and_cluster_robust_se(name):
    _check_estimates(name)


@pytest.mark.parametrize("name", ROBUST_CASES)
def test_yuan_bentler_test_and_robust_measures(name):
    ours, reference = _fit(name).fit_measures(), fit_measures(f"estimators/{name}")
    for key, kind in SCALED_MEASURES.items():
        assert_matches(kind, ours[key], reference[key], f"{name} {key}")
    tests = {t.test: t for t in lavaan_tests.test_results(_fit(name))}
    ref = load_case(f"estimators/{name}")["tests"]["yuan.bentler.mplus"]
    ybm = tests[LavaanTest.YUAN_BENTLER_MPLUS]
    assert_matches("chisq", ybm.stat, ref["stat"])
    assert_matches("fit_index", ybm.scaling_factor, ref["scaling.factor"])
    assert ybm.df == ref["df"]


def test_ml_and_mlr_differ_only_in_the_tests_observed_information():
    ml, mlr = _fit("twolevel_cluster_ML"), _fit("twolevel_cluster_MLR")
    assert ml.options.test_observed_h1 and not mlr.options.test_observed_h1
    assert np.allclose(ml.estimates()["se"], mlr.estimates()["se"])
    assert abs(ml.fit_measures()["chisq_scaled"] - mlr.fit_measures()["chisq_scaled"]) > 0.02


def test_options_resolved_as_lavaan():
    compiled = semlang.compile_model(MODEL, "sem", cluster="cluster")
    table_options = compiled.table.options
    assert compiled.table.meanstructure  # lavaan: clustered data always have a mean structure
    ml = semlang.options.make_fit_options(table_options)
    assert ml.se is StandardErrors.ROBUST_CLUSTER
    assert ml.test == (LavaanTest.STANDARD, LavaanTest.YUAN_BENTLER_MPLUS)
    assert ml.information is Information.OBSERVED
    mlm = semlang.options.make_fit_options(table_options, estimator="MLM", se="robust.cluster")
    assert mlm.se is StandardErrors.ROBUST_CLUSTER_SEM  # MLM's choice, whatever se= says
    assert mlm.test == (LavaanTest.STANDARD, LavaanTest.SATORRA_BENTLER)
    assert mlm.information is Information.EXPECTED
    plain = semlang.options.make_fit_options(table_options, test="standard")
    assert plain.test == (LavaanTest.STANDARD,) and not plain.test_observed_h1


@pytest.mark.parametrize(
    "options",
    [
        {"se": "standard"},
        {"se": "robust.huber.white"},
        {"estimator": "GLS"},
        {"se": "robust.cluster.sem"},
        {"test": "scaled.shifted"},
    ],
)
def test_combinations_lavaan_refuses(options):
    compiled = semlang.compile_model(MODEL, "sem", cluster="cluster")
    with pytest.raises(OptionError):
        semlang.options.make_fit_options(compiled.table.options, **options)


def test_robust_cluster_needs_clusters():
    with pytest.raises(OptionError, match="clustered data"):
        semlang.sem(MODEL, semlang.datasets.load("Demo.twolevel"), se="robust.cluster")


def test_summary_counts_the_clusters():
    text = _fit("twolevel_cluster_MLR").summary()
    assert "Number of clusters [cluster]                     200" in text
    assert "Robust.cluster" in text
    assert _fit("twolevel_cluster_MLR").sample.nclusters == 200


def test_cluster_column_missing_from_the_data():
    data = semlang.datasets.load("Demo.twolevel").drop(columns="cluster")
    with pytest.raises(DataError, match="'cluster'"):
        semlang.sem(MODEL, data, cluster="cluster", estimator="MLR")


def test_cluster_column_with_missing_values():
    data = semlang.datasets.load("Demo.twolevel")
    data.loc[3, "cluster"] = math.nan
    with pytest.raises(DataError, match=r"'cluster' is missing in 1 row\(s\) \(the first: row 4\)"):
        semlang.sem(MODEL, data, cluster="cluster", estimator="MLR")
