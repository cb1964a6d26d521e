"""The default sweep task: one simulator run, reduced to its summary figures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def simulate_summary(params: Mapping[str, Any]) -> dict[str, Any]:
    """Run ``simulate(SimConfig(**params))`` and return its ``summary`` dict.

    Per-read and per-write tables are not kept unless ``params`` asks for them (``detail``):
    the summary is the same either way, and a sweep only keeps the summary.
    """
    from synctune.sim import SimConfig, simulate  # imported in the worker, on first use

    return simulate(SimConfig(**{"detail": False, **params})).summary.as_dict()
