"""Serve a controller's metrics for Prometheus (needs the ``prometheus`` extra).

A custom collector reads :meth:`SyncController.status` at scrape time, so the app's commits
and the sync thread pay nothing for the export. Names come from
:attr:`synctune.monitoring.MetricSpec.prometheus_name`; two more series feed the shipped alert
rules: ``synctune_sync_interval_seconds`` (only while a periodic interval is in force) and
``synctune_alert_firing{alertname}`` (the in-process evaluator's view). No label or help text
carries the URL or the token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from synctune.monitoring import ALERTS, METRICS
from synctune.monitoring.prometheus_rules import SYNC_INTERVAL_METRIC
from synctune.policy.errors import InvalidInput

if TYPE_CHECKING:
    from synctune.live.controller import SyncController


def _families(controller: SyncController) -> Iterator[Any]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    status = controller.status()
    values = status.metrics()
    for spec in METRICS:
        help_text = f"{spec.description} ({spec.unit}; guide threshold {spec.healthy})"
        if spec.kind == "counter":
            family: Any = CounterMetricFamily(spec.prometheus_name.removesuffix("_total"),
                                              help_text)
        else:
            family = GaugeMetricFamily(spec.prometheus_name, help_text)
        family.add_metric([], float(values[spec.name]))
        yield family
    if status.interval is not None:
        interval = GaugeMetricFamily(SYNC_INTERVAL_METRIC,
                                     "Periodic sync interval in force (seconds).")
        interval.add_metric([], status.interval)
        yield interval
    syncs = CounterMetricFamily("synctune_syncs", "Successful syncs since start.")
    syncs.add_metric([], status.syncs)
    yield syncs
    unpushed = GaugeMetricFamily("synctune_unpushed_writes",
                                 "Local changes not yet confirmed pushed (the engine's backlog "
                                 "where the adapter counts it).")
    unpushed.add_metric([], status.unpushed_writes)
    yield unpushed
    firing = GaugeMetricFamily("synctune_alert_firing",
                               "1 while the in-process evaluator has the alert firing.",
                               labels=["alertname"])
    for rule in ALERTS:
        firing.add_metric([rule.name], 1.0 if rule.name in status.firing else 0.0)
    yield firing


class ControllerCollector:
    """A ``prometheus_client`` collector for one controller."""

    def __init__(self, controller: SyncController) -> None:
        self._controller = controller

    def collect(self) -> Iterator[Any]:
        yield from _families(self._controller)


class MetricsServer:
    """An HTTP endpoint serving one controller's metrics on ``addr:port`` (``/metrics``).

    ``port=0`` picks a free port (see :attr:`port`). Uses its own registry, so nothing is
    added to the process-wide default one.
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
        return f"http://{self.addr}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving (idempotent)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(2)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
