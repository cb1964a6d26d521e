"""The guide's three alerts, the extra ones of the Prometheus rules, and one evaluator that both
the simulator and the controller run (on the guide's three)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from synctune.policy import _check
from synctune.policy.errors import InvalidType


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One alert as the guide writes it, with what Prometheus needs beside it.

    Attributes:
        name: alert name (also the runbook section's anchor in ``docs/runbook.md``).
        condition: the condition in the guide's words.
        severity: ``warning`` or ``critical``.
        action: who is told (``notify_team``, ``notify_oncall``).
        description: one line on what is wrong.
        for_s: seconds the condition must hold before Prometheus fires (``for:``).
        runbook: the steps to take, in the guide's incident checklist's order (one line).
    """

    name: str
    condition: str
    severity: str
    action: str
    description: str
    for_s: float = 0.0
    runbook: str = ""


HIGH_SYNC_LAG = AlertRule("high_sync_lag", "sync_lag > 300", "warning", "notify_team",
                          "Sync lag is above 5 minutes.", 60.0,
                          "Check the sync state, then the network path to the primary.")
SYNC_FAILURE = AlertRule("sync_failure", "sync_failures > 3 in 10 minutes", "critical",
                         "notify_oncall", "Syncs keep failing.", 60.0,
                         "Read the failure kind; check the network, then the auth token.")
REPLICA_STALE = AlertRule("replica_stale", "replica_age > sync_interval * 2", "warning",
                          "notify_team", "The replica is stale.", 120.0,
                          "Check the sync state and the failures; sync by hand if needed.")

#: the three alerts, in the guide's order (evaluated in process by the simulator and controller)
ALERTS: tuple[AlertRule, ...] = (HIGH_SYNC_LAG, SYNC_FAILURE, REPLICA_STALE)

STALE_READS_SLO = AlertRule(
    "stale_reads_slo", "share of reads older than D > stale_share over slo_window", "warning",
    "notify_team", "More reads than the target share are older than the freshness target.",
    900.0, "Compare the sync interval with the traffic; re-run synctune recommend.")
UNPUSHED_WRITES = AlertRule(
    "unpushed_writes", "unpushed_writes > 0 while no sync succeeded for unpushed_age",
    "critical", "notify_oncall", "Local commits are waiting for a push that does not happen.",
    60.0, "Check the sync state; keep the local file; push by hand once the primary answers.")
METRICS_ABSENT = AlertRule(
    "metrics_absent", "a synctune metric is absent", "warning", "notify_team",
    "Prometheus sees no synctune metrics: the exporter or the app is down.", 300.0,
    "Check the app process, its --metrics-addr and the scrape target.")

ANNOUNCE_FALLBACK = AlertRule(
    "announce_fallback", "announce_fallback_active for 10 minutes", "warning", "notify_team",
    "A replica has synced on its fallback tuner for 10 minutes: announcements do not reach it.",
    600.0, "Check redis-server, then the watcher (synctune watch), then the --announce URL.")

#: every alert of the shipped Prometheus rules: the guide's three, then the extra ones
RULE_ALERTS: tuple[AlertRule, ...] = (*ALERTS, STALE_READS_SLO, UNPUSHED_WRITES, METRICS_ABSENT,
                                      ANNOUNCE_FALLBACK)


