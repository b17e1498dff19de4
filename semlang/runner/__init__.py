"""Run many independent replications in parallel: bootstrap draws, simulation-study replications.

Input: a task ``task(index, rng) -> dict``, a number of replications and a seed. Output:
:class:`ReplicationResults`. ::

    from semlang.runner import Inadmissible, run_replications

    def replicate(index, rng):
        x = rng.normal(size=200)
        if x.var() < 0.5:
            raise Inadmissible("variance too small")
        return {"mean": x.mean(), "var": x.var()}

    out = run_replications(replicate, 1000, seed=2024, regenerate_failed=True)
    out.to_frame()

Modules: :mod:`~semlang.runner.seeds` (one seed per replication and attempt),
:mod:`~semlang.runner.worker` (what runs in a worker), :mod:`~semlang.runner.backends` (serial,
process pool, dask), :mod:`~semlang.runner.store` (the resumable results file),
:mod:`~semlang.runner.progress` (the progress bar), :mod:`~semlang.runner.stopping`
(Ctrl-C and SIGTERM), :mod:`~semlang.runner.results` (the result),
:mod:`~semlang.runner.core` (:func:`run_replications`).
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from semlang.runner.core import run_replications
    from semlang.runner.results import Failure, ReplicationResults
    from semlang.runner.stopping import Interrupted
    from semlang.runner.store import ResultsFileError
    from semlang.runner.worker import Inadmissible

# loaded on first use, so that importing semlang.runner.progress (which every fit does) does not
# import the process pools
_HOMES = {
    "run_replications": "semlang.runner.core",
    "Failure": "semlang.runner.results",
    "ReplicationResults": "semlang.runner.results",
    "Interrupted": "semlang.runner.stopping",
    "ResultsFileError": "semlang.runner.store",
    "Inadmissible": "semlang.runner.worker",
}

__all__ = [
    "Failure",
    "Inadmissible",
    "Interrupted",
    "ReplicationResults",
    "ResultsFileError",
    "run_replications",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'semlang.runner' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
