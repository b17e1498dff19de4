"""Checks of the solution: a marker indicator that hardly measures its factor (an improper,
boundary solution) and ``starts=K``, refits from random starting values."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from reference_cases import fit_measures

import semlang
from semlang.estimate.data import prepare
from semlang.estimate.estimator import estimate
from semlang.options import make_fit_options
from semlang.results.diagnostics import weak_markers
from semlang.results.fit import Fit
from semlang.syntax.ast import Op

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
ONE = "f =~ y1 + y2 + y3 + y4 + y5"


@pytest.fixture(scope="module")
def weak_marker_data():
    """y1 hardly measures f (loading 0.02 against 0.7-0.9)."""
    rng = np.random.default_rng(3)
    f = rng.normal(size=400)
    loadings = (0.02, 0.8, 0.7, 0.9, 0.75)
    return pd.DataFrame(
        {f"y{k + 1}": lam * f + rng.normal(scale=0.6, size=400) for k, lam in enumerate(loadings)}
    )


# ---- the weak marker -------------------------------------------------------------------------


def test_a_weak_marker_is_an_improper_solution(weak_marker_data):
    with pytest.warns(semlang.ImproperSolutionWarning) as caught:
        fit = semlang.cfa(ONE, weak_marker_data)
    message = str(caught[0].message)
    assert message.startswith("the marker indicator 'y1' of 'f' has a standardized loading of")
    assert "std_lv=True" in message and "'f =~ NA*y1 + 1*y3 + ...'" in message
    assert fit.warnings == [message]
    est = fit.estimates().set_index(["lhs", "op", "rhs"])
    assert abs(est.loc[("f", "=~", "y4"), "est"]) > 10  # the inflated loadings it explains
    assert est.loc[("f", "~~", "f"), "est"] < 0.01
    # the same model scaled by std_lv (or another marker) is a proper solution
    with warnings.catch_warnings():
        warnings.simplefilter("error", semlang.SemlangWarning)
        assert semlang.cfa(ONE, weak_marker_data, std_lv=True).converged
        assert semlang.cfa("f =~ NA*y1 + 1*y3 + y2 + y4 + y5", weak_marker_data).converged


@pytest.mark.parametrize(
    "case", ["hs_cfa", "poldem_sem", "bigfive_agree_equal", "twolevel_demo", "hs_multigroup"]
)
def test_no_alarm_on_reference_models(case):
    from reference_cases import fit_reference

    assert weak_markers(fit_reference(case)) == []
    assert fit_measures(case)  # the case exists


# ---- random starts ---------------------------------------------------------------------------


def test_starts_find_nothing_better_at_the_optimum():
    data = semlang.datasets.load("HolzingerSwineford1939")
    with warnings.catch_warnings():
        warnings.simplefilter("error", semlang.SemlangWarning)
        fit = semlang.cfa(HS, data, starts=4, seed=11)
    starts = fit.random_starts
    assert starts.n_starts == 4 and starts.n_converged == 4 and not starts.better
    assert np.allclose(starts.values, fit.objective_value, rtol=0, atol=1e-9)
    assert starts.best_fit() is fit
    summary = fit.summary()
    assert "  Number of random starts (converged)            4 (4)" in summary
    assert "  Better optimum from random starts                 no" in summary
    assert semlang.cfa(HS, data).random_starts is None
    assert "random starts" not in semlang.cfa(HS, data).summary()


def _saddle_fit(starts: int, seed: int):
    """A fit stopped at a saddle point: every loading 0 in the std.lv metric (the gradient is
    zero there, so the optimizer ends at once, 'converged', at the independence model)."""
    data = semlang.datasets.load("HolzingerSwineford1939")
    compiled = semlang.compile_model("visual =~ x1 + x2 + x3 + x4", "cfa", std_lv=True)
    table = compiled.table
    sample = prepare(data, table, table.options)
    options = make_fit_options(table.options, starts=starts, seed=seed)
    theta = np.ones(compiled.n_theta)
    for row in table.parameters:
        if row.is_free and row.op is Op.MEASURED:
            theta[row.free - 1] = 0.0
    estimation = estimate(compiled, sample, options, phi0=compiled.space.phi_from_theta(theta))
    return Fit(compiled, sample, options, estimation), data


def test_starts_find_the_better_optimum_past_a_saddle():
    fit, data = _saddle_fit(starts=5, seed=1)
    assert fit.converged and np.all(fit.theta[:4] == 0)
    starts = fit.random_starts
    assert starts.better and starts.n_converged == 5
    proper = semlang.cfa("visual =~ x1 + x2 + x3 + x4", data, std_lv=True)
    assert starts.best_fit().objective_value == pytest.approx(proper.objective_value, abs=1e-9)
    chisq = proper.fit_measures()["chisq"]
    assert starts.improvement == pytest.approx(fit.nobs * fit.objective_value - chisq, rel=1e-6)
    from semlang.results.multistart import warn_if_better

    with pytest.warns(semlang.LocalOptimumWarning, match="better optimum"):
        warn_if_better(fit)
    with pytest.warns(semlang.IdentificationWarning):  # the information is singular there
        assert f"yes (chisq {-starts.improvement:.3f})" in fit.summary()
    again, _ = _saddle_fit(starts=5, seed=1)
    assert again.random_starts.values == starts.values  # reproducible from the seed


@pytest.mark.parametrize("value", [-1, 1.5, "3", True])
def test_starts_must_be_a_count(value):
    with pytest.raises(semlang.OptionError, match="option 'starts' must be a whole number"):
        semlang.cfa(HS, semlang.datasets.load("HolzingerSwineford1939"), starts=value)


def test_cli_starts(tmp_path, capsys):
    import json
    from pathlib import Path

    from semlang.cli import main

    model = tmp_path / "hs.sem"
    model.write_text(HS)
    data = Path(__file__).resolve().parents[1] / "semlang" / "datasets"
    argv = ["fit", str(model), str(data / "HolzingerSwineford1939.csv"), "--starts", "3"]
    assert main([*argv, "--seed", "2", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["options"]["fit"]["starts"] == 3 and document["options"]["fit"]["seed"] == 2
    assert document["random_starts"] == {
        "starts": 3, "converged": 3, "better": False, "improvement": 0.0,
    }  # fmt: skip
    assert main(argv) == 0
    assert "Better optimum from random starts                 no" in capsys.readouterr().out
