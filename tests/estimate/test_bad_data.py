"""Bad data give a clear error (or a warning saying what was removed), never a traceback and
never a silently changed data set."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import semlang
from semlang.errors import DataError, DataWarning, ModelSpecificationError, UnknownVariableError

ONE_FACTOR = "f =~ x1 + x2 + x3"


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return semlang.datasets.load("HolzingerSwineford1939")


def test_unknown_variable_is_located_and_close_names_suggested(hs):
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x66\n"
    with pytest.raises(UnknownVariableError) as caught:
        semlang.cfa(model, hs)
    error = caught.value
    assert isinstance(error, DataError) and isinstance(error, ModelSpecificationError)
    assert (error.line, error.column) == (2, 22)
    text = str(error)
    assert "<model>:2:22: error: variable 'x66' is not a column of the data" in text
    assert "textual =~ x4 + x5 + x66\n" in text and "^^^" in text
    assert "hint: close column names: x6" in text


def test_unknown_variable_without_close_names_hints_at_latent_variables(hs):
    with pytest.raises(UnknownVariableError, match="'intelligence' is not a column") as caught:
        semlang.sem("y =~ x1 + x2 + x3\ny ~ intelligence", hs)
    assert "define it with '=~'" in str(caught.value)


def test_non_numeric_column_names_the_column_and_first_bad_row(hs):
    data = hs.assign(x2=hs.x2.astype(object))
    data.loc[[4, 9], "x2"] = ["n/a", "?"]
    with pytest.raises(DataError) as caught:
        semlang.cfa(ONE_FACTOR, data)
    assert "column 'x2' is not numeric: row 5 holds 'n/a' (2 such rows)" in str(caught.value)
    assert "hint: code categories as numbers" in str(caught.value)


def test_numbers_written_as_text_are_read_as_numbers(hs):
    as_text = hs.assign(x2=hs.x2.map(repr))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = semlang.cfa(ONE_FACTOR, as_text).estimates().est
    b = semlang.cfa(ONE_FACTOR, hs).estimates().est
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_infinite_value_is_an_error(hs):
    data = hs.copy()
    data.loc[7, "x3"] = np.inf
    with pytest.raises(DataError, match=r"column 'x3' holds an infinite value in row 8"):
        semlang.cfa(ONE_FACTOR, data)


def test_constant_column(hs):
    with pytest.raises(DataError, match=r"variable 'x3' is constant \(every value is 2\)"):
        semlang.cfa(ONE_FACTOR, hs.assign(x3=2.0))


def test_fewer_rows_than_variables(hs):
    with pytest.raises(DataError, match=r"only 3 complete rows for 3 variables") as caught:
        semlang.cfa(ONE_FACTOR, hs.head(3))
    assert "needs more than p rows" in str(caught.value)


def test_singular_sample_covariance_names_the_dependent_variables(hs):
    with pytest.raises(DataError, match="singular: x1, x2, x3 are linearly dependent"):
        semlang.cfa(ONE_FACTOR, hs.assign(x3=hs.x1 - 2 * hs.x2))


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="is empty"):
        semlang.cfa(ONE_FACTOR, path)


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_file_separated_otherwise_than_by_commas(tmp_path, separator):
    path = tmp_path / "data.csv"
    path.write_text(separator.join(["x1", "x2", "x3"]) + "\n" + separator.join("123") + "\n")
    with pytest.raises(DataError, match=re.escape(f"look separated by {separator!r}")):
        semlang.cfa(ONE_FACTOR, path)


def test_file_with_a_header_only(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("x1,x2,x3\n")
    with pytest.raises(DataError, match="has no rows"):
        semlang.cfa(ONE_FACTOR, str(path))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        semlang.cfa(ONE_FACTOR, tmp_path / "nowhere.csv")


def test_duplicate_column_names_in_a_frame(hs):
    data = pd.concat([hs[["x1", "x2", "x3"]], hs[["x2"]]], axis=1)
    with pytest.raises(DataError, match="duplicate column names: x2"):
        semlang.cfa(ONE_FACTOR, data)


def test_duplicate_column_names_in_a_file(tmp_path, hs):
    path = tmp_path / "dup.csv"
    hs[["x1", "x2", "x3", "x3"]].to_csv(path, index=False)  # pandas would rename to 'x3.1'
    with pytest.raises(DataError, match="duplicate column names: x3"):
        semlang.cfa(ONE_FACTOR, path)


def test_unsupported_data_type():
    with pytest.raises(DataError, match="not list"):
        semlang.cfa(ONE_FACTOR, [[1, 2, 3]])


def test_latent_variable_named_like_a_column(hs):
    with pytest.raises(ModelSpecificationError, match="latent variable 'x4' has the name"):
        semlang.cfa("x4 =~ x1 + x2 + x3", hs)


def test_rows_with_missing_values_are_removed_listwise_with_a_count(hs):
    data = hs.copy()
    data.loc[[1, 5, 7], "x1"] = np.nan
    data.loc[[5, 20], "x3"] = np.nan
    data.loc[30, "x9"] = np.nan  # not a model variable: the row stays
    with pytest.warns(DataWarning, match=r"^4 of 301 rows were removed: they have missing values"):
        fit = semlang.cfa(ONE_FACTOR, data)
    assert fit.nobs == 297 and fit.sample.n_dropped == 4
    reference = semlang.cfa(ONE_FACTOR, data.drop(index=[1, 5, 7, 20]))
    np.testing.assert_allclose(fit.estimates().est, reference.estimates().est, rtol=1e-10)


def test_fiml_keeps_rows_with_missing_values_and_reports_empty_ones(hs):
    data = hs.copy()
    data.loc[[1, 5], "x1"] = np.nan
    data.loc[9, ["x1", "x2", "x3"]] = np.nan
    with pytest.warns(DataWarning, match=r"^1 of 301 rows were removed: .* every model variable"):
        fit = semlang.cfa(ONE_FACTOR, data, missing="fiml")
    assert fit.nobs == 300


def test_rows_without_a_group_are_reported(hs):
    data = hs.copy()
    data.loc[[0, 3], "school"] = np.nan
    with pytest.warns(DataWarning, match=r"2 of 301 rows were removed: their group column"):
        fit = semlang.cfa(ONE_FACTOR, data, group="school")
    assert fit.nobs == 299


def test_fiml_with_fixed_x_removes_rows_missing_a_covariate_with_a_warning():
    bfi = semlang.datasets.load("bfi")
    model = "agree =~ A1 + A2 + A3 + A4 + A5\nagree ~ age + education"
    with pytest.warns(DataWarning, match=r"223 of 2800 rows were removed: .*\(age, education\)"):
        fit = semlang.sem(model, bfi, missing="fiml")
    assert fit.nobs == 2577  # lavaan: 223 cases deleted, nobs 2577


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cells=st.sets(st.tuples(st.integers(0, 120), st.integers(0, 2)), max_size=60))
def test_listwise_deletion_equals_fitting_the_complete_rows(hs, cells):
    data = hs.head(121).copy()
    for row, column in cells:
        data.iloc[row, data.columns.get_loc(f"x{column + 1}")] = np.nan
    incomplete = sorted({row for row, _ in cells})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = semlang.cfa(ONE_FACTOR, data)
    messages = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    if incomplete:
        assert messages and messages[0].startswith(f"{len(incomplete)} of 121 rows were removed")
    else:
        assert not messages
    assert fit.nobs + fit.sample.n_dropped == 121
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        complete = semlang.cfa(ONE_FACTOR, data.drop(index=data.index[incomplete]))
    np.testing.assert_allclose(fit.theta, complete.theta, rtol=1e-9, atol=1e-12)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(row=st.integers(0, 300), column=st.sampled_from(["x1", "x2", "x3"]),
       text=st.text(alphabet="abc?-/ ", min_size=1, max_size=4))  # fmt: skip
def test_any_text_cell_is_reported_with_its_column_and_row(hs, row, column, text):
    if not text.strip():
        text = "?"
    data = hs.assign(**{column: hs[column].astype(object)})
    data.loc[row, column] = text
    with pytest.raises(DataError) as caught:
        semlang.cfa(ONE_FACTOR, data)
    assert re.search(rf"column '{column}' is not numeric: row {row + 1} holds ", str(caught.value))


def test_column_types_give_the_same_floats_whichever_conversion_reads_them():
    """Plain NumPy columns (read straight from the frame) and nullable or text columns (read by
    pandas) give the same numbers, in the model's order, beside columns the model does not use."""
    from semlang.estimate.data import _numeric_values

    frame = pd.DataFrame({
        "label": ["a", "b", "c"], "n": [1, 2, 3], "flag": [True, False, True],
        "x": [1.5, np.nan, 2.0], "small": np.array([4, 5, 6], dtype=np.uint8),
        "single": np.array([0.5, 0.25, 1.0], dtype=np.float32),
        "nullable": pd.array([7, None, 9], dtype="Int64"), "text": ["1", "2.5", None],
    })  # fmt: skip
    plain = _numeric_values(frame, ("x", "n", "flag", "small", "single"))
    expected = [[1.5, 1, 1, 4, 0.5], [np.nan, 2, 0, 5, 0.25], [2.0, 3, 1, 6, 1.0]]
    np.testing.assert_array_equal(plain, expected)
    mixed = _numeric_values(frame, ("n", "nullable", "text"))
    np.testing.assert_array_equal(mixed, [[1, 7, 1], [2, np.nan, 2.5], [3, 9, np.nan]])
