"""The micro-macro methods against lavaan, lme4 and independent computations."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from reference_cases import assert_matches, load_case

import semlang
from semlang import datasets
from semlang.cli import main
from semlang.errors import ConvergenceWarning, DataError, OptionError
from semlang.micromacro import adjusted_means, blup_group_means, generate_micro_macro
from semlang.micromacro.methods import (
    InadmissibleFit,
    Method,
    MethodModels,
    cv_adjusted_means,
    micro_macro,
    parse_methods,
    regression_scores,
    run_methods,
)
from semlang.micromacro.model import MicroMacroData, measurement_string, model_string

BALANCED = "micro_macro_long"
UNBALANCED = "micro_macro_unbalanced_long"


def _data(name: str) -> MicroMacroData:
    return MicroMacroData.from_long(datasets.load(name), "group", "x", "Z", "y")


@pytest.fixture(scope="module")
def balanced() -> dict:
    data = _data(BALANCED)
    models = MethodModels.build(data, [*parse_methods(None)])
    return {"data": data, "models": models, "out": run_methods(data, models)}


# ---- model text and data layout -----------------------------------------------------------------


def test_model_string_is_the_reference_sem() -> None:
    """The SEM text is the one lavaan fit for the reference (line by line)."""
    reference = [line.strip() for line in load_case("micro_macro_sem")["model"].splitlines()]
    assert model_string(10).splitlines() == [line for line in reference if line]
    assert _data(BALANCED).model_string() == model_string(10)


def test_measurement_strings_of_the_methods() -> None:
    assert measurement_string(2, intercepts="equal").splitlines() == [
        "xi =~ 1*x1 + 1*x2", "x1 ~~ v*x1", "x2 ~~ v*x2", "x1 ~ m*1", "x2 ~ m*1",
    ]  # fmt: skip
    assert measurement_string(["a", "b"], loadings="free", residuals="free") == "xi =~ a + b\n"
    two = model_string({"xi_a": ["a1", "a2"], "xi_b": ["b1", "b2"]}, ["Z1", "Z2"])
    for line in ("a1 ~~ c1_2*b1", "b2 ~~ v2*b2", "y ~ xi_a + xi_b + Z1 + Z2", "Z1 ~~ Z2"):
        assert line in two.splitlines()
    with pytest.raises(OptionError, match="loadings"):
        measurement_string(3, loadings="equal")
    with pytest.raises(OptionError, match="same"):
        model_string({"a": ["a1"], "b": ["b1", "b2"]})


def test_wide_layout_matches_the_shipped_wide_data() -> None:
    for long_name, wide_name in (
        (BALANCED, "micro_macro_wide"),
        (UNBALANCED, "micro_macro_unbalanced_wide"),
    ):
        data, wide = _data(long_name), datasets.load(wide_name)
        np.testing.assert_array_equal(data.wide[list(wide.columns)].to_numpy(), wide.to_numpy())
    data = _data(UNBALANCED)
    assert not data.balanced and data.sizes.sum() == len(datasets.load(UNBALANCED))
    pd.testing.assert_frame_equal(
        data.long, datasets.load(UNBALANCED)[["group", "x", "Z", "y"]], check_dtype=False
    )


def test_member_column_names_avoid_collisions() -> None:
    long = datasets.load(BALANCED).rename(columns={"Z": "x1"})
    data = MicroMacroData.from_long(long, "group", "x", "x1", "y")
    assert data.item_columns[0][:2] == ("x_1", "x_2")
    assert "x_10" in data.model_string()


# ---- the methods against references -------------------------------------------------------------


def test_sem_matches_lavaan(balanced) -> None:
    """lavaan 0.6.14: sem(model_string(10), micro_macro_wide, meanstructure = TRUE)."""
    sem = balanced["out"][Method.SEM]
    assert sem.terms == ("Intercept", "x", "Z")
    for ours, theirs in zip(sem.est, (0.2272477358, 0.1816657782, 0.3215944970), strict=True):
        assert_matches("est", ours, theirs, "SEM coefficient")
    for ours, theirs in zip(sem.se["ML"], (0.0633317312, 0.0583102911, 0.0661043711), strict=True):
        assert_matches("se", ours, theirs, "SEM standard error")


# The shipped unbalanced data have a 15th member in only 16 of 150 groups: the EM of the saturated
# model (start values and fit measures of every FIML fit) then runs to its iteration limit, which
# takes half a minute per fit; these reference checks run with the slow tests.
@pytest.mark.slow
def test_sem_by_fiml_on_unbalanced_groups_matches_lavaan() -> None:
    ref = load_case("extra/micro_macro_fiml")
    rows = {(r["lhs"], r["op"], r["rhs"]): r for r in ref["estimates"]}
    data = _data(UNBALANCED)
    assert model_string(15).splitlines() == [s.strip() for s in ref["model"].splitlines() if s]
    out = run_methods(data, MethodModels.build(data, [Method.SEM]), [Method.SEM])[Method.SEM]
    for k, key in enumerate((("y", "~1", ""), ("y", "~", "xi"), ("y", "~", "Z"))):
        assert_matches("est", out.est[k], rows[key]["est"], str(key))
        assert_matches("se", out.se["ML"][k], rows[key]["se"], str(key))


@pytest.mark.parametrize(
    ("name", "case", "key"),
    [(BALANCED, "mixed_models_lme4", "micro_macro"),
     pytest.param(UNBALANCED, "extra/mixed_unbalanced_lme4", "micro_macro_unbalanced",
                  marks=pytest.mark.slow)],
)  # fmt: skip
def test_blup_mixed_is_lme4s_random_intercept_model(name, case, key) -> None:
    """Loadings 1, one residual variance, one intercept: lme4's x ~ 1 + (1 | group) by ML."""
    ref = load_case(case)[key]
    data = _data(name)
    models = MethodModels.build(data, [Method.BLUP_MIXED])
    out = run_methods(data, models, [Method.BLUP_MIXED])[Method.BLUP_MIXED]
    theta = {row.name: out.fit.row_estimate(row) for row in out.fit.table.parameters}
    assert_matches("est", theta["x1~~x1"], ref["variances"]["Residual"], "residual variance")
    assert_matches("est", theta["xi~~xi"], ref["variances"]["group"], "group variance")
    assert_matches("est", theta["x1~1"], ref["fixed"]["(Intercept)"], "intercept")
    for ours, theirs in zip(out.scores[:20, 0], ref["blup_first20"], strict=True):
        assert_matches("score", ours, theirs, "BLUP")
    observed = out.fit.model.layouts[0].observed
    helper = regression_scores(out.fit, data.wide[list(observed)].to_numpy(), observed, ["xi"])
    np.testing.assert_allclose(helper, out.scores, atol=1e-10)


