"""The summary text: lavaan's layout, with the numbers of ``estimates()`` and ``fit_measures()``.

The expected blocks are lavaan 0.6.14's ``summary()`` output for the same models and data
(trailing blanks removed); the numbers in them are those of the reference results.
"""

from __future__ import annotations

import re
import warnings
from types import SimpleNamespace

import pandas as pd
import pytest
from reference_cases import load_case

import semlang
from semlang.options import FitOptions
from semlang.results.summary import abbreviate, abbreviate_unique, format_number, summary_text

DATA = "semlang/datasets/"

BIGFIVE_SECTIONS = """\
Latent Variables:
                   Estimate  Std.Err  z-value  P(>|z|)   Std.lv  Std.all
  agree =~
    A1         (a)    1.000                               0.755    0.568
    A2         (a)    1.000                               0.755    0.568
    A3         (a)    1.000                               0.755    0.568
    A4         (a)    1.000                               0.755    0.568
    A5         (a)    1.000                               0.755    0.568

Intercepts:
                   Estimate  Std.Err  z-value  P(>|z|)   Std.lv  Std.all
   .A1               -2.412    0.026  -94.340    0.000   -2.412   -1.813
   .A2                4.797    0.026  187.611    0.000    4.797    3.605
   .A3                4.599    0.026  179.859    0.000    4.599    3.456
   .A4                4.682    0.026  183.107    0.000    4.682    3.518
   .A5                4.551    0.026  177.982    0.000    4.551    3.420
    agree             0.000                               0.000    0.000

Variances:
                   Estimate  Std.Err  z-value  P(>|z|)   Std.lv  Std.all
   .A1       (var)    1.201    0.016   73.607    0.000    1.201    0.678
   .A2       (var)    1.201    0.016   73.607    0.000    1.201    0.678
   .A3       (var)    1.201    0.016   73.607    0.000    1.201    0.678
   .A4       (var)    1.201    0.016   73.607    0.000    1.201    0.678
   .A5       (var)    1.201    0.016   73.607    0.000    1.201    0.678
    agree             0.571    0.022   25.621    0.000    1.000    1.000
"""

POLDEM_MODEL = """
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60
  dem65 ~ c*ind60 + b*dem60
  y1 ~~ y5
  indirect := a*b
  total := c + a*b
  a > 0.1
  b == 2*c
"""

POLDEM_SECTIONS = """\
Regressions:
                   Estimate  Std.Err  z-value  P(>|z|)   Std.lv  Std.all
  dem60 ~
    ind60      (a)    1.421    0.382    3.716    0.000    0.444    0.444
  dem65 ~
    ind60      (c)    0.426    0.045    9.509    0.000    0.141    0.141
    dem60      (b)    0.852    0.090    9.509    0.000    0.906    0.906

Covariances:
                   Estimate  Std.Err  z-value  P(>|z|)   Std.lv  Std.all
 .y1 ~~
   .y5                0.884    0.357    2.479    0.013    0.884    0.366

Variances:
                   Estimate  Std.Err  z-value  P(>|z|)   Std.lv  Std.all
   .x1                0.082    0.020    4.182    0.000    0.082    0.155
   .x2                0.117    0.070    1.664    0.096    0.117    0.052
   .x3                0.467    0.090    5.175    0.000    0.467    0.240
   .y1                2.186    0.434    5.034    0.000    2.186    0.322
   .y2                6.240    1.161    5.373    0.000    6.240    0.406
   .y3                5.468    0.969    5.645    0.000    5.468    0.515
   .y4                2.651    0.596    4.446    0.000    2.651    0.240
   .y5                2.672    0.495    5.397    0.000    2.672    0.396
   .y6                4.148    0.778    5.331    0.000    4.148    0.370
   .y7                3.503    0.678    5.167    0.000    3.503    0.329
   .y8                2.690    0.566    4.754    0.000    2.690    0.259
    ind60             0.449    0.087    5.175    0.000    1.000    1.000
   .dem60             3.704    0.866    4.279    0.000    0.803    0.803
   .dem65             0.184    0.179    1.023    0.306    0.045    0.045

Defined Parameters:
                   Estimate  Std.Err  z-value  P(>|z|)   Std.lv  Std.all
    indirect          1.211    0.334    3.629    0.000    0.402    0.402
    total             1.637    0.348    4.708    0.000    0.543    0.543

Constraints:
                                               |Slack|
    a - (0.1)                                    1.321
    b - (2*c)                                    0.000
"""

HS_MODEL = """
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"""


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


@pytest.fixture(scope="module")
def bigfive():
    case = load_case("bigfive_agree_equal")
    return _quiet(semlang.cfa, case["model"], DATA + "bigfive_agree.csv", meanstructure=True)


