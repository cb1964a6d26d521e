"""Strategy objects for the simulator: the policy core's specs, plus ``oracle``."""

from __future__ import annotations

import random

from synctune.policy.spec import strategy_from_spec
from synctune.policy.strategy import SyncStrategy

ORACLE = "oracle"


def is_oracle(spec: str) -> bool:
    """True when ``spec`` names the oracle (which the simulator builds itself)."""
    return spec.strip() == ORACLE


def check_spec(spec: str, freshness: float) -> None:
    """Raise the policy core's one-line ``ValueError`` if ``spec`` is not a valid strategy."""
    if is_oracle(spec):
        return
    try:
        strategy_from_spec(spec, freshness, rng=random.Random(0))
    except ValueError as exc:
        # the simulator also knows the oracle
        raise ValueError(f"{exc}, {ORACLE} (simulator only)") from None


def build(spec: str, freshness: float, rng: random.Random) -> SyncStrategy:
    """A fresh strategy object for one node (not for ``oracle``)."""
    return strategy_from_spec(spec, freshness, rng=rng)
