"""Metric and alert definitions shared by the simulator and the live controller."""

from synctune.monitoring.alerts import (
    ALERTS,
    AlertEvaluator,
    AlertEvent,
    AlertRule,
    AlertThresholds,
)
from synctune.monitoring.metrics import METRIC_NAMES, METRICS, MetricSpec

__all__ = ["ALERTS", "METRICS", "METRIC_NAMES", "AlertEvaluator", "AlertEvent", "AlertRule",
           "AlertThresholds", "MetricSpec"]
