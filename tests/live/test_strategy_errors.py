"""A strategy (policy object) that raises never ends the sync thread nor fails an app call: the
controller logs it once, counts it, shows it in status and syncs on a bounded fallback backoff."""

from __future__ import annotations

import itertools
import logging

import pytest
from live_support import wait_for

from synctune.live import ManualTimer, SyncController
from synctune.live.replica.fake import FakeReplica
from synctune.policy import Decision, OnWrite, SyncReport


class Broken(OnWrite):
    """OnWrite whose ``decide``, ``next_sync_due`` and/or ``on_sync_finished`` raise (that many
    times each; -1: always)."""

    def __init__(self, *, decide: int = 0, due: int = 0, finished: int = 0) -> None:
        super().__init__(coalesce=0.0)
        self.left = {"decide": decide, "due": due, "finished": finished}

    def _maybe_raise(self, which: str) -> None:
        if self.left[which]:
            self.left[which] -= 1
            raise ValueError(f"{which} broke: token=s3cret")

    def decide(self, now: float) -> Decision:
        self._maybe_raise("decide")
        return super().decide(now)

    def next_sync_due(self, now: float) -> float | None:
        self._maybe_raise("due")
        return super().next_sync_due(now)

    def on_sync_finished(self, now: float, report: SyncReport) -> None:
        self._maybe_raise("finished")
        super().on_sync_finished(now, report)


@pytest.mark.parametrize("decide,due,finished", [
    (1, 0, 0), (0, 1, 0), (0, 0, 1), (-1, 0, 0), (0, -1, 0), (0, 0, -1), (-1, -1, -1)])
def test_a_raising_strategy_still_gets_every_commit_pushed_once(decide, due, finished, caplog):
    caplog.set_level(logging.INFO, logger="synctune.live")
    timer = ManualTimer()
    fake = FakeReplica(timer=timer)
    ctl = SyncController(fake, Broken(decide=decide, due=due, finished=finished), timer=timer,
                         check_every=1.0).start()
    for batch in range(3):
        fake.commit(2)
        ctl.notify_write(2)  # never raises, however broken the strategy
        ctl.notify_read()
        ctl.request_sync()
        assert wait_for(lambda b=batch: len(fake.primary) == 2 * (b + 1), 5.0), ctl.status()
    assert ctl._loop.alive()
    ctl.notify_read()
    status = ctl.status()
    if -1 in (decide, due, finished):
        assert "ValueError" in status.reason and "strategy" in status.reason
    failures = ctl.telemetry.snapshot().failures
    assert failures["strategy"] >= 1
    with pytest.raises(ValueError, match="count must be >= 0, got -1"):  # bad input still does
        ctl.notify_write(-1)
    fake.commit()
    ctl.notify_write()
    assert ctl.stop(30)
    assert fake.primary == list(range(1, 8))  # each commit once, none lost
    errors = [r for r in caplog.records if "strategy" in r.getMessage()
              and r.levelno >= logging.ERROR]
    assert errors and len({r.getMessage() for r in errors}) == len(errors)  # once per error
    assert not any("s3cret" in r.getMessage() or "s3cret" in (r.exc_text or "")
                   for r in caplog.records)


def test_fallback_retries_back_off_within_a_bounded_ceiling():
    timer = ManualTimer()
    fake = FakeReplica(timer=timer)
    ctl = SyncController(fake, Broken(decide=-1), timer=timer, check_every=1000.0).start()
    assert wait_for(lambda: len(ctl.history) >= 9, 5.0)
    ctl.stop(5)
    starts = [a.started for a in ctl.history]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(g <= 60.0 + 1e-9 for g in gaps)  # bounded
    assert max(gaps) > 8.0  # and backing off, not a busy loop
