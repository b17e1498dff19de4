"""Croon & van Veldhoven adjusted group means: BLUP, ANOVA moments, links to lme4 and lavaan."""

import re
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_cases import assert_matches, load_case

from semlang import datasets
from semlang.errors import DataError, HeywoodWarning
from semlang.micromacro import (
    adjusted_means,
    blup_group_means,
    generate_micro_macro,
    ols,
    variance_components_anova,
)


def _conditional_mean_brute_force(long: pd.DataFrame, z_names: list[str], m: dict) -> np.ndarray:
    """E[xi_g | x_1g..x_ng, Z_g] from the joint covariance of xi, every member's x and Z."""
    c, s = np.asarray(m["cov_xi_z"]), np.asarray(m["cov_zz"])
    out = []
    for _, g in long.groupby("group", sort=True):
        n = len(g)
        sigma = np.block(
            [
                [np.full((n, n), m["sigma2_xi"]) + m["sigma2_nu"] * np.eye(n), np.tile(c, (n, 1))],
                [np.tile(c, (n, 1)).T, s],
            ]
        )
        cov_xi = np.concatenate([np.full(n, m["sigma2_xi"]), c])
        centred = np.concatenate(
            [g["x"].to_numpy() - m["mu_x"], g[z_names].iloc[0].to_numpy() - m["mu_z"]]
        )
        out.append(m["mu_x"] + cov_xi @ np.linalg.solve(sigma, centred))
    return np.array(out)


def _with_second_covariate(long: pd.DataFrame) -> pd.DataFrame:
    groups = long["group"].unique()
    w = np.random.default_rng(11).normal(size=groups.shape[0])
    return long.assign(W=long["group"].map(dict(zip(groups, w, strict=True))) + 0.5 * long["Z"])


@pytest.mark.parametrize("name", ["micro_macro_long", "micro_macro_unbalanced_long"])
@pytest.mark.parametrize("z_names", [["Z"], ["Z", "W"]])
def test_blup_equals_brute_force_conditional_mean(name: str, z_names: list[str]) -> None:
    long = _with_second_covariate(datasets.load(name))
    result = adjusted_means(long, "group", "x", z_names)
    expected = _conditional_mean_brute_force(long, z_names, result.attrs)
    np.testing.assert_allclose(result["adjusted"], expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["micro_macro_long", "micro_macro_unbalanced_long"])
def test_moments_are_the_documented_estimators(name: str) -> None:
    long = datasets.load(name)
    result = adjusted_means(long, "group", "x", "Z")
    per_group = long.groupby("group", sort=True)
    xbar, z = per_group["x"].mean().to_numpy(), per_group["Z"].first().to_numpy()
    vc = variance_components_anova(long, "group", "x")
    m = result.attrs
    assert m["mu_x"] == pytest.approx(long["x"].mean(), rel=1e-12)
    assert m["mu_z"][0] == pytest.approx(z.mean(), rel=1e-12)
    assert m["cov_zz"][0][0] == pytest.approx(np.var(z, ddof=1), rel=1e-12)
    assert m["cov_xi_z"][0] == pytest.approx(np.cov(xbar, z)[0, 1], rel=1e-12)
    assert (m["sigma2_xi"], m["sigma2_nu"], m["n0"]) == pytest.approx(tuple(vc), rel=1e-12)
    np.testing.assert_array_equal(result["n"], per_group.size().to_numpy())
    np.testing.assert_allclose(result["x_mean"], xbar, rtol=1e-12)
    a = m["sigma2_xi"] - m["cov_xi_z"][0] ** 2 / m["cov_zz"][0][0]
    np.testing.assert_allclose(result["weight"], a / (a + m["sigma2_nu"] / result["n"]))


