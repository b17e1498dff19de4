"""Two-level ML: data statistics, log-likelihood and gradient, saturated and baseline models."""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_cases import assert_matches, fit_measures, load_case
from scipy.stats import multivariate_normal

from semlang.datasets import load
from semlang.errors import DataError, DataWarning
from semlang.estimate.twolevel import twolevel_gradient, twolevel_loglik
from semlang.estimate.twolevel_data import TwoLevelData, detect_between_only
from semlang.estimate.twolevel_em import em_saturated
from semlang.estimate.twolevel_h1 import fit_baseline, fit_saturated

DEMO_WITHIN = ["y1", "y2", "y3", "x1", "x2", "x3"]
DEMO_BETWEEN = ["y1", "y2", "y3", "w1", "w2"]
DEMO_FIXED_X = ["x1", "x2", "x3", "w1", "w2"]


@cache
def micro_data() -> TwoLevelData:
    frame = load("micro_macro_unbalanced_long")
    return TwoLevelData.from_data(frame, "group", within=["x"], between=["y", "x", "Z"])


@cache
def demo_data() -> TwoLevelData:
    return TwoLevelData.from_data(
        load("Demo.twolevel"), "cluster", DEMO_WITHIN, DEMO_BETWEEN, fixed_x=DEMO_FIXED_X
    )


def estimates(case: str) -> dict[tuple[str, str, str, int], float]:
    rows = load_case(case)["estimates"]
    return {(r["lhs"], r["op"], r["rhs"], r["level"]): r["est"] for r in rows}


def micro_moments() -> tuple[np.ndarray, ...]:
    """Implied moments of the reference estimates: Σ_W of x; y ~ x + Z at level 2 (y, x, Z)."""
    est = estimates("micro_macro_twolevel")
    sigma_w = np.array([[est["x", "~~", "x", 1]]])
    xz = est["x", "~~", "Z", 2]
    phi = np.array([[est["x", "~~", "x", 2], xz], [xz, est["Z", "~~", "Z", 2]]])
    beta = np.array([est["y", "~", "x", 2], est["y", "~", "Z", 2]])
    means = np.array([est["x", "~1", "", 2], est["Z", "~1", "", 2]])
    sigma_b = np.zeros((3, 3))
    sigma_b[1:, 1:] = phi
    sigma_b[0, 1:] = sigma_b[1:, 0] = beta @ phi
    sigma_b[0, 0] = beta @ phi @ beta + est["y", "~~", "y", 2]
    mu_b = np.concatenate([[est["y", "~1", "", 2] + beta @ means], means])
    return sigma_w, sigma_b, mu_b


def _factor_level(est: dict, factor: str, xs: list[str], level: int) -> tuple[np.ndarray, ...]:
    """Σ and μ of (y1, y2, y3, xs) for ``factor =~ y1 + y2 + y3; factor ~ xs``."""
    ys = ["y1", "y2", "y3"]
    lam = np.array([est[factor, "=~", y, level] for y in ys])
    beta = np.array([est[factor, "~", x, level] for x in xs])
    phi = np.array(
        [[est.get((a, "~~", b, level), est.get((b, "~~", a, level))) for b in xs] for a in xs]
    )
    mean_x = np.array([est[x, "~1", "", level] for x in xs])
    var_f = beta @ phi @ beta + est[factor, "~~", factor, level]
    sigma = np.zeros((3 + len(xs), 3 + len(xs)))
    sigma[:3, :3] = np.outer(lam, lam) * var_f + np.diag([est[y, "~~", y, level] for y in ys])
    sigma[:3, 3:] = np.outer(lam, beta @ phi)
    sigma[3:, :3] = sigma[:3, 3:].T
    sigma[3:, 3:] = phi
    nu = np.array([est[y, "~1", "", level] for y in ys])
    return sigma, np.concatenate([nu + lam * (beta @ mean_x), mean_x])


