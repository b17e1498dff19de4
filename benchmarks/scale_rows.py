"""Rows at scale: complete data from 10^4 to 10^6 rows, factor scores of 10^6 rows, FIML per
missing-data pattern and the peak memory of FIML on 10^6 rows.

Input: simulated CFAs of p = 30 variables (6 correlated factors of 5 indicators; loadings 0.7,
factor correlations 0.3, unit variances), drawn with fixed seeds; under FIML 20% of the cells
are missing completely at random, so that nearly every row of a small sample has a pattern of
its own. Output, on stdout: median seconds per fit (sizes interleaved, so that both see the
same machine), the ratio of the two sizes, milliseconds per pattern, and the peak resident
memory of a FIML fit of 10^6 rows in a process of its own.

Usage: python benchmarks/scale_rows.py [--reps K] [--skip-million-fiml]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
import warnings

import _bench  # noqa: F401  (before numpy: one BLAS thread)
import numpy as np
import pandas as pd

import semlang

P = 30
PER_FACTOR = 5


def model_text(p: int = P) -> str:
    """``f1 =~ x1 + ... + x5`` and so on: p / 5 correlated factors."""
    return "\n".join(
        f"f{f + 1} =~ " + " + ".join(f"x{f * PER_FACTOR + j + 1}" for j in range(PER_FACTOR))
        for f in range(p // PER_FACTOR)
    )


def simulate(n: int, p: int = P, missing: float = 0.0, seed: int = 1) -> pd.DataFrame:
    """``n`` rows of the CFA of :func:`model_text`; ``missing``: the share of cells set
    missing completely at random."""
    rng = np.random.default_rng(seed)
    m = p // PER_FACTOR
    phi = np.full((m, m), 0.3) + 0.7 * np.eye(m)
    loadings = np.kron(np.eye(m), np.full((PER_FACTOR, 1), 0.7))
    factors = rng.standard_normal((n, m)) @ np.linalg.cholesky(phi).T
    values = factors @ loadings.T + rng.standard_normal((n, p)) * np.sqrt(1.0 - 0.49)
    if missing:
        values[rng.random(values.shape) < missing] = np.nan
    return pd.DataFrame(values, columns=[f"x{j + 1}" for j in range(p)])


def _interleaved(actions: dict, reps: int) -> dict[str, float]:
    """Median seconds of each action, the actions taking turns in every repetition."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(reps):
        for name, action in actions.items():
            start = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def rows(reps: int = 5) -> None:
    """Complete data: a fit of N = 10^4 and of N = 10^6 rows (ratio; goal ≤ 10), and the
    factor scores of the 10^6 rows."""
    compiled = semlang.compile_model(model_text(), "cfa")
    small, large = simulate(10_000, seed=1), simulate(1_000_000, seed=2)
    fits = {}

    def fit(name, data):
        fits[name] = semlang.fit(compiled, data)

    seconds = _interleaved(
        {"1e4": lambda: fit("1e4", small), "1e6": lambda: fit("1e6", large)}, reps
    )
    print(f"complete data p={P}: N=10^4 {seconds['1e4']:.4f} s, N=10^6 {seconds['1e6']:.4f} s, "
          f"ratio {seconds['1e6'] / seconds['1e4']:.1f} (goal <= 10)")  # fmt: skip
    scores = _interleaved({"predict": lambda: fits["1e6"].predict(data=large)}, max(1, reps // 2))
    print(f"factor scores of 10^6 rows (predict(data=...)): {scores['predict']:.3f} s")


def fiml(reps: int = 3) -> None:
    """FIML with (nearly) unique patterns: N = 1000 and N = 10^4, ms per pattern (goal ≤ 0.5)."""
    compiled = semlang.compile_model(model_text(), "cfa", missing="fiml")
    data = {n: simulate(n, missing=0.2, seed=3) for n in (1_000, 10_000)}
    counts = {n: _pattern_count(frame) for n, frame in data.items()}
    seconds = _interleaved({n: (lambda f=frame: semlang.fit(compiled, f))
                            for n, frame in data.items()}, reps)  # fmt: skip
    for n in data:
        per = 1e3 * seconds[n] / counts[n]
        print(f"FIML p={P} 20% MCAR N={n}: {counts[n]} patterns, {seconds[n]:.3f} s, "
              f"{per:.3f} ms per pattern (goal <= 0.5)")  # fmt: skip


def _pattern_count(frame: pd.DataFrame) -> int:
    return int(np.unique(frame.isna().to_numpy(), axis=0).shape[0])


def fiml_memory(n: int = 1_000_000) -> None:
    """The FIML fit of ``n`` rows in a process of its own: seconds and peak memory."""
    command = [sys.executable, __file__, "--memory-child", str(n)]
    print(subprocess.run(command, check=True, capture_output=True, text=True).stdout, end="")


def _memory_child(n: int) -> None:
    frame = simulate(n, missing=0.2, seed=4)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        fit = semlang.cfa(model_text(), frame, missing="fiml")
        chisq = fit.fit_measures()["chisq"]
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"FIML p={P} 20% MCAR N={n}: {fit.sample.missing_pattern_counts[0]} patterns, "
          f"{seconds:.0f} s, chisq {chisq:.2f}, peak memory {peak:.0f} MB "
          f"(data alone {before:.0f} MB; goal <= 4096 MB)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--skip-million-fiml", action="store_true")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        _memory_child(args.memory_child)
        return
    rows(args.reps)
    fiml(max(1, args.reps // 2))
    if not args.skip_million_fiml:
        fiml_memory()


if __name__ == "__main__":
    main()
