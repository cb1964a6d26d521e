"""Argument validation: one-line :class:`InvalidInput` errors naming field and value.

A leaf (it imports only the error types beside it), so the policy core can use it and so can
everything built on it: the simulator, sweeps, the live controller and the CLI.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import TypeVar

from synctune.policy.errors import InvalidInput, InvalidType

T = TypeVar("T")


def real(name: str, value: object, *, minimum: float | None = None, strict: bool = False,
         maximum: float | None = None, strict_maximum: bool = False) -> float:
    """Return ``value`` as a finite float or raise naming ``name`` and ``value``.

    ``minimum`` is inclusive unless ``strict``; ``maximum`` is inclusive unless
    ``strict_maximum``. Booleans are rejected: ``True`` is never a meaningful number of seconds.
    """
    # plain floats and ints skip the slow ABC check (this runs for every observation)
    cls = value.__class__
    if cls is not float and cls is not int and (isinstance(value, bool)
                                                or not isinstance(value, Real)):
        raise InvalidType(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    out = float(value)  # type: ignore[arg-type]
    if not math.isfinite(out):
        raise InvalidInput(f"{name} must be finite, got {value!r}")
    if minimum is not None:
        if strict and not out > minimum:
            raise InvalidInput(f"{name} must be > {minimum:g}, got {value!r}")
        if not strict and out < minimum:
            raise InvalidInput(f"{name} must be >= {minimum:g}, got {value!r}")
    if maximum is not None:
        if strict_maximum and not out < maximum:
            raise InvalidInput(f"{name} must be < {maximum:g}, got {value!r}")
        if not strict_maximum and out > maximum:
            raise InvalidInput(f"{name} must be <= {maximum:g}, got {value!r}")
    return out


def count(name: str, value: object, minimum: int = 0) -> int:
    """Return ``value`` as an int ``>= minimum`` or raise naming ``name`` and ``value``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise InvalidInput(f"{name} must be >= {minimum}, got {value!r}")
    return value


def flag(name: str, value: object) -> bool:
    """Return ``value`` if it is a bool, else raise naming ``name`` and ``value``."""
    if not isinstance(value, bool):
        raise InvalidType(f"{name} must be a bool, got {value!r} ({type(value).__name__})")
    return value


def instance_or(name: str, value: T | None, cls: type[T], default: Callable[[], T]) -> T:
    """``value`` if it is a ``cls``, ``default()`` if it is None; else a TypeError naming it."""
    if value is None:
        return default()
    if not isinstance(value, cls):
        raise InvalidType(f"{name} must be a {cls.__module__.split('.')[0]}.{cls.__name__} "
                        f"or None, got {value!r}")
    return value
