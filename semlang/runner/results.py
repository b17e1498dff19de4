"""The outcome of a run of replications.

Input: the attempt records of every finished replication (see :mod:`semlang.runner.worker`).
Output: a frozen :class:`ReplicationResults` with the results in replication order, every failed
attempt as a :class:`Failure`, and counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Failure:
    """One failed attempt of one replication.

    ``kind`` is ``"error"`` (the task raised) or ``"inadmissible"`` (it raised
    :class:`~semlang.runner.Inadmissible`); ``error`` is the exception's type, ``where`` the
    file, line and function it was raised in. ``given_up`` marks the last attempt of a replication
    that has no result.
    """

    index: int
    attempt: int
    kind: str
    error: str
    message: str
    where: str = ""
    given_up: bool = False


@dataclass(frozen=True)
class ReplicationResults:
    """Results of :func:`~semlang.runner.run_replications`.

    ``results`` holds one dict per successful replication, in index order, each with its
    ``index`` and ``attempt`` (1 unless regenerated) next to the task's values. ``regenerated``
    counts the data sets drawn again after a failed attempt; ``elapsed`` is the wall time of this
    call in seconds, ``n_resumed`` the replications read back from a results file.
    """

    results: tuple[dict, ...]
    failures: tuple[Failure, ...]
    regenerated: int
    n_completed: int
    elapsed: float
    n: int
    n_resumed: int = 0
    label: str = "replications"

    @classmethod
    def from_records(
        cls, records: Iterable[dict], n: int, elapsed: float, n_resumed: int, label: str
    ) -> ReplicationResults:
        """Assemble the results from attempt records (in any order)."""
        ordered = sorted(records, key=lambda record: (record["index"], record["attempt"]))
        results = tuple(
            {"index": r["index"], "attempt": r["attempt"], **r["result"]}
            for r in ordered
            if r["status"] == "ok"
        )
        failures = tuple(
            Failure(
                index=r["index"],
                attempt=r["attempt"],
                kind=r["status"],
                error=r.get("error", ""),
                message=r.get("message", ""),
                where=r.get("where", ""),
                given_up=bool(r.get("final")),
            )
            for r in ordered
            if r["status"] != "ok"
        )
        regenerated = sum(not failure.given_up for failure in failures)
        return cls(results, failures, regenerated, len(results), elapsed, n, n_resumed, label)

    @property
    def n_failed(self) -> int:
        """Replications without a result (every attempt failed)."""
        return sum(failure.given_up for failure in self.failures)

    @property
    def n_inadmissible(self) -> int:
        """Attempts that were inadmissible."""
        return sum(failure.kind == "inadmissible" for failure in self.failures)

    @property
    def n_errors(self) -> int:
        """Attempts in which the task raised an error."""
        return sum(failure.kind == "error" for failure in self.failures)

    def to_frame(self) -> pd.DataFrame:
        """One row per successful replication: ``index``, ``attempt`` and the task's values."""
        if not self.results:
            return pd.DataFrame(columns=["index", "attempt"])
        return pd.DataFrame.from_records(list(self.results))

    def failures_frame(self) -> pd.DataFrame:
        """One row per failed attempt."""
        columns = ["index", "attempt", "kind", "error", "message", "where", "given_up"]
        rows = [[getattr(failure, column) for column in columns] for failure in self.failures]
        return pd.DataFrame(rows, columns=columns)
