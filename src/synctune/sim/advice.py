"""Settings advice for apps that keep their own libSQL client: :func:`advise`.

Replays the app's own traffic (a trace, recorded live or written by hand) and finds the fixed
``sync_interval`` meeting a freshness target with the fewest syncs (:mod:`synctune.sim.hindsight`),
next to what the guide's seed rule, its presets and the two tuners (adaptive, budgeted) would
cost on the same traffic, names the tuner to run (:attr:`Advice.tuner`), and renders the result
as settings to paste into Python ``libsql`` or TypeScript ``@libsql/client``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from synctune.policy import PRESETS
from synctune.policy.errors import InvalidType
from synctune.sim.config import SimConfig
from synctune.sim.engine import build_workload
from synctune.sim.hindsight import (
    DEFAULT_STALE_SHARE,
    LONGEST_INTERVAL,
    FixedInterval,
    best_fixed_interval,
    check_stale_share,
    run_spec,
)

#: per-alternative figures kept in :attr:`Advice.alternatives` and the CLI's JSON
ALTERNATIVE_FIELDS = ("syncs", "bytes", "over_freshness_fraction", "staleness_p99_s",
                      "ryw_pulls")


def paste_interval(interval: float) -> float:
    """``interval`` (s) rounded down to a value worth typing: whole seconds from 10 s on,
    two significant digits below."""
    if interval >= 10.0:
        return float(math.floor(interval))
    digits = 1 - math.floor(math.log10(interval))
    scale = 10.0 ** digits
    return math.floor(interval * scale) / scale


@dataclass(frozen=True)
class Advice:
    """What :func:`advise` found for one trace and freshness target.

    Attributes:
        freshness: freshness target D (s).
        stale_share: target share of reads older than D.
        sync_interval: the recommended fixed interval (s), rounded for pasting.
        met: True when ``sync_interval`` keeps reads older than D within ``stale_share``
            on the trace.
        fixed: the recommended interval's simulation summary.
        alternatives: name -> figures (:data:`ALTERNATIVE_FIELDS` plus ``spec`` and
            ``meets_target``) for the seed rule, each syncing preset and the two tuners
            (``adaptive`` and ``budgeted``).
        oracle_syncs: fewest pulls keeping every read within D (no strategy does better).
        duration: seconds of traffic replayed.
        local_writes: writes the app's replicas made in the trace.
        longest: the longest interval the search tried (s): half the trace, at most an hour.
        capped: True when the search stopped at ``longest`` (the trace is too short to tell
            longer intervals apart: record a longer one).
    """

    freshness: float
    stale_share: float
    sync_interval: float
    met: bool
    fixed: dict[str, Any]
    alternatives: dict[str, dict[str, Any]]
    oracle_syncs: int
    duration: float
    local_writes: int
    longest: float = LONGEST_INTERVAL
    capped: bool = False

    @property
    def over_freshness_fraction(self) -> float:
        """Predicted share of reads older than D with :attr:`sync_interval`."""
        return float(self.fixed["over_freshness_fraction"])

    @property
    def tuner(self) -> str | None:
        """The tuner to run instead of a fixed interval (``adaptive`` or ``budgeted``): the
        one with fewer syncs on the trace among those meeting the target; ``None`` when
        neither does (see :func:`pick_tuner`)."""
        return pick_tuner(self.alternatives)

    @property
    def read_your_writes(self) -> bool:
        """Recommend read-your-writes when the app writes (its reads then see its writes)."""
        return self.local_writes > 0

    def python(self) -> str:
        """Paste-ready Python ``libsql`` connection (token from the environment)."""
        return ("conn = libsql.connect(\"local.db\", sync_url=os.environ[\"TURSO_DATABASE_URL\"],\n"
                "                      auth_token=os.environ[\"TURSO_AUTH_TOKEN\"],\n"
                f"                      sync_interval={self.sync_interval:g})  # seconds")

    def typescript(self) -> str:
        """Paste-ready TypeScript ``@libsql/client`` options (token from the environment)."""
        ryw = "true" if self.read_your_writes else "false"
        return ("const client = createClient({\n"
                "  url: \"file:local.db\",\n"
                "  syncUrl: process.env.TURSO_DATABASE_URL,\n"
                "  authToken: process.env.TURSO_AUTH_TOKEN,\n"
                f"  syncInterval: {self.sync_interval:g}, // seconds\n"
                f"  readYourWrites: {ryw},\n"
                "});")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view (non-finite numbers become ``None``)."""
        out: dict[str, Any] = {
            "sync_interval": self.sync_interval,
            "freshness_s": self.freshness,
            "stale_share_target": self.stale_share,
            "over_freshness_fraction": self.over_freshness_fraction,
            "meets_target": self.met,
            "syncs": int(self.fixed["syncs"]),
            "bytes": int(self.fixed["bytes"]),
            "read_your_writes": self.read_your_writes,
            "oracle_syncs": self.oracle_syncs,
            "tuner": self.tuner,
            "duration_s": self.duration,
            "longest_tested_s": self.longest,
            "capped_by_trace_length": self.capped,
            "alternatives": self.alternatives,
            "settings": {"python": self.python(), "typescript": self.typescript()},
        }
        return _finite(out)


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _figures(summary: dict[str, Any], spec: str, stale_share: float) -> dict[str, Any]:
    row: dict[str, Any] = {"spec": spec}
    for key in ALTERNATIVE_FIELDS:
        value = summary[key]
        row[key] = int(value) if key in ("syncs", "bytes", "ryw_pulls") else float(value)
    row["meets_target"] = bool(summary["over_freshness_fraction"] <= stale_share)
    return row


