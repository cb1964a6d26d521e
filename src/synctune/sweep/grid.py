"""Factorial designs: every combination of the factor levels, replicated over seeds."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from synctune.policy import _check
from synctune.policy.errors import InvalidInput, InvalidType

#: parameter values a run may carry: JSON scalars, so run keys are stable and storable
Scalar = str | int | float | bool | None

_SCALARS = (str, int, float, bool, type(None))


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise InvalidInput(f"parameter name must be an identifier, got {name!r}")
    return name


def _check_value(name: str, value: object) -> Scalar:
    if not isinstance(value, _SCALARS):
        raise InvalidType(
            f"{name} values must be str, int, float, bool or None, got {value!r} "
            f"({type(value).__name__})")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"{name} values must be finite, got {value!r}")
    return value


def _canonical(value: Scalar) -> Scalar:
    # 30 and 30.0 are the same run: hash integral floats as ints
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def run_key(params: Mapping[str, Any]) -> str:
    """Stable 16-hex-digit hash of one run's parameters (order-insensitive, ``30 == 30.0``)."""
    canon = {_check_name(k): _canonical(_check_value(k, v)) for k, v in params.items()}
    text = json.dumps(canon, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _levels(name: str, values: object) -> tuple[Scalar, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise InvalidType(f"levels of {name} must be a list, got {values!r}")
    if not values:
        raise InvalidInput(f"levels of {name} must not be empty")
    levels = tuple(_check_value(name, v) for v in values)
    seen = {json.dumps(_canonical(v)) for v in levels}
    if len(seen) != len(levels):
        raise InvalidInput(f"levels of {name} must be distinct, got {list(values)!r}")
    return levels


@dataclass(frozen=True)
class Grid:
    """A full factorial design replicated over seeds.

    Attributes:
        factors: parameter name -> its levels; every combination is run (insertion order is the
            loop order, first factor outermost).
        seeds: the replication seeds; an int ``n`` means ``0 .. n-1``. Each run records its seed
            under ``seed_name``.
        fixed: parameters shared by every run.
        seed_name: parameter that carries the seed (default ``seed``).
    """

    factors: Mapping[str, Sequence[Scalar]]
    seeds: int | Sequence[int] = 1
    fixed: Mapping[str, Scalar] = field(default_factory=dict)
    seed_name: str = "seed"

    def __post_init__(self) -> None:
        if not isinstance(self.factors, Mapping):
            raise InvalidType(f"factors must be a mapping, got {self.factors!r}")
        if not isinstance(self.fixed, Mapping):
            raise InvalidType(f"fixed must be a mapping, got {self.fixed!r}")
        _check_name(self.seed_name)
        factors = {_check_name(k): _levels(k, v) for k, v in self.factors.items()}
        fixed = {_check_name(k): _check_value(k, v) for k, v in self.fixed.items()}
        seeds = self._seed_list(self.seeds)
        clash = (set(factors) & set(fixed)) | ({self.seed_name} & (set(factors) | set(fixed)))
        if clash:
            raise InvalidInput(f"parameter given twice (factor, fixed or seed): {sorted(clash)[0]}")
        object.__setattr__(self, "factors", MappingProxyType(factors))
        object.__setattr__(self, "fixed", MappingProxyType(fixed))
        object.__setattr__(self, "seeds", seeds)

    @staticmethod
    def _seed_list(seeds: object) -> tuple[int, ...]:
        if isinstance(seeds, int):
            return tuple(range(_check.count("seeds", seeds, minimum=1)))
        if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence) or not seeds:
            raise InvalidType(f"seeds must be a count or a non-empty list of ints, got {seeds!r}")
        for s in seeds:
            _check.count("seeds", s)
        if len(set(seeds)) != len(seeds):
            raise InvalidInput(f"seeds must be distinct, got {list(seeds)!r}")
        return tuple(seeds)

    @property
    def cells(self) -> int:
        """Number of factor combinations (design cells), without replication."""
        return math.prod(len(v) for v in self.factors.values())

    def __len__(self) -> int:
        return self.cells * len(self.seeds)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[dict[str, Scalar]]:
        names = list(self.factors)
        for combo in itertools.product(*self.factors.values()):
            for seed in self.seeds:  # type: ignore[union-attr]
                yield {**self.fixed, **dict(zip(names, combo, strict=True)),
                       self.seed_name: seed}

    def runs(self) -> list[dict[str, Scalar]]:
        """Every run's parameters, seeds innermost."""
        return list(self)
