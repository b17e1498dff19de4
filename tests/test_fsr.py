"""Factor-score regression and structural-after-measurement against lavaan 0.6.14.

References: ``tests/reference/poldem_factor_score_regression.json`` (sam local, Croon, naive
regression / Bartlett scores) and ``tests/reference/scores/sam_cases.json`` (sam with a mean
structure, std.lv, observed information, residual covariances or equal loadings across factors,
a defined parameter, observed variables in the structural part, missing cells; Croon with
regression scores and with missing cells). Estimates within 1e-3, standard errors
within 2e-3 of lavaan. Skrondal-Laake (which lavaan 0.6.14 cannot run) is checked against the
regression it stands for, computed step by step.
"""

import contextlib
import io
import json
import re
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import semlang
from semlang.errors import (
    EstimationError,
    IdentificationError,
    NotSupportedError,
    OptionError,
)
from semlang.twostep import FsrResult, fsr, sam
from semlang.twostep.split import split_model

ROOT = Path(__file__).resolve().parent
REFERENCE = ROOT / "reference"
POLDEM = json.loads((REFERENCE / "poldem_factor_score_regression.json").read_text())
SAM_CASES = json.loads((REFERENCE / "scores" / "sam_cases.json").read_text())["cases"]
EST, SE = 1e-3, 2e-3


@cache
def data(name: str):
    return semlang.datasets.load(name.removesuffix(".csv"))


def _row(result: FsrResult, lhs: str, op: str, rhs: str):
    frame = result.estimates()
    match = frame[(frame.lhs == lhs) & (frame.op == op) & (frame.rhs == rhs)]
    assert len(match) == 1, f"{lhs} {op} {rhs}"
    return match.iloc[0]


def _check(result: FsrResult, reference: dict, with_se: bool) -> None:
    for name, values in reference.items():
        lhs, op, rhs = name.split(" ")
        row = _row(result, lhs, op, rhs)
        assert abs(row.est - values["est"]) <= EST, f"{name}: est {row.est} vs {values['est']}"
        if with_se:
            assert abs(row.se - values["se"]) <= SE, f"{name}: se {row.se} vs {values['se']}"


@cache
def poldem(method: str) -> FsrResult:
    if method == "sam":
        return sam(POLDEM["model"], data(POLDEM["data"]))
    return fsr(POLDEM["model"], data(POLDEM["data"]), method=method)


def test_sam_local_matches_lavaan():
    _check(poldem("sam"), POLDEM["sam_local"], with_se=True)


def test_croon_matches_lavaan():
    _check(poldem("croon"), POLDEM["fsr_croon"], with_se=True)


@pytest.mark.parametrize("method", ["regression", "bartlett"])
def test_naive_factor_score_regression_matches_lavaan(method):
    _check(poldem(method), POLDEM[f"fsr_naive_{method}"], with_se=False)


@pytest.mark.parametrize("case", SAM_CASES, ids=[c["name"] for c in SAM_CASES])
def test_more_sam_and_croon_cases(case):
    options = {k.replace(".", "_"): v for k, v in case["options"].items()}
    frame = data(case["data"]).copy()
    for cell in case.get("missing_cells") or []:  # rows 1-based
        frame.loc[np.atleast_1d(cell["rows"]) - 1, list(np.atleast_1d(cell["vars"]))] = np.nan
    if case["fun"] == "sam":
        result = sam(case["model"], frame, mm_list=case.get("mm_list"), **options)
    else:
        fs_method = options.pop("fs_method", "bartlett").lower()
        result = fsr(case["model"], frame, fs_method=fs_method, **options)
    for row in case["estimates"]:
        mine = _row(result, row["lhs"], row["op"], row["rhs"])
        what = f"{case['name']} {row['lhs']} {row['op']} {row['rhs']}"
        assert abs(mine.est - row["est"]) <= EST, f"{what}: est {mine.est} vs {row['est']}"
        if row["se"] is not None:
            assert abs(mine.se - row["se"]) <= SE, f"{what}: se {mine.se} vs {row['se']}"


def _with_covariate():
    frame = data("PoliticalDemocracy.csv").copy()
    noise = np.random.default_rng(5).normal(size=len(frame))
    frame["w"] = 0.5 * frame["x1"] + noise
    return frame


def _fitted_from_afar(fit):
    """``fit``'s model fitted again from a start away from its estimates: no regression, the
    variables uncorrelated with their sample variances, zero means."""
    from semlang.estimate.estimator import estimate

    group = fit.sample.groups[0]
    variance = dict(zip(group.names, np.diag(group.cov), strict=True))
    theta0 = np.zeros(len(fit.theta))
    for r in fit.table.rows:
        if r.is_free and r.is_model_parameter and r.op.value == "~~" and r.lhs == r.rhs:
            theta0[r.free - 1] = variance[r.lhs]
    phi0 = fit.model.space.phi_from_theta(theta0)
    refit = estimate(fit.model, fit.sample, fit.options, phi0=phi0)
    assert refit.optimization.iterations > 0
    return refit


