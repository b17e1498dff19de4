"""The Bollen-Stine bootstrap (``test="bollen.stine"``) and ``semlang.bootstrap`` (lavaan's
``bootstrapLavaan``).

Held against: lavaan's Bollen-Stine p-values and bootstrap χ² distributions of the HS CFA and the
Political Democracy SEM (``reference/estimators/*_bollen_stine.json``, R = 1000 and a
``bootstrapLavaan`` run of R = 500, made with R's generator: compared within Z Monte Carlo
standard deviations); exact moments of the transformed data; independent refits of the draws
rebuilt from the documented seed rule; the ``se="bootstrap"`` draws.
"""

from __future__ import annotations

import functools
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
from reference_cases import load_case

import semlang
from semlang.errors import OptionError, SemlangWarning
from semlang.results.bootstrap import run_bootstrap
from semlang.results.bootstrap_lavaan import (
    BootstrapDraws,
    bollen_stine_groups,
    chisq_statistic,
    symmetric_sqrt,
)
from semlang.results.tests import test_results as results_of_tests

HS = semlang.datasets.load("HolzingerSwineford1939")
POLDEM = semlang.datasets.load("PoliticalDemocracy")
HS_CASE = load_case("estimators/hs_bollen_stine")
POLDEM_CASE = load_case("estimators/poldem_bollen_stine")
Z = 4.0
R = 150


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def fit_case(case, **options):
    function = getattr(semlang, case["fun"])
    data = HS if case["name"].startswith("hs") else POLDEM
    return function(case["model"], data, **options)


