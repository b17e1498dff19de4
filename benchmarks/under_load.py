"""The reference cases on an idle machine and beside busy processes, through the API and the CLI.

Unlike the other scripts this one does not set BLAS threads: the API is timed in a child process
whose environment has no thread variables (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS
removed), as a user gets it, and beside it a child with the one-thread environment the ``semlang``
command sets for itself. Each child prints the median seconds per fit of every reference case (a
compiled model fitted, with estimates and fit measures); the two children run in turn,
``--rounds`` times. Then the whole ``semlang fit`` command and a fresh interpreter's
``semlang.cfa()`` are timed in turn on the Holzinger-Swineford CFA.

Both are run idle, then with ``--busy`` CPU-burning processes per core running. Printed: the
seconds, busy / idle (goal: at most 1.5) and API / CLI (goal: at most 1).

Where the burners run matters. Linux shares the CPU between sessions before it shares it between
the processes of a session (the autogroup scheduler, on when
``/proc/sys/kernel/sched_autogroup_enabled`` is 1, and cgroups, which systemd gives each login
and service): other work a user runs (a build with four jobs in another terminal, a service)
lives in another session, and the session running semlang keeps about its share of the cores
however many processes the other runs. ``--burners-session own`` (the default) starts all the
burners in one session of their own, as such other work runs; ``each`` starts every burner in a
session of its own (as many other sessions as burners, so the timed process gets one share in
five: 2.5 times the idle time at best with four burners on two cores); ``same`` starts them in
this script's session, where a single-threaded fit competes with every burner one to one (the
same 2.5 at best); ``all`` runs the three placements one after the other.

    python benchmarks/under_load.py [--reps 5] [--rounds 3] [--busy 2]
        [--burners-session own|each|same|all] [--cases hs_cfa poldem_sem]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REFERENCE = ROOT / "tests" / "reference"
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
BURN = "while True:\n    pass\n"


def environment(one_thread: bool) -> dict[str, str]:
    """This process's environment without thread variables, or with the CLI's one thread."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    if one_thread:
        env.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def case_names() -> list[str]:
    return sorted(
        p.stem
        for p in REFERENCE.glob("*.json")
        if "estimates" in json.loads(p.read_text()) and "model" in json.loads(p.read_text())
    )


def child(cases: list[str], reps: int) -> None:
    """(In a child process) median seconds per fit of each case, as JSON on stdout."""
    import semlang
    from semlang.options import FIT_OPTION_NAMES

    warnings.simplefilter("ignore")
    out = {}
    for name in cases:
        case = json.loads((REFERENCE / f"{name}.json").read_text())
        data = semlang.datasets.load(case["data"].removesuffix(".csv"))
        model, fit = {}, {}
        for key, value in (case.get("options") or {}).items():
            key = key.replace(".", "_")
            (fit if key in FIT_OPTION_NAMES else model)[key] = value
        labels = None
        if model.get("group"):
            labels = tuple(str(v) for v in data[model["group"]].dropna().unique())
        compiled = semlang.compile_model(case["model"], case["fun"], group_labels=labels, **model)
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            result = semlang.fit(compiled, data, **fit)
            result.estimates()
            result.fit_measures()
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times)
    print(json.dumps(out))


