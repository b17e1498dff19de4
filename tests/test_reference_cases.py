"""Every single-level lavaan reference case: estimates, SEs, std_all and fit measures match."""

import pytest
from reference_cases import (
    FIT_MEASURE_KIND,
    SINGLE_LEVEL_CASES,
    assert_matches,
    fit_measures,
    load_case,
    row_key,
)
from reference_cases import fit_reference as fit_case

CASES = SINGLE_LEVEL_CASES


@pytest.fixture(scope="module", params=CASES)
def fitted(request):
    return request.param, fit_case(request.param)


def test_converged(fitted):
    _, fit = fitted
    assert fit.converged


def test_estimates_and_standard_errors(fitted):
    name, fit = fitted
    ours = {(r.lhs, r.op, r.rhs, r.group): r for r in fit.estimates().itertuples()}
    reference = load_case(name)["estimates"]
    assert len(ours) == len(reference)
    for row in reference:
        mine = ours[row_key(row)]
        what = f"{name} {row['lhs']} {row['op']} {row['rhs']} group {row.get('group')}"
        assert_matches("est", mine.est, row["est"], what + " est")
        assert_matches("se", mine.se, row["se"], what + " se")
        if row.get("std.all") is not None:
            assert_matches("std_all", mine.std_all, row["std.all"], what + " std_all")


def test_fit_measures(fitted):
    name, fit = fitted
    ours = fit.fit_measures()
    for key, value in fit_measures(name).items():
        if key not in FIT_MEASURE_KIND:
            continue
        assert_matches(FIT_MEASURE_KIND[key], ours[key], value, f"{name} {key}")
