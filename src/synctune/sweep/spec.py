"""A sweep described by its factors: the CLI's options or a small TOML/JSON sweep file.

A sweep file holds the same things as the command line::

    scenarios = ["web", "serverless"]
    strategies = ["periodic:60", "on-write", "adaptive", "oracle"]
    freshness = [10, 30, 60]          # seconds
    seeds = 5
    metrics = ["syncs", "stale_read_fraction"]
    confidence = 0.95
    [params]                          # more factors: any SimConfig field -> its levels
    rtt_ms = [20, 200]
    [fixed]                           # the same value in every run
    duration = 3600
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from synctune.policy import _check
from synctune.policy.errors import InvalidInput, InvalidType
from synctune.sweep.grid import Grid, Scalar

#: summary figures shown by default (keys of the simulator's summary)
DEFAULT_METRICS = ("syncs", "stale_read_fraction", "staleness_p99_s", "bytes")


@dataclass(frozen=True)
class SweepSpec:
    """Factors of a simulator sweep, replicated over ``seeds``.

    Attributes:
        scenarios: workload names (``SimConfig.scenario``).
        strategies: strategy specs (``periodic:60``, ``on-write``, ``adaptive``...).
        freshness: freshness targets in seconds.
        seeds: replications per cell (seeds ``0 .. seeds-1``).
        params: further factors, parameter name -> levels.
        fixed: parameters shared by every run (e.g. ``duration`` in seconds).
        metrics: summary figures to tabulate with confidence intervals.
        confidence: two-sided confidence level of the intervals.
    """

    scenarios: tuple[str, ...] = ("web",)
    strategies: tuple[str, ...] = ("adaptive",)
    freshness: tuple[float, ...] = (30.0,)
    seeds: int = 5
    params: Mapping[str, tuple[Scalar, ...]] = field(default_factory=dict)
    fixed: Mapping[str, Scalar] = field(default_factory=dict)
    metrics: tuple[str, ...] = DEFAULT_METRICS
    confidence: float = 0.95

    def __post_init__(self) -> None:
        for name in ("scenarios", "strategies", "metrics"):
            values = _tuple(name, getattr(self, name))
            for v in values:
                if not isinstance(v, str) or not v.strip():
                    raise InvalidInput(f"{name} must be non-empty names, got {v!r}")
            object.__setattr__(self, name, tuple(v.strip() for v in values))
        fresh = _tuple("freshness", self.freshness)
        object.__setattr__(self, "freshness", tuple(
            _check.real("freshness", v, minimum=0.0, strict=True) for v in fresh))
        _check.count("seeds", self.seeds, minimum=1)
        _check.real("confidence", self.confidence, minimum=0.0, strict=True, maximum=1.0,
                    strict_maximum=True)
        if not isinstance(self.params, Mapping) or not isinstance(self.fixed, Mapping):
            raise InvalidType("params and fixed must be tables of parameter -> value(s)")
        object.__setattr__(self, "params",
                           {k: _tuple(k, v) for k, v in self.params.items()})
        object.__setattr__(self, "fixed", dict(self.fixed))
        for name in ("scenario", "strategy", "freshness", "seed"):
            if name in self.params or name in self.fixed:
                raise InvalidInput(f"{name} is set by its own option, not in params/fixed")
        self.grid()  # every other check: names, value types, duplicates

    @property
    def factors(self) -> dict[str, tuple[Scalar, ...]]:
        """Every factor of the design, in loop order."""
        return {"scenario": self.scenarios, "strategy": self.strategies,
                "freshness": self.freshness, **self.params}

    def grid(self) -> Grid:
        """The factorial design of this sweep."""
        return Grid(self.factors, seeds=self.seeds, fixed=self.fixed)

    def varying(self) -> list[str]:
        """Factors with more than one level (the table's row labels)."""
        return [k for k, v in self.factors.items() if len(v) > 1]

    def updated(self, **changes: Any) -> SweepSpec:
        """A copy with ``changes`` applied (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_file(cls, path: str | Path) -> SweepSpec:
        """Read a TOML (``.toml``) or JSON (any other suffix) sweep file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"sweep file {str(path)!r} is not UTF-8 text "
                               f"(byte {exc.start}: {exc.reason})") from None
        try:
            data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"sweep file {str(path)!r} is not valid: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidInput(f"sweep file {str(path)!r} must hold a table of settings")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(f"sweep file {str(path)!r}: unknown setting {unknown[0]!r} "
                             f"(known: {', '.join(sorted(known))})")
        if isinstance(data.get("freshness"), int | float):
            data["freshness"] = [data["freshness"]]
        return cls(**data)


def _tuple(name: str, values: object) -> tuple[Any, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise InvalidType(f"{name} must be a list, got {values!r}")
    if not values:
        raise InvalidInput(f"{name} must not be empty")
    return tuple(values)
