"""Two-level SEM through the public API: ``semlang.sem(model, long_data, cluster=...)``.

Held against lavaan 0.6.14: the reference cases ``micro_macro_twolevel`` and ``twolevel_demo``
(estimates, standard errors, std_all, fit measures; rows keyed by lhs, op, rhs and level), and
a few more lavaan numbers written out below. Also: the analytic gradient and observed
information against finite differences, the equivalence of the two-level micro-macro model with
the wide-format SEM under FIML, and the errors for bad clustered data.
"""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import pandas as pd
import pytest
from reference_cases import FIT_MEASURE_KIND, assert_matches, fit_measures, load_case

import semlang
from semlang.errors import DataError, ModelSpecificationError, NotSupportedError, OptionError
from semlang.micromacro.twolevel import twolevel_model_string

CASES = ["micro_macro_twolevel", "twolevel_demo"]

# The reference files took std.all from standardizedSolution() matched by (lhs, op, rhs) alone,
# so a level-2 row whose lhs, op, rhs also occur at level 1 holds the level-1 value there. These
# are lavaan's values for those rows (parameterEstimates(fit, standardized = TRUE)$std.all).
LEVEL2_STD_ALL = {
    "micro_macro_twolevel": {("x", "~1", ""): -0.0573538174426276},
    "twolevel_demo": {
        ("y1", "~~", "y1"): 0.0581349948232416,
        ("y2", "~~", "y2"): 0.20037215236871,
        ("y3", "~~", "y3"): 0.316450864647607,
        ("y1", "~1", ""): 0.0245953089185896,
        ("y2", "~1", ""): -0.0208541019973693,
        ("y3", "~1", ""): -0.0613817884800894,
    },
}

# lavaan 0.6.14, the twolevel_demo model with information = "expected": standard errors.
DEMO_EXPECTED_SE = {
    ("fw", "=~", "y2", 1): 0.0341446178371363,
    ("fw", "=~", "y3", 1): 0.0328161280731953,
    ("fw", "~", "x1", 1): 0.0233509532934216,
    ("fw", "~", "x2", 1): 0.0222918984032752,
    ("fw", "~", "x3", 1): 0.0208897901878711,
    ("y1", "~~", "y1", 1): 0.0455453316106502,
    ("y2", "~~", "y2", 1): 0.039122446342943,
    ("y3", "~~", "y3", 1): 0.0366067442266903,
    ("fw", "~~", "fw", 1): 0.0400525802507062,
    ("fb", "=~", "y2", 2): 0.052691487313655,
    ("fb", "=~", "y3", 2): 0.0483190535614716,
    ("fb", "~", "w1", 2): 0.0789122853585335,
    ("fb", "~", "w2", 2): 0.0762746105511198,
    ("y1", "~~", "y1", 2): 0.0483936779556892,
    ("y2", "~~", "y2", 2): 0.0319869929578723,
    ("y3", "~~", "y3", 2): 0.0288959223650431,
    ("fb", "~~", "fb", 2): 0.118495089684301,
    ("y1", "~1", "", 2): 0.0747618035972595,
    ("y2", "~1", "", 2): 0.0600028633598159,
    ("y3", "~1", "", 2): 0.0541340313300526,
}

# lavaan 0.6.14 on Demo.twolevel: a level-1-only endogenous x2 and level-2-only endogenous w1.
ENDOGENOUS_MODEL = """
level: 1
  fw =~ y1 + y2 + y3
  fw ~ x1
  x2 ~ fw
level: 2
  fb =~ y1 + y2 + y3
  w1 ~ fb
  w2 ~~ fb
"""
ENDOGENOUS_LAVAAN = {
    "estimates": {
        ("fw", "=~", "y2", 1): (0.761268057124137, 0.0365791793979137),
        ("x2", "~", "fw", 1): (0.343697793405981, 0.0244473679202165),
        ("x2", "~~", "x2", 1): (0.886491580032068, 0.0268009625335862),
        ("x2", "~1", "", 1): (-0.0016727741821323, 0.0198514600295637),
        ("x1", "~1", "", 1): (-0.00744548534297808, 0.0),
        ("w1", "~", "fb", 2): (0.141471947941818, 0.0760632847310055),
        ("w2", "~~", "fb", 2): (0.0875595245204301, 0.0711054160581234),
        ("w1", "~~", "w1", 2): (0.852212734693034, 0.085584714781581),
        ("w2", "~1", "", 2): (-0.0909372952483971, 0.0682081130274442),
        ("fb", "~~", "fb", 2): (0.893465928176876, 0.119407217074208),
    },
    "fit_measures": {
        "npar": 25,
        "chisq": 136.671851894636,
        "df": 10,
        "baseline_chisq": 2155.60983458857,
        "baseline_df": 20,
        "cfi": 0.940685864129746,
        "tli": 0.881371728259493,
        "logl": -16295.2353338062,
        "unrestricted_logl": -16226.8994078589,
        "bic": 32786.0718178839,
        "rmsea": 0.0711819785885827,
        "rmsea_ci_upper": 0.0820282655801556,
        "srmr": 0.099125992285633,
    },
}

