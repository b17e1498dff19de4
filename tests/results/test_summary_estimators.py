"""``fit.summary(fit_measures=True)`` against lavaan 0.6.14's ``summary(fit, fit.measures=TRUE)``
for every continuous-data estimator, test=, se=, likelihood="wishart", FIML, cluster= and two
groups (``reference/estimators/summaries/<case>.txt``, made by ``tools/summary_reference.R``).

Compared from the "Estimator" line to the "Parameter Estimates" header lines (the opening line
differs by design): line by line, the words exactly, each number within its tolerance (test
statistics and loglikelihoods as chisq/logl, every other number as a fit index; the Bollen-Stine
bootstrap p-value, a Monte Carlo estimate of 200 draws here, within 0.03).
"""

from __future__ import annotations

import re
import warnings
from functools import cache

import pytest
from reference_cases import REFERENCE_DIR, load_case, within
from test_groups import PREPS

import semlang

SUMMARIES = REFERENCE_DIR / "estimators" / "summaries"
CASES = sorted(p.stem for p in SUMMARIES.glob("*.txt"))
NUMBER = re.compile(r"^-?(\d+\.\d+|\d+|Inf|NA)$")
# labels whose numbers are χ² statistics or loglikelihoods (tolerance chisq / logl)
LARGE = ("Test statistic", "Test Statistic", "Loglikelihood", "Akaike", "Bayesian", "Sample-size")
SEMLANG_ONLY = ("Optimization method",)
SECTION_END = ("Latent Variables:", "Regressions:", "Covariances:", "Group 1 [", "Level 1 [")


@cache
def fitted(name: str):
    case = load_case(f"estimators/{name}")
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    if case.get("prep"):
        data = PREPS[case["prep"]](data)
    options = {k.replace(".", "_"): v for k, v in (case.get("options") or {}).items()}
    if case.get("seed") is not None:
        # the Bollen-Stine p-value of these cases is 0 (1000 draws in lavaan): 200 draws show it
        options |= {"seed": case["seed"], "bootstrap": min(options.get("bootstrap", 200), 200)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return getattr(semlang, case["fun"])(case["model"], data, **options)


def compared_lines(text: str) -> list[str]:
    """The lines from "Estimator" down to the parameter sections, right-stripped."""
    lines = [line.rstrip() for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Estimator"))
    end = next(
        i for i, line in enumerate(lines) if i > start and line.strip().startswith(SECTION_END)
    )
    # the optimizer is semlang's own: its line differs by design
    body = [line for line in lines[start:end] if not line.strip().startswith(SEMLANG_ONLY)]
    while body and not body[-1]:
        body.pop()
    return body


def _kind(line: str) -> str:
    label = line.strip()
    return "chisq" if label.startswith(LARGE) else "fit_index"


def layout(line: str) -> str:
    """The line with each number replaced by '#' where it ends (the columns lavaan aligns)."""
    return re.sub(r"(?<!\S)-?(\d+\.\d+|\d+|Inf|NA)(?!\S)", lambda m: "#".rjust(len(m[0])), line)


def compare_line(actual: str, expected: str, bootstrap: bool = False) -> str | None:
    """None when the lines match (words and layout exactly, numbers within tolerance), else why
    not."""
    a_tokens, e_tokens = actual.split(), expected.split()
    words = [NUMBER.sub("#", t) for t in a_tokens], [NUMBER.sub("#", t) for t in e_tokens]
    if words[0] != words[1]:
        return "words differ"
    if layout(actual) != layout(expected):
        return "layout differs"
    for a, e in zip(a_tokens, e_tokens, strict=True):
        if not NUMBER.match(e) or a == e:
            continue
        if e in ("NA", "Inf") or a in ("NA", "Inf"):
            return f"{a} != {e}"
        if bootstrap and "Bootstrap" in expected:
            if abs(float(a) - float(e)) > 0.03:
                return f"{a} != {e} (bootstrap)"
        elif "." not in e and a != e:
            return f"count {a} != {e}"
        elif not within(_kind(expected), float(a), float(e)):
            return f"{a} != {e}"
    return None


def differences(name: str) -> list[str]:
    expected = compared_lines((SUMMARIES / f"{name}.txt").read_text())
    actual = compared_lines(fitted(name).summary(fit_measures=True))
    out = []
    for k in range(max(len(actual), len(expected))):
        a = actual[k] if k < len(actual) else "<none>"
        e = expected[k] if k < len(expected) else "<none>"
        why = compare_line(a, e, bootstrap="bollen" in name)
        if why:
            out.append(f"line {k}: {why}\n  semlang: {a!r}\n  lavaan:  {e!r}")
    return out


@pytest.mark.parametrize("name", CASES)
def test_summary_matches_lavaan(name):
    problems = differences(name)
    assert not problems, "\n".join(problems[:8])


def test_the_comparison_can_fail():
    line = "  Test statistic                                85.306"
    assert compare_line(line, line) is None
    assert compare_line(line.replace("85.306", "85.320"), line) is None  # chisq tolerance
    assert compare_line(line.replace("85.306", "85.406"), line)
    assert compare_line("  RMSEA     0.093", "  RMSEA     0.092") is None
    assert compare_line("  RMSEA     0.095", "  RMSEA     0.092")
    assert compare_line("  P-value (Chi-square)   0.000", "  P-value (Unknown)   0.000")
    assert compare_line("  Degrees of freedom   24", "  Degrees of freedom   23")
    assert compare_line("  RMSEA      0.092", "  RMSEA     0.092") == "layout differs"
