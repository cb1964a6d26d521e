"""SyncController against the real tursodb server: outages, a silent primary, alerts, freshness."""

from __future__ import annotations

import itertools
import logging
import random
import time

import pytest
from live_support import SilentServer, hold_local_rows, primary_rows, wait_for

from synctune.live import SyncController
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.monitoring import AlertThresholds
from synctune.policy import Backoff, FailureKind, Manual, OnWrite, Periodic
from synctune.policy.adaptive import Adaptive

pytestmark = pytest.mark.server

#: measurement slack (s): the 5 ms visibility poll and thread wake-ups on a shared machine
SLACK = 0.1
#: a loaded machine may wake the sync thread late by this much (s)
SLACK_WAKE = 0.1


def test_kill9_during_writes_every_write_reaches_the_primary_once(server, tmp_path):
    backoff = Backoff(base=0.1, cap=0.4)
    strategy = OnWrite(coalesce=0.01, backoff=backoff, rng=random.Random(3))
    replica = TursoReplica(tmp_path / "a.db", server.url)
    ctl = SyncController(replica, strategy, default_timeout=1.0, check_every=0.1).start()
    app = ctl.connection()
    app.execute("CREATE TABLE w(k INTEGER NOT NULL)")
    app.commit()
    assert ctl.sync_now(5)
    n = 300
    for k in range(n):
        app.execute("INSERT INTO w(k) VALUES (?)", (k,))
        app.commit()
        if k == 60:
            server.kill()
        if k == 220:
            server.start()
        time.sleep(0.005)
    assert ctl.stop(deadline=10), ctl.last_error
    rows = primary_rows(server.url, tmp_path, "SELECT k, count(*) FROM w GROUP BY k ORDER BY k")
    assert [r[0] for r in rows] == list(range(n))
    assert {r[1] for r in rows} == {1}
    failed = [a for a in ctl.history if not a.ok]
    assert ctl.status().sync_failures == len(failed) >= 2
    assert {a.kind for a in failed} <= {FailureKind.NETWORK, FailureKind.TIMEOUT}
    # backoff with full jitter: after the i-th failure in a row, the next start comes within
    # the i-th ceiling (plus loop slack), and the waits are not all the same
    waits, streak = [], 0
    attempts = list(ctl.history)
    for prev, nxt in itertools.pairwise(attempts):
        streak = streak + 1 if not prev.ok else 0
        if not prev.ok:
            waits.append(nxt.started - prev.ended)
            assert nxt.started - prev.ended <= backoff.ceiling(streak) + SLACK_WAKE
    assert len(waits) >= 2 and max(waits) - min(waits) > 0.005


def test_silent_primary_each_sync_ends_at_its_timeout_and_writes_continue(server, tmp_path):
    replica = TursoReplica(tmp_path / "a.db", server.url)
    ctl = SyncController(replica, Periodic(0.05), default_timeout=0.3, check_every=0.1)
    app = replica.connect()
    app.execute("CREATE TABLE w(k)")
    app.commit()
    replica.push(5)
    server.kill()
    silent = SilentServer(server.port)
    try:
        ctl.start()
        slowest, k = 0.0, 0
        end = time.monotonic() + 1.2
        while time.monotonic() < end:
            t0 = time.perf_counter()
            app.execute("INSERT INTO w(k) VALUES (?)", (k,))
            app.commit()
            ctl.notify_write()
            slowest = max(slowest, time.perf_counter() - t0)
            k += 1
            time.sleep(0.01)
        failed = [a for a in ctl.history if not a.ok]
        assert len(failed) >= 2
        assert all(a.kind is FailureKind.TIMEOUT for a in failed)
        assert all(0.25 <= a.ended - a.started <= 1.0 for a in failed)
        # writes never waited for a sync: each took well under the 0.3 s sync timeout
        assert k > 50 and slowest < 0.25
        t0 = time.monotonic()
        flushed = ctl.stop(deadline=0.5)
        assert time.monotonic() - t0 < 1.0
        assert not flushed  # nothing could be pushed to a primary that never answers
        assert ctl.status().unpushed_writes >= k
    finally:
        silent.close()


