"""Reference results (lavaan 0.6.14, lme4) and the tolerances that count as a match.

The tolerances are those of ``tests/reference/README.md``; every comparison against a reference
goes through :func:`assert_matches` so the rule lives in one place.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).parent / "reference"

# kind -> (absolute, relative): |actual - ref| <= absolute + relative * |ref|
TOLERANCES = {
    "est": (2e-4, 1e-3),
    "std_all": (2e-4, 1e-3),
    "se": (1e-4, 5e-3),
    "chisq": (0.02, 1e-5),
    "logl": (0.02, 1e-5),
    "fit_index": (1e-3, 0.0),
    "score": (1e-3, 0.0),
    "exact": (0.0, 0.0),
    "scaling": (1e-4, 1e-3),  # scaling factors, shift parameters, traces, fractional df
    # standardizedSolution() standard errors of a rotated model: lavaan differentiates through
    # the rotation by forward differences (step 0.001) of a GPA solved to 1e-5, which carries
    # numerical noise of about 1% (the same steps from an equally good rotation differ by that)
    "se_std_rotated": (2e-3, 0.03),
}

FIT_MEASURE_KIND = {
    "npar": "exact",
    "df": "exact",
    "baseline_df": "exact",
    "chisq": "chisq",
    "baseline_chisq": "chisq",
    "chisq_scaled": "chisq",
    "logl": "logl",
    "unrestricted_logl": "logl",
    "aic": "logl",
    "bic": "logl",
    "cfi": "fit_index",
    "tli": "fit_index",
    "rmsea": "fit_index",
    "rmsea_ci_lower": "fit_index",
    "rmsea_ci_upper": "fit_index",
    "rmsea_pvalue": "fit_index",
    "srmr": "fit_index",
    "pvalue": "fit_index",
    "scaling_factor": "fit_index",
}


# the single-level lavaan cases of the issue "Compile and fit" (and the groups / FIML issue)
SINGLE_LEVEL_CASES = (
    "bigfive_agree_equal",
    "hs_cfa",
    "hs_cfa_stdlv",
    "poldem_sem",
    "poldem_mediation",
    "growth_linear",
    "micro_macro_sem",
    "large_cfa_p100",
    "hs_multigroup",
    "bfi_5factor_fiml",
)


@cache
def load_case(name: str) -> dict:
    """One reference file (``tests/reference/<name>.json``) as a dict."""
    with open(REFERENCE_DIR / f"{name}.json") as f:
        return json.load(f)


def case_names(kind: str = "lavaan") -> list[str]:
    """The lavaan cases (files with ``estimates``), sorted."""
    out = []
    for file in sorted(REFERENCE_DIR.glob("*.json")):
        data = load_case(file.stem)
        if "estimates" in data:
            out.append(file.stem)
    return out


def within(kind: str, actual: float, reference: float) -> bool:
    absolute, relative = TOLERANCES[kind]
    if reference is None:
        return actual is None or (isinstance(actual, float) and math.isnan(actual))
    if actual is None or math.isnan(actual):
        return False
    return abs(actual - reference) <= absolute + relative * abs(reference) + 1e-12


def row_key(row: dict) -> tuple:
    """A parameterEstimates() row's identity: lhs, op, rhs and its group (0 for the ``:=`` and
    constraint rows, which belong to no group)."""
    group = 0 if row["op"] in (":=", "==", "<", ">") else row.get("group") or 1
    return row["lhs"], row["op"], row["rhs"], group


def assert_matches(kind: str, actual: float, reference: float, what: str = "") -> None:
    """Fail with both numbers and the tolerance when ``actual`` does not match ``reference``."""
    if not within(kind, actual, reference):
        absolute, relative = TOLERANCES[kind]
        raise AssertionError(
            f"{what}: {actual!r} differs from reference {reference!r} "
            f"(tolerance {absolute} + {relative} * |ref|, kind {kind})"
        )


def fit_measures(name: str) -> dict:
    """The case's fit measures under semlang's names ('.' -> '_')."""
    return {k.replace(".", "_"): v for k, v in load_case(name)["fit_measures"].items()}


def fit_reference(name: str, model: str | None = None):
    """Fit a reference case with semlang as lavaan fitted it (function, data, options)."""
    import warnings

    import semlang

    case = load_case(name)
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    if case.get("prep") and "grade" in case["prep"]:
        data = data[data["grade"].notna()]
    options = {k.replace(".", "_"): v for k, v in (case.get("options") or {}).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        return getattr(semlang, case["fun"])(model or case["model"], data, **options)
