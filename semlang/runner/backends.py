"""Where replications run: in this process, in a local process pool, or on a dask cluster.

Input: the ``executor`` and ``n_jobs`` arguments of :func:`~semlang.runner.run_replications`.
Output: a :class:`Backend` whose :meth:`Backend.batches` runs chunks of replication indices and
yields each chunk's records as it finishes (in completion order, not index order).

Local processes: this process and ``n − 1`` workers (:func:`processes_for` sizes ``n`` to the
CPUs the load average leaves free). The workers receive the task once each (pickled, with
cloudpickle when it is installed, else pickle) and then only small lists of indices, two chunks
at a time, so per-replication overhead stays small; this process runs chunks itself between
handing them out, and the chunks shrink as the work runs out (:func:`guided_chunks`), so that
the processes finish together. Workers start with ``fork`` where that is safe (not on macOS or
Windows, and only while this process runs a single thread, since forking a multi-threaded process
can deadlock the child), and with ``spawn`` otherwise (spawned workers import the task's module
by name, so a script's entry point needs an ``if __name__ == "__main__":`` guard). Each worker
runs numpy with one BLAS thread (:func:`semlang.runner.worker.install_task`), so the workers do
not oversubscribe the cores. dask is optional and imported only when asked for.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import sys
import threading
import uuid
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any

from semlang.errors import OptionError
from semlang.runner.seeds import SeedPlan
from semlang.runner.stopping import signals_blocked, terminate_processes
from semlang.runner.worker import Task, install_task, run_chunk, run_installed_chunk

MAX_CHUNK = 100
MAX_KEPT_CHUNK = 10
MIN_CHUNK = 4
IN_FLIGHT = 2  # chunks handed to each worker at a time: one running, one waiting
_DASK_HINT = "install it with: pip install 'semlang[dask]'"


class ExecutorKind(Enum):
    SERIAL = "serial"
    PROCESSES = "processes"
    DASK = "dask"


def available_cpus() -> int:
    """CPUs this process may use (its affinity mask where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


def free_cpus() -> float:
    """CPUs not kept busy by other work: the available ones less the 1-minute load average
    (all of them where the platform has no load average)."""
    cpus = available_cpus()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return float(cpus)
    return max(cpus - load, 0.0)


def processes_for(n_jobs: int) -> int:
    """How many processes run replications (this one among them) when ``n_jobs`` are allowed:
    one per free CPU plus this process's own, at most ``n_jobs`` and the available CPUs, and at
    least two when ``n_jobs`` allows two. This process runs chunks as well, so a second process
    never leaves the work to the pool alone: on a machine whose cores are all busy it only adds
    a share of them (as the scheduler shares them), at the cost of starting one worker."""
    if n_jobs < 2:
        return 1
    return max(2, min(n_jobs, available_cpus(), 1 + math.floor(free_cpus() + 0.5)))


def start_method() -> str:
    """``fork`` where it is fast and safe, else ``spawn``."""
    safe = sys.platform != "darwin" and threading.active_count() == 1
    return "fork" if safe and "fork" in multiprocessing.get_all_start_methods() else "spawn"


def dump_task(task: Task) -> bytes:
    """Pickle the task for the workers, or explain why it cannot be sent."""
    try:
        import cloudpickle
    except ImportError:
        cloudpickle = None
    try:
        if cloudpickle is not None:
            return cloudpickle.dumps(task)
        return pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # pickling raises PicklingError, TypeError, AttributeError, ...
        raise OptionError(
            f"the task cannot be sent to worker processes, it is not picklable: "
            f"{type(exc).__name__}: {exc}",
            hint="define the task at module level (functools.partial can bind its data), "
            "make the objects it uses picklable, or use executor='serial'",
        ) from exc


def import_distributed() -> Any:
    """The ``distributed`` module, or an OptionError saying how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise OptionError(
            "this executor needs dask.distributed, which is not installed", hint=_DASK_HINT
        ) from exc
    return distributed


def chunked(indices: Sequence[int], size: int) -> list[list[int]]:
    """``indices`` cut into consecutive chunks of ``size``."""
    return [list(indices[start : start + size]) for start in range(0, len(indices), size)]


def default_chunk_size(n_pending: int, workers: int, kind: ExecutorKind, kept: bool = False) -> int:
    """About four chunks per worker, at most :data:`MAX_CHUNK` replications each (at most
    :data:`MAX_KEPT_CHUNK` when they are kept in a results file, so that an interrupted run loses
    little)."""
    if kind is ExecutorKind.SERIAL:
        return 1
    most = MAX_KEPT_CHUNK if kept else MAX_CHUNK
    return min(max(math.ceil(n_pending / (4 * workers)), 1), most)


def guided_chunks(indices: Sequence[int], workers: int, kept: bool = False) -> list[list[int]]:
    """``indices`` cut into chunks that shrink as the work runs out: each a quarter of what is
    left per process (at most :data:`MAX_CHUNK`, or :data:`MAX_KEPT_CHUNK` with a results file,
    at least :data:`MIN_CHUNK`), so that the processes finish close together while the early
    chunks keep the traffic low."""
    most = MAX_KEPT_CHUNK if kept else MAX_CHUNK
    out, start = [], 0
    while start < len(indices):
        size = min(max(math.ceil((len(indices) - start) / (4 * workers)), MIN_CHUNK), most)
        out.append(list(indices[start : start + size]))
        start += size
    return out


@dataclass(frozen=True)
class Backend:
    """A resolved executor: its kind, how many replications it runs at once, its dask client."""

    kind: ExecutorKind
    workers: int
    client: Any = None

    def batches(
        self, task: Task, plan: SeedPlan, chunks: list[list[int]], label: str
    ) -> Generator[list[dict], None, None]:
        """Run the chunks; yield each chunk's records as it finishes."""
        if not chunks:
            return
        if self.kind is ExecutorKind.SERIAL:
            for chunk in chunks:
                yield run_chunk(task, plan, chunk)
        elif self.kind is ExecutorKind.PROCESSES:
            yield from _process_batches(task, plan, chunks, self.workers)
        else:
            yield from _dask_batches(self.client, task, plan, chunks, label)


def _process_batches(
    task: Task, plan: SeedPlan, chunks: list[list[int]], processes: int
) -> Iterator[list[dict]]:
    """Run the chunks on ``processes`` processes: ``processes − 1`` workers, which get the
    task once each and then chunks (two at a time, so a worker never waits for this process),
    and this process, which takes the next chunk itself whenever it has handed out what the
    workers can hold."""
    payload = dump_task(task)  # refused here if it cannot be sent, however many chunks
    pending = deque(chunks)
    workers = min(processes - 1, len(chunks) - 1)
    pool: ProcessPoolExecutor | None = None
    running: set[Future] = set()

    def hand_out() -> None:
        assert pool is not None  # (only called once the pool is made)
        while pending and len(running) < IN_FLIGHT * workers:
            running.add(pool.submit(run_installed_chunk, plan, pending.popleft()))

    try:
        if workers > 0:
            context = multiprocessing.get_context(start_method())
            with signals_blocked():  # the workers start with Ctrl-C and SIGTERM held back
                pool = ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=context,
                    initializer=install_task,
                    initargs=(payload,),
                )
                hand_out()  # starts the workers
        while pending or running:
            for future in [future for future in running if future.done()]:
                running.discard(future)
                yield future.result()
            if pool is not None:
                hand_out()
            if pending:
                yield run_chunk(task, plan, pending.popleft())
            elif running:
                wait(running, return_when=FIRST_COMPLETED)
    except BaseException:  # Ctrl-C, SIGTERM, an error, or the caller stopped reading
        if pool is not None:  # the chunks still running would be thrown away: end them now
            _end_pool(pool)
        raise
    if pool is not None:
        pool.shutdown(wait=True)


