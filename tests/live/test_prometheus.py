"""Prometheus export, the shipped alert rules (checked with the real promtool) and the Grafana
dashboard (every query checked against what the real exporter serves)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from live_support import wait_for

from synctune import __version__
from synctune.live import SyncController
from synctune.live.announce import Announcer, InProcessChannel
from synctune.live.ops.prometheus import MetricsServer
from synctune.live.replica.local import LocalReplica
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.monitoring import EXPORTED, METRICS, RULE_ALERTS, AlertThresholds
from synctune.monitoring.grafana import DASHBOARD_FILE, dashboard, dashboard_json, queries
from synctune.monitoring.metrics import ANNOUNCE_EXPORTED
from synctune.monitoring.prometheus_rules import (
    RULES_FILE,
    expressions,
    rules_yaml,
    runbook_url,
)
from synctune.policy import FailureKind, Manual, Periodic

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbook.md"


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is required (Debian package prometheus; scripts/setup.sh "
                    "--server installs it)", pytrace=False)
    return path


def test_shipped_rules_file_is_the_generator_output_for_the_guides_thresholds():
    assert RULES_FILE.read_text(encoding="utf-8") == rules_yaml()
    for rule in RULE_ALERTS:
        assert f"alert: {rule.name}" in rules_yaml()


def test_every_alert_has_a_duration_a_description_and_a_runbook_section():
    headings = re.findall(r"^## (\S+)", RUNBOOK.read_text(encoding="utf-8"), flags=re.M)
    text = rules_yaml()
    for rule in RULE_ALERTS:
        block = text.split(f"alert: {rule.name}\n", 1)[1].split("- alert:", 1)[0]
        assert re.search(r"^\s+for: \d+[smh]$", block, flags=re.M), rule.name
        assert "description: " in block and rule.runbook in block
        assert f'runbook_url: "{runbook_url(rule.name)}"' in block
        assert rule.name in headings, f"docs/runbook.md has no section '## {rule.name}'"
    assert sorted(headings) == sorted(r.name for r in RULE_ALERTS)


def test_shorter_thresholds_change_the_expressions():
    exprs = expressions(AlertThresholds(sync_lag=30, failures=1, failure_window=90,
                                        stale_factor=1.5))
    assert exprs["high_sync_lag"].endswith("> 30")
    assert "[90s])) > 1" in exprs["sync_failure"]
    assert "> 1.5 * synctune_sync_interval_seconds" in exprs["replica_stale"]


def test_promtool_accepts_the_rules_file():
    out = subprocess.run([promtool(), "check", "rules", str(RULES_FILE)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(RULE_ALERTS)} rules found" in out.stdout


def _alert(name: str, **labels: str) -> dict[str, object]:
    """What promtool must see for alert ``name``: its labels and every annotation."""
    rule = next(r for r in RULE_ALERTS if r.name == name)
    return {"exp_labels": {"severity": rule.severity, "action": rule.action, **labels},
            "exp_annotations": {"summary": rule.description,
                                "description": f"{rule.description} {rule.runbook}",
                                "condition": rule.condition,
                                "runbook_url": runbook_url(name)}}


def _case(series: dict[str, str], checks: list[tuple[str, str, list[dict[str, object]]]],
          ) -> dict[str, object]:
    return {"interval": "1m",
            "input_series": [{"series": k, "values": v} for k, v in series.items()],
            "alert_rule_test": [{"eval_time": t, "alertname": n, "exp_alerts": exp}
                                for t, n, exp in checks]}


SIX = {"synctune_sync_lag_seconds": "1x20", "synctune_sync_failures_total": "0x20",
       "synctune_local_db_size_bytes": "4096x20", "synctune_query_latency_seconds_count": "0x20",
       "synctune_sync_bandwidth_bytes_total": "0x20", "synctune_replica_age_seconds": "1x20"}


def test_promtool_unit_tests_fire_and_hold_each_alert(tmp_path):
    cases = [
        _case({'synctune_sync_lag_seconds{instance="a"}': "400x15",
               'synctune_sync_lag_seconds{instance="b"}': "100x15"},
              [("5m", "high_sync_lag", [_alert("high_sync_lag", instance="a")])]),
        _case({'synctune_sync_failures_total{instance="a",kind="network"}': "0+1x20",
               'synctune_sync_failures_total{instance="a",kind="timeout"}': "0x20",
               'synctune_sync_failures_total{instance="b",kind="network"}':
                   "0 0 1 1 1 1 1 1 1 1 1 2 2 2 2 2 2 2 2 2 2"},
              [("15m", "sync_failure", [_alert("sync_failure", instance="a")])]),
        # two kinds that each stay at 3 add up to more than 3
        _case({'synctune_sync_failures_total{instance="a",kind="network"}': "0 0 1 2 3 3 3 3",
               'synctune_sync_failures_total{instance="a",kind="auth"}': "0 0 1 2 3 3 3 3"},
              [("6m", "sync_failure", [_alert("sync_failure", instance="a")])]),
        _case({'synctune_sync_failures_total{instance="a",kind="network"}': "0+1x10 10x30"},
              [("8m", "sync_failure", [_alert("sync_failure", instance="a")]),
               ("30m", "sync_failure", [])]),
        _case({'synctune_replica_age_seconds{instance="a"}': "130x5",
               'synctune_sync_interval_seconds{instance="a"}': "60x5",
               'synctune_replica_age_seconds{instance="b"}': "100x5",
               'synctune_sync_interval_seconds{instance="b"}': "60x5",
               'synctune_replica_age_seconds{instance="manual"}': "9999x5"},
              [("1m", "replica_stale", []),  # for: 2m not yet over
               ("3m", "replica_stale", [_alert("replica_stale", instance="a")])]),
        # 2 % of reads over D at a, 0.5 % at b; the 1 % target with for: 15m
        _case({'synctune_reads_total{instance="a"}': "0+100x90",
               'synctune_reads_over_freshness_total{instance="a"}': "0+2x90",
               'synctune_reads_total{instance="b"}': "0+100x90",
               'synctune_reads_over_freshness_total{instance="b"}': "0+0.5x90",
               'synctune_reads_total{instance="idle"}': "0x90",
               'synctune_reads_over_freshness_total{instance="idle"}': "0x90"},
              [("10m", "stale_reads_slo", []),
               ("80m", "stale_reads_slo", [_alert("stale_reads_slo", instance="a")])]),
        # lag grows 60 s a minute: over 600 s from minute 11, with writes waiting only at a
        _case({'synctune_unpushed_writes{instance="a"}': "3x30",
               'synctune_sync_lag_seconds{instance="a"}': "0+60x30",
               'synctune_unpushed_writes{instance="b"}': "0x30",
               'synctune_sync_lag_seconds{instance="b"}': "0+60x30",
               'synctune_unpushed_writes{instance="c"}': "5x30",
               'synctune_sync_lag_seconds{instance="c"}': "10x30"},
              [("10m", "unpushed_writes", []),
               ("13m", "unpushed_writes", [_alert("unpushed_writes", instance="a")])]),
        _case({"synctune_sync_lag_seconds": "1x20"},
              [("3m", "metrics_absent", []),  # for: 5m not yet over
               ("10m", "metrics_absent", [_alert("metrics_absent")])]),
        _case(SIX, [("10m", "metrics_absent", [])]),
        # a fallback of 10 minutes fires; one of 5 minutes, then back, does not
        _case({'synctune_announce_fallback_active{instance="a"}': "1x20",
               'synctune_announce_fallback_active{instance="b"}': "1x5 0x15"},
              [("8m", "announce_fallback", []),
               ("12m", "announce_fallback", [_alert("announce_fallback", instance="a")])]),
    ]
    doc = {"rule_files": [str(RULES_FILE)], "evaluation_interval": "1m", "tests": cases}
    path = tmp_path / "alerts_test.yml"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")  # JSON is YAML
    out = subprocess.run([promtool(), "test", "rules", str(path)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout + out.stderr
    tested = {c["alertname"] for case in cases for c in case["alert_rule_test"]}
    assert tested == {r.name for r in RULE_ALERTS}


def _scrape(url: str) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    body = urllib.request.urlopen(url, timeout=5).read().decode()
    samples = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            key = s.name + ("" if not s.labels else str(sorted(s.labels.items())))
            samples[key] = s.value
    return samples


def _names(samples: dict[str, float]) -> set[str]:
    return {key.split("[", 1)[0] for key in samples}


def test_scrape_exposes_the_six_metrics_with_the_controllers_values(tmp_path):
    replica = LocalReplica(tmp_path / "dev.db")
    ctl = SyncController(replica, Manual(), freshness=30.0).start()
    try:
        app = ctl.connection()
        app.execute("CREATE TABLE t(x)")
        app.execute("INSERT INTO t VALUES (1)")
        app.commit()
        app.execute("SELECT * FROM t")
        with MetricsServer(ctl, port=0) as server:
            samples = _scrape(server.url)
        status = ctl.status()
    finally:
        ctl.stop(1)
    names = _names(samples)
    for spec in METRICS:
        assert set(spec.series) <= names, spec.prometheus_name
    assert samples["synctune_local_db_size_bytes"] == status.local_db_size > 0
    # one read: a histogram with one observation, in the bucket of its latency
    assert samples["synctune_query_latency_seconds_count"] == 1
    assert samples["synctune_query_latency_seconds_bucket[('le', '+Inf')]"] == 1
    assert 0 < samples["synctune_query_latency_seconds_sum"] < 1
    assert samples["synctune_reads_total"] == 1
    assert samples["synctune_reads_over_freshness_total"] == 0  # a local file is never stale
    for kind in FailureKind:
        assert samples[f"synctune_sync_failures_total[('kind', '{kind.value}')]"] == 0
    for direction in ("push", "pull"):
        assert samples[f"synctune_sync_bandwidth_bytes_total[('direction', '{direction}')]"] == 0
    build = [k for k in samples if k.startswith("synctune_build_info")]
    assert len(build) == 1 and f"('version', '{__version__}')" in build[0]
    assert samples["synctune_freshness_target_seconds"] == 30.0
    assert "synctune_sync_interval_seconds" not in samples  # manual: no interval in force
    assert "synctune_last_sync_timestamp_seconds" not in samples  # a local file never syncs
    assert samples["synctune_alert_firing[('alertname', 'sync_failure')]"] == 0


def test_metrics_addr_binds_the_given_address(tmp_path):
    ctl = SyncController(LocalReplica(tmp_path / "dev.db"), Manual())
    with MetricsServer(ctl, port=0, addr="0.0.0.0") as server:
        assert server.url.startswith("http://0.0.0.0:")
        # reachable through loopback, as from any interface
        samples = _scrape(f"http://127.0.0.1:{server.port}/metrics")
    assert "synctune_sync_lag_seconds" in samples


@pytest.mark.server
def test_scrape_during_failures_counts_them_by_kind_and_shows_no_token(server, tmp_path):
    token = "scrape-SECRET-token"
    replica = TursoReplica(tmp_path / "a.db", server.url, auth_token=token)
    ctl = SyncController(replica, Periodic(0.05), default_timeout=0.5, check_every=0.05,
                         thresholds=AlertThresholds(failures=2))
    server.kill()
    with ctl, MetricsServer(ctl) as metrics:
        assert wait_for(lambda: "sync_failure" in ctl.alerts.firing, 5)
        body = urllib.request.urlopen(metrics.url, timeout=5).read().decode()
        samples = _scrape(metrics.url)
    assert token not in body and "SECRET" not in body
    failures = {k: v for k, v in samples.items() if k.startswith("synctune_sync_failures_total")}
    assert sum(failures.values()) >= 3
    assert samples["synctune_sync_failures_total[('kind', 'network')]"] >= 1
    # every attempt failed, and each is timed (a scrape may fall between the two counts)
    assert abs(samples["synctune_sync_duration_seconds_count"] - sum(failures.values())) <= 1
    assert samples["synctune_sync_interval_seconds"] == 0.05
    assert samples["synctune_alert_firing[('alertname', 'sync_failure')]"] == 1


@pytest.mark.server
def test_dashboard_and_rules_query_only_metrics_the_exporter_serves(server, tmp_path):
    assert DASHBOARD_FILE.read_text(encoding="utf-8") == dashboard_json()
    replica = TursoReplica(tmp_path / "a.db", server.url)
    # with an announcer, so the announcement series (and the alert on them) are served too
    announcer = Announcer(InProcessChannel(), server.url)
    ctl = SyncController(replica, Periodic(0.2), freshness=30.0, announcer=announcer)
    with ctl, MetricsServer(ctl) as metrics:
        app = ctl.connection()
        app.execute("CREATE TABLE t(x)")
        app.execute("INSERT INTO t VALUES (1)")
        app.commit()
        app.execute("SELECT * FROM t")
        assert wait_for(lambda: ctl.status().syncs >= 2 and ctl.status().unpushed_writes == 0,
                        10)
        samples = _scrape(metrics.url)
    served = _names(samples)
    assert {n for spec in EXPORTED + ANNOUNCE_EXPORTED for n in spec.series} <= served
    assert samples["synctune_announce_published_total[('outcome', 'sent')]"] >= 1  # its push
    board = dashboard()
    exprs = queries(board) + list(expressions().values())
    named = {n for e in exprs for n in re.findall(r"\bsynctune_[a-z0-9_]+", e)}
    assert named and named <= served, named - served
    # every one of the six metrics is on the dashboard, and the SLO panel shows its target
    for spec in METRICS:
        assert any(spec.prometheus_name in e for e in exprs), spec.name
    slo = next(p for p in board["panels"] if "SLO" in p["title"])
    steps = slo["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps[-1]["value"] == AlertThresholds().stale_share
    assert any(p["type"] == "alertlist" for p in board["panels"])
    # the last pull comes from the engine: a Unix time of this very run
    assert time.time() - 60 < samples["synctune_last_sync_timestamp_seconds"] <= time.time() + 1
    assert samples["synctune_sync_bandwidth_bytes_total[('direction', 'pull')]"] > 0
    assert samples["synctune_sync_bandwidth_bytes_total[('direction', 'push')]"] > 0


@pytest.mark.server
def test_sync_lag_after_a_restart_comes_from_the_engines_record(server, tmp_path):
    first = SyncController(TursoReplica(tmp_path / "a.db", server.url), Periodic(0.1))
    with first:
        assert wait_for(lambda: first.status().syncs >= 1, 10)
    pulled_at = first.telemetry.last_sync_unix
    assert pulled_at is not None
    first.replica.close()
    time.sleep(1.1)
    # a restarted app that has not synced yet: the lag counts from the engine's last pull,
    # not from the controller's start
    again = SyncController(TursoReplica(tmp_path / "a.db", server.url), Manual())
    with again, MetricsServer(again) as metrics:
        samples = _scrape(metrics.url)
        lag = again.status().sync_lag
    assert again.status().syncs == 0
    assert samples["synctune_last_sync_timestamp_seconds"] == pulled_at
    assert lag >= 1.0
    assert samples["synctune_sync_lag_seconds"] >= 1.0