def demo_moments() -> tuple[np.ndarray, ...]:
    est = estimates("twolevel_demo")
    sigma_w, mu_w = _factor_level(est, "fw", ["x1", "x2", "x3"], 1)
    sigma_b, mu_b = _factor_level(est, "fb", ["w1", "w2"], 2)
    return sigma_w, sigma_b, mu_b, mu_w


# ---- synthetic data: a, b of both levels, c within-only, z between-only ----------------------
SYN_WITHIN = ["a", "c", "b"]
SYN_BETWEEN = ["z", "b", "a"]


def synthetic_frame(seed: int = 1, clusters: int = 9) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 6, clusters)
    sizes[0] = 3
    cluster = np.repeat(np.arange(clusters) * 10 + 5, sizes)
    u = rng.normal(size=(clusters, 3))
    j = np.repeat(np.arange(clusters), sizes)
    n = cluster.size
    a = 1.0 + u[j, 0] + rng.normal(size=n)
    b = -0.5 + u[j, 1] + 0.4 * a + rng.normal(size=n)
    c = 0.3 * a + rng.normal(size=n)
    z = (0.5 * u[:, 0] + u[:, 2])[j]
    return pd.DataFrame({"cl": cluster, "a": a, "b": b, "c": c, "z": z})


def random_moments(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    return (
        a @ a.T + np.eye(3),
        0.5 * b @ b.T + 0.3 * np.eye(3),
        rng.normal(size=3),
        rng.normal(size=3),
    )


def stacked_loglik(frame: pd.DataFrame, sigma_w, sigma_b, mu_b, mu_w) -> float:
    """Brute force: each cluster's values (z, y_1, ..., y_n) as one multivariate normal vector."""
    pos_b = {v: i for i, v in enumerate(SYN_BETWEEN)}
    ys = list(SYN_WITHIN)
    mu_y = mu_w + np.array([mu_b[pos_b[v]] if v in pos_b else 0.0 for v in ys])
    sel = [pos_b.get(v) for v in ys]
    between_yy = np.array(
        [[0.0 if i is None or k is None else sigma_b[i, k] for k in sel] for i in sel]
    )
    zy = np.array([[0.0 if k is None else sigma_b[0, k] for k in sel]])
    total = 0.0
    for _, rows in frame.groupby("cl", sort=False):
        n = len(rows)
        yy = np.kron(np.ones((n, n)), between_yy) + np.kron(np.eye(n), sigma_w)
        cov = np.block([[sigma_b[:1, :1], np.tile(zy, n)], [np.tile(zy, n).T, yy]])
        values = np.concatenate([rows["z"].to_numpy()[:1], rows[ys].to_numpy().ravel()])
        mean = np.concatenate([mu_b[:1], np.tile(mu_y, n)])
        total += multivariate_normal(mean, cov).logpdf(values)
    return float(total)


def synthetic_data(frame: pd.DataFrame | None = None, fixed_x: tuple = ()) -> TwoLevelData:
    frame = synthetic_frame() if frame is None else frame
    return TwoLevelData.from_data(frame, "cl", SYN_WITHIN, SYN_BETWEEN, fixed_x=fixed_x)


# ---- the data object --------------------------------------------------------------------------
def test_clusters_are_grouped_by_size():
    data = demo_data()
    assert (data.nobs, data.nclusters) == (2500, 200)
    assert data.sizes.tolist() == [5, 10, 15, 20]
    assert data.size_counts.tolist() == [50, 50, 50, 50]
    micro = micro_data()
    assert (micro.nobs, micro.nclusters) == (load_case("micro_macro_twolevel")["nobs"], 150)
    assert micro.size_counts.sum() == 150
    assert (micro.sizes * micro.size_counts).sum() == 1569


def test_classification_follows_the_levels_that_mention_a_variable():
    data = demo_data()
    assert data.both == ("y1", "y2", "y3")
    assert data.within_only == ("x1", "x2", "x3")
    assert data.between_only == ("w1", "w2")
    assert data.fixed_x_within == ("x1", "x2", "x3")
    assert data.fixed_x_between == ("w1", "w2")
    assert micro_data().between_only == ("y", "Z")
    assert micro_data().between_position.tolist() == [0, 2, 1]


def test_statistics_agree_with_a_groupby():
    frame = load("Demo.twolevel")
    data = demo_data()
    groups = frame.groupby("cluster", sort=False)
    means = groups[DEMO_WITHIN].transform("mean")
    dev = (frame[DEMO_WITHIN] - means).to_numpy()
    np.testing.assert_allclose(data.pooled_within_cov, dev.T @ dev / (2500 - 200), rtol=1e-12)
    np.testing.assert_allclose(data.cluster_means, groups[DEMO_WITHIN].mean().to_numpy())
    np.testing.assert_allclose(data.cluster_values, groups[["w1", "w2"]].first().to_numpy())
    np.testing.assert_array_equal(data.cluster_ids, frame["cluster"].unique())


def test_fixed_covariates_are_fixed_at_lavaans_values():
    est = estimates("twolevel_demo")
    data = demo_data()
    for level, names in ((1, data.fixed_x_within), (2, data.fixed_x_between)):
        mean, cov = data.fixed_x_moments(level)
        for i, a in enumerate(names):
            assert_matches("est", mean[i], est[a, "~1", "", level], f"{a} ~1")
            for k, b in enumerate(names[i:], start=i):
                assert_matches("est", cov[i, k], est[a, "~~", b, level], f"{a} ~~ {b}")


def test_detect_between_only():
    found = detect_between_only(load("Demo.twolevel"), "cluster", [*DEMO_WITHIN, "w1", "w2"])
    assert found == ("w1", "w2")
    micro = load("micro_macro_unbalanced_long")
    assert detect_between_only(micro, "group", ["x", "Z", "y"]) == ("Z", "y")


def test_array_input_with_names():
    frame = synthetic_frame()
    data = TwoLevelData.from_data(
        frame.to_numpy(), frame["cl"].to_numpy(), SYN_WITHIN, SYN_BETWEEN, names=list(frame)
    )
    reference = synthetic_data(frame)
    np.testing.assert_allclose(data.size_covs, reference.size_covs)
    np.testing.assert_allclose(data.pooled_within_cov, reference.pooled_within_cov)


# ---- log-likelihood ---------------------------------------------------------------------------
def test_micro_macro_logl_matches_lavaan():
    sigma_w, sigma_b, mu_b = micro_moments()
    logl = twolevel_loglik(micro_data(), sigma_w, sigma_b, mu_b)
    assert_matches("logl", logl, fit_measures("micro_macro_twolevel")["logl"], "logl")


def test_demo_logl_matches_lavaan():
    data = demo_data()
    logl = twolevel_loglik(data, *demo_moments())
    assert_matches("logl", logl, fit_measures("twolevel_demo")["logl"], "logl")
    # lavaan's logl leaves out the fixed covariates' own log-likelihood
    assert data.loglik_x < -10_000


@pytest.mark.parametrize("seed", [3, 4])
def test_loglik_equals_stacked_normal_density(seed):
    frame = synthetic_frame(seed)
    moments = random_moments(seed)
    logl = twolevel_loglik(synthetic_data(frame), *moments)
    assert logl == pytest.approx(stacked_loglik(frame, *moments), rel=1e-10)


def test_fixed_covariates_loglik_is_subtracted():
    frame = synthetic_frame(5)
    moments = random_moments(5)
    plain = twolevel_loglik(synthetic_data(frame), *moments)
    fixed = twolevel_loglik(synthetic_data(frame, fixed_x=("c", "z", "a")), *moments)
    c = frame["c"].to_numpy()
    z = frame.groupby("cl", sort=False)["z"].first().to_numpy()
    loglik_x = sum(
        multivariate_normal(v.mean(), v.var()).logpdf(v).sum() for v in (c, z)
    )  # "a" is of both levels, so it is never a fixed covariate
    assert plain - fixed == pytest.approx(loglik_x, rel=1e-12)


def test_only_the_sum_of_the_means_matters_for_variables_of_both_levels():
    data = synthetic_data()
    sigma_w, sigma_b, mu_b, mu_w = random_moments(6)
    shift_w = np.array([0.7, 0.0, -0.4])  # a, c, b
    shift_b = np.array([0.0, 0.4, -0.7])  # z, b, a
    moved = twolevel_loglik(data, sigma_w, sigma_b, mu_b + shift_b, mu_w + shift_w)
    assert moved == pytest.approx(twolevel_loglik(data, sigma_w, sigma_b, mu_b, mu_w), rel=1e-13)


def test_not_positive_definite_gives_minus_infinity():
    data = synthetic_data()
    sigma_w, sigma_b, mu_b, mu_w = random_moments(7)
    assert twolevel_loglik(data, -sigma_w, sigma_b, mu_b, mu_w) == -np.inf
    bad = twolevel_gradient(data, sigma_w, -10 * sigma_b, mu_b, mu_w)
    assert bad.loglik == -np.inf
    assert np.isnan(bad.sigma_b).all()


# ---- gradient ---------------------------------------------------------------------------------
def numerical_gradient(f, matrix: np.ndarray, symmetric: bool, step: float = 1e-5) -> np.ndarray:
    """Central differences; a symmetric matrix moves (i, j) and (j, i) together."""
    out = np.zeros_like(matrix)
    for index in np.ndindex(matrix.shape):
        if symmetric and index[0] > index[1]:
            continue
        delta = np.zeros_like(matrix)
        delta[index] = step
        if symmetric:
            delta[index[::-1]] = step
        out[index] = (f(matrix + delta) - f(matrix - delta)) / (2 * step)
        if symmetric:
            out[index[::-1]] = out[index]
    return out


def assert_gradient(data: TwoLevelData, sigma_w, sigma_b, mu_b, mu_w) -> None:
    g = twolevel_gradient(data, sigma_w, sigma_b, mu_b, mu_w)
    assert g.loglik == pytest.approx(twolevel_loglik(data, sigma_w, sigma_b, mu_b, mu_w))
    fd = {
        "sigma_w": numerical_gradient(
            lambda m: twolevel_loglik(data, m, sigma_b, mu_b, mu_w), sigma_w, True
        ),
        "sigma_b": numerical_gradient(
            lambda m: twolevel_loglik(data, sigma_w, m, mu_b, mu_w), sigma_b, True
        ),
        "mu_b": numerical_gradient(
            lambda m: twolevel_loglik(data, sigma_w, sigma_b, m, mu_w), mu_b, False
        ),
        "mu_w": numerical_gradient(
            lambda m: twolevel_loglik(data, sigma_w, sigma_b, mu_b, m), mu_w, False
        ),
    }
    for name, numeric in fd.items():
        analytic = getattr(g, name)
        if analytic.ndim == 2:  # d loglik = tr(G dΣ): a symmetric pair moves by 2 G_ij
            np.testing.assert_array_equal(analytic, analytic.T)
            analytic = analytic * (2.0 - np.eye(analytic.shape[0]))
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-5, err_msg=name)