@pytest.fixture(scope="module")
def poldem():
    return _quiet(semlang.sem, POLDEM_MODEL, DATA + "PoliticalDemocracy.csv")


@pytest.fixture(scope="module")
def multigroup():
    return _quiet(
        semlang.cfa,
        HS_MODEL,
        DATA + "HolzingerSwineford1939.csv",
        group="school",
        group_equal=["loadings", "intercepts"],
    )


def _block(text: str, first: str, last: str | None = None) -> str:
    """The lines of ``text`` from the line ``first`` up to (not including) the line ``last``."""
    lines = text.split("\n")
    start = lines.index(first)
    end = lines.index(last, start) if last is not None else len(lines)
    return "\n".join(lines[start:end]).rstrip("\n") + "\n"


def test_bigfive_header(bigfive):
    text = summary_text(bigfive)
    lines = text.split("\n")
    n = bigfive.iterations
    plural = "s" if n != 1 else ""
    assert lines[0] == f"semlang {semlang.__version__} ended normally after {n} iteration{plural}"
    assert "  Estimator                                         ML" in lines
    # lavaan counts each labelled parameter and one equality constraint per repetition
    assert "  Number of model parameters                        11" in lines
    assert "  Number of equality constraints                     4" in lines
    assert "  Number of observations                          2709" in lines
    test = _block(text, "Model Test User Model:", "Parameter Estimates:")
    assert test == (
        "Model Test User Model:\n\n"
        "  Test statistic                               744.709\n"
        "  Degrees of freedom                                13\n"
        "  P-value (Chi-square)                           0.000\n"
    )
    assert _block(text, "Parameter Estimates:", "Latent Variables:") == (
        "Parameter Estimates:\n\n"
        "  Standard errors                             Standard\n"
        "  Information                                 Expected\n"
        "  Information saturated (h1) model          Structured\n"
    )


def test_bigfive_sections_as_lavaan(bigfive):
    text = summary_text(bigfive, standardized=True)
    assert _block(text, "Latent Variables:") == BIGFIVE_SECTIONS


def test_without_standardized_columns(bigfive):
    text = summary_text(bigfive)
    assert "Std.lv" not in text and "Std.all" not in text
    assert "   .A1       (var)    1.201    0.016   73.607    0.000" in text.split("\n")


def test_regressions_covariances_defined_and_constraints_as_lavaan(poldem):
    text = summary_text(poldem, standardized=True)
    assert _block(text, "Regressions:") == POLDEM_SECTIONS
    lines = text.split("\n")
    assert "  Number of inequality constraints                   1" in lines
    # no dots in Latent Variables: indicators are named there, not their residuals
    latent = _block(text, "Latent Variables:", "Regressions:")
    assert "    x1                1.000" in latent and ".x1" not in latent


def _section_numbers(text: str, title: str) -> list[tuple[str, list[str]]]:
    rows = []
    for line in _block(text, f"{title}:").split("\n")[2:]:
        if not line.strip():
            break
        match = re.match(r"^\s+\.?(\S+)(?:\s+\((\S+)\))?\s+(-?\d.*)$", line)
        if match:
            rows.append((match.group(1), match.group(3).split()))
    return rows


def test_numbers_are_those_of_estimates(poldem):
    text = summary_text(poldem, standardized=True)
    frame = poldem.estimates()
    variances = frame[(frame.op == "~~") & (frame.lhs == frame.rhs)]
    printed = _section_numbers(text, "Variances")
    assert [name for name, _ in printed] == list(variances.rhs)
    for (_, numbers), row in zip(printed, variances.itertuples(), strict=True):
        expected = [row.est, row.se, row.z, row.pvalue, row.std_lv, row.std_all]
        assert numbers == [format_number(v) for v in expected]
    defined = frame[frame.op == ":="]
    printed = _section_numbers(text, "Defined Parameters")
    assert [name for name, _ in printed] == list(defined.lhs)
    assert [numbers[0] for _, numbers in printed] == [format_number(v) for v in defined.est]


def test_groups(multigroup):
    text = summary_text(multigroup)
    lines = text.split("\n")
    assert "  Number of observations per group:" in lines
    assert "    Pasteur                                        156" in lines
    assert "    Grant-White                                    145" in lines
    assert "  Number of model parameters                        63" in lines
    assert "  Number of equality constraints                    15" in lines
    first = _block(text, "Group 1 [Pasteur]:", "Group 2 [Grant-White]:")
    second = _block(text, "Group 2 [Grant-White]:")
    # group-equal labels, shortened by R's abbreviate() as lavaan prints them
    assert "    x2      (.p2.)    0.576    0.101    5.713    0.000" in first.split("\n")
    assert "   .x1      (.25.)    5.001    0.090   55.760    0.000" in first.split("\n")
    assert "    visual            0.000" in first.split("\n")
    assert "    visual           -0.148    0.122   -1.211    0.226" in second.split("\n")
    assert "    speed             0.505    0.115    4.379    0.000" in second.split("\n")
    assert text.index("Covariances:") < text.index("Intercepts:") < text.index("Variances:")


