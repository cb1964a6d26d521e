"""Pieces of the live package that need no server: redaction, failure kinds, local set-ups."""

from __future__ import annotations

import logging
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from live_support import free_port

from synctune.live import PullResult, PushResult, SyncController, SyncError
from synctune.live.replica.errors import classify
from synctune.live.replica.factory import open_replica
from synctune.live.replica.local import LocalReplica
from synctune.live.replica.urls import redact
from synctune.monitoring import METRIC_NAMES
from synctune.policy import FailureKind, Manual, OnWrite, Periodic

tokens = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=4,
                 max_size=40)


@given(token=tokens, before=st.text(max_size=30), after=st.text(max_size=30))
def test_redact_removes_the_token_wherever_it_appears(token, before, after):
    text = redact(f"{before}{token}{after} Bearer {token}", token)
    assert token not in text


@given(token=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=6,
                     max_size=40))
def test_redact_masks_bearer_headers_and_token_parameters_without_knowing_the_token(token):
    for text in (f"Authorization: Bearer {token}", f"https://h/db?authToken={token}&x=1"):
        assert token not in redact(text)


@pytest.mark.parametrize(("exc", "kind"), [
    (TimeoutError("timed out"), FailureKind.TIMEOUT),
    (RuntimeError("http error: timed out"), FailureKind.TIMEOUT),
    (ConnectionRefusedError(111, "Connection refused"), FailureKind.NETWORK),
    (RuntimeError("network error: [Errno 111] Connection refused"), FailureKind.NETWORK),
    (RuntimeError("status=401 Unauthorized"), FailureKind.AUTH),
    (RuntimeError("HTTP 403"), FailureKind.AUTH),
    (RuntimeError("status=503 Service Unavailable"), FailureKind.SERVER),
    (RuntimeError("schema mismatch"), FailureKind.OTHER),
])
def test_classify_maps_library_errors_to_failure_kinds(exc, kind):
    assert classify(exc) is kind


def test_results_and_errors_validate_their_fields():
    with pytest.raises(ValueError, match="changes"):
        PullResult(changes=-1)
    with pytest.raises(TypeError, match="nbytes"):
        PushResult(nbytes=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SyncError("flaky", "x")
    assert SyncError("auth", "no").kind is FailureKind.AUTH


def test_controller_rejects_bad_arguments_with_one_line(tmp_path):
    replica = LocalReplica(tmp_path / "a.db")
    with pytest.raises(TypeError, match="strategy"):
        SyncController(replica, "periodic")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="replica"):
        SyncController(object(), Manual())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="default_timeout"):
        SyncController(replica, Manual(), default_timeout=0)
    with pytest.raises(ValueError, match="deadline"):
        SyncController(replica, Manual()).stop(-1)
    with pytest.raises(TypeError, match="seconds"):
        SyncController(replica, Manual()).record_query("fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seconds"):
        SyncController(replica, Manual()).record_query(-0.5)


def test_a_local_file_never_syncs_and_reports_zero_lag(tmp_path):
    replica = LocalReplica(tmp_path / "dev.db")
    with SyncController(replica, Periodic(0.01) | OnWrite(), check_every=0.01) as ctl:
        app = ctl.connection()
        app.execute("CREATE TABLE t(x)")
        for i in range(20):
            app.execute("INSERT INTO t VALUES (?)", (i,))
            app.commit()
        assert app.execute("SELECT count(*) FROM t").fetchall() == [(20,)]
        snap = ctl.snapshot()
    assert tuple(snap) == METRIC_NAMES
    assert snap["sync_lag"] == 0 and snap["replica_age"] == 0
    assert snap["sync_failures"] == 0 and snap["sync_bandwidth"] == 0
    assert snap["local_db_size"] > 0 and snap["query_latency"] > 0
    assert not ctl.history
    # one per committed write (the CREATE TABLE autocommits), though nothing needs pushing
    assert ctl.strategy.unpushed_writes == 21


def test_notify_write_from_many_threads_counts_every_write(tmp_path):
    ctl = SyncController(LocalReplica(tmp_path / "a.db"), Manual()).start()

    def burst() -> None:
        for _ in range(500):
            ctl.notify_write()

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ctl.status().unpushed_writes == 2000
    assert ctl.stop(1)  # a local file has nothing to push


def test_status_uses_the_injected_clock(tmp_path):
    now = [100.0]
    ctl = SyncController(LocalReplica(tmp_path / "a.db"), Manual(), clock=lambda: now[0])
    ctl.start()
    now[0] = 160.0
    status = ctl.status()
    ctl.stop(1)
    assert status.time == 160.0
    assert status.reason == "waiting for the app to ask" and status.next_due_in is None