_BASE = POLDEM["model"]
_SIMPLEX = _BASE.replace("dem65 ~ ind60 + dem60", "dem65 ~ dem60")  # over-identified
# (model, options, whether the least-squares starts are the structural ML estimates)
STRUCTURAL_CASES = {
    "poldem": (_BASE, {}, True),
    "meanstructure": (_BASE, {"meanstructure": True}, True),
    "overidentified": (_SIMPLEX, {"meanstructure": True}, True),
    "same_predictors": (_BASE.replace("ind60 + dem60", "ind60"), {}, True),  # dem60 ~~ dem65
    "covariate": (_BASE + "dem60 ~ w\nind60 ~~ w\n", {}, True),
    "covariate_uncorrelated": (_BASE + "dem60 ~ w\n", {}, False),
    "correlated_disturbance": (_SIMPLEX + "dem65 ~~ ind60\n", {}, False),
    "equal_coefficients": (_BASE.replace("ind60 + dem60", "b*ind60 + b*dem60"), {}, False),
    "std_lv": (_BASE, {"std_lv": True}, False),
}


@pytest.mark.parametrize("case", STRUCTURAL_CASES)
def test_sam_structural_estimates_are_the_ml_fit(case):
    # sam takes least-squares estimates where they are the structural model's ML estimates and
    # fits otherwise: either way they equal the structural model fitted from the usual starts
    from semlang.twostep.split import starts_are_estimates, structural_starts

    model, options, closed_form = STRUCTURAL_CASES[case]
    result = sam(model, _with_covariate(), **options)
    split = split_model(semlang.parameter_table(model, **options))
    assert starts_are_estimates(split) is closed_form
    fit = result.structural
    refit = _fitted_from_afar(fit)
    assert refit.optimization.converged
    ml = {(r.lhs, r.op.value, r.rhs): refit.theta[r.free - 1]
          for r in fit.table.rows if r.is_free and r.op.value != ":="}  # fmt: skip
    for key, value in ml.items():
        if key in {(r.lhs, r.op.value, r.rhs) for r in split.structural_rows}:
            assert abs(_row(result, *key).est - value) < 1e-6, key
    if case in ("correlated_disturbance", "equal_coefficients"):
        # models the predicate refuses because least squares is not their ML solution
        starts = structural_starts(
            split, result.moment_matrix, np.zeros(len(split.structural_variables))
        )
        assert max(abs(starts[k] - ml[k]) for k in ml if k in starts) > 1e-3


@st.composite
def _structural_parts(draw):
    """A random recursive structural part over the three Political Democracy factors (an order,
    a subset of the forward regressions, maybe a disturbance covariance), whether least squares
    is its ML solution, whether it is identified, and whether to fit a mean structure."""
    order = draw(st.permutations(["ind60", "dem60", "dem65"]))
    pairs = [(order[j], order[i]) for i in range(3) for j in range(i + 1, 3)]
    edges = [pair for pair in pairs if draw(st.booleans())]
    lines = [f"{lhs} ~ {rhs}" for lhs, rhs in edges]
    outcomes = sorted({lhs for lhs, _ in edges})
    correlated = len(outcomes) == 2 and draw(st.booleans())
    if correlated:
        lines.append(f"{outcomes[0]} ~~ {outcomes[1]}")
    # least squares is ML unless the disturbances of outcomes with different predictors
    # correlate (lavaan itself correlates those of outcomes that do not predict each other)
    predictors = {o: {rhs for lhs, rhs in edges if lhs == o} for o in outcomes}
    least_squares = not (correlated and predictors[outcomes[0]] != predictors[outcomes[1]])
    # all three regressions and a disturbance covariance: 7 parameters for 6 moments
    identified = not (correlated and len(edges) == 3)
    return "\n".join(lines), least_squares, identified, draw(st.booleans())