# lavaan 0.6.14 on Demo.twolevel: x1 in both levels' models, a fixed covariate at each level.
BOTH_LEVELS_MODEL = """
level: 1
  y1 ~ x1 + x2
level: 2
  y1 ~ x1 + w1
"""
BOTH_LEVELS_LAVAAN = {
    # the free parameters (lavaan stops early along the nearly flat y1 ~ x1 of level 2: se 19)
    "theta": [
        0.496584395632872,
        0.407148968456006,
        1.58752932575969,
        0.00386791505653957,
        0.152711376451986,
        0.948785301256882,
        0.0143727256279117,
    ],
    "fixed": {  # the covariates' moments, fixed at lavaan's unrestricted (h1) estimates
        ("x1", "~~", "x1", 1): 0.980857033414505,
        ("x1", "~~", "x2", 1): -0.000173879971265566,
        ("x1", "~1", "", 1): 0.0,
        ("x1", "~~", "x1", 2): 0.00158838715861971,
        ("x1", "~~", "w1", 2): 0.0205415530647295,
        ("x1", "~1", "", 2): -0.0049040318380832,
        ("w1", "~1", "", 2): 0.0523797413875039,
    },
    "logl": -7854.23677320601,
    "fit_measures": {
        "npar": 7,
        "df": 0,
        "unrestricted_logl": -7854.23069081757,
        "baseline_chisq": 537.904365483937,
        "baseline_df": 4,
    },
}


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return function(*args, **kwargs)


@cache
def fit_case(name: str):
    case = load_case(name)
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    return quiet(semlang.sem, case["model"], data, **case["options"])


@cache
def demo():
    return semlang.datasets.load("Demo.twolevel")


@cache
def micro_long():
    return semlang.datasets.load("micro_macro_unbalanced_long")


def by_key(frame: pd.DataFrame) -> dict:
    return {(r.lhs, r.op, r.rhs, r.level): r for r in frame.itertuples()}


# ---- the reference cases ------------------------------------------------------------------------
@pytest.mark.parametrize("name", CASES)
def test_estimates_standard_errors_and_std_all(name):
    fit = fit_case(name)
    assert fit.converged
    ours = by_key(fit.estimates())
    reference = load_case(name)["estimates"]
    assert len(ours) == len(reference)
    level_one = {(r["lhs"], r["op"], r["rhs"]) for r in reference if r["level"] == 1}
    for row in reference:
        key = (row["lhs"], row["op"], row["rhs"], row["level"])
        mine, what = ours[key], f"{name} {key}"
        assert_matches("est", mine.est, row["est"], what + " est")
        assert_matches("se", mine.se, row["se"], what + " se")
        std_all = row["std.all"]
        if row["level"] == 2 and key[:3] in level_one:  # (x ~~ x is 1 at both levels)
            std_all = LEVEL2_STD_ALL[name].get(key[:3], std_all)
        assert_matches("std_all", mine.std_all, std_all, what + " std_all")


@pytest.mark.parametrize("name", CASES)
def test_fit_measures(name):
    ours = fit_case(name).fit_measures()
    for key, value in fit_measures(name).items():
        assert_matches(FIT_MEASURE_KIND[key], ours[key], value, f"{name} {key}")