def test_gradient_matches_finite_differences_demo():
    data = demo_data()
    sigma_w, sigma_b, mu_b, mu_w = demo_moments()
    assert_gradient(data, sigma_w, sigma_b, mu_b, mu_w)
    rng = np.random.default_rng(8)
    assert_gradient(data, sigma_w, sigma_b, mu_b + rng.normal(0, 0.1, 5), mu_w + 0.05)


def test_gradient_matches_finite_differences_synthetic():
    assert_gradient(synthetic_data(), *random_moments(9))


def test_gradient_micro_macro_vanishes_at_lavaans_estimates():
    # df = 0: lavaan's estimates are the saturated maximum, so the moments' gradient is ~0
    sigma_w, sigma_b, mu_b = micro_moments()
    g = twolevel_gradient(micro_data(), sigma_w, sigma_b, mu_b)
    assert np.abs(g.sigma_w).max() < 1e-3
    assert np.abs(g.sigma_b).max() < 1e-2
    assert np.abs(g.mu_b).max() < 1e-2


# ---- saturated and baseline models ------------------------------------------------------------
@pytest.mark.parametrize(
    ("case", "data"), [("micro_macro_twolevel", micro_data), ("twolevel_demo", demo_data)]
)
def test_saturated_and_baseline_match_lavaan(case, data):
    ref = fit_measures(case)
    h1 = fit_saturated(data())
    baseline = fit_baseline(data())
    assert h1.converged and baseline.converged
    assert_matches("logl", h1.loglik, ref["unrestricted_logl"], "unrestricted.logl")
    chisq = 2 * (h1.loglik - baseline.loglik)
    assert_matches("chisq", chisq, ref["baseline_chisq"], "baseline.chisq")
    assert_matches("exact", h1.npar - baseline.npar, ref["baseline_df"], "baseline.df")
    # the model's df: free moments of the saturated model less the model's parameters
    assert_matches("exact", h1.npar - ref["npar"], ref["df"], "df")