@settings(max_examples=25, deadline=None)
@given(_structural_parts())
def test_sam_least_squares_shortcut_on_random_recursive_models(part):
    # whenever sam takes least squares, they are the structural ML estimates; every recursive
    # model without correlated disturbances takes them
    from semlang.twostep.split import starts_are_estimates

    structural, least_squares, identified, meanstructure = part
    model = "\n".join(_BASE.strip().splitlines()[:3]) + "\n" + structural + "\n"
    if not identified:
        with pytest.raises(IdentificationError, match=r"structural part .* not identified"):
            sam(model, data("PoliticalDemocracy.csv"), meanstructure=meanstructure)
        return
    result = sam(model, data("PoliticalDemocracy.csv"), meanstructure=meanstructure)
    split = split_model(semlang.parameter_table(model, meanstructure=meanstructure))
    assert starts_are_estimates(split) is least_squares
    fit = result.structural
    refit = _fitted_from_afar(fit)
    assert refit.optimization.converged
    for r in fit.table.rows:
        if r.is_free and r.is_model_parameter and not r.exo:
            mine = _row(result, r.lhs, r.op.value, r.rhs).est
            assert abs(mine - refit.theta[r.free - 1]) < 1e-6, (structural, r.name)


def test_nonrecursive_structural_models_are_fitted():
    from semlang.twostep.split import starts_are_estimates

    looped = _BASE.replace("dem60 ~ ind60", "dem60 ~ ind60 + dem65").replace(
        "dem65 ~ ind60 + dem60", "dem65 ~ dem60"
    )
    assert starts_are_estimates(split_model(semlang.parameter_table(_BASE)))
    assert not starts_are_estimates(split_model(semlang.parameter_table(looped)))


def test_sam_corrects_what_naive_regression_biases():
    # the structural coefficients of sam and Croon agree with each other (both consistent) and
    # differ from the naive ones by more than their tolerance
    for name in ("dem60 ~ ind60", "dem65 ~ ind60", "dem65 ~ dem60"):
        lhs, op, rhs = name.split()
        corrected = _row(poldem("sam"), lhs, op, rhs).est
        assert abs(_row(poldem("croon"), lhs, op, rhs).est - corrected) < 1e-5
        assert abs(_row(poldem("bartlett"), lhs, op, rhs).est - corrected) > 0.02


