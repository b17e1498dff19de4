"""A one-line progress bar on stderr: done/total, failures, elapsed time and ETA.

Input: counts as replications finish. Output: text on a stream, redrawn in place with a carriage
return at most every ``min_interval`` seconds, and once more (with a newline) on :meth:`close`.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_BAR_WIDTH = 24


def wanted(progress: bool | None, stream: TextIO) -> bool:
    """Whether to show progress: as asked, or when ``stream`` is a terminal."""
    if progress is not None:
        return bool(progress)
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


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
