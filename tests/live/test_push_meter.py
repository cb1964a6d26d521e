"""The push meter's rules without a server: which batch is held back, what a failure says."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctune.live.replica.turso.push_meter import BatchNotStarted, PushMeter, TimedOp, batch_size
from synctune.policy.errors import InvalidInput

BATCH = b'{"baton":null,"requests":[{"type":"batch","batch":{"steps":[{"condition":null,' \
        b'"stmt":{"sql":"BEGIN IMMEDIATE","sql_id":null}}]}}]}'
QUERY = b'{"baton":null,"requests":[{"stmt":{"sql":"SELECT pull_gen, change_id FROM x"}}]}'


@given(st.lists(st.tuples(st.floats(0.0, 5.0), st.floats(0.0, 2.0), st.booleans()),
                min_size=1, max_size=30))
def test_a_batch_is_held_back_only_when_one_was_acknowledged_and_it_could_not_finish(steps):
    meter = PushMeter(1000)
    for left, took, ok in steps:
        slowest, acked = meter.longest_round_trip, meter.batches_acked
        try:
            token = meter.before_request(BATCH, left)
        except BatchNotStarted as exc:
            assert acked > 0 and left < slowest and meter.not_started
            assert "timed out" in str(exc)  # classed as a timeout
            return
        assert token is not None
        meter.longest_round_trip = max(meter.longest_round_trip, took)  # as answered() would
        meter.answered(token, 200 if ok else 500)
        assert meter.batches_acked == acked + ok
    assert meter.batches_sent == len(steps)


def test_requests_that_are_not_push_batches_are_never_held_back_nor_counted():
    meter = PushMeter(1000)
    meter.answered(meter.before_request(BATCH, 1.0), 200)
    meter.longest_round_trip = 5.0
    assert meter.before_request(QUERY, 0.01) is None
    assert meter.before_request(None, 0.01) is None
    assert meter.batches_sent == meter.batches_acked == 1


def test_the_progress_words_say_what_reached_the_primary():
    meter = PushMeter(1000)
    assert meter.progress() == "no batch of it reached the primary"
    for _ in range(3):
        meter.answered(meter.before_request(BATCH, None), 200)
    assert meter.progress().startswith("3 batches of 1000+ row changes (whole transactions) "
                                       "reached the primary")


def test_every_engine_step_is_timed():
    class Op:
        def __init__(self) -> None:
            self.steps = 3

        def resume(self) -> bool:
            self.steps -= 1
            return self.steps == 0

        def take_result(self) -> str:
            return "done"

    meter = PushMeter(None)
    op = TimedOp(Op(), meter)
    while not op.resume():
        pass
    assert op.take_result() == "done" and len(meter.stalls) == 3
    assert meter.longest_stall == max(meter.stalls) >= 0.0


@pytest.mark.parametrize("bad", [0, -1, 1.5, "10", True])
def test_a_bad_batch_size_is_refused_with_its_name_and_value(bad):
    with pytest.raises(InvalidInput, match=rf"push_batch_operations .*got {bad!r}"):
        batch_size(bad)
    assert batch_size(None) is None and batch_size(1) == 1