def test_em_reproduces_lavaans_stopping_point():
    # lavaan stops its EM early: its unrestricted.logl lies below the maximum. Same rule, same
    # number (to far below the tolerance), while the exact fit goes on to the maximum.
    ref = fit_measures("twolevel_demo")["unrestricted_logl"]
    em = em_saturated(demo_data())
    assert em.loglik == pytest.approx(ref, abs=1e-6)
    exact = fit_saturated(demo_data(), exact=True)
    assert exact.converged
    assert exact.loglik > em.loglik + 1e-5


def test_exact_saturated_is_a_stationary_point():
    data = synthetic_data(synthetic_frame(11, clusters=40))
    h1 = fit_saturated(data, exact=True)
    g = twolevel_gradient(data, h1.sigma_w, h1.sigma_b, h1.mu_b, h1.mu_w)
    assert g.loglik == pytest.approx(h1.loglik, abs=1e-9)
    for part in (g.sigma_w, g.sigma_b, g.mu_b, g.mu_w):
        assert np.abs(part).max() < 1e-3
    assert h1.loglik >= fit_saturated(data).loglik


def test_exact_saturated_micro_macro_reaches_the_df0_model():
    # with df = 0 the model's logl is the maximum of the saturated likelihood
    h1 = fit_saturated(micro_data(), exact=True)
    assert h1.loglik == pytest.approx(fit_measures("micro_macro_twolevel")["logl"], abs=1e-5)