def draw_rows(seed: int, index: int, sizes: list[int]) -> list[np.ndarray]:
    """The documented resampling of draw ``index``, rebuilt independently."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index, 1)))
    return [rng.integers(0, n, size=n) for n in sizes]


# ---- the transformed data -------------------------------------------------------------------


@pytest.mark.parametrize("options", [{}, {"group": "school", "meanstructure": True}])
def test_transformed_rows_have_the_implied_moments(options):
    fit = semlang.cfa(HS_CASE["model"], HS, **options)
    groups = bollen_stine_groups(fit)
    for group, moments, original in zip(groups, fit.implied, fit.sample.groups, strict=True):
        centered = group.raw - group.raw.mean(axis=0)
        np.testing.assert_allclose(centered.T @ centered / group.nobs, moments.sigma,
                                   rtol=1e-10, atol=1e-12)  # fmt: skip
        expected = moments.mu if options else original.mean
        np.testing.assert_allclose(group.raw.mean(axis=0), expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(group.cov, moments.sigma, rtol=1e-10, atol=1e-12)
        assert group.raw.shape == original.raw.shape


def test_the_model_fits_the_transformed_rows_exactly():
    fit = semlang.cfa(HS_CASE["model"], HS, group="school")
    groups = bollen_stine_groups(fit)
    frame = pd.concat([pd.DataFrame(g.raw, columns=g.names).assign(school=g.label) for g in groups])
    refit = semlang.cfa(HS_CASE["model"], frame, group="school")
    assert refit.fit_measures()["chisq"] == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(refit.theta, fit.theta, rtol=1e-5, atol=1e-6)


def test_symmetric_square_roots():
    a = np.array([[4.0, 1.0], [1.0, 3.0]])
    root, inverse = symmetric_sqrt(a), symmetric_sqrt(a, inverse=True)
    np.testing.assert_allclose(root @ root, a, rtol=1e-12)
    np.testing.assert_allclose(root, root.T)
    np.testing.assert_allclose(inverse @ a @ inverse, np.eye(2), atol=1e-12)


# ---- test="bollen.stine" against lavaan ------------------------------------------------------


def pvalue_sd(p: float, r: int, r_reference: int) -> float:
    """Monte Carlo SD of the difference of two independent bootstrap p-values (R and R_ref draws,
    true value about p)."""
    return float(np.sqrt(p * (1 - p) * (1 / r + 1 / r_reference)))


def mean_sd(sd: float, sd_reference: float, r: int, r_reference: int) -> float:
    """Monte Carlo SD of the difference of two independent means of bootstrap χ² draws."""
    return float(np.sqrt(sd**2 / r + sd_reference**2 / r_reference))


@pytest.fixture(scope="module", params=[HS_CASE, POLDEM_CASE], ids=["hs", "poldem"])
def case_fit(request):
    case = request.param
    fit = fit_case(case, test="bollen.stine", bootstrap=R, seed=20240501)
    return case, fit, quiet(results_of_tests, fit)


def test_bollen_stine_pvalue_matches_lavaan(case_fit):
    case, fit, results = case_fit
    reference = case["tests"]["bollen.stine"]
    assert [r.test.value for r in results] == list(case["tests"])  # standard, bollen.stine
    standard, boot = results
    assert boot.stat == standard.stat == pytest.approx(reference["stat"], abs=0.02)
    assert boot.df == reference["df"]
    assert boot.boot_length == R  # lavaan: boot.T.n = 1000 of 1000
    p_ref = reference["pvalue"]
    if p_ref == 0:  # the HS model misfits badly: no draw comes near χ² = 85
        assert boot.pvalue == 0.0
    else:
        p = (boot.pvalue * R + p_ref * 1000) / (R + 1000)
        sd = pvalue_sd(p, R, 1000)
        assert abs(boot.pvalue - p_ref) < Z * sd, (boot.pvalue, p_ref, sd)
    draws = fit.bollen_stine.completed[:, 0]
    assert draws.size == R and np.all(draws >= 0)
    assert boot.pvalue == np.mean(draws > boot.stat)
    sd = mean_sd(draws.std(), reference["boot.T.sd"], R, 1000)
    assert abs(draws.mean() - reference["boot.T.mean"]) < Z * sd
    # under the null hypothesis the draws' χ² is about χ²(df)
    assert abs(draws.mean() - boot.df) < 0.25 * boot.df


def test_bollen_stine_counts_nonadmissible_draws_as_lavaan(case_fit):
    case, fit, _ = case_fit
    lavaan = case["warnings"][0] if case["warnings"] else ""
    count = int(lavaan.split("WARNING: ")[1].split()[0]) if lavaan else 0
    share = count / 1000  # HS 1/1000, PolDem 370/1000
    ours = fit.bollen_stine.n_nonadmissible / R
    assert abs(ours - share) < Z * pvalue_sd(max(share, 1 / R), R, 1000)


def test_standard_test_is_untouched(case_fit):
    case, fit, results = case_fit
    standard = case["tests"]["standard"]
    assert results[0].pvalue == pytest.approx(standard["pvalue"], rel=1e-3, abs=1e-6)
    assert fit.fit_measures()["chisq"] == pytest.approx(standard["stat"], abs=0.02)


def test_bootstrap_lavaan_chisq_distribution():
    """bootstrapLavaan(fit, R = 500, type = "bollen.stine", FUN = fitMeasures,
    fit.measures = "chisq") on the standard fit."""
    for case in (HS_CASE, POLDEM_CASE):
        reference = case["bootstrap_lavaan"]
        fit = fit_case(case)
        draws = quiet(semlang.bootstrap, fit, chisq_statistic, type="bollen.stine", R=100, seed=4)
        assert draws.t0[0] == pytest.approx(reference["chisq_original"], abs=0.02)
        values = draws.completed[:, 0]
        sd = mean_sd(values.std(), reference["chisq_boot_sd"], 100, reference["R"])
        assert abs(values.mean() - reference["chisq_boot_mean"]) < Z * sd, case["name"]


def test_bollen_stine_is_refused_with_missing_data():
    case = load_case("estimators/error_hs_holes_bollen_stine_fiml")
    assert "missing data" in case["error"]
    holes = HS.copy()
    holes.loc[::7, "x1"] = np.nan
    with pytest.raises(OptionError, match="needs complete data"):
        semlang.cfa(case["model"], holes, missing="fiml", test="bollen.stine", bootstrap=10)
    fit = quiet(semlang.cfa, case["model"], holes, missing="fiml")
    with pytest.raises(OptionError, match="Bollen-Stine bootstrap needs complete data"):
        semlang.bootstrap(fit, type="bollen.stine", R=5)


# ---- the draws: reproducible from the seed --------------------------------------------------


def test_bollen_stine_draws_are_refits_of_the_documented_resamples():
    fit = semlang.cfa(HS_CASE["model"], HS, group="school", test="bollen.stine", bootstrap=5,
                      seed=9, executor="serial")  # fmt: skip
    boot = quiet(lambda: fit.bollen_stine)
    groups = bollen_stine_groups(fit)
    for index in range(5):
        picks = draw_rows(9, index, [g.nobs for g in groups])
        frame = pd.concat(
            [pd.DataFrame(g.raw[k], columns=g.names).assign(school=g.label)
             for g, k in zip(groups, picks, strict=True)]
        )  # fmt: skip
        refit = quiet(semlang.cfa, HS_CASE["model"], frame, group="school")
        assert boot.draws[index, 0] == pytest.approx(refit.fit_measures()["chisq"], rel=1e-5)


def test_same_seed_same_draws_anywhere_other_seed_other_draws():
    fit = semlang.cfa(HS_CASE["model"], HS)
    run = functools.partial(quiet, semlang.bootstrap, fit, chisq_statistic, type="bollen.stine",
                            R=12)  # fmt: skip
    serial = run(seed=5, executor="serial")
    np.testing.assert_array_equal(run(seed=5, executor="processes", n_jobs=2).draws, serial.draws)
    assert not np.array_equal(run(seed=6, executor="serial").draws, serial.draws)
    fresh = run(executor="serial")
    np.testing.assert_array_equal(run(seed=fresh.seed, executor="serial").draws, fresh.draws)


# ---- semlang.bootstrap ----------------------------------------------------------------------


def test_default_statistic_is_the_parameters_and_equals_se_bootstrap_draws():
    fit = semlang.cfa(HS_CASE["model"], HS, group="school", se="bootstrap", bootstrap=15, seed=2,
                      executor="serial")  # fmt: skip
    draws = quiet(semlang.bootstrap, fit, R=15, seed=2, executor="serial")
    assert isinstance(draws, BootstrapDraws) and draws.type == "ordinary"
    np.testing.assert_array_equal(draws.draws, quiet(run_bootstrap, fit).theta)
    np.testing.assert_array_equal(draws.t0, fit.theta)
    assert draws.names[:2] == ("visual=~x2", "visual=~x3") and np.asarray(draws).shape == (15, 60)
    frame = draws.to_frame()
    assert list(frame.columns[:3]) == ["replication", "admissible", "visual=~x2"]


def two_numbers(fit) -> dict:
    measures = fit.fit_measures()
    return {"cfi": measures["cfi"], "srmr": measures["srmr"]}


def test_statistic_of_named_numbers_in_worker_processes():
    fit = semlang.cfa(HS_CASE["model"], HS)
    serial = quiet(semlang.bootstrap, fit, two_numbers, R=8, seed=1, executor="serial")
    pool = quiet(semlang.bootstrap, fit, two_numbers, R=8, seed=1, n_jobs=2)
    assert serial.names == ("cfi", "srmr") and serial.draws.shape == (8, 2)
    np.testing.assert_array_equal(pool.draws, serial.draws)
    assert serial.t0 == pytest.approx([fit.fit_measures()["cfi"], fit.fit_measures()["srmr"]])
    assert 0.8 < serial.draws[:, 0].mean() < 1 and serial.n_completed == 8


def test_failed_draws_are_nan_rows_and_reported():
    rng = np.random.default_rng(3)
    x = rng.normal(size=12)
    z = np.zeros(12)
    z[7] = 1.0
    data = pd.DataFrame({"y": x + 0.5 * z + rng.normal(size=12), "x": x, "z": z})
    fit = semlang.sem("y ~ x + z", data)
    with pytest.warns(SemlangWarning, match=r"bootstrap draws failed \(their rows are NaN\)"):
        draws = semlang.bootstrap(fit, R=20, seed=1, executor="serial")
    failed = [i for i in range(20) if 7 not in draw_rows(1, i, [12])[0]]
    assert 0 < len(failed) < 20 and draws.n_failed == len(failed)
    assert np.isnan(draws.draws[failed]).all() and not np.isnan(draws.completed).any()
    assert not draws.admissible[failed].any()


def locked(lock, fit) -> float:
    with lock:
        return 1.0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"type": "parametric"}, "unknown bootstrap type"),
        ({"R": 0}, "R must be a positive integer"),
        ({"statistic": functools.partial(locked, threading.Lock()), "n_jobs": 2}, "not picklable"),
    ],
)
def test_bad_arguments_are_refused(arguments, message):
    fit = semlang.cfa(HS_CASE["model"], HS)
    with pytest.raises(OptionError, match=message):
        semlang.bootstrap(fit, **{"R": 3, **arguments})


def test_a_statistic_of_changing_length_is_refused():
    fit = semlang.cfa(HS_CASE["model"], HS)
    sizes = iter([1, 2, 2, 2])
    with pytest.raises(OptionError, match="gave 2 numbers at draw 0"):
        semlang.bootstrap(fit, lambda f: np.zeros(next(sizes)), R=3, executor="serial")
