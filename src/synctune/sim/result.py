"""What a simulation run returns: its summary figures and tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from synctune.sim.config import SimConfig
from synctune.sim.reduce.detail import empty_table


def _doc(text: str) -> Any:
    return field(metadata={"doc": text})


@dataclass(frozen=True, slots=True)
class RunSummary:
    """The figures of one run, flat and JSON-friendly. Each field's ``doc`` says what it is.

    Quantile fields (``*_p99_*``) are exact up to
    :data:`synctune.sim.reduce.sketch.EXACT_LIMIT` values and within
    :data:`synctune.sim.reduce.sketch.RELATIVE_ERROR` beyond
    (see :mod:`synctune.sim.reduce.sketch`).
    Reads by key (``summary["syncs"]``) as well as by attribute.
    """

    strategy: str = _doc("strategy spec")
    workload: str = _doc("scenario name or trace path")
    write_model: str = _doc("delegated or local-first")
    nodes: int = _doc("replica nodes")
    duration_s: float = _doc("simulated seconds")
    freshness_s: float = _doc("freshness target D (s)")
    seed: int = _doc("random seed")
    syncs: int = _doc("successful syncs (all nodes)")
    sync_failures: int = _doc("failed sync attempts")
    oracle_syncs: int = _doc("fewest pulls keeping every read within D (the physical limit)")
    syncs_per_oracle: float = _doc("syncs / oracle_syncs")
    ryw_pulls: int = _doc("read-your-writes pulls after delegated writes")
    bytes: int = _doc("bytes moved by syncs and read-your-writes pulls")
    reads: int = _doc("local reads")
    writes: int = _doc("writes issued (nodes and primary)")
    write_errors: int = _doc("delegated writes lost to an outage")
    stale_read_fraction: float = _doc("share of reads with staleness > 0")
    over_freshness_fraction: float = _doc("share of reads with staleness > D")
    staleness_mean_s: float = _doc("mean read staleness (s)")
    staleness_p99_s: float = _doc("99th percentile read staleness (s)")
    staleness_max_s: float = _doc("largest read staleness (s)")
    visibility_mean_s: float = _doc("mean write visibility delay (s), per (write, other node)")
    visibility_p99_s: float = _doc("99th percentile write visibility delay (s)")
    visibility_max_s: float = _doc("largest write visibility delay (s)")
    visibility_censored: int = _doc("(write, node) pairs not visible by the end")
    write_latency_p99_ms: float = _doc("99th percentile write latency (ms)")
    read_latency_p99_ms: float = _doc("99th percentile local read latency (ms)")
    unsynced_writes_max: int = _doc(
        "most local-first writes committed locally but not pushed, any node")
    unsynced_writes_end: int = _doc("local-first writes still unpushed at the end (at risk)")
    cold_starts: int = _doc("serverless cold starts")
    read_waits: int = _doc("reads held for a pull (bounded-staleness reads, read-wait)")
    read_wait_timeout_fraction: float = _doc(
        "share of held reads that ran without that pull (wait ran out or the pull failed)")
    read_wait_p50_ms: float = _doc("median wait of a held read (ms)")
    read_wait_p99_ms: float = _doc("99th percentile wait of a held read (ms)")
    alerts_high_sync_lag: int = _doc("high_sync_lag firings")
    alerts_sync_failure: int = _doc("sync_failure firings")
    alerts_replica_stale: int = _doc("replica_stale firings")
    # the announcement channel (announced, notify); 0 for a run without one
    watcher_syncs: int = field(default=0, metadata={
        "doc": "the watcher's successful pulls (also counted in syncs)"})
    announcements: int = field(default=0, metadata={"doc": "commit announcements published"})
    fallback_syncs: int = field(default=0, metadata={
        "doc": "syncs started while a replica's channel was down or silent (announced)"})

    def __getitem__(self, key: str) -> Any:
        if key not in SUMMARY_FIELDS:
            raise KeyError(key)
        return getattr(self, key)

    def keys(self) -> tuple[str, ...]:
        """Field names in table order (so ``dict(summary)`` works)."""
        return tuple(SUMMARY_FIELDS)

    def as_dict(self) -> dict[str, Any]:
        """The figures as a plain dict, in table order."""
        return {k: getattr(self, k) for k in SUMMARY_FIELDS}


#: summary keys, in table order, with their meaning (from :class:`RunSummary`'s field docs)
SUMMARY_FIELDS: dict[str, str] = {f.name: f.metadata["doc"] for f in fields(RunSummary)}

#: columns of the detail tables
READ_COLUMNS = ("t", "node", "staleness_s", "latency_ms")
WRITE_COLUMNS = ("t", "node", "commit_t", "latency_ms", "bytes", "failed", "visibility_max_s")
SYNC_COLUMNS = ("node", "start", "end", "ok", "failure", "pulled", "pushed", "bytes", "reach")


class SimResult:
    """Summary and tables of one run (times in seconds from the start).

    Attributes:
        config: the configuration run (its seed included).
        summary: the run's :class:`RunSummary`.
        metrics: the six metrics per node at sample times (``t, node, sync_lag,
            sync_failures, local_db_size, query_latency, sync_bandwidth, replica_age``,
            plus ``sync_interval``, the interval in force); every ``sample_interval`` seconds
            unless that would exceed ``SimConfig.max_metric_rows``, then evenly thinned.
        alerts: ``t, node, name, severity, state, value``: every firing and resolving.
        detail_dir: where the detail tables are (parquet) with ``detail`` and a
            ``config.detail_dir``; ``None`` otherwise (kept in memory, or no detail).
    """

    __slots__ = ("_tables", "alerts", "config", "detail_dir", "metrics", "summary")

    def __init__(self, config: SimConfig, summary: RunSummary, metrics: pd.DataFrame,
                 alerts: pd.DataFrame, detail_dir: Path | None = None,
                 tables: Mapping[str, pd.DataFrame] | None = None) -> None:
        self.config, self.summary = config, summary
        self.metrics, self.alerts = metrics, alerts
        self.detail_dir = detail_dir
        self._tables = dict(tables) if tables is not None else None

    def _table(self, name: str, sort: str | None) -> pd.DataFrame:
        if self._tables is not None and name in self._tables:
            # a new frame on each access, as from the files (the columns are shared)
            return self._tables[name].copy(deep=False)
        if self.detail_dir is None:
            return empty_table(name)
        df = pd.read_parquet(self.detail_dir / f"{name}.parquet")
        if sort is not None and not df.empty:
            df = df.sort_values(sort, kind="stable", ignore_index=True)
            df["node"] = df["node"].astype("category")
        return df

    @property
    def reads(self) -> pd.DataFrame:
        """``t, node, staleness_s, latency_ms`` per read, by time (empty unless
        ``config.detail``; kept in memory, or read from ``detail_dir`` on each access)."""
        return self._table("reads", "t")

    @property
    def writes(self) -> pd.DataFrame:
        """``t, node, commit_t, latency_ms, bytes, failed, visibility_max_s`` per write, by time,
        ``node == "primary"`` for other clients' writes (empty unless ``config.detail``)."""
        return self._table("writes", "t")

    @property
    def syncs(self) -> pd.DataFrame:
        """``node, start, end, ok, failure, pulled, pushed, bytes, reach`` per attempt, node by
        node (empty unless ``config.detail``)."""
        return self._table("syncs", None)

    def __repr__(self) -> str:
        s = self.summary
        return (f"SimResult(strategy={s.strategy!r}, syncs={s.syncs}, "
                f"oracle_syncs={s.oracle_syncs}, "
                f"stale_read_fraction={s.stale_read_fraction:.4g})")
