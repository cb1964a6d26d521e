"""Arrival-time generators (vectorised): Poisson, diurnal, bursty (on-off MMPP), flash crowd.

Each returns the sorted event times (s) in ``[0, duration)`` drawn from ``rng``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from synctune.policy import _check
from synctune.policy.errors import InvalidType


def _args(rate: float, duration: float, rng: np.random.Generator) -> tuple[float, float]:
    r = _check.real("rate", rate, minimum=0.0)
    d = _check.real("duration", duration, minimum=0.0)
    if not isinstance(rng, np.random.Generator):
        raise InvalidType(f"rng must be a numpy Generator, got {rng!r}")
    return r, d


def poisson(rate: float, duration: float, rng: np.random.Generator) -> np.ndarray:
    """Homogeneous Poisson arrivals at ``rate`` per second."""
    rate, duration = _args(rate, duration, rng)
    n = rng.poisson(rate * duration)
    return np.sort(rng.uniform(0.0, duration, n))


def skip_poisson(rate: float, duration: float, rng: np.random.Generator) -> None:
    """Leave ``rng`` where :func:`poisson` would, without drawing the arrival times.

    Each uniform draw takes exactly one 64-bit step of the bit generator, so the stream is
    advanced by the count instead (a fleet's skipped nodes cost nothing).
    """
    rate, duration = _args(rate, duration, rng)
    n = int(rng.poisson(rate * duration))
    advance = getattr(rng.bit_generator, "advance", None)  # PCG64 and Philox have it
    if advance is None:
        rng.uniform(0.0, duration, n)
    else:
        advance(n)


def thinned(rate_at: Callable[[np.ndarray], np.ndarray], max_rate: float, duration: float,
            rng: np.random.Generator) -> np.ndarray:
    """Inhomogeneous Poisson arrivals by thinning: ``rate_at(t) <= max_rate`` per second."""
    candidates = poisson(max_rate, duration, rng)
    if max_rate == 0.0:
        return candidates
    keep = rng.uniform(0.0, max_rate, candidates.size) < rate_at(candidates)
    return candidates[keep]


def diurnal(mean_rate: float, duration: float, rng: np.random.Generator, *,
            amplitude: float = 0.5, period: float = 86_400.0,
            peak: float = 14 * 3600.0) -> np.ndarray:
    """Arrivals whose rate follows a day:
    ``mean_rate * (1 + amplitude * cos(2 pi (t - peak) / period))`` per second.

    Args:
        mean_rate: average arrivals per second over a period.
        amplitude: relative swing, in [0, 1].
        period: length of the cycle (s).
        peak: time of the busiest moment within the cycle (s).
    """
    mean_rate, duration = _args(mean_rate, duration, rng)
    amp = _check.real("amplitude", amplitude, minimum=0.0, maximum=1.0)
    per = _check.real("period", period, minimum=0.0, strict=True)
    pk = _check.real("peak", peak)
    return thinned(lambda t: mean_rate * (1.0 + amp * np.cos(2 * np.pi * (t - pk) / per)),
                   mean_rate * (1.0 + amp), duration, rng)


def bursty(on_rate: float, off_rate: float, mean_on: float, mean_off: float, duration: float,
           rng: np.random.Generator) -> np.ndarray:
    """Two-state Markov-modulated Poisson process (on-off bursts).

    Args:
        on_rate: arrivals per second while bursting.
        off_rate: arrivals per second between bursts.
        mean_on: mean burst length (s), exponential.
        mean_off: mean quiet spell (s), exponential.
    """
    _args(on_rate, duration, rng)
    _check.real("off_rate", off_rate, minimum=0.0)
    m_on = _check.real("mean_on", mean_on, minimum=0.0, strict=True)
    m_off = _check.real("mean_off", mean_off, minimum=0.0, strict=True)
    # alternate off/on spells until the horizon is covered
    n = int(2 * duration / (m_on + m_off)) + 16
    spells = np.empty(2 * n)
    spells[0::2] = rng.exponential(m_off, n)
    spells[1::2] = rng.exponential(m_on, n)
    while spells.sum() < duration:  # rare: draw more spells
        extra = np.empty(2 * n)
        extra[0::2] = rng.exponential(m_off, n)
        extra[1::2] = rng.exponential(m_on, n)
        spells = np.concatenate([spells, extra])
    edges = np.concatenate([[0.0], np.cumsum(spells)])
    rates = np.where(np.arange(spells.size) % 2 == 0, off_rate, on_rate)

    def rate_at(t: np.ndarray) -> np.ndarray:
        return rates[np.searchsorted(edges, t, side="right") - 1]

    return thinned(rate_at, max(on_rate, off_rate), duration, rng)


def flash_crowd(base_rate: float, peak_rate: float, at: float, duration: float,
                rng: np.random.Generator, *, rise: float = 60.0,
                decay: float = 600.0) -> np.ndarray:
    """Steady arrivals with a flash crowd: a linear rise to ``peak_rate`` at ``at`` s over
    ``rise`` s, then an exponential decay back to ``base_rate`` with time constant ``decay`` s."""
    base_rate, duration = _args(base_rate, duration, rng)
    peak = _check.real("peak_rate", peak_rate, minimum=base_rate)
    at = _check.real("at", at, minimum=0.0)
    rise = _check.real("rise", rise, minimum=0.0, strict=True)
    decay = _check.real("decay", decay, minimum=0.0, strict=True)

    def rate_at(t: np.ndarray) -> np.ndarray:
        up = np.clip((t - (at - rise)) / rise, 0.0, 1.0)
        down = np.exp(-np.clip(t - at, 0.0, None) / decay)
        return base_rate + (peak - base_rate) * np.where(t <= at, up, down)

    return thinned(rate_at, peak, duration, rng)
