"""A Grafana dashboard for the exported metrics, generated from the same definitions.

The shipped ``grafana-dashboard.json`` (next to this module) is :func:`dashboard_json` for the
guide's thresholds; import it in Grafana (Dashboards > Import) and pick the Prometheus data
source. Panels: the guide's six metrics, sync duration, syncs per hour, unpushed writes, the
stale-reads SLO against its target, the in-process alert states and the Prometheus alert list;
below them, for a controller with an announcer: hints received (and lost), hint lag, fallback
active and channel up. Regenerate with ``python -m synctune.monitoring.grafana``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synctune.monitoring import metrics as m
from synctune.monitoring.alerts import AlertThresholds
from synctune.monitoring.prometheus_rules import GROUP

#: the shipped dashboard, for the guide's thresholds
DASHBOARD_FILE = Path(__file__).with_name("grafana-dashboard.json")

_SEL = '{instance=~"$instance"}'
_DS = {"type": "prometheus", "uid": "${datasource}"}


def _q(spec: m.MetricSpec, suffix: str = "") -> str:
    return f"{spec.prometheus_name}{suffix}{_SEL}"


def _quantiles(spec: m.MetricSpec) -> list[tuple[str, str]]:
    return [(f"histogram_quantile({q}, sum by (le, instance) "
             f"(rate({_q(spec, '_bucket')}[5m])))", f"p{round(q * 100)} {{{{instance}}}}")
            for q in (0.5, 0.95, 0.99)]


def _panel(pid: int, title: str, description: str, targets: list[tuple[str, str]], unit: str,
           x: int, y: int, thresholds: tuple[float, ...] = ()) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    steps += [{"color": "orange" if i == 0 and len(thresholds) > 1 else "red", "value": t}
              for i, t in enumerate(thresholds)]
    return {
        "id": pid, "type": "timeseries", "title": title, "description": description,
        "datasource": _DS,
        "gridPos": {"h": 8, "w": 8, "x": x, "y": y},
        "fieldConfig": {"defaults": {
            "unit": unit,
            "thresholds": {"mode": "absolute", "steps": steps},
            "custom": {"thresholdsStyle": {"mode": "line" if thresholds else "off"}},
        }, "overrides": []},
        "targets": [{"refId": chr(ord("A") + i), "datasource": _DS, "expr": expr,
                     "legendFormat": legend} for i, (expr, legend) in enumerate(targets)],
    }


_Spec = tuple[str, str, list[tuple[str, str]], str, tuple[float, ...]]


def _replica_specs(th: AlertThresholds) -> list[_Spec]:
    slo = f"{int(th.slo_window)}s"
    inst = "{{instance}}"
    return [
        ("Sync lag", m.SYNC_LAG.description + " Also from the engine's last pull timestamp.",
         [(_q(m.SYNC_LAG), f"lag {inst}"),
          (f"time() - {_q(m.LAST_SYNC)}", f"since last pull {inst}")],
         "s", (60.0, th.sync_lag)),
        ("Sync failures by kind", m.SYNC_FAILURES.description,
         [(f"sum by (kind, instance) (increase({_q(m.SYNC_FAILURES)}[10m]))",
           f"{{{{kind}}}} {inst}")], "short", (float(th.failures),)),
        ("Local DB size", m.LOCAL_DB_SIZE.description, [(_q(m.LOCAL_DB_SIZE), inst)],
         "bytes", ()),
        ("Query latency", m.QUERY_LATENCY.description, _quantiles(m.QUERY_LATENCY), "s",
         (0.010,)),
        ("Sync bandwidth", m.SYNC_BANDWIDTH.description,
         [(f"sum by (direction, instance) (rate({_q(m.SYNC_BANDWIDTH)}[5m]))",
           f"{{{{direction}}}} {inst}")], "Bps", ()),
        ("Replica age", m.REPLICA_AGE.description,
         [(_q(m.REPLICA_AGE), f"age {inst}"),
          (f"{th.stale_factor:g} * {_q(m.SYNC_INTERVAL)}",
           f"{th.stale_factor:g} x interval {inst}"),
          (_q(m.FRESHNESS_TARGET), f"target D {inst}")], "s", ()),
        ("Sync duration", m.SYNC_DURATION.description, _quantiles(m.SYNC_DURATION), "s", ()),
        ("Syncs per hour", m.SYNCS.description,
         [(f"3600 * rate({_q(m.SYNCS)}[15m])", inst)], "short", ()),
        ("Unpushed writes", m.UNPUSHED_WRITES.description,
         [(_q(m.UNPUSHED_WRITES), inst)], "short", ()),
        ("Reads older than D (SLO)",
         f"Share of reads made while the replica was older than the freshness target, over "
         f"{slo}; the stale_reads_slo alert fires above {th.stale_share:g}.",
         [(f"sum by (instance) (rate({_q(m.READS_OVER_FRESHNESS)}[{slo}])) / "
           f"sum by (instance) (rate({_q(m.READS)}[{slo}]))", inst)],
         "percentunit", (th.stale_share,)),
        ("Alerts (in process)", m.ALERT_FIRING.description,
         [(f"{_q(m.ALERT_FIRING)} == 1", f"{{{{alertname}}}} {inst}")], "short", ()),
    ]


def _announcement_specs() -> list[_Spec]:
    """Panels for a controller with an announcer (empty for one without)."""
    inst = "{{instance}}"
    return [
        ("Announcement hints received",
         m.ANNOUNCE_HINTS.description + " Per minute; lost: hints missing from a sender's "
         "numbers (each made the replica pull once).",
         [(f"sum by (kind, instance) (60 * rate({_q(m.ANNOUNCE_HINTS)}[5m]))",
           f"{{{{kind}}}} {inst}"),
          (f"60 * rate({_q(m.ANNOUNCE_LOST)}[5m])", f"lost {inst}")], "short", ()),
        ("Announcement hint lag", m.ANNOUNCE_HINT_LAG.description,
         _quantiles(m.ANNOUNCE_HINT_LAG), "s", ()),
        ("Announcement fallback active",
         m.ANNOUNCE_FALLBACK_ACTIVE.description + " The announce_fallback alert fires when it "
         "holds for 10 minutes.",
         [(_q(m.ANNOUNCE_FALLBACK_ACTIVE), inst)], "short", (1.0,)),
        ("Announcement channel up", m.ANNOUNCE_CHANNEL_UP.description,
         [(_q(m.ANNOUNCE_CHANNEL_UP), inst)], "short", ()),
    ]


def _alert_list(pid: int, x: int, y: int) -> dict[str, Any]:
    return {
        "id": pid, "type": "alertlist", "title": "Prometheus alerts",
        "description": f"The rules of group {GROUP} (alerts.rules.yml) firing or pending.",
        "gridPos": {"h": 8, "w": 8, "x": x, "y": y},
        "options": {"alertName": "", "dashboardAlerts": False, "groupMode": "default",
                    "maxItems": 20, "sortOrder": 1, "stateFilter": {
                        "firing": True, "pending": True, "normal": False},
                    "viewMode": "list"},
    }


def dashboard(thresholds: AlertThresholds | None = None) -> dict[str, Any]:
    """The dashboard as a dict (Grafana's JSON model)."""
    th = thresholds if thresholds is not None else AlertThresholds()
    panels = [_panel(i + 1, title, desc, targets, unit, 8 * (i % 3), 8 * (i // 3), thr)
              for i, (title, desc, targets, unit, thr) in enumerate(_replica_specs(th))]
    n = len(panels)
    panels.append(_alert_list(n + 1, 8 * (n % 3), 8 * (n // 3)))
    # the announcement panels start a row of their own, below the replica's
    top = 8 * (len(panels) // 3 + (len(panels) % 3 > 0))
    panels += [_panel(len(panels) + i + 1, title, desc, targets, unit, 8 * (i % 3),
                      top + 8 * (i // 3), thr)
               for i, (title, desc, targets, unit, thr) in enumerate(_announcement_specs())]
    return {
        "title": "synctune replicas", "uid": "synctune-replicas", "editable": True,
        "schemaVersion": 39, "version": 1, "tags": ["synctune", "libsql", "turso"],
        "time": {"from": "now-6h", "to": "now"}, "refresh": "30s",
        "templating": {"list": [
            {"name": "datasource", "type": "datasource", "query": "prometheus",
             "label": "Data source"},
            {"name": "instance", "type": "query", "datasource": _DS, "label": "Instance",
             "query": f"label_values({m.BUILD_INFO.prometheus_name}, instance)",
             "includeAll": True, "multi": True, "allValue": ".*", "refresh": 2},
        ]},
        "panels": panels,
    }


def dashboard_json(thresholds: AlertThresholds | None = None) -> str:
    """The dashboard file text."""
    return json.dumps(dashboard(thresholds), indent=2) + "\n"


def queries(board: dict[str, Any]) -> list[str]:
    """Every PromQL expression in ``board`` (panel targets and template variables)."""
    out = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    out += [v["query"] for v in board["templating"]["list"] if v["type"] == "query"]
    return out


if __name__ == "__main__":
    DASHBOARD_FILE.write_text(dashboard_json(), encoding="utf-8")
    print(f"wrote {DASHBOARD_FILE}")