@dataclass(frozen=True, slots=True)
class AlertThresholds:
    """Thresholds, defaulting to the guide's; shorten them in tests rather than faking time.

    Attributes:
        sync_lag: seconds of sync lag above which ``high_sync_lag`` fires.
        failures: failures within ``failure_window`` above which ``sync_failure`` fires.
        failure_window: seconds over which failures are counted.
        stale_factor: ``replica_stale`` fires when the replica's age exceeds this times the
            interval.
        stale_share: ``stale_reads_slo`` fires when a larger share of reads is older than D.
        slo_window: seconds over which the share of stale reads is measured.
        unpushed_age: seconds without a successful sync, with writes unpushed, before
            ``unpushed_writes`` fires.
    """

    sync_lag: float = 300.0
    failures: int = 3
    failure_window: float = 600.0
    stale_factor: float = 2.0
    stale_share: float = 0.01
    slo_window: float = 3600.0
    unpushed_age: float = 600.0

    def __post_init__(self) -> None:
        _check.real("sync_lag", self.sync_lag, minimum=0.0)
        _check.count("failures", self.failures)
        _check.real("failure_window", self.failure_window, minimum=0.0, strict=True)
        _check.real("stale_factor", self.stale_factor, minimum=0.0, strict=True)
        _check.real("stale_share", self.stale_share, minimum=0.0, maximum=1.0)
        _check.real("slo_window", self.slo_window, minimum=0.0, strict=True)
        _check.real("unpushed_age", self.unpushed_age, minimum=0.0, strict=True)


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An alert changed state at ``time`` (s): ``firing`` or ``resolved``."""

    time: float
    name: str
    severity: str
    state: str
    value: float


class AlertEvaluator:
    """Evaluates the three alerts on a stream of observations; emits state changes.

    Feed it every failure (``record_failure``) and sample it with ``observe``; it returns the
    transitions since the last call. The simulator passes the exact replica age (the age of
    the oldest commit not yet visible); a live replica cannot see commits it has not pulled, so
    the controller passes the time since its last successful pull began, an upper bound on the
    same quantity, which makes ``replica_stale`` err towards firing. ``replica_stale`` is not
    evaluated while no periodic interval is in force (manual and on-write-only set-ups have none
    to compare with).
    """

    def __init__(self, thresholds: AlertThresholds | None = None) -> None:
        if thresholds is not None and not isinstance(thresholds, AlertThresholds):
            raise InvalidType(f"thresholds must be AlertThresholds, got {thresholds!r}")
        self.thresholds = thresholds if thresholds is not None else AlertThresholds()
        self._failures: deque[float] = deque()
        self._firing: dict[str, bool] = {a.name: False for a in ALERTS}

    def record_failure(self, now: float) -> None:
        """A sync attempt failed at ``now`` (s)."""
        self._failures.append(_check.real("now", now))

    def failures_in_window(self, now: float) -> int:
        """Failures within the last ``failure_window`` seconds up to ``now``."""
        horizon = now - self.thresholds.failure_window
        while self._failures and self._failures[0] <= horizon:
            self._failures.popleft()
        return len(self._failures)

    @property
    def firing(self) -> tuple[str, ...]:
        """Names of alerts firing now."""
        return tuple(n for n, on in self._firing.items() if on)

    def observe(self, now: float, sync_lag: float, replica_age: float,
                sync_interval: float | None) -> list[AlertEvent]:
        """Evaluate all alerts at ``now`` (s) and return state changes.

        Args:
            sync_lag: seconds since the last successful sync.
            replica_age: current staleness in seconds.
            sync_interval: periodic interval in force (s), or ``None``.
        """
        _check.real("now", now)
        _check.real("sync_lag", sync_lag, minimum=0.0)
        _check.real("replica_age", replica_age, minimum=0.0)
        if sync_interval is not None:
            _check.real("sync_interval", sync_interval, minimum=0.0, strict=True)
        th = self.thresholds
        failures = self.failures_in_window(now)
        stale_limit = math.inf if sync_interval is None else th.stale_factor * sync_interval
        values = {
            HIGH_SYNC_LAG.name: (sync_lag > th.sync_lag, sync_lag),
            SYNC_FAILURE.name: (failures > th.failures, float(failures)),
            REPLICA_STALE.name: (replica_age > stale_limit, replica_age),
        }
        events = []
        for rule in ALERTS:
            on, value = values[rule.name]
            if on != self._firing[rule.name]:
                self._firing[rule.name] = on
                events.append(AlertEvent(now, rule.name, rule.severity,
                                         "firing" if on else "resolved", value))
        return events