def test_univariate_saturated_model_is_lme4_random_intercept():
    ref = load_case("mixed_models_lme4")["micro_macro"]
    frame = load("micro_macro_long")
    data = TwoLevelData.from_data(frame, "group", ["x"], ["x"])
    for h1 in (fit_saturated(data), fit_saturated(data, exact=True)):
        assert_matches("logl", h1.loglik, ref["logLik"], "logLik")
    assert_matches("est", h1.sigma_w[0, 0], ref["variances"]["Residual"], "residual variance")
    assert_matches("est", h1.sigma_b[0, 0], ref["variances"]["group"], "group variance")
    mean = h1.mu_w[0] + h1.mu_b[0]
    assert_matches("est", mean, ref["fixed"]["(Intercept)"], "intercept")


def test_baseline_is_the_sum_of_univariate_models():
    # fixed covariates cancel against loglik_x; each y is its own random-intercept model
    frame = load("Demo.twolevel")
    total = sum(
        fit_saturated(TwoLevelData.from_data(frame, "cluster", [y], [y]), exact=True).loglik
        for y in ("y1", "y2", "y3")
    )
    baseline = fit_baseline(demo_data())
    assert baseline.loglik == pytest.approx(total, abs=1e-4)
    assert baseline.npar == 9
    assert np.count_nonzero(baseline.sigma_b - np.diag(np.diag(baseline.sigma_b))) == 2