def alternative_specs(stale_share: float) -> dict[str, str]:
    """Name -> strategy spec of what the advice compares against."""
    specs = {"seed-rule": "seed-rule"}
    specs.update({f"preset:{p.name}": f"preset:{p.name}" for p in PRESETS.values() if p.syncs})
    specs["adaptive"] = f"adaptive:{stale_share:g}"
    specs["budgeted"] = f"budgeted:{stale_share:g}"
    return specs


#: the tuners the advice chooses between (names in :attr:`Advice.alternatives`)
TUNERS = ("adaptive", "budgeted")


def pick_tuner(alternatives: dict[str, dict[str, Any]]) -> str | None:
    """The tuner to run: of :data:`TUNERS` that meet the target, the one with the fewest syncs
    (then the lower share of reads older than D, then the name); ``None`` when none does."""
    meeting = [(int(alternatives[n]["syncs"]), float(alternatives[n]["over_freshness_fraction"]),
                n) for n in TUNERS if n in alternatives and alternatives[n]["meets_target"]]
    return min(meeting)[2] if meeting else None


def advise(trace: str, freshness: float, stale_share: float = DEFAULT_STALE_SHARE, *,
           config: SimConfig | None = None) -> Advice:
    """Recommend a fixed ``sync_interval`` for the traffic in ``trace``.

    Args:
        trace: trace file (CSV or parquet) of the app's reads and writes.
        freshness: freshness target D (s).
        stale_share: target share of reads older than D, in [0, 1).
        config: network and model settings to replay with (its ``trace``, ``freshness`` and
            ``strategy`` are replaced); defaults to :class:`SimConfig`'s.
    """
    base = config if config is not None else SimConfig()
    if not isinstance(base, SimConfig):
        raise InvalidType(f"config must be a SimConfig, got {config!r}")
    check_stale_share(stale_share)  # before the trace is read
    cfg = dataclasses.replace(base, trace=trace, freshness=freshness, detail=False)
    workload = build_workload(cfg)
    # an interval longer than half the trace syncs at most once in the replay: it cannot be
    # told apart from "never", so the search stops there and the advice says so
    longest = min(LONGEST_INTERVAL, max(workload.duration / 2.0, 1.0))
    found: FixedInterval = best_fixed_interval(cfg, stale_share, workload=workload,
                                               longest=longest)
    interval, summary, met = found.interval, found.summary, found.met
    # a rounder value to paste when it still meets the target (the share is not monotone)
    for rounded in dict.fromkeys((paste_interval(interval), math.floor(interval * 10) / 10)):
        if not met or rounded == interval or rounded <= 0:
            continue
        at_rounded = run_spec(cfg, f"periodic:{rounded:g}", workload)
        if at_rounded["over_freshness_fraction"] <= stale_share:
            interval, summary = rounded, at_rounded
            break
    alternatives = {name: _figures(run_spec(cfg, spec, workload), spec, stale_share)
                    for name, spec in alternative_specs(stale_share).items()}
    local_writes = sum(int(ld.writes.size) for ld in workload.nodes.values())
    return Advice(freshness=cfg.freshness, stale_share=stale_share, sync_interval=interval,
                  met=met, fixed=summary, alternatives=alternatives,
                  oracle_syncs=int(summary["oracle_syncs"]), duration=float(summary["duration_s"]),
                  local_writes=local_writes, longest=longest,
                  capped=found.met and found.interval >= 0.999 * longest)