def test_factor_score_and_hetvar_match_lavaan(balanced) -> None:
    """lavaan 0.6.14, meanstructure = TRUE: cfa('xi =~ x1 + ... + x10') and the model with
    loadings 1, free residual variances and one intercept; lavPredict(); lm(y ~ score + Z)."""
    lavaan = {
        Method.FACTOR_SCORE: (
            [0.9267091157, -0.7266680661, -1.3849573797, 0.0741105542, -1.3416828366],
            [0.2288323572, 0.1537680791, 0.3522542590],
        ),
        Method.BLUP_MIXED_HETVAR: (
            [0.7509015533, -0.4872295544, -1.2216242110, 0.1732691244, -1.1476375604],
            [0.2286023136, 0.1787227920, 0.3477981844],
        ),
    }
    for method, (scores, coefficients) in lavaan.items():
        out = balanced["out"][method]
        for ours, theirs in zip(out.scores[:5, 0], scores, strict=True):
            assert_matches("score", ours, theirs, f"{method.value} score")
        for ours, theirs in zip(out.est, coefficients, strict=True):
            assert_matches("est", ours, theirs, f"{method.value} coefficient")


def test_unadjusted_is_ols_on_group_means_with_white_errors(balanced) -> None:
    import statsmodels.api as sm

    data, out = balanced["data"], balanced["out"][Method.UNADJUSTED]
    design = sm.add_constant(np.column_stack([data.xbar[:, 0], data.z[:, 0]]))
    for kind, key in (("nonrobust", "standard"), ("HC0", "HC0"), ("HC3", "HC3")):
        ref = sm.OLS(data.y, design).fit(cov_type=kind)
        np.testing.assert_allclose(out.est, ref.params, rtol=1e-10)
        np.testing.assert_allclose(out.se[key], ref.bse, rtol=1e-10)
    long = datasets.load(BALANCED)
    np.testing.assert_allclose(out.scores[:, 0], long.groupby("group")["x"].mean(), rtol=1e-12)


