"""A workload: when each node reads, writes and asks for a sync, and what other clients write."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from synctune.policy.errors import InvalidInput, InvalidType

#: the name of the primary in traces: writes made there directly by other clients
PRIMARY = "primary"


def _times(name: str, values: object) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise InvalidInput(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and (not np.isfinite(arr).all() or arr[0] < 0 or np.any(np.diff(arr) < 0)):
        raise InvalidInput(f"{name} must be finite, >= 0 and non-decreasing")
    arr.setflags(write=False)
    return arr


#: stands for "not given" in the byte-size fields, so they are typed as arrays after construction
_DEFAULT_BYTES = np.empty(0, dtype=np.int64)


def _default_bytes() -> np.ndarray:
    return _DEFAULT_BYTES


def _bytes(name: str, values: object, n: int, default: int) -> np.ndarray:
    if values is None or values is _DEFAULT_BYTES:
        arr = np.full(n, default, dtype=np.int64)
    else:
        arr = np.asarray(values, dtype=np.int64)
        if arr.shape != (n,):
            raise InvalidInput(f"{name} must have one entry per write ({n}), got shape {arr.shape}")
        if arr.size and arr.min() < 0:
            raise InvalidInput(f"{name} must be >= 0, got {int(arr.min())}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class NodeLoad:
    """What one replica node does (all times in seconds from the start, sorted).

    Attributes:
        reads: local read times.
        writes: write times (the app issues the write).
        write_bytes: size of each write in bytes (default 256).
        syncs: manual sync points of the app (``sync()`` calls).
        cold_starts: times the node starts cold (serverless): a fresh replica file that the
            next sync fills from scratch.
    """

    reads: np.ndarray = field(default_factory=lambda: np.empty(0))
    writes: np.ndarray = field(default_factory=lambda: np.empty(0))
    write_bytes: np.ndarray = field(default_factory=_default_bytes)
    syncs: np.ndarray = field(default_factory=lambda: np.empty(0))
    cold_starts: np.ndarray = field(default_factory=lambda: np.empty(0))

    def __post_init__(self) -> None:
        object.__setattr__(self, "reads", _times("reads", self.reads))
        object.__setattr__(self, "writes", _times("writes", self.writes))
        object.__setattr__(self, "write_bytes",
                           _bytes("write_bytes", self.write_bytes, self.writes.size, 256))
        object.__setattr__(self, "syncs", _times("syncs", self.syncs))
        object.__setattr__(self, "cold_starts", _times("cold_starts", self.cold_starts))


@dataclass(frozen=True)
class Workload:
    """Nodes' loads plus the writes other clients make directly on the primary.

    Attributes:
        nodes: load per node name, in a fixed order.
        primary_writes: times of writes committed directly at the primary.
        primary_bytes: their sizes in bytes.
        duration: length of the workload (s).
    """

    nodes: Mapping[str, NodeLoad]
    duration: float
    primary_writes: np.ndarray = field(default_factory=lambda: np.empty(0))
    primary_bytes: np.ndarray = field(default_factory=_default_bytes)

    def __post_init__(self) -> None:
        if not self.nodes:
            raise InvalidInput("nodes must name at least one replica node, got none")
        for name, load in self.nodes.items():
            if not isinstance(name, str) or not name or name == PRIMARY:
                raise InvalidInput(f"node names must be non-empty and not {PRIMARY!r}, "
                                   f"got {name!r}")
            if not isinstance(load, NodeLoad):
                raise InvalidType(f"nodes[{name!r}] must be a NodeLoad, got {load!r}")
        object.__setattr__(self, "nodes", MappingProxyType(dict(self.nodes)))
        if not (isinstance(self.duration, int | float) and np.isfinite(self.duration)
                and self.duration > 0):
            raise InvalidInput(f"duration must be a number > 0, got {self.duration!r}")
        pw = _times("primary_writes", self.primary_writes)
        object.__setattr__(self, "primary_writes", pw)
        object.__setattr__(self, "primary_bytes",
                           _bytes("primary_bytes", self.primary_bytes, pw.size, 256))

    @property
    def names(self) -> tuple[str, ...]:
        """Node names in order."""
        return tuple(self.nodes)

    def clipped(self, duration: float) -> Workload:
        """The same workload cut (or extended) to ``duration`` seconds."""
        def cut(a: np.ndarray) -> np.ndarray:
            return a[: np.searchsorted(a, duration, side="right")]

        nodes = {}
        for name, ld in self.nodes.items():
            n = np.searchsorted(ld.writes, duration, side="right")
            nodes[name] = NodeLoad(cut(ld.reads), ld.writes[:n], ld.write_bytes[:n],
                                   cut(ld.syncs), cut(ld.cold_starts))
        n = np.searchsorted(self.primary_writes, duration, side="right")
        return Workload(nodes, float(duration), self.primary_writes[:n],
                        self.primary_bytes[:n])

    @property
    def operations(self) -> int:
        """Reads, writes and sync points in total."""
        total = self.primary_writes.size
        for ld in self.nodes.values():
            total += ld.reads.size + ld.writes.size + ld.syncs.size + ld.cold_starts.size
        return int(total)
