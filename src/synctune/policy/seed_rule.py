"""The guide's ``adjustSyncInterval`` rule of thumb, reproduced exactly."""

from __future__ import annotations

from synctune.policy import _check
from synctune.policy.settings import SyncSettings

#: writes per minute above which the rule syncs every 30 s and on every write
WRITE_FREQUENCY_THRESHOLD = 10.0
#: network latency (ms) above which the rule backs off to 300 s without on-write sync
NETWORK_LATENCY_THRESHOLD_MS = 200.0
#: data freshness (s) below which the rule adds on-write sync
ON_WRITE_FRESHNESS_THRESHOLD_S = 30.0
#: floor (s) the rule puts under the freshness-derived interval
MIN_INTERVAL_S = 60.0


def seed_rule(write_frequency: float, network_latency: float,
              data_freshness: float) -> SyncSettings:
    """Settings the guide's rule picks, checked in the guide's order with strict inequalities.

    Args:
        write_frequency: writes per minute (>= 0).
        network_latency: network latency in milliseconds (>= 0).
        data_freshness: required data freshness in seconds (>= 0; 0 gives the guide's answer
            for it: every 60 s and on write).

    Returns:
        ``SyncSettings`` with ``read_your_writes`` left at its default (True).

    Note the rule's blind spots, which synctune's ``Adaptive`` strategy removes: above 200 ms it
    ignores ``data_freshness`` altogether, and it never syncs more often than every 60 s unless
    writes are frequent, even when ``data_freshness`` asks for 20 s.
    """
    wf = _check.real("write_frequency", write_frequency, minimum=0.0)
    lat = _check.real("network_latency", network_latency, minimum=0.0)
    fresh = _check.real("data_freshness", data_freshness, minimum=0.0)
    if wf > WRITE_FREQUENCY_THRESHOLD:
        return SyncSettings(sync_interval=30.0, sync_on_write=True)
    if lat > NETWORK_LATENCY_THRESHOLD_MS:
        return SyncSettings(sync_interval=300.0, sync_on_write=False)
    return SyncSettings(
        sync_interval=max(fresh, MIN_INTERVAL_S),
        sync_on_write=fresh < ON_WRITE_FRESHNESS_THRESHOLD_S,
    )