@pytest.mark.parametrize("name", [BALANCED, UNBALANCED])
def test_cv_adj_is_adjusted_means(name) -> None:
    data = _data(name)
    expected = adjusted_means(datasets.load(name), "group", "x", "Z")["adjusted"]
    np.testing.assert_allclose(cv_adjusted_means(data)[:, 0], expected, rtol=1e-12)


def test_cv_formula_is_the_sem_regression_score_with_the_sems_moments() -> None:
    """E[xi | members' x, Z] under the fitted SEM (equal intercepts) is the CV adjusted mean
    computed from the SEM's variance components, group-size specific weights included."""
    sample = generate_micro_macro(100, lambda g: g.integers(4, 8, size=100), sigma2_nu=4, seed=3)
    data = sample.data
    assert not data.balanced
    text = model_string(data.indicators, data.z_names, equal_intercepts=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = semlang.sem(text, data.wide, missing="fiml")
    est = {row.name: fit.row_estimate(row) for row in fit.table.parameters}
    items = list(data.item_columns[0])
    observed = [*items, "Z"]  # condition on x and Z only, not on y
    sem_score = regression_scores(fit, data.wide[observed].to_numpy(), observed, ["xi"])[:, 0]
    cv = blup_group_means(
        data.xbar[:, 0], data.sizes, data.z[:, 0], est["x1~1"], est["Z~1"],
        est["xi~~xi"], est["x1~~x1"], est["xi~~Z"], est["Z~~Z"],
    )  # fmt: skip
    np.testing.assert_allclose(sem_score, cv - est["x1~1"], atol=1e-10)


def test_regression_scores_are_lavaans_for_a_cfa_with_means() -> None:
    ref = load_case("extra/hs_cfa_meanstructure_scores")
    hs = datasets.load("HolzingerSwineford1939")
    fit = semlang.cfa(ref["model"], hs, meanstructure=True)
    observed = fit.model.layouts[0].observed
    latent = ("visual", "textual", "speed")
    ours = regression_scores(fit, hs[list(observed)].to_numpy(float), observed, latent)
    for row, values in zip(ours[:20], ref["scores"]["regression"][:20], strict=True):
        for name, value in zip(latent, row, strict=True):
            assert_matches("score", value, values[name], f"{name} score")


def _two_x_long(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(4, 9, size=80)
    xi = rng.multivariate_normal([0, 0, 0], [[1, 0.4, 0.3], [0.4, 1, 0.2], [0.3, 0.2, 1]], 80)
    g = np.repeat(np.arange(80), sizes)
    within = rng.multivariate_normal([0, 0], [[3, 1], [1, 2]], g.size)
    return pd.DataFrame(
        {
            "team": g + 1,
            "a": 1.0 + xi[g, 0] + within[:, 0],
            "b": -1.0 + xi[g, 1] + within[:, 1],
            "Z": xi[g, 2],
            "y": (0.5 * xi[:, 0] - 0.3 * xi[:, 1] + 0.4 * xi[:, 2] + rng.normal(0, 0.5, 80))[g],
        }
    )


def test_cv_adj_of_several_x_is_the_conditional_mean_given_every_member() -> None:
    """Brute force: the BLUP of (xi_a, xi_b) from all members' (a, b) and Z, with the ANOVA
    moments, equals the closed form on the group means."""
    long = _two_x_long(5)
    data = MicroMacroData.from_long(long, "team", ["a", "b"], "Z", "y")
    n, xbar, total, G = data.sizes, data.xbar, data.sizes.sum(), data.n_groups
    grand = n @ xbar / total
    dev = data.x - xbar[data.group_index]
    msw = dev.T @ dev / (total - G)
    msb = ((xbar - grand) * n[:, None]).T @ (xbar - grand) / (G - 1)
    sigma_xi = (msb - msw) / ((total - n @ n / total) / (G - 1))
    joint = np.cov(np.column_stack([xbar, data.z]), rowvar=False)
    c, s = joint[:2, 2:], joint[2:, 2:]
    expected = []
    for g in range(G):
        k = n[g]
        cov = np.block(
            [
                [np.kron(np.ones((k, k)), sigma_xi) + np.kron(np.eye(k), msw), np.tile(c, (k, 1))],
                [np.tile(c, (k, 1)).T, s],
            ]
        )
        cross = np.column_stack([np.tile(sigma_xi, (1, k)), c])
        members = data.x[data.group_index == g].reshape(-1) - np.tile(grand, k)
        centred = np.concatenate([members, data.z[g] - data.z.mean(axis=0)])
        expected.append(grand + cross @ np.linalg.solve(cov, centred))
    np.testing.assert_allclose(cv_adjusted_means(data), np.array(expected), atol=1e-10)


def test_several_x_fit_every_method() -> None:
    long = _two_x_long(9)
    result = micro_macro(long, "team", ["a", "b"], "Z", "y", methods=["Unadjusted", "SEM", "CV"])
    table = result.coefficients()
    assert list(table.query("method == 'SEM'")["term"]) == ["Intercept", "a", "b", "Z"]
    assert "a1 ~~ c1_2*b1" in result.model_string
    sem = table.query("method == 'SEM'").set_index("term")["est"]
    cv = table.query("method == 'CV Adj'").set_index("term")["est"]
    assert sem["a"] == pytest.approx(cv["a"], abs=0.05)  # close on 80 groups (truth 0.5)
    assert list(result.scores().columns) == ["team", "n", "Unadjusted: a", "Unadjusted: b",
                                             "CV Adj: a", "CV Adj: b"]  # fmt: skip


# ---- the public function, errors ----------------------------------------------------------------


def test_micro_macro_tables(balanced) -> None:
    result = micro_macro(datasets.load(BALANCED), "group", "x", "Z", "y")
    table = result.table()
    assert list(table.index) == ["Intercept", "x", "Z"]
    assert table[("SEM", "est")]["x"] == pytest.approx(0.1816657782, abs=1e-6)
    assert table[("CV Adj", "se")]["Z"] == pytest.approx(
        balanced["out"][Method.CV_ADJ].se["standard"][2]
    )
    hc3 = result.table("se_hc3")
    assert hc3[("Unadjusted", "se")]["Z"] == pytest.approx(
        balanced["out"][Method.UNADJUSTED].se["HC3"][2]
    )
    assert hc3[("SEM", "se")]["x"] == table[("SEM", "se")]["x"]
    assert list(result.scores().columns[:3]) == ["group", "n", "Unadjusted"]
    with pytest.raises(OptionError):
        result.table("HC1")


def test_true_scores_and_strict_runs() -> None:
    data = _data(BALANCED)
    models = MethodModels.build(data, [Method.FACTOR_SCORE], max_iterations=1)
    truth = data.xbar[:, 0] * 0.5
    out = run_methods(data, models, [Method.TRUE], true_xi=truth)[Method.TRUE]
    np.testing.assert_allclose(out.scores[:, 0], truth)
    with (
        pytest.warns(ConvergenceWarning),
        pytest.raises(InadmissibleFit, match="Factor Score: the optimizer did not converge"),
    ):
        run_methods(data, models, [Method.FACTOR_SCORE], inference=False, strict=True)


def test_user_mistakes() -> None:
    long = datasets.load(BALANCED)
    with pytest.raises(DataError, match="varies within groups"):
        micro_macro(long.assign(Z=np.arange(len(long))), "group", "x", "Z", "y")
    with pytest.raises(DataError, match="not in the data"):
        micro_macro(long, "team", "x", "Z", "y")
    with pytest.raises(OptionError, match="unknown micro-macro method"):
        micro_macro(long, "group", "x", "Z", "y", methods=["OLS"])
    with pytest.raises(OptionError, match="true group scores"):
        micro_macro(long, "group", "x", "Z", "y", methods=["True"])
    with pytest.raises(OptionError, match="usable variable name"):
        micro_macro(long.rename(columns={"x": "my x"}), "group", "my x", "Z", "y")
    with pytest.raises(DataError, match="holds one group only"):
        micro_macro(long.assign(group=1), "group", "x", "Z", "y")
    with pytest.raises(OptionError, match=r"true_xi has 3 values, but .* each of 100 groups"):
        micro_macro(long, "group", "x", "Z", "y", methods=["True"], true_xi=np.zeros(3))
    with pytest.raises(OptionError, match="seed must be a non-negative whole number"):
        generate_micro_macro(seed=-1)
    assert parse_methods(["cv-adj", "factor_score", "blup mixed"]) == (
        Method.CV_ADJ, Method.FACTOR_SCORE, Method.BLUP_MIXED,
    )  # fmt: skip


# ---- command line -------------------------------------------------------------------------------


def test_command_prints_every_method_and_the_model(capsys) -> None:
    path = str(datasets.path(BALANCED))
    code = main(["micro-macro", path, "--group", "group", "--x", "x", "--z", "Z", "--y", "y"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    header = next(line for line in lines if "Unadjusted" in line)
    assert header.split() == ["Unadjusted", "BLUP_mixed", "BLUP_mixed_hetvar", "Factor", "Score",
                              "CV", "Adj", "SEM", "SEM", "(two-level)"]  # fmt: skip
    row = next(line for line in lines if line.startswith("x "))
    # the SEM's estimate and ML standard error, then the two-level SEM (one mean for all
    # members where the wide SEM has one intercept per member position)
    assert row.split()[-4:] == ["0.182", "0.058", "0.183", "0.059"]
    assert model_string(10) in out


def test_command_json_and_errors(capsys) -> None:
    path = str(datasets.path(UNBALANCED))
    args = ["micro-macro", path, "--group", "group", "--x", "x", "--z", "Z", "--y", "y"]
    assert main([*args, "--methods", "Unadjusted,CV Adj", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["groups"] == 150 and out["members"] == 1569
    assert {r["method"] for r in out["coefficients"]} == {"Unadjusted", "CV Adj"}
    assert main([*args[:-1], "income"]) == 2
    assert "'income'" in capsys.readouterr().err


def readme_runs() -> list[tuple[list[str], str]]:
    """(arguments, shown output) of every ``$ semlang ...`` block of the example's README."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "examples/micro_macro/README.md").read_text()
    blocks = re.findall(r"```console\n\$ semlang (.*?)\n```\n\n```text\n(.*?)```", text, re.S)
    return [(command.split(), output) for command, output in blocks]


def test_example_readme_shows_the_real_output(capsys, monkeypatch) -> None:
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    runs = [run for run in readme_runs() if run[0][0] == "micro-macro"]
    assert len(runs) == 1
    args, shown = runs[0]
    assert main(args) == 0
    assert capsys.readouterr().out == shown
