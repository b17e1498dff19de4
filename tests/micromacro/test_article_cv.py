"""The adjusted means as the published study's code computed them: the formula by hand, the
published score spread, and the message when the true scores are missing."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from semlang.errors import OptionError
from semlang.micromacro import MicroMacroData, cv_adjusted_means, generate_micro_macro
from semlang.micromacro.article_cv import cv_adjusted_as_published
from semlang.micromacro.study import PUBLISHED


def test_formula_by_hand() -> None:
    # groups (1, 2, 3), (4, 6), (5, 5, 5, 9): within sum of squares 16; true scores 1, 4, 7
    sizes, x = [3, 2, 4], [1, 2, 3, 4, 6, 5, 5, 5, 9]
    xi, z = [1, 4, 7], [0, 2, 1]
    data = MicroMacroData.from_arrays(np.array(sizes), np.array(x), np.array(z), np.zeros(3))
    N, G = 9, 3
    msa = Fraction(N * (9 + 0 + 9), N - G)  # exchanged degrees of freedom: 27
    mse = Fraction(16, G - 1)  # 8
    sigma_xi = Fraction(N * (G - 1), N**2 - (9 + 4 + 16)) * (msa - mse)  # 171/26
    explained = Fraction(3, 2) ** 2 / 1  # Cov(xi, z)^2 / Var(z)
    w1 = (sigma_xi - explained) / (sigma_xi + mse / N - explained)
    w2 = Fraction(3, 2) * (1 - w1)
    expected = [4 * (1 - w1) + s * w1 + (zg - 1) * w2 for s, zg in zip(xi, z, strict=True)]
    got = cv_adjusted_as_published(data, np.array(xi, dtype=float))
    np.testing.assert_allclose(got[:, 0], [float(v) for v in expected], rtol=1e-13)
    # without Z the weight is sigma_xi / (sigma_xi + MSE / N)
    bare = MicroMacroData.from_arrays(np.array(sizes), np.array(x), None, np.zeros(3))
    w = sigma_xi / (sigma_xi + mse / N)
    np.testing.assert_allclose(
        cv_adjusted_as_published(bare, np.array(xi, dtype=float))[:, 0],
        [float(4 * (1 - w) + s * w) for s in xi],
        rtol=1e-13,
    )


def test_spread_is_the_published_one_and_not_croon_van_veldhovens() -> None:
    """Over many data sets of the design the published-code scores have the published
    quartiles (+-.65, those of the true score shrunk a little) where Croon & van Veldhoven's
    adjusted means have those of a BLUP (+-.50); a few data sets give extreme weights."""
    rng = np.random.default_rng(2020)
    article, faithful, weights = [], [], []
    for _ in range(300):
        s = generate_micro_macro(100, 10, 9.0, 1.0, 0.3, (0.3, 0.3, 0.3), 0.35, rng=rng)
        data = s.data
        scores = cv_adjusted_as_published(data, s.xi)[:, 0]
        article.append(scores)
        faithful.append(cv_adjusted_means(data)[:, 0])
        weights.append(np.polyfit(s.xi, scores, 1)[0])
    published = PUBLISHED["scores"]["CV Adj (published code)"]
    q1, q3 = np.quantile(np.concatenate(article), [0.25, 0.75])
    assert q1 == pytest.approx(published["q1"], abs=0.03)
    assert q3 == pytest.approx(published["q3"], abs=0.03)
    f1, f3 = np.quantile(np.concatenate(faithful), [0.25, 0.75])
    blup_quartile = 0.674 * 0.74  # a normal quartile times the BLUP's SD
    assert f1 == pytest.approx(-blup_quartile, abs=0.03)
    assert f3 == pytest.approx(blup_quartile, abs=0.03)
    # the weight of the true score: near 1 in most data sets, far from it in a few
    weights = np.array(weights)
    assert 0.95 < np.median(weights) < 1.0
    assert np.max(np.abs(weights)) > 2.0


def test_needs_the_true_scores() -> None:
    data = MicroMacroData.from_arrays(np.array([2, 2]), np.arange(4.0), np.array([0.0, 1.0]),
                                      np.zeros(2))  # fmt: skip
    with pytest.raises(OptionError, match="true group scores") as info:
        cv_adjusted_as_published(data, None)
    assert "'CV Adj'" in info.value.hint
