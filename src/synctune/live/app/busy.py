"""A local database that answers "busy": which statements may be run again, and until when."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def is_busy(exc: BaseException) -> bool:
    """True when a local database refused a statement for a concurrent one ("database is
    locked"/"busy"): the statement did not run."""
    text = str(exc).lower()
    return "busy" in text or "locked" in text


def retry_busy(step: Callable[[], T], end: float, *, longest: float = 0.02) -> T:
    """``step()``, run again while the local database answers busy, until ``end`` (monotonic
    s); then its last error. Only for steps that change nothing when refused that way: reads,
    and engine operations that are transactional (a refused push or apply applied nothing).
    """
    pause = longest / 40
    while True:
        try:
            return step()
        except Exception as exc:
            left = end - time.monotonic()
            if not is_busy(exc) or left <= 0:
                raise
            time.sleep(min(pause, left))
            pause = min(pause * 2, longest)
