"""Independent, reproducible random streams: one per purpose (and per node), from one seed.

Every strategy run with the same seed draws the same workload and the same faults (common
random numbers): the streams a strategy cannot influence never share state with those it can.
"""

from __future__ import annotations

import random

import numpy as np

from synctune.policy.errors import InvalidInput

#: fixed keys so that adding a purpose never shifts the others
PURPOSES = {"workload": 1, "network": 2, "faults": 3, "latency": 4, "strategy": 5,
            "writes": 6, "announce": 7, "watcher": 8}


def _sequence(seed: int, purpose: str, index: int) -> np.random.SeedSequence:
    try:
        key = PURPOSES[purpose]
    except KeyError:
        raise InvalidInput(f"purpose must be one of {', '.join(PURPOSES)}, "
                           f"got {purpose!r}") from None
    return np.random.SeedSequence(seed, spawn_key=(key, index))


def generator(seed: int, purpose: str, index: int = 0) -> np.random.Generator:
    """A numpy generator for ``purpose`` (and node ``index``) derived from ``seed``."""
    return np.random.default_rng(_sequence(seed, purpose, index))


def python_random(seed: int, purpose: str, index: int = 0) -> random.Random:
    """A ``random.Random`` for ``purpose`` (strategies take this kind), derived from ``seed``."""
    state = _sequence(seed, purpose, index).generate_state(2, dtype=np.uint64)
    return random.Random(int(state[0]) << 64 | int(state[1]))
