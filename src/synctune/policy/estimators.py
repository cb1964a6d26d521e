"""Online estimators the tuners learn from: remote change rate and sync duration.

Both are O(1) in time and memory per observation and read no clock: the caller passes the time
span each observation covers.
"""

from __future__ import annotations

import math

from synctune.policy import _check

_LN2 = math.log(2.0)
_ALPHA, _BETA = 0.125, 0.25  # RFC 6298's gains (LatencyEstimator.ALPHA, .BETA)


def poisson_upper(count: float, exposure: float, z: float) -> float:
    """Upper confidence bound (events/s) on a Poisson rate from ``count`` events in ``exposure`` s.

    Solves ``(rate * exposure - count) ** 2 = z ** 2 * rate * exposure`` for its larger root (the
    score interval): ``(count + z²/2 + z * sqrt(count + z²/4)) / exposure``. It is positive even
    for ``count == 0`` (``z² / exposure``), so a quiet spell never certifies a zero rate, and it is
    ``inf`` with no exposure.
    """
    if exposure <= 0.0:
        return math.inf if count > 0.0 or z > 0.0 else 0.0
    half_z2 = 0.5 * z * z
    return (count + half_z2 + z * math.sqrt(count + 0.5 * half_z2)) / exposure


def poisson_lower(count: float, exposure: float, z: float) -> float:
    """Lower confidence bound (events/s) matching :func:`poisson_upper` (0 for ``count == 0``)."""
    if count <= 0.0:
        return 0.0
    if exposure <= 0.0:
        return math.inf
    half_z2 = 0.5 * z * z
    low = (count + half_z2 - z * math.sqrt(count + 0.5 * half_z2)) / exposure
    # at most the point estimate: for a count near 0 the difference above cancels to rounding
    # noise that can exceed it
    point = count / exposure
    return 0.0 if low < 0.0 else (low if low < point else point)


class ChangeRateEstimator:
    """Exponentially decayed count/time estimate of a Poisson change rate, with bounds.

    Each observation is a pull: ``changes`` remote changes over the ``span`` seconds it covers.
    Older data is down-weighted by ``2 ** (-span / half_life)`` before the new pull is added::

        N <- N * w + changes        T <- T * w + span        rate = N / T

    For a stationary Poisson process ``E[N] = rate * T`` whatever the spans, so the ratio is
    consistent; the weights forget a regime after a few half-lives. :attr:`upper` is the score
    upper bound (see :func:`poisson_upper`) that a tuner should plan with.

    A pull far above expectation (its own lower bound at ``surprise_z`` exceeds the current upper
    bound) means the load changed: the history is dropped and the estimate restarts from that
    pull, so a burst is followed at once instead of after a half-life. Drops of load are not
    treated this way on purpose: over-estimating the rate only costs extra syncs.

    Args:
        half_life: seconds after which an observation's weight halves (> 0).
        z: normal quantile of the upper bound (>= 0; 1.645 is one-sided 95 %).
        surprise_z: normal quantile of the burst test (> 0), or ``None`` for a plain decaying
            window that never restarts.
    """

    __slots__ = ("_bursts", "_changes", "_exposure", "_half_life", "_observations", "_surprise_z",
                 "_z")

    def __init__(self, half_life: float = 300.0, z: float = 1.645,
                 surprise_z: float | None = 4.0) -> None:
        self._half_life = _check.real("half_life", half_life, minimum=0.0, strict=True)
        self._z = _check.real("z", z, minimum=0.0)
        self._surprise_z = (None if surprise_z is None else
                            _check.real("surprise_z", surprise_z, minimum=0.0, strict=True))
        self._changes = 0.0
        self._exposure = 0.0
        self._observations = 0
        self._bursts = 0

    def observe(self, changes: float, span: float) -> bool:
        """Add a pull that brought ``changes`` (>= 0; an expected count may be fractional)
        over ``span`` seconds; True if it was a burst."""
        changes = _check.real("changes", changes, minimum=0.0)
        span = _check.real("span", span, minimum=0.0)
        burst = (self._surprise_z is not None and self._observations > 0
                 and poisson_lower(changes, span, self._surprise_z) > self.upper)
        if burst:
            self._changes = self._exposure = 0.0
            self._bursts += 1
        w = 2.0 ** (-span / self._half_life)
        self._changes = self._changes * w + changes
        self._exposure = self._exposure * w + span
        self._observations += 1
        return burst

    @property
    def rate(self) -> float:
        """Point estimate (changes/s): ``nan`` before any exposure."""
        if self._exposure > 0.0:
            return self._changes / self._exposure
        return math.inf if self._changes > 0.0 else math.nan

    @property
    def upper(self) -> float:
        """Upper confidence bound (changes/s): ``inf`` before any exposure."""
        return poisson_upper(self._changes, self._exposure, self._z)

    @property
    def changes(self) -> float:
        """Decayed change count N."""
        return self._changes

    @property
    def exposure(self) -> float:
        """Decayed observed time T (s); at most about ``half_life / ln 2`` in steady use."""
        return self._exposure

    @property
    def observations(self) -> int:
        """Pulls observed."""
        return self._observations

    @property
    def bursts(self) -> int:
        """Pulls that restarted the estimate."""
        return self._bursts

    @property
    def half_life(self) -> float:
        """Half-life of an observation's weight (s)."""
        return self._half_life

    def __repr__(self) -> str:
        return (f"ChangeRateEstimator(half_life={self._half_life:g}, rate={self.rate:.4g}/s, "
                f"upper={self.upper:.4g}/s)")


