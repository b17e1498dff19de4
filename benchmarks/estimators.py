"""Times every continuous-data estimator, test and standard-error type beside lavaan.

For each case of ``tests/reference/estimators/`` that lavaan fitted from a shipped data file as
it is (the cases with prepared data are left out): semlang's median seconds per fit of the
compiled model under the case's fit options (estimation, standard errors, every test and fit
measure), lavaan's median in the same run of the same work (``lavaan_seconds.R ... results``: the
fit, ``parameterEstimates()`` and ``fitMeasures()``; when ``Rscript`` is on PATH) and the ratio.
Then WLS (ADF) on 30 variables: 465 moments and a 465 x 465 weight matrix.

    python benchmarks/estimators.py [--reps 10] [--no-peers] [--match MLM]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from pathlib import Path

import _bench  # before numpy: one BLAS thread
import peers

import semlang
from semlang.options import FIT_OPTION_NAMES, Estimator

ESTIMATORS = _bench.REFERENCE / "estimators"
ADF_MODEL = "\n".join(
    f"f{k} =~ " + " + ".join(f"y{10 * (k - 1) + i}" for i in range(1, 11)) for k in (1, 2, 3)
)


def _options(case: dict) -> tuple[dict, dict]:
    """(model options, fit options) of a case, lavaan's names in snake_case."""
    model, fit = {}, {}
    for key, value in (case.get("options") or {}).items():
        name = key.replace(".", "_")
        (fit if name in FIT_OPTION_NAMES else model)[name] = value
    if "fixed_x" not in model and not Estimator(str(fit.get("estimator", "ML"))).is_likelihood:
        model["fixed_x"] = False  # lavaan's default for the least-squares estimators
    return model, fit


def cases(match: str | None) -> list[Path]:
    out = []
    for path in sorted(ESTIMATORS.glob("*.json")):
        case = json.loads(path.read_text())
        if "estimates" not in case or case.get("prep") or "bollen" in path.stem:
            continue
        if match and match not in path.stem:
            continue
        out.append(path)
    return out


def semlang_seconds(case: dict, reps: int) -> float:
    data = semlang.datasets.load(case["data"].removesuffix(".csv"))
    model_options, fit_options = _options(case)
    labels = None
    if model_options.get("group"):
        labels = tuple(str(v) for v in data[model_options["group"]].dropna().unique())
    compiled = semlang.compile_model(case["model"], case["fun"], group_labels=labels,
                                     **model_options)  # fmt: skip

    def fit_with_results() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = semlang.fit(compiled, data, **fit_options)
            fit.estimates()
            fit.fit_measures()

    return _bench.median_seconds(fit_with_results, reps)


def adf_case() -> dict:
    return {"name": "adf_p30", "fun": "cfa", "data": "large_cfa_p100.csv", "model": ADF_MODEL,
            "options": {"estimator": "WLS"}}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--match", default=None, help="only cases whose name contains this")
    args = parser.parse_args(argv)
    print("| case | semlang s | lavaan s | x lavaan |")
    print("| --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        adf = Path(tmp) / "adf_p30.json"
        adf.write_text(json.dumps(adf_case()))
        for path in [*cases(args.match), adf]:
            case = json.loads(path.read_text())
            try:
                ours = semlang_seconds(case, args.reps)
            except semlang.SemlangError as error:
                print(f"| {case['name']} | {error.message} | - | - |", flush=True)
                continue
            theirs = None
            if not args.no_peers:
                theirs = peers.lavaan_seconds(path, _bench.DATA, reps=max(3, args.reps // 2),
                                              with_results=True)  # fmt: skip
            ratio = f"{theirs / ours:.1f}" if theirs else "-"
            lavaan = f"{theirs:.4f}" if theirs else "-"
            print(f"| {case['name']} | {ours:.4f} | {lavaan} | {ratio} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