def test_repeated_failures_fire_sync_failure_and_recovery_resolves_it(server, tmp_path):
    replica = TursoReplica(tmp_path / "a.db", server.url)
    events = []
    ctl = SyncController(replica, Periodic(0.05), default_timeout=0.5, check_every=0.05,
                         thresholds=AlertThresholds(failures=3, failure_window=1.0),
                         on_alert=events.append)
    server.kill()
    with ctl:
        assert wait_for(lambda: "sync_failure" in ctl.alerts.firing, 5)
        fired = ctl.status().sync_failures
        assert fired > 3
        server.start()
        assert wait_for(lambda: "sync_failure" not in ctl.alerts.firing, 5)
        assert ctl.status().syncs >= 1
    states = [(e.name, e.state) for e in events if e.name == "sync_failure"]
    assert states == [("sync_failure", "firing"), ("sync_failure", "resolved")]
    firing = next(e for e in events if e.name == "sync_failure")
    assert firing.value > 3 and firing.severity == "critical"


def test_a_write_at_one_replica_is_visible_at_another_within_the_freshness_target(
        server, tmp_path):
    freshness = 2.0
    a = TursoReplica(tmp_path / "a.db", server.url)
    b = TursoReplica(tmp_path / "b.db", server.url)
    # Adaptive bounds the share of *reads* older than D; with a share near zero its cycle fits
    # in D, so every write must show up at the reader within D of reaching the primary
    writer = Adaptive(freshness, min_interval=0.1, max_unpushed_age=0.1, rng=random.Random(1))
    reader = Adaptive(freshness, stale_share=1e-6, min_interval=0.1, rng=random.Random(2))
    ca = SyncController(a, writer).start()
    cb = SyncController(b, reader).start()
    try:
        app_a = ca.connection()
        app_a.execute("CREATE TABLE note(k INTEGER, body TEXT)")
        app_a.commit()
        app_b = cb.connection()

        def visible(k: int) -> bool:
            try:
                return app_b.execute("SELECT count(*) FROM note WHERE k = ?",
                                     (k,)).fetchall() == [(1,)]
            except Exception:  # the table itself has not arrived yet
                return False

        delays = []
        for k in range(4):
            app_a.execute("INSERT INTO note VALUES (?, 'hello')", (k,))
            app_a.commit()
            # staleness counts from the primary's commit: when A's push is confirmed
            assert wait_for(lambda: ca.status().unpushed_writes == 0, 2, step=0.002)
            t0 = time.monotonic()
            assert wait_for(lambda k=k: visible(k), 3 * freshness, step=0.005)
            delays.append(time.monotonic() - t0)
        print("visibility delays (s):", [round(d, 3) for d in delays],
              "reader interval:", reader.interval_in_force)
        assert max(delays) <= freshness + SLACK, delays
        assert reader.predicted_stale_share <= 1e-6
        assert cb.status().replica_age <= freshness
    finally:
        ca.stop(2)
        cb.stop(2)


def test_tokens_never_reach_logs_reprs_metrics_or_errors(server, tmp_path, caplog):
    token = "tok-VERY-SECRET-42"
    replica = TursoReplica(tmp_path / "a.db", server.url, auth_token=token)
    ctl = SyncController(replica, Periodic(0.05), default_timeout=0.5)
    server.kill()
    with caplog.at_level(logging.DEBUG, logger="synctune"), ctl:
        assert wait_for(lambda: ctl.status().sync_failures >= 2, 5)
        status = ctl.status()
    seen = [caplog.text, repr(replica), repr(ctl), status.line(), repr(status),
            str(ctl.last_error), repr(list(ctl.history)), str(ctl.snapshot())]
    assert "sync failed" in caplog.text
    for text in seen:
        assert token not in text and "VERY-SECRET" not in text


