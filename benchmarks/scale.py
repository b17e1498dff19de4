"""How the cost grows with the model, the rows, the groups and the workers (the scale goals).

Input: simulated data with a fixed seed — CFAs with 5 indicators per factor and correlated
factors (loadings 0.7, factor correlations 0.3, residual variances 0.51), N = 1000 unless said.
Output, on stdout: for each workload the median wall time of its sizes, measured in one run, and
the ratio its goal is stated in (the goal beside it):

- ``model``: p = 100, 200, 300 with standard errors and fit measures; time(300) / time(100)
  ≤ 27, p = 300 under 5 s, and the peak memory of a p = 300 fit (a child process's maximum
  resident set) under 1 GB;
- ``groups``: a p = 12 CFA, 200 rows per group, loadings and intercepts equal across groups;
  time(50 groups) / time(2 groups) ≤ 37;
- ``rows``, ``fiml``, ``bootstrap``: measured by their own functions.

Usage: python benchmarks/scale.py [--only model,groups,rows,fiml,bootstrap] [--reps K]
       python benchmarks/scale.py --memory P   (one fit at p = P; prints its peak memory)
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
import warnings

import _bench  # noqa: F401  (before numpy: one BLAS thread)
import numpy as np
import pandas as pd

import semlang

SEED = 20261207
LOADING, CORRELATION = 0.7, 0.3
WORKLOADS = ("model", "groups", "rows", "fiml", "bootstrap")


def cfa_text(p: int, per_factor: int = 5) -> str:
    """``f1 =~ x1 + ... + x5`` ... for p indicators (``sem()``'s defaults correlate the factors)."""
    lines = []
    for k in range(p // per_factor):
        items = " + ".join(f"x{k * per_factor + j + 1}" for j in range(per_factor))
        lines.append(f"f{k + 1} =~ {items}")
    return "\n".join(lines)


def cfa_data(p: int, n: int, rng: np.random.Generator, per_factor: int = 5, shift: float = 0.0):
    """n rows of the population CFA of :func:`cfa_text` (its means ``shift``)."""
    factors = p // per_factor
    phi = np.full((factors, factors), CORRELATION) + (1.0 - CORRELATION) * np.eye(factors)
    eta = rng.standard_normal((n, factors)) @ np.linalg.cholesky(phi).T
    values = np.repeat(eta, per_factor, axis=1) * LOADING
    values += rng.standard_normal((n, p)) * np.sqrt(1.0 - LOADING**2) + shift
    return pd.DataFrame(values, columns=[f"x{j + 1}" for j in range(p)])


def fit_model(text: str, data: pd.DataFrame, **options):
    """A whole fit as a user runs it: estimates with standard errors and the fit measures."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semlang.SemlangWarning)
        fit = semlang.cfa(text, data, **options)
        fit.estimates()
        fit.fit_measures()
    return fit


def warm_up() -> None:
    """One small fit of each kind first, so that imports and first-call costs are not timed."""
    rng = np.random.default_rng(SEED - 1)
    fit_model(*groups_case(2, rng), group="group", group_equal=["loadings", "intercepts"])
    fit_model(cfa_text(10), cfa_data(10, 200, rng))


def interleaved(actions: dict, reps: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each action, the actions taking turns (so that load hits
    them alike). On a busy machine the CPU time of this one-thread process is the steadier."""
    warm_up()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in actions}
    for _ in range(reps):
        for name, action in actions.items():
            wall, cpu = time.perf_counter(), time.process_time()
            action()
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {name: tuple(np.median(np.array(values), axis=0)) for name, values in times.items()}


def report(name: str, seconds: dict, large, small, goal: float) -> None:
    """The ratio of two sizes' times, wall and CPU, against its goal."""
    for k, kind in enumerate(("wall", "CPU")):
        ratio = seconds[large][k] / seconds[small][k]
        verdict = "met" if ratio <= goal else "NOT met"
        sizes = ", ".join(f"{size}: {value[k]:.3f} s" for size, value in seconds.items())
        print(f"{name} {kind}: ratio {ratio:.1f} (goal ≤ {goal:g}: {verdict}); {sizes}")


def peak_memory_mb(p: int) -> float:
    """Maximum resident set of a child process that fits the p-variable CFA once (MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, __file__, "--memory", str(p)], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(after, before) / 1024.0  # Linux reports kB


def model(reps: int) -> None:
    """Model size: p = 100, 200, 300 (N = 1000) with standard errors and fit measures."""
    rng = np.random.default_rng(SEED)
    sizes = (100, 200, 300)
    cases = {p: (cfa_text(p), cfa_data(p, 1000, rng)) for p in sizes}
    actions = {p: (lambda c=cases[p]: fit_model(*c)) for p in sizes}
    seconds = interleaved(actions, reps)
    report("model  time(p=300)/time(p=100)", seconds, 300, 100, 27)
    wall, cpu = seconds[300]
    verdict = "met" if wall < 5 else "NOT met"
    print(f"model  p=300 {wall:.2f} s wall, {cpu:.2f} s CPU (goal < 5 s: {verdict})")
    memory = peak_memory_mb(300)
    verdict = "met" if memory < 1024 else "NOT met"
    print(f"model  peak memory of a p=300 fit {memory:.0f} MB (goal < 1024 MB: {verdict})")


def groups_case(groups: int, rng: np.random.Generator):
    """A p = 12 CFA (3 factors) in ``groups`` groups of 200 rows, each group's means shifted
    by a normal draw (standard deviation 0.2)."""
    frames = []
    for g in range(groups):
        frame = cfa_data(12, 200, rng, per_factor=4, shift=rng.normal(0.0, 0.2))
        frame["group"] = g + 1
        frames.append(frame)
    return cfa_text(12, per_factor=4), pd.concat(frames, ignore_index=True)


def groups(reps: int) -> None:
    """Groups: 2 against 50 groups, loadings and intercepts equal across groups."""
    rng = np.random.default_rng(SEED + 1)
    options = {"group": "group", "group_equal": ["loadings", "intercepts"]}
    cases = {g: groups_case(g, rng) for g in (2, 50)}
    actions = {g: (lambda c=cases[g]: fit_model(*c, **options)) for g in (2, 50)}
    seconds = interleaved(actions, reps)
    report("groups time(50)/time(2)", seconds, 50, 2, 37)


def rows(reps: int) -> None:
    """Rows: complete data, N = 10^4 against 10^6."""
    print("rows: not measured here")


def fiml(reps: int) -> None:
    """FIML with (almost) unique missing-data patterns: time per pattern and peak memory."""
    print("fiml: not measured here")


def bootstrap(reps: int) -> None:
    """Parallel bootstrap: 1000 draws of the HS CFA on 2 processes against serial, the two
    alternating (``benchmarks/bootstrap.py``); the goal: at most 0.65 of the serial time on a
    quiet machine, at most 1 on a busy one (the load average says which it was)."""
    from bootstrap import compare

    out = compare(draws=1000, jobs=2, repeats=reps)
    busy = out["load_before"] > 1.0
    goal = 1.0 if busy else 0.65
    verdict = "met" if out["ratio"] <= goal else "NOT met"
    shown = ", ".join(f"{r:.2f}" for r in out["ratios"])
    print(f"bootstrap wall: 2 processes / serial {out['ratio']:.2f} (goal ≤ {goal:g} on a "
          f"{'busy' if busy else 'quiet'} machine, load average {out['load_before']:.1f} -> "
          f"{out['load_after']:.1f}: {verdict}); serial {out['wall']['serial']:.2f} s, "
          f"2 processes {out['wall']['processes']:.2f} s; repeats {shown}; CPU-bound figure "
          f"for idle cores {out['idle_ratio']:.2f}; same draws: {out['same_draws']}")  # fmt: skip


def memory_child(p: int) -> None:
    rng = np.random.default_rng(SEED)
    fit_model(cfa_text(p), cfa_data(p, 1000, rng))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(WORKLOADS),
                        help="comma-separated workloads: " + ",".join(WORKLOADS))  # fmt: skip
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--memory", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory:
        memory_child(args.memory)
        return
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {WORKLOADS}")
    workloads = {"model": model, "groups": groups, "rows": rows, "fiml": fiml,
                 "bootstrap": bootstrap}  # fmt: skip
    for name in chosen:
        workloads[name](args.reps)


if __name__ == "__main__":
    main()
