"""semlang.simulate(fit, n): draws from a fitted model's implied moments."""

import numpy as np
import pytest

import semlang
from semlang.errors import OptionError

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.fixture(scope="module")
def fits():
    data = semlang.datasets.load("HolzingerSwineford1939")
    one = semlang.cfa(HS, data)
    groups = semlang.cfa(HS, data, group="school", meanstructure=True)
    return one, groups


def _check_moments(frame, mean, cov):
    """Sample means and covariances within 5 standard errors of the implied ones."""
    n = len(frame)
    values = frame.to_numpy(dtype=float)
    se_mean = np.sqrt(np.diag(cov) / n)
    assert np.all(np.abs(values.mean(axis=0) - mean) <= 5 * se_mean)
    sd = np.sqrt(np.diag(cov))
    se_cov = np.sqrt((np.outer(sd, sd) ** 2 + cov**2) / n)  # normal-theory Var(s_ij)
    assert np.all(np.abs(np.cov(values.T) - cov) <= 5 * se_cov)


def test_large_draw_approaches_implied_moments(fits):
    fit = fits[0]
    frame = semlang.simulate(fit, 20000, seed=11)
    assert list(frame.columns) == [f"x{k}" for k in range(1, 10)]
    implied = fit.implied[0]
    mean = fit.sample.groups[0].mean  # no mean structure: the sample means
    _check_moments(frame, mean, implied.sigma)


def test_groups_kept(fits):
    fit = fits[1]
    frame = semlang.simulate(fit, [8000, 12000], seed=3)
    assert list(frame["school"].unique()) == ["Pasteur", "Grant-White"]
    assert (frame["school"] == "Grant-White").sum() == 12000
    for label, implied in zip(fit.table.group_labels, fit.implied, strict=True):
        part = frame[frame["school"] == label].drop(columns="school")
        _check_moments(part, implied.mu, implied.sigma)
    default = semlang.simulate(fit, seed=3)
    assert default["school"].value_counts().to_dict() == {"Pasteur": 156, "Grant-White": 145}


def test_reproducible_from_seed(fits):
    a = semlang.simulate(fits[0], 50, seed=7)
    b = semlang.simulate(fits[0], 50, seed=7)
    c = semlang.simulate(fits[0], 50, seed=8)
    assert a.equals(b)
    assert not a.equals(c)


def test_empirical_draw_reproduces_moments(fits):
    fit = fits[1]
    frame = semlang.simulate(fit, 500, seed=1, empirical=True)
    part = frame[frame["school"] == "Pasteur"].drop(columns="school").to_numpy()
    np.testing.assert_allclose(part.mean(axis=0), fit.implied[0].mu, atol=1e-8)
    np.testing.assert_allclose(np.cov(part.T, bias=True), fit.implied[0].sigma, atol=1e-8)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 0}, "positive whole number"),
        ({"n": 2.5}, "positive whole number"),
        ({"n": [10, 20, 30]}, "3 group sizes"),
        ({"n": 10, "seed": -1}, "seed"),
        ({"n": 10, "seed": "abc"}, "seed"),
    ],
)
def test_bad_n_and_seed(fits, kwargs, match):
    with pytest.raises(OptionError, match=match):
        semlang.simulate(fits[1], **kwargs)


def test_neither_text_nor_fit():
    with pytest.raises(OptionError, match="model text or a fitted model"):
        semlang.simulate(42, 10)
