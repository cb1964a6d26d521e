"""What a strategy answers (a :class:`Decision`) and what a driver reports to it (a
:class:`SyncReport`, a :class:`FailureKind`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import FrozenInstanceError, dataclass
from enum import StrEnum

from synctune.policy import _check


class FailureKind(StrEnum):
    """Why a sync failed, as far as the driver can tell."""

    TIMEOUT = "timeout"
    NETWORK = "network"
    AUTH = "auth"
    SERVER = "server"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one successful sync observed.

    Attributes:
        duration: wall time of the whole sync in seconds (push plus pull).
        pulled: remote changes applied locally (0 for an empty pull).
        pushed: local changes sent to the primary.
        nbytes: bytes over the network, both directions.
    """

    duration: float
    pulled: int = 0
    pushed: int = 0
    nbytes: int = 0

    def __post_init__(self) -> None:
        # one report per sync: the common well-formed case costs a few compares
        d, p, q, n = self.duration, self.pulled, self.pushed, self.nbytes
        if not (d.__class__ is float and 0.0 <= d < math.inf):
            _check.real("duration", d, minimum=0.0)
        if not (p.__class__ is int and q.__class__ is int and n.__class__ is int
                and p >= 0 and q >= 0 and n >= 0):
            _check.count("pulled", p)
            _check.count("pushed", q)
            _check.count("nbytes", n)


class Decision:
    """The strategy's latest answer to "when is the next sync due?", with its reason.

    Immutable (assigning raises :class:`dataclasses.FrozenInstanceError`); equal when ``due``,
    ``reason`` and ``interval`` are.

    Attributes:
        due: absolute time (s) of the next sync, or ``None`` when nothing is planned until an
            event arrives (e.g. a manual strategy with no request).
        reason: short human-readable reason, for logs and notebooks. A strategy that re-plans
            after every sync may pass a zero-argument callable that returns it instead: the
            text is then formatted on first read (the simulator never reads it).
        interval: the periodic interval in force (s), or ``None`` when there is none; the
            ``replica_stale`` alert compares freshness with twice this value.
    """

    __slots__ = ("_reason", "due", "interval")
    __match_args__ = ("due", "reason", "interval")

    due: float | None
    interval: float | None
    _reason: str | Callable[[], str]

    def __init__(self, due: float | None, reason: str | Callable[[], str],
                 interval: float | None = None) -> None:
        # slot descriptors: a third cheaper than object.__setattr__, and a decision is made
        # per sync and per heartbeat
        _set_due(self, due)
        _set_reason(self, reason)
        _set_interval(self, interval)

    @property
    def reason(self) -> str:
        """Short human-readable reason, for logs and notebooks."""
        text = self._reason
        if not isinstance(text, str):
            text = text()
            _set_reason(self, text)
        return text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision) or other.__class__ is not self.__class__:
            return NotImplemented
        return (self.due, self.reason, self.interval) == (other.due, other.reason, other.interval)

    def __hash__(self) -> int:
        return hash((self.due, self.reason, self.interval))

    def __repr__(self) -> str:
        return (f"{type(self).__qualname__}(due={self.due!r}, reason={self.reason!r}, "
                f"interval={self.interval!r})")

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[type[Decision], tuple[float | None, str, float | None]]:
        return type(self), (self.due, self.reason, self.interval)


def _slot_setter(name: str) -> Callable[[Decision, object], None]:
    """The slot's own setter: it bypasses the frozen ``__setattr__``."""
    setter: Callable[[Decision, object], None] = vars(Decision)[name].__set__
    return setter


_set_due = _slot_setter("due")
_set_reason = _slot_setter("_reason")
_set_interval = _slot_setter("interval")
