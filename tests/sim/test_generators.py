"""Arrival generators: rates and shapes, statistically; argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synctune.sim import bursty, diurnal, flash_crowd, poisson


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_poisson_count_and_gaps() -> None:
    t = poisson(5.0, 20_000.0, _rng())
    assert abs(t.size - 100_000) < 5 * math.sqrt(100_000)
    gaps = np.diff(t)
    assert np.all(gaps >= 0) and t[0] >= 0 and t[-1] < 20_000
    # exponential gaps: coefficient of variation 1
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, abs=0.02)


def test_diurnal_peaks_where_asked() -> None:
    day = 86_400.0
    t = diurnal(2.0, 2 * day, _rng(1), amplitude=0.8, peak=12 * 3600.0)
    assert abs(t.size - 2 * 2 * day) < 5 * math.sqrt(4 * day)
    hour = ((t % day) // 3600).astype(int)
    counts = np.bincount(hour, minlength=24)
    assert counts.argmax() in (11, 12) and counts.argmin() in (23, 0)
    assert counts.max() / counts.min() > 5


def test_bursty_mean_rate_and_overdispersion() -> None:
    t = bursty(10.0, 0.1, 20.0, 180.0, 200_000.0, _rng(2))
    mean_rate = (10.0 * 20 + 0.1 * 180) / 200
    assert t.size / 200_000.0 == pytest.approx(mean_rate, rel=0.1)
    per_minute = np.bincount((t // 60).astype(int))
    # far burstier than Poisson (index of dispersion 1)
    assert per_minute.var() / per_minute.mean() > 5


def test_flash_crowd_peaks_then_decays() -> None:
    t = flash_crowd(1.0, 50.0, 1000.0, 4000.0, _rng(3), rise=60.0, decay=300.0)
    before = ((t > 500) & (t < 900)).sum() / 400
    peak = ((t > 990) & (t < 1010)).sum() / 20
    later = ((t > 3000) & (t < 4000)).sum() / 1000
    assert before == pytest.approx(1.0, rel=0.3)
    assert peak > 30
    assert later < 2.0


@pytest.mark.parametrize(("fn", "args", "field"), [
    (poisson, (-1.0, 10.0), "rate"),
    (poisson, (1.0, float("nan")), "duration"),
    (diurnal, (1.0, 10.0), None),
])
def test_bad_arguments_name_the_field(fn, args, field) -> None:
    if field is None:
        with pytest.raises(ValueError, match="amplitude"):
            fn(*args, _rng(), amplitude=2.0)
        return
    with pytest.raises(ValueError, match=field):
        fn(*args, _rng())


def test_rng_must_be_a_generator() -> None:
    with pytest.raises(TypeError, match="rng"):
        poisson(1.0, 1.0, 42)  # type: ignore[arg-type]
