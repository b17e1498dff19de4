"""Time semopy fitting the model of one lavaan reference case.

Input: a reference case (``tests/reference/<case>.json``) and the data directory. Output, on
stdout: ``<case> semopy_seconds_median <seconds> reps <n>``, the median wall time of one fit
(building the model, fitting, standard errors) timed inside this process, start-up excluded;
or ``<case> semopy_unsupported <reason>`` when semopy cannot fit the same model lavaan fits.

Usage: python semopy_seconds.py CASE.json DATA_DIR [--reps N] [--compare]

Runs under the Python that has semopy installed; it imports nothing from semlang.

semopy has no ``cfa()``/``sem()``/``growth()`` defaults of its own that coincide with lavaan's,
so the model is not translated from the model text but from lavaan's own parameter table (the
case's ``estimates``): every loading, regression, (co)variance and intercept lavaan has becomes
an explicit semopy statement, fixed parameters with their fixed value, free ones with a label
(lavaan's label where it has one, so equality labels stay shared). Free latent means get a
label and a start value, which semopy needs for them; loadings of a factor scaled by its
variance (std.lv) start at 1, as semopy's start of 0 is a saddle point it does not leave.
``cov_diag=True`` stops semopy from adding covariances of its own. Defined parameters (``:=``)
do not change the fit; ``--compare`` evaluates them on semopy's estimates.

What cannot be made equal, and is reported unsupported:

- multi-group models (``group``): semopy fits groups separately, without cross-group
  equality constraints (``group.equal``);
- two-level models (``cluster``, a ``level`` column): semopy has no two-level estimator;
- models with ``==``, ``<`` or ``>`` rows;
- non-lavaan files (mixed models, factor-score regression comparisons).

With ``missing = "fiml"`` the model is fit by semopy's ``ModelMeans`` (its ML objective is
casewise full-information ML). With ``estimator = "MLR"`` the estimates are ML and the standard
errors semopy's sandwich (``se_robust=True``); semopy computes no scaled test statistic.
semopy bounds variances below at 0, lavaan does not: a case where lavaan reports a negative
variance cannot match.

Known differences from lavaan (semopy 2.3.11, ``--compare``):

- ``Model`` (no mean structure) stops SLSQP early: estimates differ from lavaan's by up to
  about 1e-3 (HS CFA) and 0.03 (a residual variance of the Political Democracy SEM), and
  lavaan's estimates give a lower value of semopy's own objective. ``ModelMeans`` fits agree to
  about 1e-5.
- Robust SEs (``se_robust=True``) are not lavaan's MLR SEs (differences of 13-50%).
- The 25-item Big Five FIML model: ``ModelMeans`` stops far from lavaan's solution (a loading
  off by about 39) after several minutes.
- With more than one OpenBLAS thread, ``ModelMeans`` on ``bigfive_agree_equal`` converges to a
  wrong point (factor variance 115 instead of 0.57); with one thread it matches lavaan. Run
  this script with ``OPENBLAS_NUM_THREADS=1`` (``peers.py`` does).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import statistics
import sys
import time
from pathlib import Path

import pandas as pd


def unsupported_reason(case: dict) -> str | None:
    """Why semopy cannot fit this case's model as lavaan does, or None."""
    if "model" not in case or "estimates" not in case:
        return "not a lavaan fit"
    options = case.get("options") or {}
    if isinstance(options, dict) and "group" in options:
        return "multi-group model (semopy has no cross-group equality constraints)"
    if isinstance(options, dict) and "cluster" in options:
        return "two-level model (semopy has no two-level estimator)"
    for row in case["estimates"]:
        if "level" in row or "group" in row:
            return "multi-group or two-level parameter table"
        if row["op"] in ("==", "<", ">"):
            return "model with ==, <, > constraints"
    return None


def _is_fixed(row: dict) -> bool:
    return row["se"] == 0 and row["z"] is None


def _label(row: dict, counter: list[int]) -> str:
    """A semopy parameter name: lavaan's label (sanitised) or a fresh unique one."""
    if row.get("label"):
        return "lab_" + re.sub(r"\W", "_", row["label"])
    counter[0] += 1
    return f"par{counter[0]}"


def _term(row: dict, counter: list[int]) -> str:
    if _is_fixed(row):
        return f"{float(row['est'])!r}*"
    return f"{_label(row, counter)}*"


def semopy_description(case: dict) -> tuple[str, bool]:
    """semopy model text equivalent to lavaan's parameter table, and whether it has means."""
    rows = [r for r in case["estimates"] if r["op"] in ("=~", "~", "~~", "~1")]
    latents = {r["lhs"] for r in rows if r["op"] == "=~"}
    means = any(r["op"] == "~1" for r in rows)
    scaled_by_loading = {r["lhs"] for r in rows if r["op"] == "=~" and _is_fixed(r)}
    counter = [0]
    lines: list[str] = []
    starts: list[str] = []
    unit_starts: list[str] = []
    for r in rows:
        op, lhs, rhs = r["op"], r["lhs"], r["rhs"]
        if op == "=~":
            term = _term(r, counter)
            lines.append(f"{lhs} =~ {term}{rhs}")
            if lhs not in scaled_by_loading and not _is_fixed(r):
                unit_starts.append(term[:-1])
        elif op == "~":
            lines.append(f"{lhs} ~ {_term(r, counter)}{rhs}")
        elif op == "~~":
            lines.append(f"{lhs} ~~ {_term(r, counter)}{rhs}")
        elif lhs in latents:
            if _is_fixed(r) and r["est"] == 0:
                continue  # semopy's default for a latent mean
            term = _term(r, counter)
            lines.append(f"{lhs} ~ {term}1")
            if not _is_fixed(r):
                starts.append(term[:-1])
        else:
            lines.append(f"{lhs} ~ {_term(r, counter)}1")
    if starts:
        lines.append("start 0: " + " ".join(starts))
    if unit_starts:
        # semopy starts such loadings at 0, a saddle point it does not leave
        lines.append("start 1: " + " ".join(dict.fromkeys(unit_starts)))
    return "\n".join(lines), means