class LatencyEstimator:
    """RFC 6298 smoothed round-trip estimator, applied to whole sync durations (s).

    First sample R: ``SRTT = R``, ``RTTVAR = R / 2``. Later samples: ``RTTVAR = (1 - beta) *
    RTTVAR + beta * |SRTT - R|`` then ``SRTT = (1 - alpha) * SRTT + alpha * R`` with
    ``alpha = 1/8``, ``beta = 1/4``. The timeout is ``RTO = SRTT + 4 * RTTVAR`` kept within
    ``[min_timeout, max_timeout]``.

    Only durations of successful syncs are samples. A timed-out attempt is censored (it only says
    the sync would have taken longer than the timeout), so, as in Karn's algorithm, it is not a
    sample; instead the timeout doubles per consecutive expiry (RFC 6298 5.5), up to
    ``max_timeout``, until the next success.

    Args:
        min_timeout: floor of the timeout (s, > 0).
        max_timeout: cap of the timeout (s, >= min_timeout).
    """

    ALPHA = _ALPHA
    BETA = _BETA
    K = 4.0

    __slots__ = ("_backoff", "_max_timeout", "_min_timeout", "_rttvar", "_samples", "_srtt")

    def __init__(self, min_timeout: float = 1.0, max_timeout: float = 120.0) -> None:
        self._min_timeout = _check.real("min_timeout", min_timeout, minimum=0.0, strict=True)
        self._max_timeout = _check.real("max_timeout", max_timeout, minimum=self._min_timeout)
        self._srtt: float | None = None
        self._rttvar: float | None = None
        self._samples = 0
        self._backoff = 1.0

    def observe(self, duration: float) -> None:
        """Add the duration (s) of a successful sync; resets the timeout backoff."""
        # once per sync: a plain non-negative float needs no further check
        r = (duration if duration.__class__ is float and 0.0 <= duration < math.inf
             else _check.real("duration", duration, minimum=0.0))
        if self._srtt is None or self._rttvar is None:
            self._srtt, self._rttvar = r, r / 2.0
        else:
            # the module's constants: once per sync, on the decision's path
            self._rttvar = (1.0 - _BETA) * self._rttvar + _BETA * abs(self._srtt - r)
            self._srtt = (1.0 - _ALPHA) * self._srtt + _ALPHA * r
        self._samples += 1
        self._backoff = 1.0

    def expired(self) -> None:
        """A sync timed out: double the next timeout (capped), keep the estimates."""
        self._backoff = min(self._backoff * 2.0, 2.0 ** 30)

    def timeout(self) -> float | None:
        """RTO (s) for the next sync, or ``None`` before any sample."""
        if self._srtt is None or self._rttvar is None:
            return None
        rto = (self._srtt + self.K * self._rttvar) * self._backoff
        return min(max(rto, self._min_timeout), self._max_timeout)

    def conservative(self, margin: float) -> float | None:
        """``SRTT + margin * RTTVAR`` (s), or ``None`` before any sample."""
        if self._srtt is None or self._rttvar is None:
            return None
        return self._srtt + margin * self._rttvar

    @property
    def srtt(self) -> float | None:
        """Smoothed sync duration (s), or ``None`` before any sample."""
        return self._srtt

    @property
    def rttvar(self) -> float | None:
        """Smoothed mean deviation of the sync duration (s), or ``None`` before any sample."""
        return self._rttvar

    @property
    def samples(self) -> int:
        """Successful syncs observed."""
        return self._samples

    def __repr__(self) -> str:
        return f"LatencyEstimator(srtt={self._srtt!r}, rttvar={self._rttvar!r})"
