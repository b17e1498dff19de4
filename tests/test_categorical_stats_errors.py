"""Bad input for ordered-categorical sample statistics: a clear semlang error or lavaan's rule."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import semlang
from semlang.categorical import sample_statistics


def _items(n: int = 60) -> pd.DataFrame:
    k = np.arange(n)
    return pd.DataFrame({"a": k % 3 + 1, "b": (k // 2) % 3 + 1, "c": (k * 7) % 4 + 1})


def test_one_observed_category_is_refused():
    data = _items().assign(a=2)
    with pytest.raises(semlang.DataError, match="'a' has only one observed category") as error:
        semlang.polychoric(data, ordered=True)
    assert "leave it out" in str(error.value)


def test_one_observed_category_in_a_group_is_refused():
    data = _items().assign(g=["x"] * 30 + ["y"] * 30)
    data.loc[data.g == "y", "b"] = 1
    with pytest.raises(semlang.DataError, match="'b' has only one observed category in group y"):
        semlang.polychoric(data, ordered=["a", "b"], group="g")


def test_a_category_empty_in_one_group_is_refused():
    data = _items().assign(g=["x"] * 30 + ["y"] * 30)
    data.loc[(data.g == "y") & (data.a == 3), "a"] = 2
    with pytest.raises(semlang.DataError, match="category 3 of ordered variable 'a' is empty in"):
        semlang.polychoric(data, ordered=["a", "b"], group="g")


def test_text_categories_are_refused_unless_an_ordered_categorical():
    data = _items()
    data["a"] = data["a"].map({1: "low", 2: "mid", 3: "high"})
    with pytest.raises(semlang.DataError, match="categories written as text") as error:
        semlang.polychoric(data, ordered=["a", "b"])
    assert "ordered Categorical" in str(error.value)
    data["a"] = pd.Categorical(data["a"], categories=["low", "mid", "high"], ordered=True)
    codes = semlang.polychoric(_items(), ordered=["a", "b"]).cor
    np.testing.assert_allclose(semlang.polychoric(data, ordered=["b"]).cor, codes, atol=1e-12)


def test_whole_numbers_written_as_text_are_numbers():
    data = _items().astype({"a": str})
    expected = semlang.polychoric(_items(), ordered=["a", "b"]).cor
    np.testing.assert_allclose(semlang.polychoric(data, ordered=["a", "b"]).cor, expected)


def test_fractional_categories_are_refused():
    data = _items().astype({"a": float})
    data.loc[3, "a"] = 1.5
    with pytest.raises(semlang.DataError, match=r"not a whole number \(1.5\)"):
        semlang.polychoric(data, ordered=["a"])


def test_more_than_100_categories_are_refused_and_more_than_12_warned():
    data = pd.DataFrame({"a": np.arange(202) % 101, "b": np.arange(202) % 2})
    with pytest.raises(semlang.DataError, match="'a' has 101 categories"):
        semlang.polychoric(data, ordered=True)
    data = pd.DataFrame({"a": np.arange(260) % 13, "b": (np.arange(260) // 13) % 2})
    with pytest.warns(semlang.DataWarning, match="more than 12 categories"):
        semlang.polychoric(data, ordered=True)


def test_ordered_naming_a_missing_column():
    with pytest.raises(semlang.UnknownVariableError, match="'aa' is not a column") as error:
        semlang.polychoric(_items(), ordered=["a", "aa"])
    assert "did you mean 'a'" in str(error.value)


def test_ordered_naming_a_covariate_is_refused():
    data = _items().assign(x=np.arange(60) % 5)
    with pytest.raises(semlang.DataError, match="covariate 'x' is declared ordered"):
        sample_statistics(data, ["a", "b"], ordered=["a", "b", "x"], exogenous=["x"])


def test_missing_other_than_listwise_or_pairwise_is_refused():
    with pytest.raises(semlang.OptionError, match="missing='fiml'"):
        semlang.polychoric(_items(), ordered=True, missing="fiml")


def test_two_empty_cells_in_a_two_by_two_table_give_plus_or_minus_one():
    data = pd.DataFrame({"a": [0] * 20 + [1] * 30, "b": [0] * 20 + [1] * 30})
    with pytest.warns(semlang.DataWarning, match="two empty cells") as record:
        result = semlang.polychoric(data, ordered=True)
    assert result.cor.loc["a", "b"] == 1.0
    assert any("(nearly) 1.0" in str(w.message) for w in record)
    assert {w.filename for w in record} == {__file__}  # reported at the user's line
    data["b"] = 1 - data["b"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.DataWarning)
        assert semlang.polychoric(data, ordered=True).cor.loc["a", "b"] == -1.0


def test_one_empty_cell_in_a_two_by_two_table_moves_half_a_case():
    # lavaan's zero.add = c(0.5, 0) with zero.keep.margins: 30 12 / 0 20 becomes 30.5 11.5 / 0.5
    # 19.5; the correlation is lavaan's for this table (a~~b of reference categorical/zero_cells)
    data = pd.DataFrame({"a": [1] * 42 + [2] * 20, "b": [1] * 30 + [2] * 12 + [2] * 20})
    result = semlang.polychoric(data, ordered=True)
    assert result.statistics.groups[0].zero_cell_tables == (("a", "b"),)
    assert result.cor.loc["a", "b"] == pytest.approx(0.919439131579246, abs=1e-7)


def test_continuous_text_column_is_refused():
    data = _items().assign(z=["x"] * 60)
    with pytest.raises(semlang.DataError, match="'z' is not numeric"):
        semlang.polychoric(data, ordered=["a"])


def test_unknown_group_column():
    with pytest.raises(semlang.UnknownVariableError, match="group 'grp'"):
        semlang.polychoric(_items(), ordered=True, group="grp")


def test_unordered_text_categorical_is_refused_and_nullable_integers_are_numbers():
    data = _items().assign(a=pd.Categorical(["x", "y", "z"] * 20))
    with pytest.raises(semlang.DataError, match="'a' is an unordered Categorical of text"):
        semlang.polychoric(data, ordered=True)
    floats = _items().astype({"a": float})
    floats.loc[3, "a"] = np.nan
    nullable = floats.astype({"a": "Int64"})
    expected = semlang.polychoric(floats, ordered=True, missing="pairwise").cor
    result = semlang.polychoric(nullable, ordered=True, missing="pairwise").cor
    np.testing.assert_allclose(result, expected, atol=1e-14)
    with pytest.warns(semlang.DataWarning, match="1 rows with missing values were left out"):
        assert semlang.polychoric(nullable, ordered=True).nobs == 59


def test_a_covariate_constant_in_a_group_is_refused():
    data = _items().assign(g=["x"] * 30 + ["y"] * 30, x=[1.0] * 30 + list(np.arange(30) % 4))
    with pytest.raises(semlang.DataError, match=r"covariates x are constant .* in group x"):
        sample_statistics(data, ["a", "b"], ordered=["a", "b"], group="g", exogenous=["x"])
