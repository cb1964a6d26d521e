"""Strategy objects for the simulator: the policy core's specs, ``oracle``, or the user's own.

A run names its strategy by a spec string or gives a factory: a :class:`SyncStrategy` subclass
(built with no arguments) or any callable ``factory(freshness, rng)`` returning a fresh
strategy object, called once per node with the freshness target D (s) and that node's seeded
:class:`random.Random`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypeAlias

from synctune.policy.errors import InvalidInput, InvalidType
from synctune.policy.spec import strategy_from_spec
from synctune.policy.strategy import SyncStrategy

ORACLE = "oracle"
#: the change-notification reference (long-poll primaries), built by the simulator too
NOTIFY = "notify"

#: a callable building one node's strategy from the freshness target (s) and the node's RNG
StrategyFactory: TypeAlias = Callable[[float, random.Random], SyncStrategy]
#: what a run accepts as its strategy: a spec, a SyncStrategy subclass or a factory
StrategyChoice: TypeAlias = "str | type[SyncStrategy] | StrategyFactory"


def check_choice(choice: object, freshness: float) -> None:
    """Raise a one-line error unless ``choice`` is a valid spec, subclass or factory."""
    if isinstance(choice, str):
        if not choice.strip():
            raise InvalidType(f"strategy must be a strategy spec or factory, got {choice!r}")
        check_spec(choice, freshness)
    elif isinstance(choice, type):
        if not issubclass(choice, SyncStrategy):
            raise InvalidType(f"strategy must be a SyncStrategy subclass, got {choice.__name__}")
    elif not callable(choice):
        raise InvalidType(f"strategy must be a strategy spec, a SyncStrategy subclass or a "
                        f"factory(freshness, rng), got {choice!r}")


def name_of(choice: StrategyChoice) -> str:
    """How results name ``choice``: the spec, the class name or the factory's name."""
    if isinstance(choice, str):
        return choice.strip()
    return getattr(choice, "__qualname__", None) or repr(choice)


def is_oracle(spec: StrategyChoice) -> bool:
    """True when ``spec`` names the oracle (which the simulator builds itself)."""
    return isinstance(spec, str) and spec.strip() == ORACLE


def is_notify(spec: StrategyChoice) -> bool:
    """True when ``spec`` names the change-notification reference (built by the simulator)."""
    return isinstance(spec, str) and spec.strip() == NOTIFY


def check_spec(spec: str, freshness: float) -> None:
    """Raise the policy core's one-line ``ValueError`` if ``spec`` is not a valid strategy."""
    if is_oracle(spec) or is_notify(spec):
        return
    try:
        strategy_from_spec(spec, freshness, rng=random.Random(0))
    except ValueError as exc:
        # the simulator also knows the oracle
        raise InvalidInput(f"{exc}, {ORACLE} (simulator only)") from None


def build(choice: StrategyChoice, freshness: float, rng: random.Random) -> SyncStrategy:
    """A fresh strategy object for one node (not for ``oracle``)."""
    if isinstance(choice, str):
        return strategy_from_spec(choice, freshness, rng=rng)
    made = choice() if isinstance(choice, type) else choice(freshness, rng)
    if not isinstance(made, SyncStrategy):
        raise InvalidType(f"strategy factory {name_of(choice)} must return a SyncStrategy, "
                        f"got {type(made).__name__}")
    return made