# ---- bad input --------------------------------------------------------------------------------
def build(frame: pd.DataFrame, within=SYN_WITHIN, between=SYN_BETWEEN) -> TwoLevelData:
    return TwoLevelData.from_data(frame, "cl", within, between)


def test_a_single_cluster_is_an_error():
    frame = synthetic_frame().assign(cl=1, z=0.5)
    with pytest.raises(DataError, match="single cluster"):
        build(frame)


def test_clusters_of_one_row_only_are_an_error():
    frame = synthetic_frame()
    frame["cl"] = np.arange(len(frame))
    with pytest.raises(DataError, match="only one row"):
        build(frame)


def test_missing_cluster_id_is_an_error():
    frame = synthetic_frame()
    frame["cl"] = frame["cl"].astype(float)
    frame.loc[4, "cl"] = np.nan
    with pytest.raises(DataError, match=r"cluster variable 'cl' is missing in 1 row\(s\): 4"):
        build(frame)


def test_between_only_variable_that_varies_within_a_cluster_is_an_error():
    frame = synthetic_frame()
    first = frame.index[frame["cl"] == 5]
    frame.loc[first[0], "z"] += 1.0
    message = r"level-2 variable 'z' varies within 1 cluster.*id\(s\): 5"
    with pytest.raises(DataError, match=message):
        build(frame)


def test_variable_of_both_levels_constant_within_clusters_is_an_error():
    frame = synthetic_frame()
    with pytest.raises(DataError, match="level-1 variable 'z' is constant within every cluster"):
        build(frame, within=[*SYN_WITHIN, "z"], between=SYN_BETWEEN)


def test_within_only_variable_constant_within_clusters_warns():
    frame = synthetic_frame()
    with pytest.warns(DataWarning, match="'z' is constant within every cluster"):
        build(frame, within=[*SYN_WITHIN, "z"], between=["b", "a"])


def test_unknown_variable_and_cluster_column_are_errors():
    frame = synthetic_frame()
    with pytest.raises(DataError, match="not in the data: q"):
        build(frame, within=["a", "q"])
    with pytest.raises(DataError, match="cluster variable 'school'"):
        TwoLevelData.from_data(frame, "school", SYN_WITHIN, SYN_BETWEEN)


def test_rows_with_missing_values_are_dropped_with_a_warning():
    frame = synthetic_frame(12, clusters=20)
    gappy = frame.copy()
    gappy.loc[[2, 7], "c"] = np.nan
    with pytest.warns(DataWarning, match="2 rows"):
        data = build(gappy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        complete = build(frame.drop(index=[2, 7]))
    np.testing.assert_allclose(data.size_covs, complete.size_covs)
    assert data.nobs == len(frame) - 2


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), relabel=st.booleans())
def test_row_order_and_cluster_labels_do_not_matter(seed, relabel):
    frame = synthetic_frame(13, clusters=12)
    rng = np.random.default_rng(seed)
    shuffled = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    if relabel:
        shuffled["cl"] = "c" + (shuffled["cl"] * 7 % 101).astype(str)
    moments = random_moments(14)
    expected = twolevel_loglik(build(frame), *moments)
    assert twolevel_loglik(build(shuffled), *moments) == pytest.approx(expected, rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(size=st.integers(2, 30), value=st.one_of(st.integers(), st.text(min_size=1)))
def test_any_single_cluster_column_is_rejected(size, value):
    frame = pd.DataFrame({"cl": [value] * size, "a": np.arange(size, dtype=float)})
    with pytest.raises(DataError, match="single cluster"):
        TwoLevelData.from_data(frame, "cl", ["a"], ["a"])
