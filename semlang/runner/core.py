"""Run many independent replications (bootstrap draws, simulation-study replications).

Input: a task ``task(index, rng) -> dict``, the number of replications and a seed. Output:
:class:`~semlang.runner.results.ReplicationResults`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import closing
from typing import Any

from semlang.errors import OptionError
from semlang.runner.backends import (
    ExecutorKind,
    check_n_jobs,
    chunked,
    default_chunk_size,
    executor_kind,
    guided_chunks,
    open_backend,
)
from semlang.runner.progress import ProgressBar, wanted
from semlang.runner.results import ReplicationResults
from semlang.runner.seeds import SeedLike, SeedPlan, make_plan
from semlang.runner.stopping import Interrupted, signal_of
from semlang.runner.store import ResultsFile, open_results
from semlang.runner.worker import Task


def _check_count(name: str, value: Any, minimum: int, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise OptionError(f"{name} must be an integer of at least {minimum}, not {value!r}")


def _check_arguments(task: Any, n: Any, max_attempts: Any, chunk_size: Any, label: Any) -> None:
    """Refuse arguments of the wrong kind before anything runs."""
    if not callable(task):
        raise OptionError(f"task must be callable as task(index, rng), not {task!r}")
    _check_count("n", n, 0)
    _check_count("max_attempts", max_attempts, 1)
    _check_count("chunk_size", chunk_size, 1, allow_none=True)
    if not isinstance(label, str):
        raise OptionError(f"label must be a string, not {label!r}")


def _identity(plan: SeedPlan, n: int, label: str, run_key: Any) -> dict:
    if run_key is not None and not isinstance(run_key, str | dict):
        raise OptionError(f"run_key must be a string or a dict, not {type(run_key).__name__}")
    try:
        json.dumps(run_key)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"run_key must hold plain JSON values: {exc}") from exc
    return {
        "seed": plan.identity(),
        "n": n,
        "label": label,
        "run_key": run_key,
        "max_attempts": plan.max_attempts,
    }


def _start_bar(
    progress: bool | None, n: int, done: int, records: list[dict], label: str
) -> ProgressBar | None:
    """A progress bar on stderr, drawn at once, if one is wanted."""
    if not wanted(progress, sys.stderr):
        return None
    bar = ProgressBar(n, done, label, sys.stderr)
    bar.update(done, sum(record["status"] != "ok" for record in records), force=True)
    return bar


def _run_pending(
    task: Task,
    plan: SeedPlan,
    pending: list[int],
    records: list[dict],
    options: dict[str, Any],
    bar: ProgressBar | None,
    store: ResultsFile | None,
) -> None:
    """Run the pending replications, appending their records to ``records`` (and the file)."""
    if not pending:
        return
    done = sum(bool(record.get("final")) for record in records)
    failures = sum(record["status"] != "ok" for record in records)
    with open_backend(options["executor"], options["n_jobs"]) as backend:
        size = options["chunk_size"]
        kept = store is not None
        if size is None and backend.kind is ExecutorKind.PROCESSES:
            chunks = guided_chunks(pending, backend.workers, kept)
        else:
            size = size or default_chunk_size(len(pending), backend.workers, backend.kind, kept)
            chunks = chunked(pending, size)
        batches = backend.batches(task, plan, chunks, options["label"])
        with closing(batches):
            for batch in batches:
                if store is not None:
                    store.append(batch)
                records.extend(batch)
                done += sum(bool(record.get("final")) for record in batch)
                failures += sum(record["status"] != "ok" for record in batch)
                if bar is not None:
                    bar.update(done, failures)


def _stopped_message(done: int, n: int, label: str, store: ResultsFile | None) -> str:
    """What an interruption kept, and how to go on."""
    text = f"{label} interrupted after {done} of {n} replications"
    if store is None:
        return text + "; they were not kept (no results file): run again to start over"
    return (
        f"{text}; the finished ones are kept in {store.path}: "
        "run again with the same arguments and results file to resume"
    )


def run_replications(
    task: Task,
    n: int,
    seed: SeedLike,
    *,
    executor: Any = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
    results_path: str | os.PathLike | None = None,
    regenerate_failed: bool = False,
    max_attempts: int = 20,
    chunk_size: int | None = None,
    label: str = "replications",
    run_key: str | dict | None = None,
) -> ReplicationResults:
    """Run ``task(index, rng)`` for every ``index`` in ``range(n)``, in parallel, reproducibly.

    ``task`` returns a dict of plain values (numbers, strings, lists; numpy values are converted)
    and may raise: :class:`~semlang.runner.Inadmissible` marks an inadmissible replication, any
    other exception an error; both are reported in ``failures``, never dropped. With
    ``regenerate_failed`` a failed replication is drawn again with a new seed, up to
    ``max_attempts`` attempts in all.

    Attempt ``a`` (1, 2, ...) of replication ``i`` draws from
    ``default_rng(SeedSequence(seed, spawn_key=(i, a)))``: results do not depend on the
    executor, ``n_jobs`` or ``chunk_size``. ``seed=None`` draws fresh entropy.

    ``executor``: ``None`` or ``"processes"`` (local processes: this one and worker processes,
    ``n_jobs`` at most — by default one per available CPU —, fewer when other work keeps the
    CPUs busy, but two whenever ``n_jobs`` allows two; see
    :func:`~semlang.runner.backends.processes_for`), ``"serial"`` (this process), a
    ``dask.distributed.Client`` or a scheduler address such as ``"tcp://host:8786"`` (extra
    ``semlang[dask]``). Except with ``"serial"``, the task and all it closes over (a compiled
    model, data) must be picklable; where workers are spawned, a script needs an
    ``if __name__ == "__main__":`` guard. Work is handed out in chunks of ``chunk_size``
    replications (default: for local processes, chunks that shrink from at most 100 (10 with a
    results file) as the work runs out; on dask about four chunks per worker).

    ``results_path``: finished replications are appended to this JSON-lines file; a run with the
    same seed, ``n``, ``label``, ``run_key`` and attempts resumes from it, skipping them; the file
    of another run raises :class:`~semlang.runner.ResultsFileError`. ``progress``: a progress bar
    on stderr, by default when stderr is a terminal.

    Ctrl-C (or SIGTERM turned into :class:`~semlang.runner.Interrupted`, as the command line
    does) ends the worker processes and raises :class:`~semlang.runner.Interrupted`, whose
    message says how many replications finished and where they are kept.
    """
    _check_arguments(task, n, max_attempts, chunk_size, label)
    executor_kind(executor)
    check_n_jobs(n_jobs)
    start = time.monotonic()
    plan = make_plan(seed, max_attempts if regenerate_failed else 1)
    store: ResultsFile | None = None
    finished: dict[int, list[dict]] = {}
    if results_path is not None:
        store, finished = open_results(results_path, _identity(plan, n, label, run_key), n)
    records = [record for group in finished.values() for record in group]
    pending = [index for index in range(n) if index not in finished]
    bar = _start_bar(progress, n, len(finished), records, label)
    options = {"executor": executor, "n_jobs": n_jobs, "chunk_size": chunk_size, "label": label}
    try:
        _run_pending(task, plan, pending, records, options, bar, store)
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM where the caller made it one
        finished_now = sum(bool(record.get("final")) for record in records)
        raise Interrupted(
            _stopped_message(finished_now, n, label, store), signal_of(stop)
        ) from None
    finally:
        if store is not None:
            store.close()
        if bar is not None:
            bar.close()
    elapsed = time.monotonic() - start
    return ReplicationResults.from_records(records, n, elapsed, len(finished), label)