# ---- Skrondal-Laake --------------------------------------------------------------------------
NO_MEDIATION = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem65 ~ ind60 + dem60
"""


def test_skrondal_laake_is_regression_on_regression_and_bartlett_scores():
    pd_data = data("PoliticalDemocracy")
    result = fsr(NO_MEDIATION, pd_data, method="skrondal_laake")
    predictors = semlang.cfa("ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4", pd_data)
    outcome = semlang.cfa("dem65 =~ y5 + y6 + y7 + y8", pd_data)
    x = predictors.predict(method="regression")[["ind60", "dem60"]].to_numpy()
    y = outcome.predict(method="bartlett")["dem65"].to_numpy()
    design = np.column_stack([np.ones(len(y)), x])
    slopes = np.linalg.lstsq(design, y, rcond=None)[0][1:]
    assert abs(_row(result, "dem65", "~", "ind60").est - slopes[0]) < 1e-6
    assert abs(_row(result, "dem65", "~", "dem60").est - slopes[1]) < 1e-6


def test_skrondal_laake_refuses_mediation():
    with pytest.raises(NotSupportedError, match="mediation"):
        fsr(POLDEM["model"], data("PoliticalDemocracy"), method="skrondal_laake")


# ---- the table and the split -----------------------------------------------------------------
def test_estimates_read_like_a_fit():
    fit = semlang.sem(POLDEM["model"], data("PoliticalDemocracy"))
    for method in ("sam", "croon", "regression"):
        assert list(poldem(method).estimates().columns) == list(fit.estimates().columns)
    full = poldem("sam").estimates()
    assert len(full) == len([r for r in fit.table.rows if r.op.value != ":="])
    text = poldem("sam").summary()
    assert "dem65 ~ dem60" in text and "x1" not in text


def test_split_of_political_democracy():
    table = semlang.parameter_table(POLDEM["model"], "sem")
    split = split_model(table)
    assert [b.latent for b in split.blocks] == [("ind60",), ("dem60",), ("dem65",)]
    assert split.blocks[1].indicators == ("y1", "y2", "y3", "y4")
    assert {(r.lhs, r.op.value, r.rhs) for r in split.structural_rows} == {
        ("dem60", "~", "ind60"), ("dem65", "~", "ind60"), ("dem65", "~", "dem60"),
        ("ind60", "~~", "ind60"), ("dem60", "~~", "dem60"), ("dem65", "~~", "dem65"),
    }  # fmt: skip


def test_residual_covariance_across_factors_merges_their_blocks():
    model = POLDEM["model"] + "y1 ~~ y5\n"
    split = split_model(semlang.parameter_table(model, "sem"))
    assert [b.latent for b in split.blocks] == [("ind60",), ("dem60", "dem65")]
    with pytest.raises(NotSupportedError, match="sam"):
        fsr(model, data("PoliticalDemocracy"))


@pytest.mark.parametrize(
    "model, options, error, message",
    [
        ("y1 ~ x1", {}, NotSupportedError, "no latent variables"),
        ("f =~ x1 + x2 + x3\ng =~ y1 + y2 + y3\nh =~ f + g", {}, NotSupportedError, "higher-order"),
        (POLDEM["model"], {"group": "x1"}, OptionError, "group"),
        (POLDEM["model"] + "dem60 ~~ dem65\nx1 ~~ dem60\n", {}, NotSupportedError, "neither"),
        # lavaan 0.6.14 drops these silently: the equality, and the := row
        (
            "ind60 =~ x1 + a*x2 + x3\ndem60 =~ y1 + y2 + y3\ndem60 ~ a*ind60",
            {},
            NotSupportedError,
            "label 'a' makes a structural parameter equal to a measurement",
        ),
        (
            "ind60 =~ x1 + a*x2 + x3\ndem60 =~ y1 + y2 + y3\ndem60 ~ b*ind60\nab := a*b",
            {},
            NotSupportedError,
            "defined parameter 'ab' uses measurement parameters \\(a\\)",
        ),
        # df >= 0, but dem65 ~ dem60 and the disturbance covariance are confounded
        (
            POLDEM["model"].replace("ind60 + dem60", "dem60").replace("~ ind60", "~ 0*ind60")
            + "dem60 ~~ dem65\n",
            {},
            EstimationError,
            "information matrix is singular",
        ),
    ],
)
def test_unsupported_models(model, options, error, message):
    with pytest.raises(error, match=message) as raised:
        sam(model, data("PoliticalDemocracy"), **options)
    if "label" in message or "defined" in message:  # located at the row
        assert raised.value.line == len(model.splitlines())


@pytest.mark.parametrize("method", ["regression", "croon"])
def test_a_variable_missing_from_the_data_is_located_in_the_model(method):
    from semlang.errors import UnknownVariableError

    model = POLDEM["model"] + "dem60 ~ w\n"
    with pytest.raises(UnknownVariableError, match="variable 'w' is not a column") as raised:
        fsr(model, data("PoliticalDemocracy"), method=method, missing="fiml")
    assert raised.value.line == len(model.splitlines())


def test_labels_equal_across_factors_merge_their_blocks():
    case = next(c for c in SAM_CASES if c["name"] == "poldem_equal_loadings")
    split = split_model(semlang.parameter_table(case["model"], "sem"))
    mm_list = [(names,) if isinstance(names, str) else tuple(names) for names in case["mm_list"]]
    assert [b.latent for b in split.blocks] == mm_list
    with pytest.raises(NotSupportedError, match="equal parameters"):
        fsr(case["model"], data("PoliticalDemocracy"), method="croon")


@pytest.mark.parametrize("options", [{"estimator": "MLR"}, {"se": "robust"}, {"se": "bootstrap"}])
@pytest.mark.parametrize("method", ["sam", "croon"])
def test_two_step_standard_errors_refuse_robust_and_bootstrap_ones(method, options):
    # lavaan 0.6.14 ignores these options here; semlang says so instead of mixing a robust
    # step 1 with a model-based step 2
    call = sam if method == "sam" else fsr
    with pytest.raises(OptionError, match="two-step standard errors"):
        call(POLDEM["model"], data("PoliticalDemocracy"), **options)
    plain = call(POLDEM["model"], data("PoliticalDemocracy")).estimates()
    mlr = call(POLDEM["model"], data("PoliticalDemocracy"), estimator="MLR", se="standard")
    np.testing.assert_allclose(mlr.estimates()[["est", "se"]], plain[["est", "se"]])


def test_unknown_method():
    with pytest.raises(OptionError, match="unknown factor-score regression method"):
        fsr(POLDEM["model"], data("PoliticalDemocracy"), method="croom")
    with pytest.raises(OptionError, match="fs_method"):
        fsr(POLDEM["model"], data("PoliticalDemocracy"), method="bartlett", fs_method="regression")


# ---- docs/factor_scores.md ---------------------------------------------------------------------
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def test_factor_scores_page_runs_and_prints_what_it_says():
    page = ROOT.parent / "docs" / "factor_scores.md"
    namespace: dict = {}
    for code in BLOCK.findall(page.read_text()):
        expected = [line[2:] if line.startswith("# ") else line[1:]
                    for line in code.splitlines() if line.startswith("#")]  # fmt: skip
        out = io.StringIO()
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, "factor_scores.md", "exec"), namespace)
        printed = [line.rstrip() for line in out.getvalue().splitlines()]
        assert printed == [line.rstrip() for line in expected], code
