"""Stopping a run cleanly: Ctrl-C (SIGINT), SIGTERM, and a main process that dies.

Input: the signal (or the loss of the main process). Output: an :class:`Interrupted` exception
in the main process whose message says what was kept and how to resume, and no worker process
left behind.

Worker processes start with SIGINT and SIGTERM blocked (:func:`signals_blocked` around their
start: a signal during start-up waits instead of hitting half-started workers). Then they ignore
SIGINT (Ctrl-C in a terminal reaches every process of the group; only the main process decides
what to do), take SIGTERM's default action (the main process ends them with it), and end
themselves when their main process is gone (checked every half second), so a main process
killed without any chance to clean up leaves no orphans either.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_WATCH_INTERVAL = 0.5


class Interrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C (SIGINT) or SIGTERM; the message says what was kept.

    A :class:`KeyboardInterrupt`, so code that handles Ctrl-C handles it; ``signal_number`` is
    the signal that stopped the run (the command line exits with ``128 + signal_number``).
    """

    def __init__(self, message: str = "interrupted", signal_number: int = signal.SIGINT):
        super().__init__(message)
        self.message = message
        self.signal_number = int(signal_number)

    def __str__(self) -> str:
        return self.message


Interrupted.__module__ = "semlang.runner"  # its public home


def signal_of(exc: BaseException) -> int:
    """The signal behind an interruption (SIGINT unless it says otherwise)."""
    return getattr(exc, "signal_number", int(signal.SIGINT))


def raise_terminated(signum: int, frame: Any) -> None:
    """A SIGTERM handler: stop the main process as Ctrl-C does, so it cleans up."""
    raise Interrupted("terminated (SIGTERM)", signum)


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(_WATCH_INTERVAL)
        if os.getppid() != parent:
            os._exit(1)


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def signals_blocked() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back in this thread (where the platform can): processes started
    meanwhile inherit the block; a signal that came meanwhile arrives on leaving."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def prepare_worker() -> None:
    """In a worker process: leave Ctrl-C to the main process; end when the main process dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    watcher = threading.Thread(
        target=_watch_parent, args=(os.getppid(),), name="semlang-parent-watch", daemon=True
    )
    watcher.start()


def terminate_processes(processes: Any, timeout: float = 5.0) -> None:
    """End worker processes (multiprocessing.Process objects) now and wait for them."""
    processes = list(processes or ())
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        process.join(max(deadline - time.monotonic(), 0.0))
        if process.is_alive():
            process.kill()
            process.join(1.0)
