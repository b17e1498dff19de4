"""A CFA with loadings fixed to 1 and equal residual variances is a random-intercept mixed model.

Fits the Big Five agreeableness items both ways — as a CFA in wide format with semlang, and as
``value ~ -1 + item + (1 | person)`` in long format with statsmodels' MixedLM (when statsmodels
is installed) — and prints the variance components, intercepts, log-likelihoods and, side by
side, the CFA's regression factor scores and the mixed model's BLUPs.

Run: python examples/cfa_mixed_equivalence/run.py
"""

from __future__ import annotations

import warnings

import semlang
from semlang.data import lengthen
from semlang.models import random_intercept

SHOWN = [0, 1, 2, 3, 4, 5, 2703, 2704, 2705, 2706, 2707, 2708]


def mixed_model(wide):
    """statsmodels' MixedLM on the long data, or None without statsmodels."""
    try:
        import statsmodels.formula.api as smf
    except ImportError:
        return None
    long = lengthen(wide, items=list(wide.columns), id="person", item="item", value="value")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = smf.mixedlm("value ~ 0 + C(item)", long, groups=long["person"]).fit(reml=False)
    blups = [fitted.random_effects[k].iloc[0] for k in sorted(fitted.random_effects)]
    return {
        "person": float(fitted.cov_re.iloc[0, 0]),
        "residual": float(fitted.scale),
        "intercepts": [float(v) for v in fitted.fe_params],
        "logl": float(fitted.llf),
        "blups": blups,
    }


def main() -> str:
    wide = semlang.datasets.load("bigfive_agree")
    model = random_intercept(list(wide.columns), latent="agree")
    fit = semlang.cfa(model, wide, meanstructure=True)
    est = fit.estimates()
    cfa = {
        "person": float(est.query("lhs == 'agree' and op == '~~'").est.iloc[0]),
        "residual": float(est.query("lhs == 'A1' and op == '~~'").est.iloc[0]),
        "intercepts": list(est.query("op == '~1' and lhs != 'agree'").est),
        "logl": fit.fit_measures()["logl"],
        "blups": list(fit.predict()["agree"]),
    }
    mixed = mixed_model(wide)
    lines = ["The model string:", "", *("    " + line for line in model.strip().splitlines()), ""]
    header = f"{'':28s}{'CFA (semlang)':>15s}{'mixed model':>15s}"
    lines += [header, "-" * len(header)]

    def row(name, ours, theirs):
        other = f"{theirs:15.3f}" if theirs is not None else f"{'(statsmodels?)':>15s}"
        lines.append(f"{name:28s}{ours:15.3f}{other}")

    row("person variance", cfa["person"], mixed and mixed["person"])
    row("residual variance", cfa["residual"], mixed and mixed["residual"])
    for k, value in enumerate(cfa["intercepts"]):
        row(f"intercept A{k + 1}", value, mixed and mixed["intercepts"][k])
    row("log-likelihood", cfa["logl"], mixed and mixed["logl"])
    lines += ["", f"{'person':>8s}{'factor score':>15s}{'BLUP':>15s}"]
    for k in SHOWN:
        theirs = f"{mixed['blups'][k]:15.3f}" if mixed else f"{'':15s}"
        lines.append(f"{k + 1:8d}{cfa['blups'][k]:15.3f}{theirs}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
