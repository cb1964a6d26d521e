"""A strategy that returns nonsense (a NaN timeout, a due of "soon") is handled like one that
raises: logged once, counted as ``sync_failures{kind="strategy"}``, synced on the fallback
schedule; and a due time stuck in the past never makes a busy loop."""

from __future__ import annotations

import itertools
import logging
import math

import pytest
from live_support import primary_rows, wait_for

from synctune.live import ManualTimer, SyncController
from synctune.live.control.sync_loop import MIN_GAP
from synctune.live.replica.fake import FakeReplica
from synctune.live.replica.turso.adapter import TursoReplica
from synctune.policy import Decision, OnWrite


class Returns(OnWrite):
    """OnWrite whose ``sync_timeout`` or ``decide`` returns a given bad value."""

    def __init__(self, *, timeout: object = None, decision: object = None) -> None:
        super().__init__(coalesce=0.0)
        self.timeout, self.decision = timeout, decision

    def sync_timeout(self) -> float | None:
        return self.timeout  # type: ignore[return-value]

    def decide(self, now: float) -> Decision:
        real = super().decide(now)
        return real if self.decision is None else self.decision  # type: ignore[return-value]


BAD = [
    pytest.param({"timeout": math.nan}, "sync_timeout", id="timeout-nan"),
    pytest.param({"timeout": "3"}, "sync_timeout", id="timeout-str"),
    pytest.param({"timeout": -1.0}, "sync_timeout", id="timeout-negative"),
    pytest.param({"decision": Decision("soon", "x")}, "decide", id="due-str"),  # type: ignore[arg-type]
    pytest.param({"decision": Decision(math.nan, "x")}, "decide", id="due-nan"),
    pytest.param({"decision": Decision(math.inf, "x")}, "decide", id="due-inf"),
    pytest.param({"decision": 5.0}, "decide", id="not-a-decision"),
]


@pytest.mark.parametrize("bad,call", BAD)
def test_a_bad_result_is_logged_once_counted_and_syncs_go_on(bad, call, caplog):
    caplog.set_level(logging.INFO, logger="synctune.live")
    timer = ManualTimer()
    fake = FakeReplica(timer=timer)
    ctl = SyncController(fake, Returns(**bad), timer=timer, check_every=1.0).start()
    for batch in range(3):
        fake.commit(2)
        ctl.notify_write(2)
        ctl.notify_read()  # never raises, whatever the strategy returns
        assert wait_for(lambda b=batch: len(fake.primary) == 2 * (b + 1), 10.0), ctl.status()
    status = ctl.status()  # never raises either
    assert ctl._loop.alive() and ctl._loop.crashed is None
    assert ctl.telemetry.snapshot().failures["strategy"] >= 1
    if call == "decide":
        assert f"from {call}" in status.reason and "fallback" in status.reason
    assert ctl.stop(30)
    assert fake.primary == list(range(1, 7))
    assert all(a.ok for a in ctl.history)  # a bad timeout falls back to the default one
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len([m for m in logged if f"from {call}" in m]) == 1, logged  # once, one line
    assert all("\n" not in m for m in logged)


class StuckInThePast(OnWrite):
    def decide(self, now: float) -> Decision:
        return Decision(0.0, "due long ago")


def test_a_due_time_stuck_in_the_past_never_makes_a_busy_loop():
    fake = FakeReplica()  # real time: attempts end and start on the real clock
    ctl = SyncController(fake, StuckInThePast(), check_every=1.0).start()
    assert wait_for(lambda: len(ctl.history) >= 20, 5.0)
    ctl.stop(5)
    attempts = list(ctl.history)
    gaps = [b.started - a.ended for a, b in itertools.pairwise(attempts)]
    assert min(gaps) >= MIN_GAP * 0.99, min(gaps)  # was 0: back to back


@pytest.mark.server
def test_a_nan_sync_timeout_falls_back_to_the_default_on_the_real_server(server, tmp_path):
    replica = TursoReplica(tmp_path / "a.db", server.url)
    ctl = SyncController(replica, Returns(timeout=math.nan), default_timeout=5.0).start()
    try:
        app = ctl.connection()
        app.execute("CREATE TABLE t(k INTEGER)")
        app.execute("INSERT INTO t VALUES (1)")
        app.commit()
        assert ctl.sync_now(10)  # every sync failed as "other" with the NaN deadline
        assert ctl.telemetry.snapshot().failures.get("other", 0) == 0
        assert ctl.telemetry.snapshot().failures["strategy"] >= 1
        app.close()
        assert ctl.stop(10)
    finally:
        replica.close()
    assert primary_rows(server.url, tmp_path, "SELECT k FROM t") == [(1,)]
