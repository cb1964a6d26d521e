"""Prometheus export and the shipped alert rules, checked with the real promtool."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
import urllib.request

import pytest
from live_support import wait_for

from synctune.live import SyncController
from synctune.live.local_replica import LocalReplica
from synctune.live.prometheus import MetricsServer
from synctune.live.turso_replica import TursoReplica
from synctune.monitoring import ALERTS, METRICS, AlertThresholds
from synctune.monitoring.prometheus_rules import RULES_FILE, expressions, rules_yaml
from synctune.policy import Manual, Periodic


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is required (Debian package prometheus; scripts/setup.sh "
                    "--server installs it)", pytrace=False)
    return path


def test_shipped_rules_file_is_the_generator_output_for_the_guides_thresholds():
    assert RULES_FILE.read_text(encoding="utf-8") == rules_yaml()
    for rule in ALERTS:
        assert f"alert: {rule.name}" in rules_yaml()


def test_shorter_thresholds_change_the_expressions():
    exprs = expressions(AlertThresholds(sync_lag=30, failures=1, failure_window=90,
                                        stale_factor=1.5))
    assert exprs["high_sync_lag"].endswith("> 30")
    assert "[90s]) > 1" in exprs["sync_failure"]
    assert "> 1.5 * synctune_sync_interval_seconds" in exprs["replica_stale"]


def test_promtool_accepts_the_rules_file():
    out = subprocess.run([promtool(), "check", "rules", str(RULES_FILE)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 rules found" in out.stdout


def test_promtool_unit_tests_fire_and_hold_each_alert(tmp_path):
    tests = textwrap.dedent(f"""\
        rule_files:
          - {RULES_FILE}
        evaluation_interval: 1m
        tests:
          - interval: 1m
            input_series:
              - series: 'synctune_sync_lag_seconds{{instance="a"}}'
                values: '400x15'
              - series: 'synctune_sync_lag_seconds{{instance="b"}}'
                values: '100x15'
            alert_rule_test:
              - eval_time: 5m
                alertname: high_sync_lag
                exp_alerts:
                  - exp_labels: {{severity: warning, action: notify_team, instance: a}}
                    exp_annotations:
                      summary: "Sync lag is above 5 minutes."
                      condition: "sync_lag > 300"
          - interval: 1m
            input_series:
              - series: 'synctune_sync_failures_total{{instance="a"}}'
                values: '0+1x20'
              - series: 'synctune_sync_failures_total{{instance="b"}}'
                values: '0 0 1 1 1 1 1 1 1 1 1 2 2 2 2 2 2 2 2 2 2'
            alert_rule_test:
              - eval_time: 15m
                alertname: sync_failure
                exp_alerts:
                  - exp_labels: {{severity: critical, action: notify_oncall, instance: a}}
                    exp_annotations:
                      summary: "Syncs keep failing."
                      condition: "sync_failures > 3 in 10 minutes"
          - interval: 1m
            input_series:
              - series: 'synctune_sync_failures_total{{instance="a"}}'
                values: '0+1x10 10x30'
            alert_rule_test:
              - eval_time: 8m
                alertname: sync_failure
                exp_alerts:
                  - exp_labels: {{severity: critical, action: notify_oncall, instance: a}}
                    exp_annotations:
                      summary: "Syncs keep failing."
                      condition: "sync_failures > 3 in 10 minutes"
              - eval_time: 30m
                alertname: sync_failure
                exp_alerts: []
          - interval: 1m
            input_series:
              - series: 'synctune_replica_freshness_seconds{{instance="a"}}'
                values: '130x5'
              - series: 'synctune_sync_interval_seconds{{instance="a"}}'
                values: '60x5'
              - series: 'synctune_replica_freshness_seconds{{instance="b"}}'
                values: '100x5'
              - series: 'synctune_sync_interval_seconds{{instance="b"}}'
                values: '60x5'
              - series: 'synctune_replica_freshness_seconds{{instance="manual"}}'
                values: '9999x5'
            alert_rule_test:
              - eval_time: 3m
                alertname: replica_stale
                exp_alerts:
                  - exp_labels: {{severity: warning, action: notify_team, instance: a}}
                    exp_annotations:
                      summary: "The replica is stale."
                      condition: "replica_freshness > sync_interval * 2"
        """)
    path = tmp_path / "alerts_test.yml"
    path.write_text(tests, encoding="utf-8")
    out = subprocess.run([promtool(), "test", "rules", str(path)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout + out.stderr


def _scrape(url: str) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    body = urllib.request.urlopen(url, timeout=5).read().decode()
    samples = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            key = s.name + ("" if not s.labels else str(sorted(s.labels.items())))
            samples[key] = s.value
    return samples


def test_scrape_exposes_the_six_metrics_with_the_controllers_values(tmp_path):
    replica = LocalReplica(tmp_path / "dev.db")
    ctl = SyncController(replica, Manual()).start()
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
    for spec in METRICS:
        assert spec.prometheus_name in samples, spec.prometheus_name
    assert samples["synctune_local_db_size_bytes"] == status.local_db_size > 0
    assert samples["synctune_query_latency_seconds"] > 0
    assert "synctune_sync_interval_seconds" not in samples  # manual: no interval in force
    assert samples["synctune_alert_firing[('alertname', 'sync_failure')]"] == 0


@pytest.mark.server
def test_scrape_during_failures_counts_them_and_shows_no_token(server, tmp_path):
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
    assert samples["synctune_sync_failures_total"] >= 3
    assert samples["synctune_sync_interval_seconds"] == 0.05
    assert samples["synctune_alert_firing[('alertname', 'sync_failure')]"] == 1