def test_estimates_carry_the_level():
    frame = fit_case("twolevel_demo").estimates()
    assert frame["level"].tolist().count(1) == 23
    assert set(frame["level"]) == {1, 2}
    assert fit_case("twolevel_demo").nobs == 2500
    assert fit_case("twolevel_demo").fit_measures()["nclusters"] == 200


def test_expected_information_standard_errors():
    case = load_case("twolevel_demo")
    fit = quiet(semlang.sem, case["model"], demo(), cluster="cluster", information="expected")
    ours = by_key(fit.estimates())
    for key, se in DEMO_EXPECTED_SE.items():
        assert_matches("se", ours[key].se, se, f"{key} se (expected information)")


# lavaan 0.6.14, the twolevel_demo model with fixed.x = FALSE: the covariates are free
FREE_COVARIATES_LAVAAN = {
    "estimates": {
        ("x1", "~~", "x1", 1): (0.98231350647972, 0.0277840216546631),
        ("x1", "~~", "x3", 1): (-0.00552041243878719, 0.0202636680679411),
        ("x3", "~1", "", 1): (0.0200076228563416, 0.0204449737939602),
        ("fw", "~", "x1", 1): (0.509968776930836, 0.0231414672666197),
    },
    "fit_measures": {
        "npar": 34,
        "chisq": 8.09202103935968,
        "df": 10,
        "baseline_chisq": 2248.23469524595,
        "baseline_df": 21,
        "logl": -23309.8703237539,
        "unrestricted_logl": -23305.8243132343,
        "bic": 46885.758211877,
        "srmr": 0.037505176802959,
    },
}


def test_free_covariates_match_lavaan():
    case = load_case("twolevel_demo")
    fit = quiet(semlang.sem, case["model"], demo(), cluster="cluster", fixed_x=False)
    ours = by_key(fit.estimates())
    for key, (est, se) in FREE_COVARIATES_LAVAAN["estimates"].items():
        assert_matches("est", ours[key].est, est, f"{key} est")
        assert_matches("se", ours[key].se, se, f"{key} se")
    measures = fit.fit_measures()
    for key, value in FREE_COVARIATES_LAVAAN["fit_measures"].items():
        assert_matches(FIT_MEASURE_KIND[key], measures[key], value, key)


def test_within_and_between_keywords_are_levels_1_and_2():
    text = load_case("micro_macro_twolevel")["model"]
    named = text.replace("level: 1", "level: within").replace("level: 2", "level: between")
    fit = quiet(semlang.sem, named, micro_long(), cluster="group")
    reference = fit_case("micro_macro_twolevel").estimates()
    np.testing.assert_allclose(fit.estimates()["est"], reference["est"], rtol=1e-8, atol=1e-10)
    assert fit.estimates()["level"].tolist() == reference["level"].tolist()


def test_level_only_endogenous_variables_match_lavaan():
    fit = quiet(semlang.sem, ENDOGENOUS_MODEL, demo(), cluster="cluster")
    ours = by_key(fit.estimates())
    for key, (est, se) in ENDOGENOUS_LAVAAN["estimates"].items():
        assert_matches("est", ours[key].est, est, f"{key} est")
        assert_matches("se", ours[key].se, se, f"{key} se")
    measures = fit.fit_measures()
    for key, value in ENDOGENOUS_LAVAAN["fit_measures"].items():
        assert_matches(FIT_MEASURE_KIND[key], measures[key], value, key)


def test_covariate_of_both_levels_is_fixed_at_each_level_as_lavaan():
    fit = quiet(semlang.sem, BOTH_LEVELS_MODEL, demo(), cluster="cluster")
    ours = by_key(fit.estimates())
    for key, value in BOTH_LEVELS_LAVAAN["fixed"].items():
        assert ours[key].se == 0
        assert_matches("est", ours[key].est, value, f"{key} (fixed covariate)")
    measures = fit.fit_measures()
    for key, value in BOTH_LEVELS_LAVAAN["fit_measures"].items():
        assert_matches(FIT_MEASURE_KIND[key], measures[key], value, key)
    # at lavaan's estimates the log-likelihood is lavaan's; ours is the (slightly higher) maximum
    objective = fit.estimation.objective
    phi = fit.model.space.phi_from_theta(np.array(BOTH_LEVELS_LAVAAN["theta"]))
    assert_matches("logl", objective.loglik(phi), BOTH_LEVELS_LAVAAN["logl"], "logl")
    assert measures["logl"] >= BOTH_LEVELS_LAVAAN["logl"]


