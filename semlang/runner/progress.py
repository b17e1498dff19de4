"""Progress on stderr: a bar for replications, a clock for a long fit.

Input: counts as replications finish (:class:`ProgressBar`), or a block of work
(:func:`long_work`). Output: one line of text on a stream, redrawn in place with a carriage
return, and ended with a newline when the work ends.

Shown by default where someone watches: stderr a terminal, or a Jupyter notebook (whose front
end redraws a line on a carriage return as a terminal does); never when stderr is a file, a pipe
or captured (tests), unless asked with ``progress=True``. The bar is plain text, so it needs no
dependency in either place.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

_BAR_WIDTH = 24


# a fit shows its clock once it has run this long, and redraws it this often (seconds)
LONG_WORK_DELAY = 2.0
LONG_WORK_INTERVAL = 1.0


def wanted(progress: bool | None, stream: TextIO) -> bool:
    """Whether to show progress: as asked, or when ``stream`` is a terminal or this runs in a
    Jupyter notebook."""
    if progress is not None:
        return bool(progress)
    try:
        return stream.isatty() or (stream is sys.stderr and in_notebook())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (IPython's shell there is ZMQInteractiveShell)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # an IPython too old or half-imported: no notebook to draw in
        return False
    return type(shell).__name__ == "ZMQInteractiveShell"


def clock(seconds: float) -> str:
    """``seconds`` as ``M:SS`` or ``H:MM:SS``."""
    seconds = round(max(seconds, 0.0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """Draws ``label: 450/1000 [#####-----] 45% | failures 3 | 0:12 elapsed | ETA 0:15``."""

    def __init__(
        self,
        total: int,
        done: int,
        label: str,
        stream: TextIO | None = None,
        min_interval: float = 0.1,
    ):
        self.total, self.label = total, label
        self.stream = stream if stream is not None else sys.stderr
        self.min_interval = min_interval
        self.start = time.monotonic()
        self.done_at_start = done
        self.done = done
        self.failures = 0
        self.last_drawn = float("-inf")
        self.width = 0

    def update(self, done: int, failures: int, force: bool = False) -> None:
        """Record the counts; redraw unless the last drawing is too recent."""
        self.done, self.failures = done, failures
        now = time.monotonic()
        if force or now - self.last_drawn >= self.min_interval:
            self.last_drawn = now
            self._draw(now - self.start)

    def line(self, elapsed: float) -> str:
        """The text of the bar after ``elapsed`` seconds."""
        share = self.done / self.total if self.total else 1.0
        filled = round(share * _BAR_WIDTH)
        bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
        ran = self.done - self.done_at_start
        if self.done >= self.total:
            eta = "0:00"
        elif ran > 0 and elapsed > 0:
            eta = clock((self.total - self.done) * elapsed / ran)
        else:
            eta = "?"
        return (
            f"{self.label}: {self.done}/{self.total} [{bar}] {share:4.0%} | "
            f"failures {self.failures} | {clock(elapsed)} elapsed | ETA {eta}"
        )

    def _draw(self, elapsed: float) -> None:
        text = self.line(elapsed)
        padding = " " * max(self.width - len(text), 0)
        self.width = len(text)
        self.stream.write("\r" + text + padding)
        self.stream.flush()

    def close(self) -> None:
        """Draw the final state and end the line."""
        self._draw(time.monotonic() - self.start)
        self.stream.write("\n")
        self.stream.flush()


@contextmanager
def long_work(label: str, progress: bool | None, stream: TextIO | None = None) -> Iterator[None]:
    """Run the block; if it runs longer than :data:`LONG_WORK_DELAY` seconds (and progress is
    wanted), show ``label: 0:05 elapsed`` on ``stream`` (default stderr), redrawn every
    :data:`LONG_WORK_INTERVAL` seconds by a background thread, and end with
    ``label: done in 0:07``."""
    stream = stream if stream is not None else sys.stderr
    if not wanted(progress, stream):
        yield
        return
    start = time.monotonic()
    finished = threading.Event()
    lock = threading.Lock()
    shown: list[int] = []  # the widths drawn (empty: nothing drawn yet)

    def draw(text: str, end: str = "") -> None:
        with lock:
            padding = " " * max((shown[-1] if shown else 0) - len(text), 0)
            stream.write("\r" + text + padding + end)
            stream.flush()
            shown.append(len(text))

    def tick() -> None:
        if finished.wait(LONG_WORK_DELAY):
            return
        while True:
            draw(f"{label}: {clock(time.monotonic() - start)} elapsed")
            if finished.wait(LONG_WORK_INTERVAL):
                return

    ticker = threading.Thread(target=tick, name="semlang-progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        finished.set()
        ticker.join()
        elapsed = time.monotonic() - start
        if shown or elapsed >= LONG_WORK_DELAY:
            draw(f"{label}: done in {clock(elapsed)}", end="\n")
