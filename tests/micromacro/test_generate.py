"""The micro-macro data generator: design moments, long/wide agreement, determinism."""

import numpy as np
import pandas as pd
import pytest

from semlang import datasets
from semlang.errors import OptionError
from semlang.micromacro import generate_micro_macro, ols


@pytest.fixture(scope="module")
def large():
    return generate_micro_macro(n_groups=20000, group_size=10, seed=2020)


def test_group_level_moments_match_the_design(large) -> None:
    cov = np.cov(large.xi, large.z)
    assert cov[0, 0] == pytest.approx(1.0, abs=0.05)  # se 0.01
    assert cov[1, 1] == pytest.approx(1.0, abs=0.05)
    assert np.corrcoef(large.xi, large.z)[0, 1] == pytest.approx(0.3, abs=0.03)  # se 0.006
    fit = ols(large.y, np.column_stack([large.xi, large.z]), names=["xi", "Z"])
    np.testing.assert_allclose(fit.params, [0.3, 0.3, 0.3], atol=0.02)  # se about 0.005
    assert fit.sigma2 == pytest.approx(0.35, abs=0.02)  # se 0.0035


def test_member_level_moments_match_the_design(large) -> None:
    deviation = large.x - np.repeat(large.xi, large.sizes)
    assert deviation.mean() == pytest.approx(0.0, abs=0.01)  # se 0.0067
    assert deviation.var() == pytest.approx(9.0, abs=0.1)  # se 0.028
    assert np.corrcoef(deviation, large.z[large.group_index])[0, 1] == pytest.approx(0, abs=0.01)
    assert large.icc == pytest.approx(0.1)
    assert np.var(large.group_means, ddof=1) == pytest.approx(1.0 + 9.0 / 10, abs=0.08)


def test_long_and_wide_agree_for_unbalanced_groups() -> None:
    sizes = np.array([3, 1, 5, 2])
    s = generate_micro_macro(n_groups=4, group_size=sizes, seed=1)
    long, wide = s.long, s.wide
    assert list(long.columns) == ["group", "member", "x", "Z", "y"]
    assert list(wide.columns) == ["group", "Z", "y", "x1", "x2", "x3", "x4", "x5"]
    np.testing.assert_array_equal(long.groupby("group").size().to_numpy(), sizes)
    np.testing.assert_array_equal(wide[[f"x{j}" for j in range(1, 6)]].notna().sum(axis=1), sizes)
    pivoted = long.pivot(index="group", columns="member", values="x")
    np.testing.assert_array_equal(pivoted.to_numpy(), wide.iloc[:, 3:].to_numpy())
    per_group = long.groupby("group")[["Z", "y"]].agg(["min", "max"])
    np.testing.assert_array_equal(per_group[("Z", "min")], per_group[("Z", "max")])
    np.testing.assert_array_equal(per_group[("Z", "min")], wide["Z"])
    np.testing.assert_array_equal(per_group[("y", "max")], wide["y"])
    np.testing.assert_allclose(long.groupby("group")["x"].mean(), s.group_means, rtol=1e-14)


def test_layout_matches_the_shipped_data() -> None:
    s = generate_micro_macro(seed=3)
    assert list(s.long.columns) == list(datasets.load("micro_macro_long").columns)
    assert list(s.wide.columns) == list(datasets.load("micro_macro_wide").columns)
    assert s.long.shape == (1000, 5) and s.wide.shape == (100, 13)


def test_deterministic_given_the_seed() -> None:
    a, b = generate_micro_macro(seed=42), generate_micro_macro(seed=42)
    pd.testing.assert_frame_equal(a.long, b.long)
    np.testing.assert_array_equal(a.xi, b.xi)
    c = generate_micro_macro(rng=np.random.default_rng(42))
    np.testing.assert_array_equal(a.x, c.x)
    assert not np.array_equal(a.x, generate_micro_macro(seed=43).x)


def test_size_distribution_and_icc() -> None:
    s = generate_micro_macro(
        n_groups=150, group_size=lambda rng: rng.integers(5, 16, size=150), icc=0.2, seed=9
    )
    assert s.sigma2_nu == pytest.approx(4.0)
    assert s.sizes.min() >= 5 and s.sizes.max() <= 15
    assert len(s.long) == s.sizes.sum()
    assert s.wide.shape[1] == 3 + s.sizes.max()


def test_coefficients_order_is_intercept_xi_z() -> None:
    s = generate_micro_macro(
        n_groups=5000, coefficients=(1.0, 0.5, -0.2), sigma2_e=0.0, seed=4, sigma2_nu=1.0
    )
    fit = ols(s.y, np.column_stack([s.xi, s.z]))
    np.testing.assert_allclose(fit.params, [1.0, 0.5, -0.2], atol=1e-12)


def test_user_mistakes() -> None:
    with pytest.raises(OptionError, match="not both"):
        generate_micro_macro(seed=1, rng=np.random.default_rng(1))
    with pytest.raises(OptionError, match="not both"):
        generate_micro_macro(sigma2_nu=4.0, icc=0.2)
    with pytest.raises(OptionError, match="group sizes"):
        generate_micro_macro(n_groups=3, group_size=[2, 3])
    with pytest.raises(OptionError, match="whole numbers"):
        generate_micro_macro(n_groups=2, group_size=[2, 0])
    with pytest.raises(OptionError, match="icc"):
        generate_micro_macro(icc=1.0)
