"""Seeds of replications: one independent, reproducible stream per (replication, attempt).

Input: the user's ``seed`` (an int, a sequence of ints, a :class:`numpy.random.SeedSequence` or
None for fresh entropy). Output: a :class:`SeedPlan` that hands out generators.

Replication ``index``, attempt ``attempt`` (1 for the first try, 2, 3, ... for regenerations)
draws from ``default_rng(SeedSequence(seed, spawn_key=(index, attempt)))``: the stream depends on
nothing else (not on the executor, the number of workers, the chunking or the order in which
replications finish), and any replication can be reproduced on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from semlang.errors import OptionError

SeedLike = int | Sequence[int] | np.random.SeedSequence | None


@dataclass(frozen=True)
class SeedPlan:
    """The root seed of a run and how many attempts a replication gets."""

    entropy: int | tuple[int, ...]
    spawn_key: tuple[int, ...]
    pool_size: int
    max_attempts: int

    def sequence(self, index: int, attempt: int) -> np.random.SeedSequence:
        """The seed sequence of one attempt of one replication."""
        key = (*self.spawn_key, index, attempt)
        return np.random.SeedSequence(self.entropy, spawn_key=key, pool_size=self.pool_size)

    def rng(self, index: int, attempt: int) -> np.random.Generator:
        """A fresh generator for one attempt of one replication."""
        return np.random.default_rng(self.sequence(index, attempt))

    def identity(self) -> dict:
        """The seed as plain JSON values (recorded in a results file)."""
        entropy = list(self.entropy) if isinstance(self.entropy, tuple) else self.entropy
        return {"entropy": entropy, "spawn_key": list(self.spawn_key), "pool_size": self.pool_size}


def make_plan(seed: SeedLike, max_attempts: int) -> SeedPlan:
    """Check ``seed`` and build the plan; None draws fresh entropy from the operating system."""
    if isinstance(seed, bool):
        raise OptionError(f"seed must be an integer, not {seed!r}")
    if isinstance(seed, np.random.SeedSequence):
        root = seed
    else:
        try:
            root = np.random.SeedSequence(seed)
        except (TypeError, ValueError) as exc:
            raise OptionError(
                f"seed must be a non-negative integer or a sequence of them, not {seed!r}",
                hint="for example seed=20240501",
            ) from exc
    entropy = root.entropy  # set by SeedSequence: drawn from the system when seed is None
    assert entropy is not None
    plain = int(entropy) if isinstance(entropy, int | np.integer) else tuple(map(int, entropy))
    key = tuple(int(k) for k in root.spawn_key)
    return SeedPlan(plain, key, int(root.pool_size), max_attempts)
