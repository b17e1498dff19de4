"""Running replications: the code that executes in a worker (or in this process).

Input: the task, a :class:`~semlang.runner.seeds.SeedPlan` and replication indices. Output: plain
records, one per attempt, ready to be written as JSON lines::

    {"index": 3, "attempt": 1, "status": "ok", "result": {...}, "final": true}
    {"index": 4, "attempt": 1, "status": "inadmissible", "error": "...", "message": "..."}

The last record of a replication carries ``"final": true``. A task's result is made plain data
here (numpy scalars and arrays become numbers and lists, tuples become lists) by a JSON round
trip, so results are the same whether or not they went through a results file.

Replications are many small fits side by side: they run with one BLAS thread (a worker process
of the pool for its whole life, a chunk run here or on dask for its duration; :mod:`semlang.blas`).
"""

from __future__ import annotations

import json
import pickle
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from semlang.blas import limited, one_thread
from semlang.runner.seeds import SeedPlan

Task = Callable[[int, np.random.Generator], Mapping[str, Any]]
RESERVED_KEYS = ("index", "attempt")


class Inadmissible(Exception):
    """Raised by a task to mark its replication inadmissible (for example a Heywood case).

    Counted apart from errors; with ``regenerate_failed=True`` the replication is drawn again
    with a new seed.
    """


Inadmissible.__module__ = "semlang.runner"  # its public home, as failures report it


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"a value of type {type(value).__name__} is not plain data")


def plain_result(value: Any) -> dict:
    """The task's result as plain JSON data; TypeError or ValueError when it is not one."""
    if not isinstance(value, Mapping):
        raise TypeError(f"the task returned {type(value).__name__}, not a dict")
    clash = [key for key in RESERVED_KEYS if key in value]
    if clash:
        raise ValueError(f"the task's result uses the reserved key(s) {clash}")
    return json.loads(json.dumps(dict(value), default=_plain))


def _error_record(index: int, attempt: int, exc: Exception) -> dict:
    kind = type(exc)
    name = kind.__qualname__
    if kind.__module__ != "builtins":
        name = f"{kind.__module__}.{name}"
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    status = "inadmissible" if isinstance(exc, Inadmissible) else "error"
    return {
        "index": index,
        "attempt": attempt,
        "status": status,
        "error": name,
        "message": str(exc),
        "where": where,
    }


def run_replication(task: Task, plan: SeedPlan, index: int) -> list[dict]:
    """All attempts of one replication, up to its first success or ``plan.max_attempts``."""
    records: list[dict] = []
    for attempt in range(1, plan.max_attempts + 1):
        try:
            result = plain_result(task(index, plan.rng(index, attempt)))
        except Exception as exc:  # the task may raise anything: it is recorded, not lost
            records.append(_error_record(index, attempt, exc))
            continue
        records.append({"index": index, "attempt": attempt, "status": "ok", "result": result})
        break
    records[-1]["final"] = True
    return records


@limited()
def run_chunk(task: Task, plan: SeedPlan, indices: Sequence[int]) -> list[dict]:
    """The records of several replications, in order."""
    return [record for index in indices for record in run_replication(task, plan, index)]


# Set only inside pool worker processes, once per process by the pool's initializer, so the task
# (and the model it closes over) is unpickled once per worker rather than once per chunk.
_WORKER_TASK: dict[str, Task] = {}


def install_task(payload: bytes) -> None:
    """Pool initializer: one BLAS thread, and the task unpickled, in the worker process (which
    leaves Ctrl-C and SIGTERM to the main process and ends when it is gone)."""
    one_thread()
    from semlang.runner.stopping import prepare_worker

    prepare_worker()
    _WORKER_TASK["task"] = pickle.loads(payload)


def run_installed_chunk(plan: SeedPlan, indices: Sequence[int]) -> list[dict]:
    """:func:`run_chunk` with the task installed by :func:`install_task`."""
    return run_chunk(_WORKER_TASK["task"], plan, indices)