def test_fit_measure_blocks(bigfive):
    text = summary_text(bigfive, fit_measures=True)
    measures = bigfive.fit_measures()
    lines = text.split("\n")
    assert "  Comparative Fit Index (CFI)                    0.710" in lines
    assert "  Tucker-Lewis Index (TLI)                       0.777" in lines
    assert "  Loglikelihood user model (H0)             -22106.586" in lines
    assert f"  RMSEA{format_number(measures['rmsea']):>47}" in lines
    assert "  SRMR                                           0.106" in lines
    assert text.index("Model Test Baseline Model:") < text.index("Parameter Estimates:")
    assert "Comparative Fit Index" not in summary_text(bigfive)


def test_not_converged_header():
    fit = _quiet(semlang.cfa, HS_MODEL, DATA + "HolzingerSwineford1939.csv", max_iterations=1)
    assert not fit.converged
    lines = summary_text(fit).split("\n")
    assert lines[0] == f"semlang {semlang.__version__} did NOT end normally after 1 iteration"
    assert lines[1] == "** WARNING ** Estimates below are most likely unreliable"


def test_listwise_deletion_shows_used_and_total():
    fit = _quiet(semlang.cfa, "agree =~ A1 + A2 + A3 + A4 + A5", DATA + "bfi.csv")
    lines = summary_text(fit).split("\n")
    assert "                                                  Used       Total" in lines
    assert "  Number of observations                          2709        2800" in lines


# ---- two levels: the layout, with lavaan's estimates of the reference case ------------------


def _twolevel_stand_in():
    """A fit-like object: the real parameter table, lavaan's estimates and measures."""
    case = load_case("twolevel_demo")
    table = semlang.parameter_table(case["model"], "sem", cluster="cluster")
    reference = pd.DataFrame(case["estimates"])
    keyed = {(r.lhs, r.op, r.rhs, r.level): r for r in reference.itertuples()}
    rows = []
    for row in table.rows:
        ref = keyed.get((row.lhs, row.op.value, row.rhs, row.level))
        values = (ref.est, ref.se, ref.z, ref.pvalue) if ref is not None else (0.0, 0.0, None, None)
        rows.append((row.lhs, row.op.value, row.rhs, row.group, row.level, row.label, *values))
    columns = ["lhs", "op", "rhs", "group", "level", "label", "est", "se", "z", "pvalue"]
    frame = pd.DataFrame(rows, columns=columns).astype({"z": float, "pvalue": float})
    measures = {key.replace(".", "_"): value for key, value in case["fit_measures"].items()}
    return SimpleNamespace(
        table=table,
        options=FitOptions(),
        iterations=36,
        converged=True,
        nobs=case["nobs"],
        sample=SimpleNamespace(
            group_nobs=(2500,), n_dropped=0, nclusters=200, missing_pattern_counts=()
        ),
        estimation=SimpleNamespace(optimization=SimpleNamespace(method="test")),
        estimates=lambda: frame,
        fit_measures=lambda: measures,
    )


def test_levels():
    text = summary_text(_twolevel_stand_in())
    lines = text.split("\n")
    assert "  Number of observations                          2500" in lines
    assert "  Number of clusters [cluster]                     200" in lines
    assert "  Test statistic                                 8.092" in lines
    within = _block(text, "Level 1 [within]:", "Level 2 [cluster]:").split("\n")
    between = _block(text, "Level 2 [cluster]:").split("\n")
    assert "    y2                0.774    0.034   22.671    0.000" in within
    assert "    x1                0.510    0.023   22.037    0.000" in within
    assert "   .fw                0.546    0.040   13.539    0.000" in within
    assert "    w1                0.165    0.079    2.093    0.036" in between
    assert "   .y1                0.024    0.075    0.327    0.743" in between
    assert "   .fb                0.899    0.118    7.592    0.000" in between


# ---- R's abbreviate() ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minlength", "expected"),
    [  # values of R 4.2: abbreviate(text, minlength, strict = TRUE)
        (".p25.", 4, ".25."),
        ("verylongvariablename", 4, "vryl"),
        ("verylongvariablename", 10, "vrylngvrbl"),
        ("verylongvariablename", 14, "verylongvrblnm"),
        ("Agreeableness_total", 14, "Agreeblnss_ttl"),
        ("indirect_effect_total", 14, "indrct_ffct_tt"),
        ("AEIOUaeiouXYZ", 10, "AEIOUaeXYZ"),
        ("my label here", 10, "mylabelher"),
        ("SomeLongName", 14, "SomeLongName"),
        ("x1_residual_var", 4, "x1__"),
    ],
)
def test_abbreviate_as_r(text, minlength, expected):
    assert abbreviate(text, minlength) == expected