def _end_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a process pool at once: queued chunks cancelled, running workers ended, and the
    pool's managing thread let finish (it closes its wake-up pipe as it ends; left running, it
    can close it while the interpreter's exit wakes it, an OSError at exit)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    terminate_processes(processes)
    if manager is not None:
        manager.join(5.0)


def _dask_batches(
    client: Any, task: Task, plan: SeedPlan, chunks: list[list[int]], label: str
) -> Iterator[list[dict]]:
    distributed = import_distributed()
    try:
        [task_future] = client.scatter([task], broadcast=True, hash=False)
    except Exception as exc:  # serialization errors of any kind
        raise OptionError(
            f"the task cannot be sent to the dask workers: {type(exc).__name__}: {exc}",
            hint="make the task and the objects it uses picklable, or use executor='serial'",
        ) from exc
    token = uuid.uuid4().hex[:8]
    futures = [
        client.submit(run_chunk, task_future, plan, chunk, key=f"{label}-{token}-{number}")
        for number, chunk in enumerate(chunks)
    ]
    try:
        for future in distributed.as_completed(futures):
            yield future.result()
    finally:
        client.cancel([*futures, task_future])


def check_n_jobs(n_jobs: int | None) -> int:
    """The number of worker processes: ``n_jobs``, by default one per available CPU."""
    if n_jobs is None:
        return available_cpus()
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise OptionError(f"n_jobs must be a positive integer or None, not {n_jobs!r}")
    return n_jobs


def executor_kind(executor: Any) -> ExecutorKind:
    """What ``executor`` names, without starting or connecting to anything."""
    name = executor if isinstance(executor, str) else None
    if executor is None or name == "processes":
        return ExecutorKind.PROCESSES
    if name == "serial":
        return ExecutorKind.SERIAL
    if name is not None and "://" in name:
        import_distributed()
        return ExecutorKind.DASK
    if type(executor).__module__.split(".")[0] == "distributed" and hasattr(executor, "scatter"):
        return ExecutorKind.DASK
    raise OptionError(
        f"unknown executor {executor!r}",
        hint="use 'processes' (the default), 'serial', a dask.distributed.Client or a "
        "dask scheduler address such as 'tcp://host:8786'",
    )


def _dask_backend(client: Any) -> Backend:
    workers = sum(client.nthreads().values()) or 1
    return Backend(ExecutorKind.DASK, workers, client)


@contextmanager
def open_backend(executor: Any, n_jobs: int | None) -> Iterator[Backend]:
    """Resolve ``executor``; a client connected here to a scheduler address is closed on exit."""
    kind, n_jobs = executor_kind(executor), check_n_jobs(n_jobs)
    if kind is not ExecutorKind.DASK:
        yield Backend(kind, processes_for(n_jobs) if kind is ExecutorKind.PROCESSES else 1)
    elif isinstance(executor, str):
        try:
            client = import_distributed().Client(executor)
        except (OSError, TimeoutError) as exc:
            raise OptionError(f"cannot connect to the dask scheduler at {executor}: {exc}") from exc
        try:
            yield _dask_backend(client)
        finally:
            client.close()
    else:
        yield _dask_backend(executor)
