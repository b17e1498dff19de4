"""The structured (row-wise) sandwich and robust-test traces of large models against the dense
formulas they replace, on a model small enough for both (p = 30, each path forced; N = 400,
few enough rows against the 465 covariance moments for the Satorra-Bentler traces to take the
rows × rows path too)."""

import warnings

import numpy as np
import pandas as pd
import pytest

import semlang
from semlang.results import robust_structured

P, N = 30, 400


def _data() -> pd.DataFrame:
    """A 6-factor CFA of 30 indicators with heavy-tailed noise (so that the robust corrections
    are not 1), two groups of 200 rows."""
    rng = np.random.default_rng(20261208)
    factors = P // 5
    phi = np.full((factors, factors), 0.3) + 0.7 * np.eye(factors)
    eta = rng.standard_normal((N, factors)) @ np.linalg.cholesky(phi).T
    covariates = rng.standard_normal((N, 2))
    eta[:, 0] += covariates @ [0.4, -0.3]
    values = np.repeat(eta, 5, axis=1) * 0.7 + rng.standard_t(5, size=(N, P)) * 0.5
    frame = pd.DataFrame(values, columns=[f"x{j + 1}" for j in range(P)])
    frame[["z1", "z2"]] = covariates
    frame["g"] = np.repeat([1, 2], N // 2)
    frame["cl"] = np.arange(N) % 57  # (57 clusters of 7 or 8 rows, ordered other than the rows)
    frame["large"] = np.arange(N) // 34  # (12 clusters of 34 rows, more than the 30 variables)
    return frame


TEXT = "\n".join(
    f"f{k + 1} =~ " + " + ".join(f"x{5 * k + j + 1}" for j in range(5)) for k in range(P // 5)
)
# equal loadings by label within the group (θ in several entries) and a regression among factors
STRUCTURAL = "\n".join(["f1 =~ x1 + a*x2 + a*x3 + x4 + x5", *TEXT.splitlines()[1:], "f6 ~ f1 + f2"])
COVARIATES = TEXT + "\nf1 ~ z1 + z2"  # (fixed.x: their moments are the sample's)
CASES = {
    "plain": {},
    "covariates": {"text": COVARIATES},
    "covariates_means": {"text": COVARIATES, "meanstructure": True},
    "clusters": {"cluster": "cl", "meanstructure": True},
    "clusters_covariates": {"text": COVARIATES, "cluster": "cl"},
    "clusters_large": {"cluster": "large"},
    "structural": {"text": STRUCTURAL, "meanstructure": True},
    "meanstructure": {"meanstructure": True},
    "wishart": {"likelihood": "wishart"},
    "groups": {"group": "g", "group_equal": ["loadings"]},
    "expected": {"information": "expected"},
}


ESTIMATORS = {
    "MLR": {"estimator": "MLR"},
    "MLM": {"estimator": "MLM"},
    "MLMV": {"estimator": "MLMV"},
    "MLMVS": {"estimator": "MLMVS"},
    "yuan.bentler": {"estimator": "ML", "test": "yuan.bentler"},
}


def _fit(monkeypatch, structured: bool, estimator: dict, options: dict):
    threshold = 1 if structured else 10**9
    monkeypatch.setattr(robust_structured, "STRUCTURED_MIN_MOMENTS", threshold)
    data = _data() if "group" in options else _data().drop(columns="g")
    options = dict(options)
    text = options.pop("text", TEXT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        fit = semlang.sem(text, data, **estimator, **options)
        vcov, measures = fit.vcov_phi, fit.fit_measures()
    assert robust_structured.applies(fit.moment_groups[0], mlr=True) is structured
    return vcov, measures


def _relative(new: float, old: float) -> float:
    return abs(new - old) / max(abs(old), 1e-12)


# every case for MLR and MLM (whose structured path leaves fixed.x covariates and clusters to
# the dense formulas); the tests that differ only in how they use the traces, on two
PAIRS = (
    [("MLR", c) for c in sorted(CASES)]
    + [("MLM", c) for c in sorted(CASES) if not c.startswith(("covariates", "clusters"))]
    + [(e, c) for e in ("MLMV", "MLMVS", "yuan.bentler") for c in ("groups", "plain")]
)


@pytest.mark.parametrize(("estimator", "case"), PAIRS)
def test_structured_equals_dense(monkeypatch, estimator, case):
    dense_vcov, dense = _fit(monkeypatch, False, ESTIMATORS[estimator], CASES[case])
    vcov, measures = _fit(monkeypatch, True, ESTIMATORS[estimator], CASES[case])
    assert np.max(np.abs(vcov - dense_vcov)) <= 1e-9 * np.max(np.abs(dense_vcov))
    assert set(measures) == set(dense)
    robust = [k for k in dense if "scal" in k or "robust" in k]
    assert len(robust) > 15 and abs(dense["chisq_scaling_factor"] - 1.0) > 1e-4
    for key, value in dense.items():
        if isinstance(value, float) and np.isfinite(value):
            assert _relative(measures[key], value) <= 1e-9, key
        else:
            assert measures[key] == value or (np.isnan(measures[key]) and np.isnan(value)), key


def test_second_trace_from_rows_while_cheaper(monkeypatch):
    """With many more rows than moments (here 10 × 400 against 465) forming Γ is the cheaper:
    the second trace's rows × rows matrix is then not used."""
    monkeypatch.setattr(robust_structured, "STRUCTURED_MIN_MOMENTS", 1)
    data = _data().drop(columns="g")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        small = semlang.cfa(TEXT, data, estimator="MLM")
        large = semlang.cfa(TEXT, pd.concat([data] * 10), estimator="MLM")
    e_inv = small.sandwich_bread
    assert robust_structured.sb_model_traces(small.moment_groups, e_inv) is not None
    assert robust_structured.sb_model_traces(large.moment_groups, e_inv) is None