def per_fit(cases: list[str], reps: int, one_thread: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", "--reps", str(reps), "--cases", *cases]
    done = subprocess.run(
        command, env=environment(one_thread), capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def whole_process(command: list[str], one_thread: bool) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=environment(one_thread), capture_output=True, check=True)
    return time.perf_counter() - start


def processes(model_path: Path, reps: int) -> dict[str, float]:
    """Whole-process seconds (medians, the two commands alternating): ``semlang fit`` and a
    fresh interpreter's ``semlang.cfa()``."""
    data = ROOT / "semlang" / "datasets" / "HolzingerSwineford1939.csv"
    cli = [sys.executable, "-m", "semlang.cli", "fit", str(model_path), str(data), "--cfa"]
    api = [
        sys.executable,
        "-c",
        f"import semlang; semlang.cfa(open({str(model_path)!r}).read(), "
        "semlang.datasets.load('HolzingerSwineford1939')).estimates()",
    ]
    times: dict[str, list[float]] = {"CLI semlang fit": [], "API semlang.cfa()": []}
    for _ in range(reps):
        times["CLI semlang fit"].append(whole_process(cli, False))
        times["API semlang.cfa()"].append(whole_process(api, False))
    return {name: statistics.median(seconds) for name, seconds in times.items()}


def measure(
    cases: list[str], reps: int, rounds: int, model_path: Path, phase: str
) -> dict[str, dict]:
    """The API's and the CLI's children in turn, ``rounds`` times (so that a change in the
    machine's other load falls on both), the median of each case over the rounds."""
    api, cli = [], []
    for _ in range(rounds):
        api.append(per_fit(cases, reps, one_thread=False))
        cli.append(per_fit(cases, reps, one_thread=True))
    out = {
        "api": {name: statistics.median(r[name] for r in api) for name in cases},
        "cli": {name: statistics.median(r[name] for r in cli) for name in cases},
        "process": processes(model_path, max(reps // 2, 3)),
    }
    load = os.getloadavg()[0]
    print(
        f"{phase} (load average {load:.1f}): {json.dumps(out)}", flush=True
    )  # kept should a later phase not finish
    return out


PLACEMENTS = {
    "own": "burners in one session of their own (other work, as a build with several jobs in "
    "another terminal)",
    "each": "every burner in a session of its own (as many other sessions as burners)",
    "same": "burners in this script's session (competing one to one with the timed process)",
}
# One session leader starting the burners, which stay in its session and process group.
LAUNCH = (
    "import subprocess, sys\n"
    "burners = [subprocess.Popen([sys.executable, '-c', {burn!r}]) for _ in range({count})]\n"
    "for burner in burners:\n"
    "    burner.wait()\n"
)


def start_burners(count: int, placement: str) -> list[subprocess.Popen]:
    """The burning processes (for ``own``: their session leader, whose group holds them)."""
    if placement == "own":
        code = LAUNCH.format(burn=BURN, count=count)
        return [subprocess.Popen([sys.executable, "-c", code], start_new_session=True)]
    return [
        subprocess.Popen([sys.executable, "-c", BURN], start_new_session=placement == "each")
        for _ in range(count)
    ]


def stop(burners: list[subprocess.Popen], placement: str) -> None:
    for process in burners:
        if placement == "own":
            os.killpg(process.pid, signal.SIGKILL)  # the leader and the burners it started
        else:
            process.kill()
    for process in burners:
        process.wait()


def report(idle: dict, busy: dict) -> None:
    header = (
        f"{'case':22s} {'API idle':>9s} {'API busy':>9s} {'busy/idle':>9s} "
        f"{'CLI idle':>9s} {'CLI busy':>9s} {'busy/idle':>9s} {'API/CLI idle':>12s} "
        f"{'API/CLI busy':>12s}"
    )
    print(header)
    print("-" * len(header))
    rows = [(name, idle["api"][name], busy["api"][name]) for name in idle["api"]]
    for name, api_idle, api_busy in rows:
        cli_idle, cli_busy = idle["cli"][name], busy["cli"][name]
        print(
            f"{name:22s} {api_idle:9.4f} {api_busy:9.4f} {api_busy / api_idle:9.2f} "
            f"{cli_idle:9.4f} {cli_busy:9.4f} {cli_busy / cli_idle:9.2f} "
            f"{api_idle / cli_idle:12.2f} {api_busy / cli_busy:12.2f}"
        )
    sums = [sum(phase[kind].values()) for phase in (idle, busy) for kind in ("api", "cli")]
    print(
        f"{'all cases':22s} {sums[0]:9.4f} {sums[2]:9.4f} {sums[2] / sums[0]:9.2f} "
        f"{sums[1]:9.4f} {sums[3]:9.4f} {sums[3] / sums[1]:9.2f} {sums[0] / sums[1]:12.2f} "
        f"{sums[2] / sums[3]:12.2f}"
    )
    print("\nWhole process, Holzinger-Swineford CFA (seconds):")
    for name in idle["process"]:
        first, second = idle["process"][name], busy["process"][name]
        print(
            f"  {name:20s} idle {first:6.3f}  busy {second:6.3f}  busy/idle {second / first:5.2f}"
        )
    api, cli = "API semlang.cfa()", "CLI semlang fit"
    print(
        f"  {'API / CLI':20s} idle {idle['process'][api] / idle['process'][cli]:6.2f}  "
        f"busy {busy['process'][api] / busy['process'][cli]:6.2f}  (goal: at most 1)"
    )


def summary(idle: dict, busy: dict[str, dict]) -> None:
    """One line per placement: the goals' ratios over all cases."""
    print("\nSummary (goals: busy / idle at most 1.5, API / CLI at most 1):")
    for placement, phase in busy.items():
        api = sum(phase["api"].values()) / sum(idle["api"].values())
        cli = sum(phase["cli"].values()) / sum(idle["cli"].values())
        ratio = sum(phase["api"].values()) / sum(phase["cli"].values())
        print(
            f"  burners {placement:4s}: all cases busy/idle API {api:.2f}, CLI {cli:.2f}; "
            f"API/CLI busy {ratio:.2f}; {PLACEMENTS[placement]}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="fits per case in each child")
    parser.add_argument("--rounds", type=int, default=3, help="API and CLI children in turn")
    parser.add_argument("--busy", type=int, default=2, help="busy processes per core")
    parser.add_argument(
        "--burners-session",
        choices=("own", "each", "same", "all"),
        default="own",
        help="start the burners in one session of their own (as other work runs), each in a "
        "session of its own, in this script's session, or all three one after the other",
    )
    parser.add_argument("--cases", nargs="*", default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    cases = args.cases or case_names()
    if args.child:
        child(cases, args.reps)
        return
    cores = os.cpu_count() or 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the burners when stopped
    model_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"under_load_hs_{os.getpid()}.sem"
    model_path.write_text(HS_MODEL)
    placements = tuple(PLACEMENTS) if args.burners_session == "all" else (args.burners_session,)
    busy = {}
    try:
        idle = measure(cases, args.reps, args.rounds, model_path, "idle")
        for placement in placements:
            burners = start_burners(args.busy * cores, placement)
            try:
                time.sleep(1.0)
                busy[placement] = measure(
                    cases, args.reps, args.rounds, model_path, f"busy ({placement})"
                )
            finally:
                stop(burners, placement)
    finally:
        model_path.unlink()
    autogroup = Path("/proc/sys/kernel/sched_autogroup_enabled")
    shared = autogroup.read_text().strip() if autogroup.exists() else "absent"
    print(
        f"\n{cores} cores; busy: {args.busy * cores} CPU-burning processes; "
        f"sched_autogroup_enabled: {shared}"
    )
    for placement in placements:
        print(f"\nBusy with the {PLACEMENTS[placement]}:\n")
        report(idle, busy[placement])
    summary(idle, busy)


if __name__ == "__main__":
    main()