def test_factory_builds_each_adapter_and_rejects_bad_input(tmp_path, monkeypatch):
    monkeypatch.delenv("TURSO_DATABASE_URL", raising=False)
    assert isinstance(open_replica(tmp_path / "a.db"), LocalReplica)
    dev = open_replica(tmp_path / "dev.db", "http://127.0.0.1:1", preset="development")
    assert isinstance(dev, LocalReplica)
    with pytest.raises(ValueError, match="url must start with"):
        open_replica(tmp_path / "a.db", "ftp://example")
    with pytest.raises(ValueError, match="adapter"):
        open_replica(tmp_path / "a.db", "http://127.0.0.1:1", adapter="carrier-pigeon")
    with pytest.raises(ValueError, match="preset"):
        open_replica(tmp_path / "a.db", preset="moon")
    with pytest.raises(FileNotFoundError, match="folder"):
        open_replica(tmp_path / "missing" / "a.db")
    with pytest.raises(ValueError, match="url is required"):
        open_replica(tmp_path / "a.db", adapter="libsql")
    secret = "fac-SECRET-tok"
    with pytest.raises(ValueError) as err:
        open_replica(tmp_path / "a.db", f"gopher://h/?authToken={secret}", auth_token=secret)
    assert secret not in str(err.value)


def test_remote_mode_runs_queries_on_the_primary(tmp_path):
    replica = open_replica(None, f"file:{tmp_path / 'primary.db'}", adapter="remote",
                           auth_token="rem-SECRET")
    assert not replica.syncs and "SECRET" not in repr(replica)
    with replica:
        conn = replica.connect()
        conn.execute("CREATE TABLE t(x)")
        conn.execute("INSERT INTO t VALUES (?)", (5,))
        assert conn.execute("SELECT x FROM t").fetchall() == [(5,)]
        with pytest.raises(SyncError):
            conn.execute("SELECT * FROM no_such_table")
    assert not [t for t in threading.enumerate() if t.name == "libsql_client" and t.is_alive()]


def test_remote_mode_unreachable_primary_is_a_network_failure():
    with open_replica(None, f"http://127.0.0.1:{free_port()}", adapter="remote") as replica:
        conn = replica.connect()
        with pytest.raises(SyncError) as err:
            conn.execute("SELECT 1")
    assert err.value.kind is FailureKind.NETWORK


def test_decisions_are_logged_with_their_reason(tmp_path, caplog):
    with caplog.at_level(logging.DEBUG, logger="synctune.live"), \
            SyncController(LocalReplica(tmp_path / "a.db"), Periodic(30)):
        pass
    assert "every 30 s" in caplog.text


def test_read_only_commits_tell_the_controller_nothing(tmp_path):
    with SyncController(LocalReplica(tmp_path / "ro.db"), Manual()) as ctl:
        app = ctl.connection()
        app.execute("CREATE TABLE t(x)")
        app.commit()
        assert ctl.strategy.unpushed_writes == 1
        for _ in range(5):
            app.execute("SELECT count(*) FROM t")
            app.commit()
        assert ctl.strategy.unpushed_writes == 1
        app.execute("INSERT INTO t VALUES (1)")
        app.commit()
        assert ctl.strategy.unpushed_writes == 2


def test_urls_are_shown_without_userinfo_or_query(tmp_path):
    from synctune.live.replica.urls import safe_url

    assert safe_url("https://u:PW@h.example:8080/db?authToken=X#f") == "https://h.example:8080/db"
    assert safe_url("libsql://db.example.org") == "libsql://db.example.org"
    assert safe_url(None) is None
    with pytest.raises(ValueError) as err:
        open_replica(tmp_path / "a.db", "ftp://user:PW-secret@h/?authToken=tok-secret")
    assert "secret" not in str(err.value) and "ftp://h/" in str(err.value)


def test_reads_reach_the_strategy_through_record_query_and_notify_read(tmp_path):
    from synctune.policy import Budgeted

    now = [0.0]
    strategy = Budgeted(30.0)
    ctl = SyncController(LocalReplica(tmp_path / "a.db"), strategy, clock=lambda: now[0])
    ctl.record_query(0.001)  # before start: counted, nothing to schedule yet
    ctl.start()
    now[0] = 1.0
    ctl.record_query(0.001)
    ctl.notify_read(4)
    assert strategy.reads == 6
    with pytest.raises(ValueError, match="count"):
        ctl.notify_read(-1)
    ctl.stop(1)


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50))
def test_a_steady_clock_never_goes_back_and_keeps_the_clocks_forward_steps(readings):
    from synctune.live.timing import SteadyClock

    it = iter(readings)
    steady = SteadyClock(lambda: next(it))
    out = [steady() for _ in readings]
    assert out[0] == readings[0]
    for i in range(1, len(out)):
        step = readings[i] - readings[i - 1]
        assert out[i] >= out[i - 1]
        # a forward step of the clock is a step of the same size; a step back, none
        assert out[i] - out[i - 1] == pytest.approx(max(step, 0.0), abs=1e-6)
