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
- ``rows``: complete data of p = 30 variables, N = 10^4 against 10^6 (ratio ≤ 10), and the
  factor scores of the 10^6 rows;
- ``fiml``: p = 30 with 20% of the cells missing completely at random (almost every row its own
  pattern): time per pattern at N = 1000 and 10^4 (≤ 0.5 ms), and the peak memory of N = 10^6
  (≤ 4 GB) in a child process;
- ``bootstrap``: measured by its own function;
- ``mlr``: the p = 200 CFA with ``estimator="MLR"`` (robust standard errors and the Yuan-Bentler
  scaled test) against ML: time(MLR) / time(ML) ≤ 3, and its peak memory (a child process)
  under 1 GB; MLM (Satorra-Bentler) timed beside it.

Usage: python benchmarks/scale.py [--only model,groups,rows,fiml,bootstrap] [--reps K]
       python benchmarks/scale.py --memory P [--estimator MLR]   (one fit at p = P; prints
           its time and peak memory)
       python benchmarks/scale.py --fiml-memory N   (one FIML fit of N rows)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
import warnings

import _bench  # (before numpy: one BLAS thread)
import numpy as np
import pandas as pd

import semlang

SEED = 20261207
LOADING, CORRELATION = 0.7, 0.3
WORKLOADS = ("model", "groups", "rows", "fiml", "bootstrap", "mlr")


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
    fit_model(cfa_text(30), fiml_case(300, rng), missing="fiml")  # (imports scipy: ≥ 100 rows)
    # the RMSEA intervals switch to scipy's non-central chi-square after a few fits, importing
    # scipy.special (~0.1 s) inside whichever timed fit comes next: import it here
    import scipy.special  # noqa: F401


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


def child_peak_mb(arguments: list[str]) -> float:
    """Run this script with ``arguments`` in a child process, show its output and return the peak
    memory it reports (its last ``peak <MB> MB``)."""
    done = subprocess.run(
        [sys.executable, __file__, *arguments], check=True, capture_output=True, text=True
    )
    print(done.stdout, end="")
    return float(re.findall(r"peak (\d+(?:\.\d+)?) MB", done.stdout)[-1])


def peak_memory_mb(p: int, estimator: str = "ML") -> float:
    """Peak resident memory of a child process that fits the p-variable CFA once (MB)."""
    return child_peak_mb(["--memory", str(p), "--estimator", estimator])


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
    """Rows: complete data (p = 30), N = 10^4 against 10^6 (ratio ≤ 10); the factor scores of
    the 10^6 rows (``predict(data=...)``, which should take as long as before)."""
    rng = np.random.default_rng(SEED + 2)
    text = cfa_text(30)
    cases = {n: cfa_data(30, n, rng) for n in (10_000, 1_000_000)}
    fits = {}

    def action(n):
        fits[n] = fit_model(text, cases[n])

    seconds = interleaved({n: (lambda n=n: action(n)) for n in cases}, reps)
    report("rows   time(N=10^6)/time(N=10^4)", seconds, 1_000_000, 10_000, 10)
    large = cases[1_000_000]
    scores = interleaved({"scores": lambda: fits[1_000_000].predict(data=large)}, reps)
    wall, cpu = scores["scores"]
    print(f"rows   factor scores of 10^6 rows: {wall:.3f} s wall, {cpu:.3f} s CPU")


def fiml_case(n: int, rng: np.random.Generator, missing: float = 0.2) -> pd.DataFrame:
    """n rows of the p = 30 CFA with ``missing`` of the cells missing completely at random."""
    frame = cfa_data(30, n, rng)
    values = frame.to_numpy(copy=True)
    values[rng.random(values.shape) < missing] = np.nan
    return pd.DataFrame(values, columns=frame.columns)


