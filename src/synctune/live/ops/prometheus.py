"""Serve a controller's metrics for Prometheus (needs the ``prometheus`` extra).

A custom collector reads :meth:`SyncController.status` and the controller's
:class:`~synctune.live.control.telemetry.SyncTelemetry` at scrape time, so the app's commits and the
sync thread pay nothing for the export. Every series is one of
:data:`synctune.monitoring.metrics.EXPORTED`, under its ``prometheus_name``: the guide's six
(failures by ``kind``, bytes by ``direction``, read latency as a histogram), the sync-duration
histogram, the last successful pull as a Unix timestamp (the engine's record, so the lag is
right after a restart), the interval in force, the stale-reads counters, the reads held for a
fresh pull (bounded-staleness reads) by outcome, the in-process alert
states and build info; with an announcer, the commit announcements
(:data:`synctune.monitoring.metrics.ANNOUNCE_EXPORTED`). No label or help text carries the URL or
the token.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from synctune.monitoring import ALERTS
from synctune.monitoring import metrics as m
from synctune.monitoring.histogram import HistogramSnapshot
from synctune.policy.errors import InvalidInput

if TYPE_CHECKING:
    from synctune.live.control.announce_link import AnnounceSnapshot
    from synctune.live.control.controller import SyncController


def _help(spec: m.MetricSpec) -> str:
    healthy = "" if spec.healthy == "-" else f"; guide threshold {spec.healthy}"
    return f"{spec.description} ({spec.unit}{healthy})"


def _family(spec: m.MetricSpec) -> Any:
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
    )

    labels = list(spec.labels)
    if spec.kind == "counter":
        return CounterMetricFamily(spec.prometheus_name.removesuffix("_total"), _help(spec),
                                   labels=labels)
    if spec.kind == "histogram":
        return HistogramMetricFamily(spec.prometheus_name, _help(spec), labels=labels)
    return GaugeMetricFamily(spec.prometheus_name, _help(spec), labels=labels)


def _histogram(spec: m.MetricSpec, snap: HistogramSnapshot) -> Any:
    family = _family(spec)
    buckets = [(f"{b:g}", float(c)) for b, c in zip(snap.bounds, snap.cumulative, strict=False)]
    buckets.append(("+Inf", float(snap.count)))
    family.add_metric([], buckets, snap.total)
    return family


def _families(controller: SyncController) -> Iterator[Any]:
    from synctune._version import __version__

    status = controller.status()
    tele = controller.telemetry.snapshot()
    plain: dict[str, float | None] = {
        m.SYNC_LAG.name: status.sync_lag,
        m.LOCAL_DB_SIZE.name: status.local_db_size,
        m.REPLICA_AGE.name: status.replica_age,
        m.LAST_SYNC.name: tele.last_sync_unix,
        m.SYNC_INTERVAL.name: status.interval,
        m.SYNCS.name: status.syncs,
        m.UNPUSHED_WRITES.name: status.unpushed_writes,
        m.READS.name: tele.reads,
        m.READS_OVER_FRESHNESS.name: tele.reads_over_freshness,
        m.FRESHNESS_TARGET.name: tele.freshness,
    }
    labelled: dict[str, dict[tuple[str, ...], float]] = {
        m.SYNC_FAILURES.name: {(k,): float(v) for k, v in tele.failures.items()},
        m.SYNC_BANDWIDTH.name: {(k,): float(v) for k, v in tele.bandwidth.items()},
        m.ALERT_FIRING.name: {(a.name,): 1.0 if a.name in status.firing else 0.0
                              for a in ALERTS},
        m.CHECKPOINTS.name: {("done",): float(controller.replica.checkpoints),
                             ("deferred",): float(controller.replica.checkpoints_deferred)},
        m.READ_WAITS.name: {("fresh",): float(tele.read_waits - tele.read_waits_out),
                            ("waited_out",): float(tele.read_waits_out)},
        m.BUILD_INFO.name: {(__version__, platform.python_version()): 1.0},
    }
    histograms = {m.QUERY_LATENCY.name: tele.query_latency,
                  m.SYNC_DURATION.name: tele.sync_duration}
    for spec in m.EXPORTED:
        if spec.name in histograms:
            yield _histogram(spec, histograms[spec.name])
        elif spec.name in labelled:
            family = _family(spec)
            for labels, count in labelled[spec.name].items():
                family.add_metric(list(labels), count)
            yield family
        else:
            value = plain[spec.name]
            if value is None:  # not known or not in force: no series (alerts rely on it)
                continue
            family = _family(spec)
            family.add_metric([], float(value))
            yield family
    announced = controller.announcements()
    if announced is not None:
        yield from _announce_families(announced)


def _announce_families(snap: AnnounceSnapshot) -> Iterator[Any]:
    """Commit announcements: hints heard, their lag, channel and fallback state, publishing."""
    values: dict[str, dict[tuple[str, ...], float]] = {
        m.ANNOUNCE_HINTS.name: {(k,): float(snap.hints.get(k, 0))
                                for k in ("commit", "heartbeat")},
        m.ANNOUNCE_FALLBACK_ACTIVE.name: {(): float(snap.fallback_active)},
        m.ANNOUNCE_CHANNEL_UP.name: {(): float(snap.channel_up)},
        m.ANNOUNCE_PUBLISHED.name: {("sent",): float(snap.published),
                                    ("dropped",): float(snap.publish_dropped)},
        m.ANNOUNCE_JUNK.name: {(): float(snap.junk)},
        m.ANNOUNCE_LOST.name: {(): float(snap.lost)},
    }
    for spec in m.ANNOUNCE_EXPORTED:
        if spec.kind == "histogram":
            yield _histogram(spec, snap.hint_lag)
            continue
        family = _family(spec)
        for labels, value in values[spec.name].items():
            family.add_metric(list(labels), value)
        yield family


class ControllerCollector:
    """A ``prometheus_client`` collector for one controller."""

    def __init__(self, controller: SyncController) -> None:
        self._controller = controller

    def collect(self) -> Iterator[Any]:
        yield from _families(self._controller)


class MetricsServer:
    """An HTTP endpoint serving one controller's metrics on ``addr:port`` (``/metrics``).

    ``port=0`` picks a free port (see :attr:`port`). ``addr`` is the address to bind:
    ``127.0.0.1`` (the default) serves this host only; ``0.0.0.0`` (or ``::``) lets a
    Prometheus outside a container scrape it. Uses its own registry, so nothing is added to
    the process-wide default one.
    """

    def __init__(self, controller: SyncController, port: int = 0,
                 addr: str = "127.0.0.1") -> None:
        try:
            from prometheus_client import CollectorRegistry, start_http_server
        except ImportError:
            raise ImportError("the metrics endpoint needs the prometheus extra: "
                              "pip install 'synctune[prometheus]'") from None
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise InvalidInput(f"port must be an integer in 0..65535, got {port!r}")
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(ControllerCollector(controller))
        self._server, self._thread = start_http_server(port, addr=addr, registry=self.registry)
        self.addr = addr
        self.port = int(self._server.server_port)

    @property
    def url(self) -> str:
        """Where Prometheus scrapes."""
        host = f"[{self.addr}]" if ":" in self.addr else self.addr
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving (idempotent)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(2)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
