"""fit.inspect(), fit.r_squared() and the statsmodels-style accessors against lavaan's
lavInspect(), coef(), vcov() and fitMeasures()."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from diagnostics_cases import assert_close, fit_case, load, matrix, vector

import semlang
from semlang.errors import NotSupportedError, OptionError

INSPECT_CASES = ["hs_cfa", "hs_groups", "poldem", "hs_holes_fiml", "gaps14_hs_groups_equal",
                 "gaps14_hs_mimic_paths", "gaps14_poldem_paths", "gaps14_poldem_paths_groups",
                 "gaps14_twolevel", "gaps14b_twolevel", "gaps14b_hs_mimic_paths",
                 "gaps14b_hs_groups_equal"]  # fmt: skip
SKIPPED = {
    "iterations": "another optimizer: its own number of iterations",
    "start": "semlang's own starting values",
}
TOL = {"gradient": (1e-4, 0.0), "vcov": (1e-5, 5e-3), "vcov.std.all": (1e-5, 5e-3),
       "vcov.std.lv": (1e-5, 5e-3), "vcov.std.nox": (1e-5, 5e-3),
       "se": (1e-4, 5e-3), "information": (1e-4, 5e-3)}  # fmt: skip
DEFAULT_TOL = (2e-4, 1e-3)
# the two-level observed information (largest entry 11.8) at estimates that differ from
# lavaan's by its convergence: entries within 1e-3
CASE_TOL = {("gaps14_twolevel", "information"): (1e-3, 5e-3)}


def _compare(ours, ref, tol, what: str) -> None:
    """Walk lavaan's serialized object and ours side by side."""
    if isinstance(ref, dict) and "values" in ref and "cols" in ref:
        assert isinstance(ours, pd.DataFrame), what
        if not ref["values"]:  # lavaan's empty matrix (a model without latent variables)
            assert ours.size == 0, what
            return
        expected = matrix({**ref, "rows": list(ours.index), "cols": list(ours.columns)})
        if isinstance(ref["rows"], list) and len(ref["rows"]) == len(ours.index):
            assert list(ours.index) == ref["rows"], what
        if isinstance(ref["cols"], list):
            assert list(ours.columns) == ref["cols"], what
        assert_close(ours.to_numpy(float), expected.to_numpy(float), *tol, what)
    elif isinstance(ref, dict) and "names" in ref:
        names = [ref["names"]] if isinstance(ref["names"], str) else ref["names"]
        assert list(ours.index) == names, what
        assert_close(ours.to_numpy(float), vector(ref).to_numpy(), *tol, what)
    elif isinstance(ref, dict):
        assert isinstance(ours, dict) and set(ours) == set(ref), what
        for key in ref:
            _compare(ours[key], ref[key], tol, f"{what}/{key}")
    elif isinstance(ours, dict):
        assert list(ours.values()) == ref, what
    elif isinstance(ours, (pd.Series, list)):
        assert list(ours) == ref, what
    else:
        assert [ours] == ref, what


def _inspect_params():
    for name in INSPECT_CASES:
        for what in load(name)["inspect"]:
            if what not in SKIPPED:
                yield name, what


@pytest.mark.parametrize(("name", "what"), list(_inspect_params()))
def test_inspect_matches_lavaan(name, what):
    fit = fit_case(name)
    ref = load(name)["inspect"][what]
    if isinstance(ref, dict) and all(
        v == {} for v in ref.values()
    ):  # lavaan has no such matrix in this model
        with pytest.raises(NotSupportedError):
            fit.inspect(what)
        return
    ours = fit.inspect(what)
    tol = CASE_TOL.get((name, what), TOL.get(what, DEFAULT_TOL))
    _compare(ours, ref, tol, f"{name} {what}")


def test_inspect_start_has_the_estimates_layout():
    fit = fit_case("hs_cfa")
    start, est = fit.inspect("start"), fit.inspect("est")
    assert list(start) == list(est) == ["lambda", "theta", "psi"]
    assert start["lambda"].loc["x1", "visual"] == 1.0
    assert (start["lambda"] != 0).equals(est["lambda"] != 0)


def test_unknown_inspect_name_suggests_the_closest():
    with pytest.raises(OptionError, match="rsquare"):
        fit_case("hs_cfa").inspect("rsquared")


@pytest.mark.parametrize("name", ["poldem", "hs_groups", "hs_cfa", "hs_holes_fiml", "twolevel"])
def test_r_squared_matches_lavaan(name):
    fit = fit_case(name)
    ref = load(name)["rsquare"]
    ours = fit.r_squared()
    if "names" in ref:
        ref, ours = {None: ref}, {None: ours}
    assert list(ours) == list(ref)
    for key, entry in ref.items():
        assert list(ours[key].index) == entry["names"]
        assert_close(ours[key], vector(entry), 2e-4, 1e-3, f"{name} {key}")


@pytest.mark.parametrize("name", ["hs_cfa", "poldem", "hs_groups", "hs_holes_fiml",
                                  "gaps14_twolevel", "gaps14_poldem_paths_groups",
                                  "gaps14_hs_groups_equal"])  # fmt: skip
def test_params_and_information_criteria(name):
    fit = fit_case(name)
    ref = load(name)
    assert list(fit.params.index) == ref["coef"]["names"]
    assert_close(fit.params, ref["coef"]["values"], 2e-4, 1e-3, "params")
    if "inspect" in ref:
        se = np.sqrt(np.diag(matrix(ref["inspect"]["vcov"]).to_numpy()))
        assert_close(fit.bse, se, 1e-4, 5e-3, "bse")
        assert list(fit.cov_params().index) == ref["coef"]["names"]
    for ours, key in ((fit.llf, "logl"), (fit.aic, "aic"), (fit.bic, "bic")):
        assert ours == pytest.approx(ref["fit_measures"][key], abs=0.02)
    ci = fit.conf_int(alpha=0.1)
    assert np.allclose(ci["upper"] - fit.params, 1.6448536 * fit.bse)
    assert ((fit.pvalues >= 0) & (fit.pvalues <= 1)).all()


def _rsquare_blocks(lines: list[str]) -> list[list[str]]:
    """The "R-Square:" blocks of a summary text (up to the blank line after each)."""
    blocks, current = [], None
    for line in lines:
        if line == "R-Square:":
            current = [line]
        elif current is not None:
            if not line.strip():
                blocks.append(current)
                current = None
            else:
                current.append(line.rstrip())
    return blocks if current is None else [*blocks, current]


@pytest.mark.parametrize("name", ["poldem", "hs_groups", "twolevel"])
def test_summary_rsquare_blocks_as_lavaan(name):
    fit = fit_case(name)
    ours = _rsquare_blocks(fit.summary(rsquare=True).splitlines())
    assert ours == _rsquare_blocks(load(name)["summary_rsquare"])
    assert "R-Square:" not in fit.summary()


def test_cli_fit_rsquare(tmp_path, capsys):
    from semlang.cli import main

    model = tmp_path / "poldem.sem"
    model.write_text(load("poldem")["model"])
    data = Path(semlang.__file__).parent / "datasets" / "PoliticalDemocracy.csv"
    assert main(["fit", str(model), str(data), "--rsquare"]) == 0
    ours = _rsquare_blocks(capsys.readouterr().out.splitlines())
    assert ours == _rsquare_blocks(load("poldem")["summary_rsquare"])