def test_unpushed_counts_changes_the_engine_held_from_before_start(server, tmp_path):
    db = tmp_path / "a.db"
    held = hold_local_rows(db, server.url, 9)
    assert held == 9
    replica = TursoReplica(db, server.url)
    ctl = SyncController(replica, Manual(), check_every=0.1).start()
    try:
        assert wait_for(lambda: ctl.status().unpushed_writes == 9, 5)
        app = replica.connect()
        app.execute("INSERT INTO t VALUES (100)")
        app.commit()
        ctl.notify_write()
        assert ctl.status().unpushed_writes >= 10  # counted or not yet: never fewer
        # the engine's first count may land between the commit and its report (the 9 above
        # can be the seed): counted twice until the recount that the report triggers
        assert wait_for(lambda: ctl.status().unpushed_writes == 10, 5)
        assert ctl.stop(10)
        report = ctl.stop_report
        assert report is not None and report.exact and report.unpushed == 0
    finally:
        replica.close()
    rows = primary_rows(server.url, tmp_path, "SELECT count(*), count(DISTINCT k) FROM t")
    assert rows == [(10, 10)]


def test_stop_abandons_a_hung_push_and_a_restart_on_the_same_file_pushes_each_row_once(
        server, tmp_path):
    db = tmp_path / "a.db"
    held = hold_local_rows(db, server.url, 15)
    server.kill()
    silent = SilentServer(server.port)  # accepts, never answers
    try:
        replica = TursoReplica(db, silent.url)
        asked = len(silent.accepted)  # the open's question to the primary, never answered
        ctl = SyncController(replica, OnWrite(coalesce=0.0), default_timeout=1.5).start()
        assert wait_for(lambda: len(silent.accepted) > asked, 5)  # the push is on the wire
        t0 = time.monotonic()
        assert ctl.stop(0.3) is False
        took = time.monotonic() - t0
        report = ctl.stop_report
        assert report is not None and report.abandoned == "push" and report.unpushed == held
        assert took < 0.3 + SLACK, took
        # the abandoned push ends at its own deadline; then the file is free again
        assert wait_for(lambda: not ctl._loop.alive(), 5)
        replica.close()
    finally:
        silent.close()
    server.start()
    again = SyncController(TursoReplica(db, server.url), Manual()).start()
    try:
        assert wait_for(lambda: again.status().unpushed_writes == held, 5)
        assert again.stop(10), again.stop_report
    finally:
        again.replica.close()
    rows = primary_rows(server.url, tmp_path, "SELECT k, count(*) FROM t GROUP BY k ORDER BY k")
    assert rows == [(k, 1) for k in range(15)]


def test_a_forked_child_cannot_commit_through_the_parents_replica(server, tmp_path):
    # an app that opens its replica before forking workers (gunicorn --preload, a fork-started
    # multiprocessing pool): a child's commits through the parent's engine were acknowledged,
    # then never pushed and gone from the file; each is refused before it runs instead
    import json
    import os

    from synctune.live import ForkedProcessError

    replica = TursoReplica(tmp_path / "a.db", server.url)
    ctl = SyncController(replica, OnWrite(coalesce=0.0)).start()
    inherited = ctl.connection()
    inherited.execute("CREATE TABLE t(k INTEGER PRIMARY KEY, who TEXT)")
    inherited.execute("INSERT INTO t(who) VALUES ('parent')")
    inherited.commit()
    assert ctl.sync_now(5)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what each attempt did, then leave without cleanup
        seen: list[str] = []
        attempts = [lambda: inherited.execute("INSERT INTO t(who) VALUES ('child')"),
                    lambda: inherited.commit(), ctl.connection, replica.connect]
        for attempt in attempts:
            try:
                attempt()
                seen.append("ran")
            except ForkedProcessError:
                seen.append("refused")
            except BaseException as exc:
                seen.append(type(exc).__name__)
        t0 = time.monotonic()
        seen.append(f"sync_now={ctl.sync_now(3)} at once={time.monotonic() - t0 < 1}")
        replica.close()  # an exit hook's clean-up: must leave the parent's engine alone
        os.write(write_end, json.dumps(seen).encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end) as pipe:
        seen = json.loads(pipe.read())
    assert seen == ["refused"] * 4 + ["sync_now=False at once=True"]
    # the parent carries on: its connection, its sync thread, every row once on the primary
    inherited.execute("INSERT INTO t(who) VALUES ('parent')")
    inherited.commit()
    assert inherited.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    inherited.close()
    assert ctl.stop(5)
    replica.close()
    rows = primary_rows(server.url, tmp_path, "SELECT who, count(*) FROM t GROUP BY who")
    assert rows == [("parent", 2)]
    again = TursoReplica(tmp_path / "a.db", server.url)  # the file as the parent left it
    try:
        assert again.integrity_check() == "ok"
        assert again.connection().execute("SELECT who FROM t").fetchall() == [("parent",)] * 2
    finally:
        again.close()


