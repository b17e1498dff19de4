"""efa() of continuous items under MLR, MLM and GLS, fitted as lavaan 0.6.14's efa() fits them (one
exploratory SEM of an efa block): estimates, standard errors and every fit measure against
tests/reference/efa_robust/ (tools/efa_robust_reference.R)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

import semlang
from tests.reference_cases import FIT_MEASURE_KIND, assert_matches

REFERENCE = Path(__file__).parent / "reference" / "efa_robust"
DATA = semlang.datasets.load("HolzingerSwineford1939")


def fit_case(estimator: str):
    case = json.loads((REFERENCE / f"hs_geomin_{estimator.lower()}.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        fits = semlang.efa(DATA[case["variables"]], nfactors=3, estimator=estimator)
    return case, fits[3]


@pytest.mark.parametrize("estimator", ["MLR", "MLM", "GLS"])
def test_efa_estimator_as_lavaan(estimator):
    case, fit = fit_case(estimator)
    ours = {(r.lhs, r.op, r.rhs): r for r in fit.estimates().itertuples()}
    for ref in case["estimates"]:
        key = (ref["lhs"], ref["op"], ref["rhs"])
        row = ours.get(key) or ours[(ref["rhs"], ref["op"], ref["lhs"])]
        assert_matches("est", row.est, ref["est"], f"{estimator} {key} est")
        assert_matches("se", row.se, ref["se"], f"{estimator} {key} se")
    measures = fit.fit_measures  # (an EfaFit holds them as a dict)
    names, values = case["fit_measures"]["names"], case["fit_measures"]["values"]
    for name, value in zip(names, values, strict=True):
        key = name.replace(".", "_")
        if value is None:
            assert measures[key] is None or measures[key] != measures[key], key  # NA: None/nan
            continue
        kind = FIT_MEASURE_KIND.get(key, "chisq" if abs(value) > 1 else "fit_index")
        assert_matches(kind, measures[key], value, f"{estimator} {key}")
    assert "Estimator" in str(fit.summary())


def test_efa_estimator_needs_rows():
    cov = DATA[[f"x{i}" for i in range(1, 10)]].cov()
    with pytest.raises(semlang.SemlangError, match="needs the data rows"):
        semlang.efa(sample_cov=cov, sample_nobs=301, nfactors=2, estimator="MLR")
