"""Fitting the categorical reference cases (tests/reference/categorical_fit) with semlang.

``fit_case(name, lavaan_stats=True)`` fits a case on lavaan's own sample statistics (its
wls.obs, gamma, and sampstat), so that the model side is checked apart from the sample
statistics; with ``lavaan_stats=False`` semlang computes them from the data.
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

import semlang

DIR = Path(__file__).parent / "reference" / "categorical_fit"


@cache
def load(name: str) -> dict:
    with open(DIR / f"{name}.json") as f:
        return json.load(f)


def case_data(case: dict) -> pd.DataFrame:
    """The data a case was fitted to (the cut CSVs, holes punched as its text says)."""
    name = case["data"]
    if name == "bfi":
        return semlang.datasets.load("bfi")
    base = pd.read_csv(DIR / ("hs_binary.csv" if name == "hs_binary" else "hs_cut3.csv"))
    if name == "hs_mixed":
        hs = semlang.datasets.load("HolzingerSwineford1939")
        for k in range(4, 10):
            base[f"x{k}"] = hs[f"x{k}"].to_numpy()
    if name == "hs_cut3_holes":
        i = np.arange(1, len(base) + 1)
        base.loc[i % 7 == 0, "x1"] = np.nan
        base.loc[i % 9 == 2, "x4"] = np.nan
        base.loc[i % 11 == 4, "x8"] = np.nan
        base.loc[(i % 13 == 1) & (i % 2 == 1), "x3"] = np.nan
    return base


def options(case: dict) -> dict:
    return {k.replace(".", "_"): v for k, v in case["options"].items()}


def _matrix(entry: dict) -> np.ndarray:
    return np.array(entry["values"], dtype=float)


def _per_group(value, labels):
    if isinstance(value, dict) and set(labels) <= set(value):
        return [value[label] for label in labels]
    return [value]


def lavaan_stats(case: dict, labels: list[str]):
    """lavaan's sample statistics of each group as CategoricalStats."""
    from semlang.estimate.categorical_family import CategoricalStats

    wls = _per_group(case["wls_obs"], labels)
    sampstat = _per_group(case["sampstat"], labels)
    gammas = case.get("gamma") or [None] * len(wls)
    if isinstance(gammas, dict) and "values" not in gammas:
        gammas = [gammas[label] for label in labels]
    diagonals = _per_group(case["wls_v_diag"], labels) if "wls_v_diag" in case else []
    nobs = case["nobs"] if isinstance(case["nobs"], list) else [case["nobs"]]
    out = []
    for k, (w, s) in enumerate(zip(wls, sampstat, strict=True)):
        gamma = _matrix(gammas[k]) if isinstance(gammas[k], dict) else None
        diag = diagonals[k] if diagonals else None
        if isinstance(diag, list) and diag and isinstance(diag[0], dict):
            diag = diag[0]
        if isinstance(diag, dict):
            diag = diag.get("values", diag)
        out.append(CategoricalStats(
            wls_obs=np.array(w["values"], dtype=float), gamma=gamma, nobs=int(nobs[k]),
            cov=_matrix(s["cov"] if "cov" in s else s["res.cov"]),  # (conditional on x)
            mean=np.array((s["mean"] if "mean" in s else s["res.int"])["values"], dtype=float),
            weight_diagonal=None if diag is None else np.array(diag, dtype=float),
        ))  # fmt: skip
    return out


def fit_case(name: str, lavaan_statistics: bool = True, model: str | None = None):
    case = load(name)
    data = case_data(case)
    opts = options(case)
    if not lavaan_statistics:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", semlang.SemlangWarning)
            return semlang.sem(model or case["model_text"], data, **opts)
    return _fit_on(case, data, opts, model or case["model_text"])


def _fit_on(case, data, opts, model):
    from semlang.compile.model import compile_model
    from semlang.estimate.categorical_options import prepare_categorical
    from semlang.estimate.data import group_labels, prepare
    from semlang.estimate.estimator import estimate
    from semlang.estimate.families import choose_family
    from semlang.options import default_fixed_x, make_fit_options, make_options, split_options
    from semlang.partable import build_partable
    from semlang.syntax.parser import parse

    model_options, fit_options, _ = split_options(opts)
    parsed = parse(model)
    mo = make_options("sem", **model_options)
    mo, frame, fit_options = prepare_categorical(mo, data, parsed, fit_options)
    mo = default_fixed_x(mo, fit_options.get("estimator"))
    labels = group_labels(frame, mo.group)
    table = build_partable(parsed, mo, ngroups=max(len(labels), 1), group_labels=labels or None)
    fo = make_fit_options(mo, 1, **fit_options)
    compiled = compile_model(table)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        sample = prepare(frame, table, mo)
    family = choose_family(table, fo)
    stats = lavaan_stats(case, list(labels) or ["1"])
    objective = family.objective(compiled, sample, fo, stats=stats)
    estimation = estimate(compiled, sample, fo, objective=objective)
    return family.fit_class(compiled, sample, fo, estimation)