@pytest.mark.slow
def test_a_push_that_timed_out_after_the_primary_applied_it_is_retried_without_doubling(
        server, tmp_path):
    """The primary applies the first push but its reply never comes back; the sync times out,
    backs off and retries in the same process, with more commits made meanwhile: every row
    reaches the primary exactly once."""
    from live_support import ReplyDroppingProxy

    db = tmp_path / "a.db"
    held = hold_local_rows(db, server.url, 10)
    first = [True]

    def drop_first_push(body: bytes) -> bool:
        if b"BEGIN IMMEDIATE" in body and first[0]:
            first[0] = False
            return True
        return False

    proxy = ReplyDroppingProxy(server.port, drop_first_push)
    try:
        strategy = OnWrite(coalesce=0.0, backoff=Backoff(base=0.2, cap=0.5, jitter=False))
        ctl = SyncController(TursoReplica(db, proxy.url), strategy, default_timeout=1.0,
                             check_every=0.1).start()
        try:
            assert wait_for(lambda: proxy.dropped == 1, 10)
            conn = ctl.connection()
            for k in range(10, 20):  # committed while the unanswered push is in flight
                conn.execute("INSERT INTO t VALUES (?)", (k,))
                conn.commit()
            conn.close()
            assert wait_for(lambda: any(not a.ok for a in ctl.history), 10)
            assert ctl.stop(10), ctl.stop_report
            assert any(not a.ok and a.kind is FailureKind.TIMEOUT for a in ctl.history)
        finally:
            ctl.replica.close()
    finally:
        proxy.close()
    assert held == 10 and proxy.dropped == 1
    rows = primary_rows(server.url, tmp_path, "SELECT k, count(*) FROM t GROUP BY k ORDER BY k")
    assert rows == [(k, 1) for k in range(20)]


def test_a_strategy_that_always_raises_still_gets_every_row_pushed_once(server, tmp_path):
    class Broken(OnWrite):  # raises at every attempt, whatever its outcome
        def on_sync_started(self, now):
            raise ValueError("strategy bug")

    replica = TursoReplica(tmp_path / "a.db", server.url)
    ctl = SyncController(replica, Broken(coalesce=0.0), default_timeout=2.0,
                         check_every=0.1).start()
    app = ctl.connection()
    app.execute("CREATE TABLE w(k INTEGER NOT NULL)")
    app.commit()
    for k in range(20):
        app.execute("INSERT INTO w(k) VALUES (?)", (k,))
        app.commit()  # never raises, however broken the strategy
    # pushed by the fallback backoff (1 s, then 2 s), without a stop
    assert wait_for(lambda: len(primary_rows(server.url, tmp_path, "SELECT k FROM w")) == 20, 8)
    assert ctl.telemetry.snapshot().failures["strategy"] >= 1
    app.execute("INSERT INTO w(k) VALUES (20)")
    app.commit()
    assert ctl.stop(deadline=10), ctl.last_error
    rows = primary_rows(server.url, tmp_path, "SELECT k, count(*) FROM w GROUP BY k ORDER BY k")
    assert rows == [(k, 1) for k in range(21)]
