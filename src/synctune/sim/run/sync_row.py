"""One sync attempt as a node records it, and a node's attempts as arrays for the reduce step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


class SyncRow(NamedTuple):
    """One sync attempt at a node (times in s from the start of the run).

    Attributes:
        start, end: when the attempt started and ended.
        ok: whether it succeeded.
        failure: the failure kind's value (``""`` when ``ok``).
        pulled, pushed: commits pulled and local writes pushed.
        nbytes: bytes moved both ways.
        reach: the latest primary commit time the pull brought (NaN when it failed).
        apply_start: when the pulled changes began to be applied (NaN when it failed).
    """

    start: float
    end: float
    ok: bool
    failure: str
    pulled: int
    pushed: int
    nbytes: int
    reach: float
    apply_start: float


@dataclass(frozen=True, slots=True)
class Attempts:
    """One node's sync attempts as arrays, in start order (times in s)."""

    start: np.ndarray
    end: np.ndarray
    ok: np.ndarray
    nbytes: np.ndarray
    apply_start: np.ndarray

    @classmethod
    def of(cls, rows: Sequence[SyncRow]) -> Attempts:
        """The rows' columns the reduce step reads."""
        if not rows:
            e = np.empty(0)
            return cls(e, e, np.empty(0, dtype=bool), np.empty(0, dtype=np.int64), e)
        return cls(np.asarray([r.start for r in rows], dtype=np.float64),
                   np.asarray([r.end for r in rows], dtype=np.float64),
                   np.asarray([r.ok for r in rows], dtype=bool),
                   np.asarray([r.nbytes for r in rows], dtype=np.int64),
                   np.asarray([r.apply_start for r in rows], dtype=np.float64))