def test_anova_by_hand() -> None:
    # groups (1, 2, 3), (4, 6), (5, 5, 5, 9): means 2, 5, 6; within sums of squares 2, 2, 12
    long = pd.DataFrame({"g": list("aaabbcccc"), "x": [1, 2, 3, 4, 6, 5, 5, 5, 9]})
    vc = variance_components_anova(long, "g", "x")
    msw = Fraction(2 + 2 + 12, 9 - 3)  # 8/3
    grand = Fraction(6 + 10 + 24, 9)  # 40/9
    msb = (3 * (2 - grand) ** 2 + 2 * (5 - grand) ** 2 + 4 * (6 - grand) ** 2) / 2  # 127/9
    n0 = (9 - Fraction(9 + 4 + 16, 9)) / 2  # 26/9
    assert vc.sigma2_within == pytest.approx(float(msw), rel=1e-14)
    assert vc.n0 == pytest.approx(float(n0), rel=1e-14)
    assert vc.sigma2_between == pytest.approx(float((msb - msw) / n0), rel=1e-14)  # 103/26
    assert vc.sigma2_between == pytest.approx(103 / 26, rel=1e-14)


def test_anova_recovers_the_truth_on_a_large_unbalanced_sample() -> None:
    sample = generate_micro_macro(
        n_groups=20000, group_size=lambda rng: rng.integers(2, 13, size=20000), seed=5
    )
    vc = variance_components_anova(sample.long, "group", "x")
    assert vc.sigma2_within == pytest.approx(9.0, abs=0.1)  # se about 0.03
    assert vc.sigma2_between == pytest.approx(1.0, abs=0.08)  # se about 0.02
    sizes = sample.sizes
    assert vc.n0 == pytest.approx((sizes.sum() - (sizes**2).sum() / sizes.sum()) / 19999)


def test_ml_components_and_blups_match_lme4() -> None:
    """Balanced groups: ML variances follow from the ANOVA sums; z=None gives lme4's BLUPs."""
    ref = load_case("mixed_models_lme4")["micro_macro"]
    long = datasets.load("micro_macro_long")
    vc = variance_components_anova(long, "group", "x")
    groups, n = 100, 10
    msb = vc.sigma2_within + vc.n0 * vc.sigma2_between
    ml_between = ((groups - 1) / groups * msb - vc.sigma2_within) / n
    assert_matches("est", vc.sigma2_within, ref["variances"]["Residual"], "within")
    assert_matches("est", ml_between, ref["variances"]["group"], "between")
    mu = ref["fixed"]["(Intercept)"]
    xbar = long.groupby("group", sort=True)["x"].mean().to_numpy()
    variances = {"sigma2_xi": ref["variances"]["group"], "sigma2_nu": ref["variances"]["Residual"]}
    blup = blup_group_means(
        xbar, np.full(groups, n), None, mu, None, **variances, cov_xi_z=None, cov_zz=None
    )
    for ours, theirs in zip(blup[:20] - mu, ref["blup_first20"], strict=True):
        assert_matches("score", ours, theirs, "BLUP")


def test_shrinkage_matches_lavaan_factor_scores_of_parallel_items() -> None:
    """Equal loadings and residual variances: the regression factor score is a shrunken mean."""
    case = load_case("bigfive_agree_equal")
    est = pd.DataFrame(case["estimates"])
    items = datasets.load("bigfive_agree")
    intercepts = est[est["op"] == "~1"].set_index("lhs")["est"]
    centred_mean = (items - intercepts[items.columns]).mean(axis=1).to_numpy()
    psi = float(est.query("lhs == 'agree' and op == '~~'")["est"].iloc[0])
    theta = float(est.query("lhs == 'A1' and op == '~~'")["est"].iloc[0])
    scores = blup_group_means(
        centred_mean[:20], np.full(20, 5), None, 0.0, None, psi, theta, None, None
    )
    for ours, row in zip(scores, case["scores_regression"], strict=True):
        assert_matches("score", ours, row["agree"], "factor score")


