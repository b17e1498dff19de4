"""The memory a full-information (FIML) fit needs, and a clear refusal where it is not there.

Input: the size of a group's data (rows, variables) and of its missing-data patterns (their
number, observed variables and rows). Output: :func:`fiml_need`, the bytes the patterns and
the likelihood's working arrays take, and :func:`check_fiml_memory`, which raises an
:class:`~semlang.errors.EstimationError` saying how much is needed and how much is available
when the need is larger; :func:`memory_error` turns a numpy ``MemoryError`` met during the fit
into the same message. The limit is the memory the operating system reports available, or the
environment variable ``SEMLANG_MEMORY_LIMIT`` (bytes, or a number with KB, MB or GB).
"""

from __future__ import annotations

import os
import re

from semlang.errors import EstimationError

LIMIT_VARIABLE = "SEMLANG_MEMORY_LIMIT"
_WORKING = 24  # chunk-sized arrays alive at once in the likelihood's work
_UNITS = {"": 1, "B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}


def fiml_need(rows: int, p: int, pattern_entries: int, multi_entries: int, chunk: int) -> int:
    """Bytes for FIML on ``rows`` x ``p`` data: the patterns' observed sets and means
    (``pattern_entries`` values), the covariances of patterns of several rows
    (``multi_entries``), the row order, the moment-space matrices and ``_WORKING`` arrays of
    ``chunk`` values."""
    q = p * (p + 1) // 2
    stored = 8 * (2 * pattern_entries + multi_entries + 2 * rows)
    moments = 8 * 8 * (p + q) ** 2 if p <= 60 else 0
    return stored + moments + 8 * _WORKING * chunk


def available_memory() -> int | None:
    """The bytes a new allocation may take: ``SEMLANG_MEMORY_LIMIT`` when set, else what the
    platform reports available (None where it does not say)."""
    limit = os.environ.get(LIMIT_VARIABLE)
    if limit:
        return _parse_size(limit)
    return platform_available_memory()


def platform_available_memory() -> int | None:
    """Bytes of memory available to a new allocation, where the platform says (else None)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _parse_size(text: str) -> int:
    found = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?B?)\s*", text.upper())
    if found is None:
        raise EstimationError(
            f"{LIMIT_VARIABLE}={text!r} is not a size",
            hint="give bytes, or a number with KB, MB or GB (for example 4GB)",
        )
    return int(float(found.group(1)) * _UNITS[found.group(2) or ""])


def check_fiml_memory(need: int, rows: int, p: int, n_patterns: int) -> None:
    """Refuse a FIML fit that needs more memory than is available."""
    available = available_memory()
    if available is not None and need > available:
        raise too_large(need, rows, p, n_patterns, available)


def too_large(need: int | None, rows: int, p: int, n_patterns: int | None, available=None):
    """The error for a FIML fit that does not fit in memory."""
    patterns = f", {n_patterns:,} missing-data patterns" if n_patterns is not None else ""
    size = f"about {_bytes(need)}" if need is not None else "more"
    having = f", more than the {_bytes(available)} available" if available is not None else ""
    return EstimationError(
        f"full-information ML on these data needs {size} of memory ({rows:,} rows of {p} "
        f"variables{patterns}){having}",
        hint="fit a random subset of the rows, fewer variables, or missing='listwise'; "
        f"{LIMIT_VARIABLE} sets the memory assumed available",
    )


def memory_error(rows: int, p: int, need: int | None = None, n_patterns: int | None = None):
    """The error to raise instead of a ``MemoryError`` met during a FIML fit."""
    return too_large(need, rows, p, n_patterns, available_memory())


def _bytes(size: float) -> str:
    return f"{size / 1e9:,.1f} GB" if size >= 1e8 else f"{size / 1e6:,.1f} MB"