def fiml(reps: int) -> None:
    """FIML with (almost) unique missing-data patterns (p = 30, 20% MCAR): time per pattern at
    N = 1000 and 10^4 (≤ 0.5 ms), and the peak memory of N = 10^6 (≤ 4 GB) in a child process."""
    rng = np.random.default_rng(SEED + 3)
    cases = {n: fiml_case(n, rng) for n in (1_000, 10_000)}
    counts = {n: int(np.unique(frame.isna().to_numpy(), axis=0).shape[0])
              for n, frame in cases.items()}  # fmt: skip
    actions = {n: (lambda f=frame: fit_model(cfa_text(30), f, missing="fiml"))
               for n, frame in cases.items()}  # fmt: skip
    seconds = interleaved(actions, reps)
    for n, (wall, cpu) in seconds.items():
        per = 1e3 * cpu / counts[n]
        verdict = "met" if per <= 0.5 else "NOT met"
        print(f"fiml   N={n}: {counts[n]} patterns, {wall:.2f} s wall, {cpu:.2f} s CPU, "
              f"{1e3 * wall / counts[n]:.3f} ms wall and {per:.3f} ms CPU per pattern "
              f"(goal ≤ 0.5 ms: {verdict})")  # fmt: skip
    if reps:
        memory = child_peak_mb(["--fiml-memory", "1000000"])
        verdict = "met" if memory <= 4096 else "NOT met"
        print(f"fiml   peak memory of the N=10^6 fit {memory:.0f} MB (goal ≤ 4096 MB: {verdict})")


def fiml_memory_child(n: int) -> None:
    """One FIML fit of ``n`` rows (the peak-memory case): its patterns, seconds and χ²."""
    frame = fiml_case(n, np.random.default_rng(SEED + 4))
    wall, cpu = time.perf_counter(), time.process_time()
    fit = fit_model(cfa_text(30), frame, missing="fiml")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"fiml   N={n}: {fit.sample.missing_pattern_counts[0]} patterns, {wall:.0f} s wall, "
          f"{cpu:.0f} s CPU, peak {_bench.own_peak_mb():.0f} MB, "
          f"chisq {fit.fit_measures()['chisq']:.2f}")  # fmt: skip


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


def mlr(reps: int) -> None:
    """MLR at p = 200 (N = 1000): robust standard errors and the scaled test against ML's fit,
    time(MLR) / time(ML) ≤ 3, and the peak memory of the MLR fit in a child process < 1 GB
    (MLM, the Satorra-Bentler test with robust.sem standard errors, beside it)."""
    rng = np.random.default_rng(SEED)
    case = (cfa_text(200), cfa_data(200, 1000, rng))
    estimators = ("ML", "MLR", "MLM")
    actions = {est: (lambda e=est: fit_model(*case, estimator=e)) for est in estimators}
    seconds = interleaved(actions, reps)
    report("mlr    time(MLR)/time(ML) at p=200", seconds, "MLR", "ML", 3)
    (wall, cpu), (wall_ml, cpu_ml) = seconds["MLM"], seconds["ML"]
    print(f"mlr    MLM at p=200 (no goal): time(MLM)/time(ML) wall {wall / wall_ml:.1f}, "
          f"CPU {cpu / cpu_ml:.1f}; {wall:.3f} s wall, {cpu:.3f} s CPU")  # fmt: skip
    memory = peak_memory_mb(200, "MLR")
    verdict = "met" if memory < 1024 else "NOT met"
    print(f"mlr    peak memory of a p=200 MLR fit {memory:.0f} MB (goal < 1024 MB: {verdict})")


def memory_child(p: int, estimator: str = "ML") -> None:
    """One fit at p (the peak-memory case); prints its estimator, CPU seconds and χ²."""
    rng = np.random.default_rng(SEED)
    case = (cfa_text(p), cfa_data(p, 1000, rng))
    cpu = time.process_time()
    fit = fit_model(*case, estimator=estimator)
    cpu = time.process_time() - cpu
    peak = _bench.own_peak_mb()
    print(f"memory p={p} {estimator}: {cpu:.2f} s CPU, peak {peak:.0f} MB, "
          f"chisq {fit.fit_measures()['chisq']:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(WORKLOADS),
                        help="comma-separated workloads: " + ",".join(WORKLOADS))  # fmt: skip
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--memory", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--fiml-memory", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--estimator", default="ML", help="the --memory fit's estimator")
    args = parser.parse_args()
    if args.memory:
        memory_child(args.memory, args.estimator)
        return
    if args.fiml_memory:
        fiml_memory_child(args.fiml_memory)
        return
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {WORKLOADS}")
    workloads = {"model": model, "groups": groups, "rows": rows, "fiml": fiml,
                 "bootstrap": bootstrap, "mlr": mlr}  # fmt: skip
    for name in chosen:
        workloads[name](args.reps)


if __name__ == "__main__":
    main()