def test_reduces_to_classic_shrinkage_when_z_is_uncorrelated() -> None:
    rng = np.random.default_rng(2)
    xbar, n, z = rng.normal(size=30), rng.integers(3, 15, size=30), rng.normal(size=(30, 2))
    classic = 0.4 + 1.5 / (1.5 + 6.0 / n) * (xbar - 0.4)
    with_z = blup_group_means(xbar, n, z, 0.4, [0.1, -0.2], 1.5, 6.0, [0.0, 0.0], np.eye(2))
    without = blup_group_means(xbar, n, None, 0.4, None, 1.5, 6.0, None, None)
    np.testing.assert_allclose(with_z, classic, rtol=1e-13)
    np.testing.assert_allclose(without, classic, rtol=1e-13)
    long = datasets.load("micro_macro_unbalanced_long")
    result = adjusted_means(long, "group", "x")
    m = result.attrs
    w = m["sigma2_xi"] / (m["sigma2_xi"] + m["sigma2_nu"] / result["n"])
    np.testing.assert_allclose(
        result["adjusted"], m["mu_x"] + w * (result["x_mean"] - m["mu_x"]), rtol=1e-12
    )


def test_bias_of_unadjusted_and_adjusted_means_in_the_published_design() -> None:
    """Percent bias over 400 data sets against theory and the published study (CV 2007)."""
    fits = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(1000, 1400):
            s = generate_micro_macro(seed=seed)
            adj = adjusted_means(s.long, "group", "x", "Z")
            plain = ols(s.y, np.column_stack([adj["x_mean"], adj["Z"]])).params
            fits.append(np.r_[plain, ols(s.y, np.column_stack([adj["adjusted"], adj["Z"]])).params])
    bias = (np.mean(fits, axis=0) - 0.3) / 0.3 * 100  # Intercept, X, Z (unadjusted; adjusted)
    # large-sample theory for the unadjusted means: w = a / (a + 9/10), a = 1 - .3^2
    w = 0.91 / (0.91 + 0.9)
    assert bias[1] == pytest.approx((w - 1) * 100, abs=3.5)  # -49.7; published -50.4
    assert bias[2] == pytest.approx(0.3 * (1 - w) * 100, abs=4.5)  # +14.9; published 15.3
    assert bias[4] == pytest.approx(5.0, abs=9.0)  # published 5.0 (Monte Carlo se 2.4)
    assert bias[5] == pytest.approx(-1.3, abs=5.5)  # published -1.3 (Monte Carlo se 1.3)


def test_negative_between_variance_warns() -> None:
    x = [1.0, 3.0, 1.5, 3.5, 0.0, 2.0]  # means 2, 2.5, 1: MSW = 2, MSB = 7/6
    long = pd.DataFrame({"g": [1, 1, 2, 2, 3, 3], "x": x, "Z": [0, 0, 1, 1, 3, 3]})
    assert variance_components_anova(long, "g", "x").sigma2_between == pytest.approx(-5 / 12)
    with pytest.warns(HeywoodWarning):
        adjusted_means(long, "g", "x", "Z")


def test_user_mistakes() -> None:
    long = datasets.load("micro_macro_long")
    with pytest.raises(DataError, match="varies within groups"):
        adjusted_means(long, "group", "x", "member")
    with pytest.raises(DataError, match="not in the data"):
        adjusted_means(long, "team", "x", "Z")
    with pytest.raises(DataError, match="at least 2 groups"):
        variance_components_anova(long.assign(group=1), "group", "x")
    with pytest.raises(DataError, match="one member"):
        variance_components_anova(long.assign(group=np.arange(len(long))), "group", "x")


def test_documentation_example_runs(capsys) -> None:
    doc = Path(__file__).parents[2] / "docs" / "croon_van_veldhoven.md"
    (code,) = re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)
    exec(compile(code, str(doc), "exec"), {})
    printed = capsys.readouterr().out
    assert "between 1.879, within 9.040, n0 10" in printed
    assert re.search(r"adjusted\s+0\.182", printed)