def test_abbreviate_keeps_different_labels_apart():
    short = abbreviate_unique(["value_a", "value_b", "value_a"], 4)
    assert short[0] == short[2] and short[0] != short[1]


# ---- fit measures with robust columns: lavaan 0.6.14's summary(fit, fit.measures = TRUE) ----

HS_MLR_MEASURES = """\
Model Test Baseline Model:

  Test statistic                               918.852     880.082
  Degrees of freedom                                36          36
  P-value                                        0.000       0.000
  Scaling correction factor                                  1.044

User Model versus Baseline Model:

  Comparative Fit Index (CFI)                    0.931       0.925
  Tucker-Lewis Index (TLI)                       0.896       0.888

  Robust Comparative Fit Index (CFI)                         0.930
  Robust Tucker-Lewis Index (TLI)                            0.895

Loglikelihood and Information Criteria:

  Loglikelihood user model (H0)              -3737.745   -3737.745
  Scaling correction factor                                  1.133
      for the MLR correction
  Loglikelihood unrestricted model (H1)      -3695.092   -3695.092
  Scaling correction factor                                  1.051
      for the MLR correction

  Akaike (AIC)                                7517.490    7517.490
  Bayesian (BIC)                              7595.339    7595.339
  Sample-size adjusted Bayesian (SABIC)       7528.739    7528.739

Root Mean Square Error of Approximation:

  RMSEA                                          0.092       0.093
  90 Percent confidence interval - lower         0.071       0.073
  90 Percent confidence interval - upper         0.114       0.115
  P-value H_0: RMSEA <= 0.050                    0.001       0.001
  P-value H_0: RMSEA >= 0.080                    0.840       0.862

  Robust RMSEA                                               0.092
  90 Percent confidence interval - lower                     0.072
  90 Percent confidence interval - upper                     0.114
  P-value H_0: Robust RMSEA <= 0.050                         0.001
  P-value H_0: Robust RMSEA >= 0.080                         0.849

Standardized Root Mean Square Residual:

  SRMR                                           0.065       0.065
"""

HS_HOLES_FIML_MEASURES = """\
Model Test Baseline Model:

  Test statistic                               852.942
  Degrees of freedom                                36
  P-value                                        0.000

User Model versus Baseline Model:

  Comparative Fit Index (CFI)                    0.944
  Tucker-Lewis Index (TLI)                       0.917

  Robust Comparative Fit Index (CFI)             0.945
  Robust Tucker-Lewis Index (TLI)                0.918

Loglikelihood and Information Criteria:

  Loglikelihood user model (H0)              -3565.548
  Loglikelihood unrestricted model (H1)      -3530.859

  Akaike (AIC)                                7191.096
  Bayesian (BIC)                              7302.309
  Sample-size adjusted Bayesian (SABIC)       7207.166

Root Mean Square Error of Approximation:

  RMSEA                                          0.079
  90 Percent confidence interval - lower         0.058
  90 Percent confidence interval - upper         0.101
  P-value H_0: RMSEA <= 0.050                    0.014
  P-value H_0: RMSEA >= 0.080                    0.502

  Robust RMSEA                                   0.081
  90 Percent confidence interval - lower         0.058
  90 Percent confidence interval - upper         0.105
  P-value H_0: Robust RMSEA <= 0.050             0.014
  P-value H_0: Robust RMSEA >= 0.080             0.561

Standardized Root Mean Square Residual:

  SRMR                                           0.054
"""


def _measure_blocks(fit) -> str:
    lines = summary_text(fit, fit_measures=True).split("\n")
    first = lines.index("Model Test Baseline Model:")
    last = next(k for k, line in enumerate(lines) if line.strip().startswith("SRMR"))
    return "\n".join(lines[first : last + 1]) + "\n"


def test_mlr_fit_measures_as_lavaan():
    data = semlang.datasets.load("HolzingerSwineford1939")
    fit = _quiet(semlang.cfa, HS_MODEL, data, estimator="MLR")
    assert _measure_blocks(fit) == HS_MLR_MEASURES


def test_fiml_fit_measures_with_robust_rows_as_lavaan():
    from test_groups import punch_holes

    data = punch_holes(semlang.datasets.load("HolzingerSwineford1939"))
    fit = _quiet(semlang.cfa, HS_MODEL, data, missing="fiml")
    assert _measure_blocks(fit) == HS_HOLES_FIML_MEASURES
