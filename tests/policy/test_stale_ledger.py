"""StaleLedger: the day's surplus of stale reads, less a margin for lumps."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctune.policy.errors import InvalidInput
from synctune.policy.stale_ledger import StaleLedger

_cycles = st.lists(st.tuples(st.floats(0.0, 1e4), st.floats(0.0, 1e3), st.floats(0.0, 1.0),
                             st.floats(0.0, 1e5)), max_size=50)


@given(_cycles)
def test_the_margin_only_takes_from_the_expected_surplus(
        cycles: list[tuple[float, float, float, float]]) -> None:
    plain, ledger = StaleLedger(0.01, z=0.0), StaleLedger(0.01)
    for reads, late, p, span in cycles:
        plain.book(reads, late, p, span)
        ledger.book(reads, late, p, span)
        assert ledger.surplus() <= plain.surplus() + 1e-9 * (1.0 + abs(plain.surplus()))


def test_certain_outcomes_need_no_margin() -> None:
    ledger = StaleLedger(0.01, half_life=1e9)
    ledger.book(1000.0, 50.0, 0.0, 0.0)  # no change: none stale
    ledger.book(1000.0, 20.0, 1.0, 0.0)  # a burst went on: all 20 stale
    assert ledger.surplus() == pytest.approx(0.01 * 2000.0 - 20.0)


def test_lumps_hold_back_more_than_crumbs_of_the_same_expectation() -> None:
    lumps, crumbs = StaleLedger(0.01, half_life=1e9), StaleLedger(0.01, half_life=1e9)
    for _ in range(10):
        lumps.book(10_000.0, 200.0, 0.5, 0.0)  # one commit seen by 200 late reads
    for _ in range(1000):
        crumbs.book(100.0, 2.0, 0.5, 0.0)  # the same reads and expectation, spread out
    expected = 0.01 * 100_000.0 - 1000.0
    assert crumbs.surplus() == pytest.approx(expected - 1.645 * math.sqrt(1000.0), rel=1e-9)
    assert lumps.surplus() == pytest.approx(expected - 1.645 * math.sqrt(100_000.0), rel=1e-9)


def test_the_margin_covers_the_lumps_as_often_as_its_quantile_says() -> None:
    # theory: with many independent lumps the stale reads are near normal, so they exceed the
    # expectation plus 1.645 standard deviations about 5 % of the time
    rng = random.Random(3)
    over, trials = 0, 2000
    for _ in range(trials):
        ledger = StaleLedger(0.5, half_life=1e9)
        stale = 0.0
        for _ in range(40):
            late, p = rng.uniform(10.0, 100.0), rng.uniform(0.1, 0.9)
            ledger.book(0.0, late, p, 60.0)
            stale += late if rng.random() < p else 0.0
        over += stale > -ledger.surplus()  # surplus = -(expected + margin) with no reads
    assert 0.02 < over / trials < 0.08


def test_old_cycles_fade() -> None:
    ledger = StaleLedger(0.01, half_life=3600.0)
    ledger.book(0.0, 1000.0, 0.5, 0.0)
    assert ledger.surplus() < -500.0
    for _ in range(48):
        ledger.book(100.0, 0.0, 0.0, 3600.0)
    assert ledger.surplus() == pytest.approx(0.01 * 200.0, rel=0.01)


def test_bad_settings_name_the_field() -> None:
    for kwargs, field in (({"share": 0.0}, "share"), ({"share": 1.0}, "share"),
                          ({"share": 0.01, "half_life": -1.0}, "half_life"),
                          ({"share": 0.01, "z": -1.0}, "z")):
        with pytest.raises(InvalidInput, match=field):
            StaleLedger(**kwargs)  # type: ignore[arg-type]
