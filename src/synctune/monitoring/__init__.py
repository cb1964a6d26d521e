"""Metric and alert definitions shared by the simulator, the live controller, the Prometheus
rules and the Grafana dashboard."""

from synctune.monitoring.alerts import (
    ALERTS,
    RULE_ALERTS,
    AlertEvaluator,
    AlertEvent,
    AlertRule,
    AlertThresholds,
)
from synctune.monitoring.metrics import EXPORTED, METRIC_NAMES, METRICS, MetricSpec

__all__ = ["ALERTS", "EXPORTED", "METRICS", "METRIC_NAMES", "RULE_ALERTS", "AlertEvaluator",
           "AlertEvent", "AlertRule", "AlertThresholds", "MetricSpec"]
