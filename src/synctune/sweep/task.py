"""The default sweep task: one simulator run, reduced to its summary figures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def simulate_summary(params: Mapping[str, Any]) -> dict[str, Any]:
    """Run ``simulate(SimConfig(**params))`` and return its ``summary`` dict."""
    from synctune.sim import SimConfig, simulate  # imported in the worker, on first use

    return dict(simulate(SimConfig(**params)).summary)
