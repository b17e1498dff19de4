"""Mistakes and odd inputs a new user runs into: each is a located error, lavaan's behaviour, or a
warning, never a traceback or a silent wrong number (division by zero in ``:=``, bounds that
contradict, values too large to square, dates and complex numbers, a two-level model on too few
clusters, a model without free parameters, absurd table sizes, ``:=`` values that are NaN or
infinite, variances on very different scales, a bootstrap of one draw)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from reference_cases import REFERENCE_DIR, assert_matches

import semlang
from semlang.cli import main
from semlang.errors import (
    ConvergenceWarning,
    DataError,
    DataWarning,
    ModelSpecificationError,
    OptionError,
    SemlangWarning,
)

HS = semlang.datasets.load("HolzingerSwineford1939")
TWO = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
TWO_A = TWO.replace("x1 + x2", "x1 + a*x2")  # the loading of x2 labelled a
ESCAPES = REFERENCE_DIR / "escapes"


def _reference(name: str) -> dict:
    return json.loads((ESCAPES / f"{name}.json").read_text())


def _cli(argv, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _quiet_cfa(model: str, data, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemlangWarning)
        return semlang.cfa(model, data, **options)


# ---- := that divides by zero ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("definition", "column", "message"),
    [
        ("z := a/0", 8, "division by zero"),
        ("z := 1/(a-a)", 9, "division by zero"),
        ("z := log(a-a)", 6, "infinite or undefined"),
    ],
)
def test_a_definition_infinite_for_every_value_is_located_before_fitting(
    definition, column, message
):
    text = "visual =~ x1 + a*x2 + x3\ntextual =~ x4 + x5 + x6\n" + definition
    with pytest.raises(ModelSpecificationError, match=message) as caught:
        semlang.parameter_table(text, "cfa")
    assert (caught.value.line, caught.value.column) == (3, column)


def test_check_refuses_a_division_by_zero(tmp_path, capsys):
    path = tmp_path / "model.sem"
    path.write_text("visual =~ x1 + a*x2 + x3\nz := a/0\n")
    code, _, err = _cli(["check", path], capsys)
    assert code == 2
    assert "model.sem:2:8: error: division by zero" in err


def test_a_definition_dividing_by_a_parameter_fixed_at_zero_is_located():
    text = "visual =~ x1 + a*x2 + b*x3\nx2 ~~ 0*x3 + c*x3\nz := a/c\n"
    with pytest.raises(ModelSpecificationError, match="'z' is infinite or undefined") as caught:
        semlang.compile_model(text, kind="cfa")
    assert caught.value.line == 3


# ---- bounds that leave no value ---------------------------------------------------------------
def test_contradicting_bounds_are_located_at_compile_and_check(tmp_path, capsys):
    text = "visual =~ x1 + a*x2 + x3\na < -1000\na > 1000\n"
    with pytest.raises(ModelSpecificationError, match=">= 1000 and <= -1000") as caught:
        semlang.compile_model(text, kind="cfa")
    assert caught.value.line == 3
    path = tmp_path / "bounds.sem"
    path.write_text(text)
    code, _, err = _cli(["check", path], capsys)
    assert code == 2
    assert "bounds.sem:3:1: error: no value satisfies the bounds" in err


# ---- values too large, dates, complex numbers -------------------------------------------------
@pytest.mark.parametrize(
    "data",
    [
        HS.assign(x1=np.where(HS.index == 3, 1e300, HS.x1)),
        HS.assign(x1=HS.x1 * 1e154),
    ],
    ids=["a cell of 1e300", "a column times 1e154"],
)
def test_a_variable_without_finite_variance_is_named(data):
    # lavaan: "some variables have only 1 observation or no finite variance"
    with pytest.raises(DataError, match="variable 'x1' has no finite variance"):
        semlang.cfa(TWO, data)


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        (pd.to_datetime("2020-01-01") + pd.to_timedelta(HS.x1, unit="D"), "dates"),
        (pd.to_timedelta(HS.x1, unit="D"), "time spans"),
        (HS.x1 + 1j, "complex numbers"),
    ],
    ids=["datetime64", "timedelta64", "complex"],
)
def test_a_date_or_complex_column_is_refused_by_name(column, kind):
    with pytest.raises(DataError, match=f"column 'x1' holds {kind}"):
        semlang.cfa(TWO, HS.assign(x1=column))


def test_a_complex_column_is_refused_in_a_two_level_model():
    data = semlang.datasets.load("Demo.twolevel")
    model = "level: 1\n fw =~ y1 + y2 + y3\nlevel: 2\n fb =~ y1 + y2 + y3\n"
    with pytest.raises(DataError, match="column 'y2' holds complex numbers"):
        semlang.sem(model, data.assign(y2=data.y2 + 0j), cluster="cluster")


def test_a_two_level_variable_without_finite_variance_is_named():
    data = semlang.datasets.load("Demo.twolevel")
    model = "level: 1\n fw =~ y1 + y2 + y3\nlevel: 2\n fb =~ y1 + y2 + y3\n"
    with pytest.raises(DataError, match="variable 'y1' has no finite variance"):
        semlang.sem(model, data.assign(y1=data.y1 * 1e160), cluster="cluster")


# ---- variances on very different scales (lavaan's two warnings) -------------------------------
def _variance_warnings(data) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        semlang.cfa(TWO, data)
    return [str(w.message) for w in caught if issubclass(w.category, DataWarning)]


def test_a_column_in_other_units_warns_as_lavaan():
    messages = _variance_warnings(HS.assign(x1=HS.x1 * 1e8))
    assert len(messages) == 2
    assert messages[0].startswith("some observed variances are (at least) a factor 1000 times")
    assert "'x1'" in messages[0]
    assert messages[1].startswith("some observed variances are larger than 1000000: 'x1'")


def test_a_missing_value_code_left_in_the_data_warns():
    messages = _variance_warnings(HS.assign(x1=np.where(HS.index % 10 == 3, -999.0, HS.x1)))
    assert len(messages) == 1
    assert "factor 1000" in messages[0] and "-999" in messages[0]


def test_data_on_one_scale_do_not_warn_about_variances():
    assert _variance_warnings(HS) == []


# ---- two-level models on too few clusters -----------------------------------------------------
TWOLEVEL = _reference("twolevel_few_clusters")


def _clusters(k: int) -> pd.DataFrame:
    data = semlang.datasets.load("Demo.twolevel")
    return data[data.cluster.isin(sorted(data.cluster.unique())[:k])]


def test_two_clusters_for_five_level_2_variables_is_a_clear_error():
    # lavaan: "Lapack routine dgesv: system is exactly singular"
    assert "singular" in TWOLEVEL["cases"]["clusters_2"]["error"]
    with pytest.raises(DataError, match=r"only 2 clusters for 5 level-2 variables \(y1, y2, y3"):
        semlang.sem(TWOLEVEL["model"], _clusters(2), cluster="cluster")


def test_a_diverging_two_level_fit_stops_early_unconverged_as_lavaan():
    # lavaan stops after 105 iterations without convergence; the likelihood grows without bound
    # as the between-level covariance matrix tends to a singular one
    reference = TWOLEVEL["cases"]["clusters_8"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = semlang.sem(TWOLEVEL["model"], _clusters(8), cluster="cluster")
    convergence = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert len(convergence) == 1 and "the gradient grows without bound" in convergence[0]
    assert fit.converged is reference["converged"] is False
    assert fit.estimation.optimization.iterations < 1000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemlangWarning)
        assert np.isfinite(fit.fit_measures()["chisq"])  # (Hoelter's N: a division by χ² = 0)
        assert "did NOT end normally" in fit.summary()


# ---- a model without free parameters ----------------------------------------------------------
def test_a_model_without_free_parameters_is_evaluated_with_lavaans_chisq():
    reference = _reference("hs_no_free_parameters")
    assert reference["lavaan_fixed_npar"] == 0
    fit = _quiet_cfa(reference["model"], HS)
    measures = fit.fit_measures()
    assert measures["npar"] == 0
    assert measures["df"] == 6  # three variances and three covariances, nothing estimated
    for name, value in reference["fit_measures"].items():
        key = name.replace(".", "_")
        kind = "exact" if key == "baseline_df" else ("fit_index" if key == "srmr" else "chisq")
        assert_matches("logl" if "logl" in key else kind, measures[key], value, key)
    estimates = fit.estimates()
    assert list(estimates.est) == [1.0, 1.0, 1.0, 0.5, 0.8, 0.8, 0.8]
    assert (estimates.se == 0).all()  # as every fixed row
    assert "Number of model parameters                         0" in fit.summary()


# ---- table sizes ------------------------------------------------------------------------------
def test_an_absurd_number_of_groups_is_refused_before_building(tmp_path, capsys):
    path = tmp_path / "hs.sem"
    path.write_text(TWO + "speed =~ x7 + x8 + x9\n")
    code, _, err = _cli(["check", path, "--ngroups", 100000], capsys)
    assert code == 2
    assert "the parameter table would have 3,600,000 rows (100000 groups × 36 rows)" in err


def test_a_model_without_constraints_stores_no_square_matrix_of_its_parameters():
    text = "\n".join(f"f{k} =~ x{k}_1 + x{k}_2 + x{k}_3" for k in range(60))
    compiled = semlang.compile_model(text, kind="cfa")
    space = compiled.space
    assert space.n_theta == 60 * 59 // 2 + 60 + 60 * 3 + 60 * 2  # lavaan's count for 60 factors
    assert space.identity and space.linear_map is None
    phi = np.arange(space.n_phi, dtype=float)
    np.testing.assert_array_equal(space.theta(phi), phi)
    assert space.jacobian(phi).shape == (space.n_theta, space.n_phi)


def test_the_longest_path_of_a_and_its_matrix_powers_agree():
    from semlang.compile.layout import _longest_path

    def by_powers(A0, free, n):  # the smallest k with A^(k+1) = 0; -1 for a cycle
        pattern = A0 != 0
        for i, j, _ in free:
            pattern[i, j] = True
        power = pattern.astype(float)
        for length in range(n + 1):
            if not power.any():
                return length
            power = ((power @ pattern) > 0).astype(float)
        return -1

    rng = np.random.default_rng(1)
    for _ in range(300):
        n = int(rng.integers(1, 8))
        A0 = (rng.random((n, n)) < rng.random() * 0.5) * 1.0
        if rng.random() < 0.6:
            A0 = np.tril(A0, -1)
        free = [(i, j, 0) for i in range(n) for j in range(n) if i > j and rng.random() < 0.1]
        assert _longest_path(A0, free, n) == by_powers(A0, free, n)


def test_the_table_text_is_pandas_layout():
    from semlang.commands._common import _cell, frame_text

    frame = semlang.parameter_table(TWO_A + "z := 2*a", "cfa", ngroups=2).to_frame()
    shown = pd.DataFrame({c: [_cell(v) for v in frame[c]] for c in frame.columns})
    assert frame_text(frame) == shown.to_string(index=False) + "\n"


# ---- := values that are NaN or infinite -------------------------------------------------------
def test_defined_parameters_without_a_finite_value_warn_and_have_no_se():
    model = TWO_A + "z := log(-a)\nw := exp(10000*a)\nok := 2*a\n"
    with pytest.warns(SemlangWarning, match=r"without a finite value .*: z = nan, w = inf"):
        fit = semlang.cfa(model, HS)
    rows = fit.estimates().set_index("lhs")
    assert np.isnan(rows.loc["z", "est"]) and np.isnan(rows.loc["z", "se"])
    assert rows.loc["w", "est"] == np.inf and np.isnan(rows.loc["w", "se"])
    assert np.isfinite(rows.loc["ok", "se"])


# ---- a bootstrap of one draw ------------------------------------------------------------------
def test_one_bootstrap_draw_is_refused(tmp_path, capsys):
    # lavaan fails on it too (its covariance matrix of one draw has no finite entries)
    with pytest.raises(OptionError, match="at least 2 bootstrap draws"):
        semlang.cfa(TWO, HS, se="bootstrap", bootstrap=1)
    path = tmp_path / "m.sem"
    path.write_text(TWO)
    data = tmp_path / "hs.csv"
    HS.to_csv(data, index=False)
    code, _, err = _cli(["fit", path, data, "--se", "bootstrap", "--bootstrap", 1], capsys)
    assert code == 2
    assert "at least 2 bootstrap draws" in err
