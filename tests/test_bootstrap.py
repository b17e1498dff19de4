"""Bootstrap standard errors and percentile intervals (``se="bootstrap"``).

Held against: lavaan's bootstrap of the HS CFA (``reference/extra/hs_bootstrap.json``, R = 1000,
statistically: the tolerances are Monte Carlo errors, derived below); the information standard
errors on normal data; independent refits of the resampled data sets rebuilt from the documented
seed rule; boot's ``norm.inter`` percentile numbers; exact order statistics.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_cases import load_case
from scipy import stats

import semlang
from semlang.cli import main
from semlang.errors import NotSupportedError, SemlangWarning
from semlang.results.bootstrap import (
    BootstrapResult,
    percentile_interval,
    resampled_group,
    run_bootstrap,
)

ROOT = Path(__file__).resolve().parents[1]
HS_PATH = ROOT / "semlang" / "datasets" / "HolzingerSwineford1939.csv"
HS = semlang.datasets.load("HolzingerSwineford1939")
REFERENCE = load_case("extra/hs_bootstrap")
HS_MODEL = REFERENCE["model"]
LABELLED_MODEL = """
visual  =~ x1 + a*x2 + b*x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
ratio := b / a
"""
Z = 4.0  # Monte Carlo tolerances below are Z standard deviations wide


def quiet(function, *args, **kwargs):
    """Call without showing warnings (nonadmissible draws are common in small resamples)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def draw_rows(seed: int, index: int, sizes: list[int]) -> list[np.ndarray]:
    """The documented resampling of draw ``index``, rebuilt independently."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index, 1)))
    return [rng.integers(0, n, size=n) for n in sizes]


# ---- percentile intervals -------------------------------------------------------------------

# boot:::norm.inter(x, c(0.025, 0.975)) in R (boot 1.3) for x = ((1:n * 7919) %% 1009 / 1009)^3 * 10
NORM_INTER = {
    1000: (0.00015258857124784208, 9.2742370309826505),
    999: (0.00015210606362338767, 9.2749546879930396),
    200: (0.00015440607211516781, 9.4139929223434127),
    57: (0.00019665326174584784, 9.4476535983193717),
    20: (0.00023742174628549131, 9.0505704707981707),  # extreme order statistics
}


@pytest.mark.parametrize("n", sorted(NORM_INTER))
def test_percentile_interval_is_boots_norm_inter(n):
    i = np.arange(1, n + 1)
    draws = ((i * 7919) % 1009 / 1009) ** 3 * 10
    assert percentile_interval(draws) == pytest.approx(NORM_INTER[n], rel=1e-12, abs=1e-18)


def test_percentile_interval_ignores_non_finite_draws():
    draws = np.arange(1.0, 200.0)  # R = 199: ranks 5 and 195 are whole numbers
    assert percentile_interval(draws) == (5.0, 195.0)
    assert percentile_interval(np.append(draws, [np.nan, np.inf])) == (5.0, 195.0)
    assert np.isnan(percentile_interval(np.array([np.nan]))).all()


# ---- against lavaan -------------------------------------------------------------------------


def se_log_sd(draws: np.ndarray, r_reference: int) -> float:
    """Monte Carlo SD of log(se / se_reference) for two independent bootstraps.

    The SD of R draws has relative standard error sqrt((β₂ − 1) / (4R)), β₂ the kurtosis of the
    draws (= 1/sqrt(2R) for normal draws, β₂ = 3; heavy-tailed draws, as the x9 loading's, need
    the kurtosis). The two runs are independent: the variances add.
    """
    kurtosis = stats.kurtosis(draws, fisher=False)
    return float(np.sqrt((kurtosis - 1) / 4 * (1 / draws.size + 1 / r_reference)))


def quantile_sd(draws: np.ndarray, alpha: float, r_reference: int, delta: float = 0.02) -> float:
    """Monte Carlo SD of the difference of two independent α-quantile estimates.

    A sample quantile of R draws has standard error sqrt(α(1 − α)/R) / f(q); 1/f(q) is estimated
    by the slope of the draws' quantile function over α ± δ.
    """
    low, high = max(alpha - delta, 0.0), min(alpha + delta, 1.0)
    slope = (np.quantile(draws, high) - np.quantile(draws, low)) / (high - low)
    return float(np.sqrt(alpha * (1 - alpha) * (1 / draws.size + 1 / r_reference)) * slope)


def compare_with_lavaan(fit, intervals: bool) -> None:
    table, boot = fit.estimates(), fit.bootstrap
    reference = pd.DataFrame(REFERENCE["estimates"])
    r_reference = REFERENCE["bootstrap_draws_used"]
    assert list(table.lhs + table.op + table.rhs) == list(
        reference.lhs + reference.op + reference.rhs
    )
    for k, row in enumerate(fit.table.rows):
        name = row.name
        if not row.is_free:
            assert table.se[k] == 0 and table.ci_lower[k] == table.ci_upper[k] == 1.0, name
            continue
        draws = boot.theta[:, row.free - 1]
        z = np.log(table.se[k] / reference.se[k]) / se_log_sd(draws, r_reference)
        assert abs(z) < Z, f"{name}: se {table.se[k]} vs lavaan {reference.se[k]} (z = {z:.2f})"
        if not intervals:
            continue
        for alpha, ours, theirs in [
            (0.025, table.ci_lower[k], reference["ci.lower"][k]),
            (0.975, table.ci_upper[k], reference["ci.upper"][k]),
        ]:
            z = (ours - theirs) / quantile_sd(draws, alpha, r_reference)
            assert abs(z) < Z, f"{name}: {alpha} bound {ours} vs lavaan {theirs} (z = {z:.2f})"


def test_standard_errors_match_lavaans_bootstrap():
    """R = 200: the Monte Carlo error of the bounds at 200 draws is too rough to estimate (the
    slow test compares them at R = 1000)."""
    fit = semlang.cfa(HS_MODEL, HS, se="bootstrap", bootstrap=200, seed=20230401)
    quiet(compare_with_lavaan, fit, intervals=False)
    assert fit.bootstrap.n_completed == 200


@pytest.mark.slow
def test_standard_errors_and_intervals_match_lavaans_bootstrap_at_1000_draws():
    fit = semlang.cfa(HS_MODEL, HS, se="bootstrap", bootstrap=1000, seed=20230401)
    quiet(compare_with_lavaan, fit, intervals=True)
    assert fit.bootstrap.n_failed == 0  # lavaan: no failed draws either


def test_bootstrap_agrees_with_the_information_on_normal_data():
    """On multivariate normal data (N = 10000, drawn from the HS fit's implied moments) the
    bootstrap and the information standard errors estimate the same sampling SD.

    Tolerance on log(se_boot / se_info): the Monte Carlo error of the bootstrap SD (see
    ``se_log_sd``, one bootstrap of R = 200) plus the sampling difference between the
    bootstrap (a sandwich estimate) and the information at N, whose relative SD for normal data
    is at most about 1.9/sqrt(N) (the fourth moments of a variance parameter's score).
    """
    sigma = semlang.cfa(HS_MODEL, HS).implied[0].sigma
    rng = np.random.default_rng(11)
    names = [f"x{k}" for k in range(1, 10)]
    data = pd.DataFrame(rng.multivariate_normal(np.zeros(9), sigma, size=10_000), columns=names)
    information = semlang.cfa(HS_MODEL, data).estimates()
    fit = semlang.cfa(HS_MODEL, data, se="bootstrap", bootstrap=200, seed=3)
    table = quiet(fit.estimates)
    for k, row in enumerate(fit.table.rows):
        if row.is_free:
            draws = fit.bootstrap.theta[:, row.free - 1]
            sd = np.sqrt(se_log_sd(draws, 10**12) ** 2 + 1.9**2 / 10_000)
            z = np.log(table.se[k] / information.se[k]) / sd
            assert abs(z) < Z, f"{row.name}: {table.se[k]} vs {information.se[k]} (z = {z:.2f})"


# ---- the estimates table --------------------------------------------------------------------


@pytest.fixture(scope="module")
def labelled():
    """R = 199 draws: the percentile ranks (R + 1)·0.025 = 5 and 195 are whole numbers."""
    fit = semlang.cfa(LABELLED_MODEL, HS, se="bootstrap", bootstrap=199, seed=5)
    quiet(fit.estimates)
    return fit


def test_table_has_the_draws_sd_and_their_percentile_intervals(labelled):
    table, boot = labelled.estimates(), labelled.bootstrap
    plain = semlang.cfa(LABELLED_MODEL, HS).estimates()
    np.testing.assert_allclose(table.est, plain.est, rtol=1e-12)
    free = [(k, row.free - 1) for k, row in enumerate(labelled.table.rows) if row.is_free]
    for k, j in free:
        draws = np.sort(boot.theta[:, j])
        assert table.se[k] == pytest.approx(np.std(draws), rel=1e-9)
        assert (table.ci_lower[k], table.ci_upper[k]) == (draws[4], draws[194])
        assert table.z[k] == pytest.approx(table.est[k] / table.se[k], rel=1e-12)
    fixed = table.op.eq("=~") & table.rhs.isin(["x1", "x4", "x7"])
    assert (table.se[fixed] == 0).all() and (table.ci_lower[fixed] == 1).all()


def test_defined_parameters_come_from_their_draws(labelled):
    table, boot = labelled.estimates(), labelled.bootstrap
    frame = boot.to_frame()
    ratio = np.sort(frame["b"].to_numpy() / frame["a"].to_numpy())
    np.testing.assert_allclose(np.sort(frame["ratio"]), ratio, rtol=1e-12)
    row = table[table.op == ":="].iloc[0]
    assert row.est == pytest.approx(table.est[2] / table.est[1], rel=1e-12)
    assert row.se == pytest.approx(np.std(ratio), rel=1e-9)
    assert (row.ci_lower, row.ci_upper) == pytest.approx((ratio[4], ratio[194]), rel=1e-12)
    assert row.pvalue == pytest.approx(2 * stats.norm.sf(row.est / row.se), rel=1e-9)


def test_result_holds_draws_seed_and_covariance(labelled):
    boot = labelled.bootstrap
    assert isinstance(boot, BootstrapResult)
    assert (boot.n_requested, boot.n_completed, boot.n_failed, boot.seed) == (199, 199, 0, 5)
    assert list(boot.replications) == list(range(199))
    np.testing.assert_allclose(boot.vcov_phi, np.cov(boot.phi, rowvar=False, ddof=0), rtol=1e-10)
    np.testing.assert_array_equal(boot.theta, boot.phi)  # no equality constraints
    frame = boot.to_frame()
    assert list(frame.columns[:4]) == ["replication", "admissible", "a", "b"]
    assert "visual~~textual" in frame and frame.columns[-1] == "ratio"
    assert boot.n_nonadmissible == int((~frame.admissible).sum())
    assert "199 of 199 draws completed" in repr(boot)


def test_free_rows_of_a_shared_label_share_the_interval():
    fit = semlang.cfa(HS_MODEL, HS, group="school", group_equal="loadings", se="bootstrap",
                      bootstrap=30, seed=2, executor="serial")  # fmt: skip
    table = quiet(fit.estimates)
    loadings = table[(table.op == "=~") & (table.rhs == "x2")]
    assert len(loadings) == 2 and loadings.ci_lower.nunique() == 1 and loadings.se.nunique() == 1
    assert fit.bootstrap.theta.shape == (30, fit.model.n_theta)


def test_equality_constraints_give_equal_draws_and_standard_errors():
    model = LABELLED_MODEL.replace("ratio := b / a", "a == b")
    fit = semlang.cfa(model, HS, se="bootstrap", bootstrap=30, seed=2, executor="serial")
    table, boot = quiet(fit.estimates), fit.bootstrap
    assert boot.phi.shape == (30, fit.model.n_phi) and fit.model.n_phi == fit.model.n_theta - 1
    frame = boot.to_frame()
    np.testing.assert_array_equal(frame["a"], frame["b"])
    a, b = (table.index[table.label == name][0] for name in "ab")
    assert table.se[a] == pytest.approx(table.se[b], rel=1e-12)
    assert table.se[a] == pytest.approx(np.std(frame["a"]), rel=1e-9)
    assert (table.ci_lower[a], table.ci_upper[a]) == (table.ci_lower[b], table.ci_upper[b])


# ---- the draws: resampling, groups, missing data --------------------------------------------


def with_missing_values() -> pd.DataFrame:
    """HS with 8% of the indicator cells missing (no row missing everywhere)."""
    rng = np.random.default_rng(4)
    frame = HS.copy()
    names = [f"x{k}" for k in range(1, 10)]
    holes = rng.random((len(frame), 9)) < 0.08
    holes[holes.all(axis=1), 0] = False
    frame[names] = frame[names].mask(holes)
    return frame


def test_draws_are_refits_of_the_documented_resamples_within_groups_under_fiml():
    """Each draw equals an independent (cold-start) fit of the rows its seed picks, per group."""
    data = with_missing_values()
    options = {"group": "school", "missing": "fiml"}
    fit = semlang.cfa(HS_MODEL, data, se="bootstrap", bootstrap=4, seed=9, executor="serial",
                      **options)  # fmt: skip
    boot = quiet(lambda: fit.bootstrap)
    labels = list(pd.unique(data.school))
    positions = [np.flatnonzero(data.school.to_numpy() == label) for label in labels]
    for index in range(4):
        picks = draw_rows(9, index, [len(p) for p in positions])
        rows = np.concatenate([p[k] for p, k in zip(positions, picks, strict=True)])
        resampled = data.iloc[rows].reset_index(drop=True)
        assert resampled[[f"x{k}" for k in range(1, 10)]].isna().any(axis=1).any()
        refit = quiet(semlang.cfa, HS_MODEL, resampled, **options)
        np.testing.assert_allclose(boot.theta[index], refit.theta, rtol=2e-5, atol=2e-6)


def test_resampled_moments_of_incomplete_rows_are_pairwise_complete():
    data = with_missing_values()
    fit = semlang.cfa(HS_MODEL, data, missing="fiml")
    group = fit.sample.groups[0]
    picks = np.random.default_rng(0).integers(0, group.nobs, size=group.nobs)
    resampled = resampled_group(group, picks)
    raw = group.raw[picks]
    np.testing.assert_allclose(resampled.mean, np.nanmean(raw, axis=0), rtol=1e-12)
    for j in range(raw.shape[1]):
        for k in range(raw.shape[1]):
            both = ~np.isnan(raw[:, j]) & ~np.isnan(raw[:, k])
            expected = np.cov(raw[both, j], raw[both, k], ddof=0)[0, 1]
            assert resampled.cov[j, k] == pytest.approx(expected, rel=1e-10)
    np.testing.assert_array_equal(resampled.rows, group.rows[picks])


# ---- reproducibility and where the draws run ------------------------------------------------


@pytest.fixture(scope="module")
def grouped():
    fit = semlang.cfa(HS_MODEL, HS, group="school", se="bootstrap", bootstrap=24, seed=7)
    return fit, quiet(run_bootstrap, fit, executor="serial")


@pytest.mark.parametrize(("n_jobs", "chunk_size"), [(1, None), (2, None), (2, 5), (3, 1)])
def test_same_seed_same_draws_in_worker_processes(grouped, n_jobs, chunk_size):
    fit, serial = grouped
    out = quiet(run_bootstrap, fit, executor="processes", n_jobs=n_jobs, chunk_size=chunk_size)
    np.testing.assert_array_equal(out.theta, serial.theta)
    np.testing.assert_array_equal(out.ci_lower, serial.ci_lower)


def test_default_executor_and_fit_options_give_the_same_draws(grouped):
    fit, serial = grouped
    np.testing.assert_array_equal(quiet(lambda: fit.bootstrap).theta, serial.theta)
    table, drawn = fit.estimates(), ~np.isnan(serial.ci_upper)
    assert drawn.sum() == fit.model.n_theta  # every free row, each θ once per group
    np.testing.assert_array_equal(table.ci_lower[drawn], serial.ci_lower[drawn])
    np.testing.assert_array_equal(table.ci_upper[drawn], serial.ci_upper[drawn])


def test_other_seed_other_draws_and_no_seed_is_recorded(grouped):
    fit, serial = grouped
    other = quiet(run_bootstrap, dataclasses.replace(fit, options=_options(fit, seed=8)),
                  executor="serial")  # fmt: skip
    assert not np.array_equal(other.theta, serial.theta)
    fresh = quiet(run_bootstrap, dataclasses.replace(fit, options=_options(fit, seed=None)),
                  executor="serial")  # fmt: skip
    again = quiet(run_bootstrap, dataclasses.replace(fit, options=_options(fit, seed=fresh.seed)),
                  executor="serial")  # fmt: skip
    np.testing.assert_array_equal(fresh.theta, again.theta)


def _options(fit, **changes):
    return dataclasses.replace(fit.options, **changes)


def test_progress_bar_when_forced(grouped, capsys):
    fit, _ = grouped
    quiet(run_bootstrap, fit, executor="serial", progress=True)
    assert "bootstrap: 24/24" in capsys.readouterr().err


# ---- failures -------------------------------------------------------------------------------


def tiny_data() -> pd.DataFrame:
    """12 rows; z is 0 except in row 7: a resample without row 7 has a constant z."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=12)
    z = np.zeros(12)
    z[7] = 1.0
    return pd.DataFrame({"y": x + 0.5 * z + rng.normal(size=12), "x": x, "z": z})


def test_failed_draws_are_counted_reported_and_left_out():
    data = tiny_data()
    fit = semlang.sem("y ~ x + z", data, se="bootstrap", bootstrap=40, seed=1, executor="serial")
    with pytest.warns(SemlangWarning, match=r"of 40 bootstrap draws failed") as record:
        boot = fit.bootstrap
    expected = [i for i in range(40) if 7 not in draw_rows(1, i, [12])[0]]
    assert 0 < len(expected) < 40
    assert [f.index for f in boot.failures] == expected
    assert boot.n_failed + boot.n_completed == 40
    assert sorted(set(boot.replications) | set(expected)) == list(range(40))
    assert all("constant" in f.message and ": z" in f.message for f in boot.failures)
    text = str(next(w.message for w in record if "failed" in str(w.message)))
    assert f"{len(expected)} of 40" in text and f"{40 - len(expected)} draws were used" in text
    frame = boot.failures_frame()
    assert list(frame.columns) == ["replication", "error", "message"]
    assert set(frame.error) == {"DegenerateResample"}
    table = fit.estimates()
    slope = table[(table.op == "~") & (table.rhs == "z")].index[0]
    assert table.se[slope] == pytest.approx(np.std(boot.theta[:, 1]), rel=1e-9)


def test_draws_that_do_not_converge_are_failures():
    fit = semlang.cfa(HS_MODEL, HS, se="bootstrap", bootstrap=5, seed=1, executor="serial")
    stingy = dataclasses.replace(fit, options=_options(fit, max_iterations=1))
    with pytest.warns(SemlangWarning) as record:
        table = stingy.estimates()
    boot = stingy.bootstrap
    assert (boot.n_completed, boot.n_failed) == (0, 5)
    assert all("did not converge within 1 iterations" in f.message for f in boot.failures)
    messages = " ".join(str(w.message) for w in record)
    assert "5 of 5 bootstrap draws failed" in messages and "only 0 bootstrap draws" in messages
    free = table.index[[row.is_free for row in fit.table.rows]]
    assert table.loc[free, ["se", "ci_lower", "ci_upper"]].isna().all().all()


def test_a_resample_without_a_solution_is_a_failure():
    """Draw 18 of seed 17 (HS by school): the visual factor of group 1 runs off to x1's residual
    variance → −∞ (lavaan does not converge on these rows either). It stops at the draws'
    iteration limit and is left out; the other draws are kept."""
    fit = semlang.cfa(HS_MODEL, HS, group="school", se="bootstrap", bootstrap=19, seed=17,
                      executor="serial")  # fmt: skip
    with pytest.warns(SemlangWarning, match="1 of 19 bootstrap draws failed"):
        boot = fit.bootstrap
    assert [(f.index, f.error.rsplit(".", 1)[-1]) for f in boot.failures] == [(18, "NotConverged")]
    assert "did not converge within 500 iterations" in boot.failures[0].message
    assert list(boot.replications) == list(range(18))


def test_two_level_models_have_no_bootstrap_yet():
    demo = semlang.datasets.load("Demo.twolevel")
    model = "level: 1\n  y1 ~ x1 + x2\nlevel: 2\n  y1 ~ w1\n"
    with pytest.raises(NotSupportedError, match="two-level"):
        semlang.sem(model, demo, cluster="cluster", se="bootstrap", bootstrap=10).estimates()


# ---- the command line and the documentation -------------------------------------------------


def test_command_line_passes_bootstrap_seed_and_scheduler(tmp_path, capsys):
    model = tmp_path / "hs.sem"
    model.write_text(HS_MODEL, encoding="utf-8")
    argv = ["fit", str(model), str(HS_PATH), "--cfa", "--se", "bootstrap", "--bootstrap", "20",
            "--seed", "8", "--scheduler", "serial", "--format", "json"]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(argv)
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    fit = semlang.cfa(HS_MODEL, HS_PATH, se="bootstrap", bootstrap=20, seed=8, executor="serial")
    table = quiet(fit.estimates)
    for row, expected in zip(out["estimates"], table.itertuples(), strict=True):
        assert (row["se"], row["ci_lower"], row["ci_upper"]) == pytest.approx(
            (expected.se, expected.ci_lower, expected.ci_upper), rel=1e-12
        )


def test_documentation_runs_and_prints_what_it_says():
    text = (ROOT / "docs" / "bootstrap.md").read_text()
    namespace: dict = {}
    for code in re.findall(r"```python\n(.*?)```", text, re.S):
        expected = [line[2:].rstrip() for line in code.splitlines() if line.startswith("# ")]
        out = io.StringIO()
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, "bootstrap.md", "exec"), namespace)
        assert [line.rstrip() for line in out.getvalue().splitlines()] == expected