# ---- derivatives --------------------------------------------------------------------------------
def perturbed_phi(fit, scale: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(1)
    phi = fit.estimation.phi
    return phi + scale * rng.standard_normal(phi.size) * np.maximum(np.abs(phi), 0.1)


@pytest.mark.parametrize("name", CASES)
def test_gradient_matches_finite_differences(name):
    fit = fit_case(name)
    objective = fit.estimation.objective
    phi = perturbed_phi(fit)
    value, gradient = objective.value_and_gradient(phi)
    assert value == pytest.approx(objective.value(phi), rel=1e-12)
    step = 1e-6
    numeric = np.array(
        [
            (objective.value(phi + step * unit) - objective.value(phi - step * unit)) / (2 * step)
            for unit in np.eye(phi.size)
        ]
    )
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", CASES)
def test_observed_information_is_half_the_hessian(name):
    fit = fit_case(name)
    objective = fit.estimation.objective
    for phi in (fit.estimation.phi, perturbed_phi(fit)):
        analytic = objective.observed_information(phi)
        numeric = objective.hessian_numeric(phi) / 2.0
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


# ---- the wide-format equivalence ----------------------------------------------------------------
def wide_model(members: int = 15) -> str:
    xs = [f"x{i}" for i in range(1, members + 1)]
    lines = ["xi =~ " + " + ".join(f"1*{x}" for x in xs)]
    lines += [f"{x} ~~ v*{x}" for x in xs]
    lines += [f"{x} ~ m*1" for x in xs]  # every member's x has the same mean, as in two levels
    lines += ["y ~ xi + Z", "xi ~~ Z"]
    return "\n".join(lines)


def test_two_level_micro_macro_equals_the_wide_fiml_sem():
    wide = semlang.datasets.load("micro_macro_unbalanced_wide")
    fiml = quiet(semlang.sem, wide_model(), wide, missing="fiml")
    twolevel = fit_case("micro_macro_twolevel")
    long_rows, wide_rows = by_key(twolevel.estimates()), fiml.estimates()
    wide_rows = {(r.lhs, r.op, r.rhs): r for r in wide_rows.itertuples()}
    pairs = {
        ("y", "~", "x", 2): ("y", "~", "xi"),
        ("y", "~", "Z", 2): ("y", "~", "Z"),
        ("x", "~~", "Z", 2): ("xi", "~~", "Z"),
        ("y", "~~", "y", 2): ("y", "~~", "y"),
        ("Z", "~~", "Z", 2): ("Z", "~~", "Z"),
        ("x", "~~", "x", 2): ("xi", "~~", "xi"),  # between variance of x = variance of xi
        ("x", "~~", "x", 1): ("x1", "~~", "x1"),  # within variance of x = v
        ("x", "~1", "", 2): ("x1", "~1", ""),  # mean of x = the common intercept m
    }
    for long_key, wide_key in pairs.items():
        what = f"{long_key} vs wide {wide_key}"
        assert_matches("est", long_rows[long_key].est, wide_rows[wide_key].est, what)
        assert_matches("se", long_rows[long_key].se, wide_rows[wide_key].se, what + " se")
    logl = twolevel.fit_measures()["logl"]
    assert_matches("logl", fiml.fit_measures()["logl"], logl, "wide FIML logl")
    assert logl == pytest.approx(-4342.14, abs=0.005)


# ---- the micro-macro model string ---------------------------------------------------------------
def test_twolevel_model_string_is_the_reference_model():
    text = twolevel_model_string("x", ["Z"], "y")
    assert text == load_case("micro_macro_twolevel")["model"].lstrip("\n")


def test_twolevel_model_string_with_several_variables():
    text = twolevel_model_string(["x", "x2"], ["Z", "Z2"], "y")
    assert text == (
        "level: 1\n"
        "  x ~~ x + x2\n"
        "  x2 ~~ x2\n"
        "level: 2\n"
        "  y ~ x + x2 + Z + Z2\n"
        "  x ~~ x2 + Z + Z2\n"
        "  x2 ~~ Z + Z2\n"
        "  Z ~~ Z2\n"
    )
    table = semlang.parameter_table(text, cluster="group")
    level2 = [r for r in table.rows if r.level == 2 and r.op.value == "~~" and r.lhs != r.rhs]
    assert len(level2) == 6 and all(r.is_free for r in level2)
    assert twolevel_model_string("x", [], "y").endswith("level: 2\n  y ~ x\n")


@pytest.mark.parametrize(
    ("x", "z", "y", "message"),
    [
        ("x", ["x"], "y", "given twice"),
        ("x", ["Z"], "x", "given twice"),
        ([], ["Z"], "y", "at least one"),
        ("x y", ["Z"], "y", "not a usable variable name"),
        ("x", ["Z"], ["y", "y2"], "one variable name"),
    ],
)
def test_twolevel_model_string_rejects_bad_names(x, z, y, message):
    with pytest.raises(OptionError, match=message):
        twolevel_model_string(x, z, y)


# ---- bad input ----------------------------------------------------------------------------------
MICRO_MODEL = load_case("micro_macro_twolevel")["model"]


def fit_micro(frame: pd.DataFrame, model: str = MICRO_MODEL, **options):
    return quiet(semlang.sem, model, frame, **{"cluster": "group", **options})


def test_a_single_cluster_is_an_error():
    frame = micro_long().assign(group=1)
    with pytest.raises(DataError, match="single cluster"):
        fit_micro(frame)


def test_clusters_of_size_one_only_are_an_error():
    frame = micro_long().assign(group=np.arange(len(micro_long())))
    with pytest.raises(DataError, match="every cluster contains only one row"):
        fit_micro(frame)


def test_a_missing_cluster_id_is_an_error():
    frame = micro_long().astype({"group": float})
    frame.loc[[3, 17], "group"] = np.nan
    with pytest.raises(
        DataError, match=r"cluster variable 'group' is missing in 2 row\(s\): 3, 17"
    ):
        fit_micro(frame)


def test_a_level_two_variable_that_varies_within_a_cluster_is_an_error():
    frame = micro_long().copy()
    row = frame.index[frame["group"] == 7][1]
    frame.loc[row, "Z"] += 0.5
    message = r"level-2 variable 'Z' varies within 1 cluster\(s\) \(cluster id\(s\): 7\)"
    with pytest.raises(DataError, match=message):
        fit_micro(frame)


def test_a_level_two_variable_in_the_level_one_model_is_a_located_error():
    model = "level: 1\n  x ~ Z\nlevel: 2\n  y ~ x + Z\n  x ~~ Z\n"
    with pytest.raises(ModelSpecificationError) as caught:
        fit_micro(micro_long(), model)
    error = caught.value
    assert "'Z' is constant within every cluster" in error.message
    assert (error.line, error.column) == (2, 7)
    assert "<model>:2:7: error:" in str(error)


def test_missing_cluster_option_and_unknown_cluster_column():
    with pytest.raises(OptionError, match="no cluster variable"):
        quiet(semlang.sem, MICRO_MODEL, micro_long())
    with pytest.raises(DataError, match="cluster variable 'grp' is not a column"):
        fit_micro(micro_long(), cluster="grp")


def test_unknown_variable_is_located():
    model = MICRO_MODEL.replace("x ~~ Z", "x ~~ Zed")
    with pytest.raises(semlang.errors.UnknownVariableError) as caught:
        fit_micro(micro_long(), model)
    assert caught.value.line == 6


def test_unsupported_options_are_refused():
    with pytest.raises(NotSupportedError, match="missing='fiml'"):
        fit_micro(micro_long(), missing="fiml")
    with pytest.raises(NotSupportedError, match="estimator='MLM'"):
        fit_micro(micro_long(), estimator="MLM")


def test_rows_with_missing_values_are_dropped_with_a_warning():
    frame = micro_long().copy()
    frame.loc[[0, 5], "x"] = np.nan
    with pytest.warns(semlang.errors.DataWarning, match="2 rows"):
        fit = semlang.sem(MICRO_MODEL, frame, cluster="group")
    assert fit.nobs == len(frame) - 2