def _lavaan_option(case: dict, name: str):
    options = case.get("options") or {}
    return options.get(name) if isinstance(options, dict) else None


def prepare(case: dict, data_dir: Path):
    """(build-and-fit function, data) for the case; lavaan's listwise deletion without FIML."""
    import semopy

    desc, means = semopy_description(case)
    fiml = _lavaan_option(case, "missing") in ("fiml", "ml")
    robust = _lavaan_option(case, "estimator") == "MLR"
    data = pd.read_csv(data_dir / case["data"])
    observed = [c for c in data.columns if re.search(rf"(?<![\w.]){re.escape(c)}(?![\w.])", desc)]
    data = data[observed]
    if not fiml:
        data = data.dropna()

    def fit_once():
        if means or fiml:
            model = semopy.ModelMeans(desc, cov_diag=True)
            model.fit(data, obj="ML")
        else:
            model = semopy.Model(desc, cov_diag=True)
            model.fit(data, obj="MLW")
        return model, model.inspect(se_robust=robust)

    return fit_once


def seconds(fit_once, reps: int) -> float:
    """Median seconds of ``reps`` fits after a warm-up fit (imports, caches); a warm-up that
    takes more than 5 seconds is counted as the first rep, for models semopy fits slowly."""
    t0 = time.perf_counter()
    fit_once()
    first = time.perf_counter() - t0
    times = [first] if first > 5.0 else []
    while len(times) < reps:
        t0 = time.perf_counter()
        fit_once()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _key(row: dict) -> tuple[str, str, str]:
    op, lhs, rhs = row["op"], row["lhs"], row["rhs"]
    if op == "=~":
        return (rhs, "~", lhs)
    if op == "~1":
        return (lhs, "~", "1")
    return (lhs, op, rhs)


def compare(case: dict, table: pd.DataFrame) -> dict:
    """Largest differences semopy - lavaan in estimates and standard errors (free rows)."""
    est, se = {}, {}
    for _, r in table.iterrows():
        key = (str(r["lval"]), str(r["op"]), str(r["rval"]))
        est[key] = float(r["Estimate"])
        s = r["Std. Err"]
        se[key] = float(s) if s not in ("-", None) else None
        if key[1] == "~~":
            est[(key[2], "~~", key[0])], se[(key[2], "~~", key[0])] = est[key], se[key]
    labels = {}
    worst = {"est": (0.0, None), "se": (0.0, None), "se_rel": (0.0, None)}
    for row in case["estimates"]:
        if row["op"] == ":=":
            continue
        k = _key(row)
        if k not in est:
            continue
        if row.get("label"):
            labels[row["label"]] = est[k]
        name = f"{row['lhs']} {row['op']} {row['rhs']}"
        d = abs(est[k] - row["est"])
        if d > worst["est"][0]:
            worst["est"] = (d, name)
        if row["se"] and se.get(k) is not None:
            ds = abs(se[k] - row["se"])
            if ds > worst["se"][0]:
                worst["se"] = (ds, name)
            if ds / row["se"] > worst["se_rel"][0]:
                worst["se_rel"] = (ds / row["se"], name)
    defined = {}
    for row in case["estimates"]:
        if row["op"] == ":=":
            expr = row["rhs"].replace("^", "**")
            value = eval(expr, {"__builtins__": {}}, dict(labels, **defined))
            defined[row["lhs"]] = value
            d = abs(value - row["est"])
            if d > worst["est"][0]:
                worst["est"] = (d, f"{row['lhs']} :=")
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case_json", type=Path)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--compare", action="store_true", help="also compare with lavaan")
    args = parser.parse_args(argv)
    case = json.loads(args.case_json.read_text())
    name = case.get("name", args.case_json.stem)
    reason = unsupported_reason(case)
    if reason is not None:
        print(f"{name} semopy_unsupported {reason}")
        return 0
    logging.disable(logging.WARNING)  # semopy logs "No fixed loadings" for std.lv models
    try:
        import semopy  # noqa: F401
    except ImportError:
        print("semopy is not installed in this Python", file=sys.stderr)
        return 2
    fit_once = prepare(case, args.data_dir)
    if args.compare:
        _, table = fit_once()
        for what, (d, where) in compare(case, table).items():
            print(f"{name} max_abs_diff_{what} {d:.3g} at {where}")
    median = seconds(fit_once, args.reps)
    if not math.isfinite(median):
        return 1
    print(f"{name} semopy_seconds_median {median:.4f} reps {args.reps}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
