"""The results file of a run: JSON lines appended as replications finish, read back to resume.

Input: a path and the identity of the run. Output: a :class:`ResultsFile` to append records to,
and the records of the replications already finished in it.

The first line identifies the run (format, seed, n, label, run key, attempts); every further line
is one attempt of one replication (see :mod:`semlang.runner.worker`). A line cut short by an
interruption is dropped, and so are the attempts of a replication whose final record is missing:
that replication runs again, with the same seeds.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from semlang.errors import OptionError

FORMAT = "semlang.replications"
VERSION = 1


class ResultsFileError(OptionError):
    """A results file belongs to another run, or cannot be read or written."""


def plain_json(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists, ...)."""
    return json.loads(json.dumps(value))


def _describe_mismatch(found: dict, wanted: dict) -> str:
    keys = sorted(set(found) | set(wanted))
    return "; ".join(
        f"{key}: {found.get(key)!r} in the file, {wanted.get(key)!r} in this call"
        for key in keys
        if found.get(key) != wanted.get(key)
    )


def _check_header(path: Path, line: str, identity: dict) -> None:
    try:
        header = json.loads(line)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ResultsFileError(
            f"{path} is not a semlang results file",
            hint="pass the path of a new file, or of one written by an earlier run",
        )
    if header.get("version") != VERSION:
        raise ResultsFileError(f"{path} was written by format version {header.get('version')}")
    if header.get("identity") != identity:
        raise ResultsFileError(
            f"{path} holds the results of another run ("
            f"{_describe_mismatch(header.get('identity') or {}, identity)})",
            hint="use another results_path, or delete the file to start this run over",
        )


def _is_record(record: Any, n: int) -> bool:
    """Whether ``record`` is one attempt of a replication of a run of ``n``."""
    if not isinstance(record, dict):
        return False
    index, attempt, status = record.get("index"), record.get("attempt"), record.get("status")
    if not (isinstance(index, int) and 0 <= index < n and isinstance(attempt, int)):
        return False
    if status == "ok":
        return isinstance(record.get("result"), dict)
    return status in ("error", "inadmissible")


def _complete_records(path: Path, lines: list[str], n: int) -> dict[int, list[dict]]:
    """The attempts of every replication whose final record is in ``lines``."""
    pending: dict[int, list[dict]] = {}
    done: dict[int, list[dict]] = {}
    for number, line in enumerate(lines, start=2):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        if not _is_record(record, n):
            raise ResultsFileError(f"{path}:{number}: not a replication record: {line[:80]!r}")
        index, attempt = record["index"], record["attempt"]
        group = pending.setdefault(index, [])
        if group and attempt <= group[-1]["attempt"]:
            group.clear()  # a replication cut short earlier, run again from its first attempt
        group.append(record)
        if record.get("final"):
            done.setdefault(index, pending.pop(index))
    return done


@dataclass
class ResultsFile:
    """An open results file; :meth:`append` writes and flushes records."""

    path: Path
    handle: IO[str] = field(repr=False)

    def append(self, records: list[dict]) -> None:
        if records:
            self.handle.write("".join(json.dumps(r) + "\n" for r in records))
            self.handle.flush()

    def close(self) -> None:
        self.handle.close()


def _header_line(identity: dict) -> str:
    return json.dumps({"format": FORMAT, "version": VERSION, "identity": identity}) + "\n"


def _read(path: Path, identity: dict, n: int) -> tuple[int, dict[int, list[dict]]]:
    """Check the file (changing nothing); the length of its complete lines and finished records."""
    data = path.read_bytes() if path.exists() else b""
    end = data.rfind(b"\n") + 1
    lines = data[:end].decode("utf-8").splitlines()
    if lines:
        _check_header(path, lines[0], identity)
        return end, _complete_records(path, lines[1:], n)
    if data and not _header_line(identity).encode("utf-8").startswith(data):
        _check_header(path, data.decode("utf-8", errors="replace"), identity)
    return 0, {}


def open_results(
    path: str | os.PathLike, identity: dict, n: int
) -> tuple[ResultsFile, dict[int, list[dict]]]:
    """Open (or create) a results file; returns it and the finished replications' records.

    A file of another run raises :class:`ResultsFileError` and is left as it was; in a file of
    this run, a last line cut short by an interruption is removed.
    """
    path = Path(path)
    identity = plain_json(identity)
    try:
        end, done = _read(path, identity, n)
        if path.exists() and path.stat().st_size > end:
            with path.open("r+b") as handle:
                handle.truncate(end)
        stream = path.open("a", encoding="utf-8", newline="\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsFileError(f"cannot use {path} as results file: {exc}") from exc
    if end == 0:
        stream.write(_header_line(identity))
        stream.flush()
    return ResultsFile(path, stream), done
