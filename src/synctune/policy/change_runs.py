"""Pulls that tell only whether something changed: what a change stands for, and how often
a pull's changes carry on the burst the previous pull saw (learned online)."""

from __future__ import annotations

import math

from synctune.policy import _check

_LN2 = math.log(2.0)


def changes_behind(pulled: int, span: float, rate: float, as_changed: bool) -> float:
    """The changes a pull of ``span`` s stands for: ``pulled`` itself, or read as changed or
    not (``as_changed``), the expected count given one or more at ``rate`` changes/s (a point
    estimate; one change while it is unknown). Fed back into the rate, the second converges to
    the rate's maximum-likelihood value from changed-or-not pulls (an online EM step). (Fed the
    rate's upper bound instead, it runs away where most pulls change: each step reads every
    changed pull as more changes than the last.)"""
    if not as_changed:
        return float(pulled)
    if pulled <= 0:
        return 0.0
    mean = rate * span if 0.0 < rate < math.inf else 0.0  # Poisson: m / (1 - e^-m), 1 at m = 0
    return mean / -math.expm1(-mean) if mean > 1e-9 else 1.0


def binary_upper(point: float, upper: float, span: float) -> float:
    """An upper bound (changes/s) for a rate learned from changed-or-not pulls of ``span`` s:
    ``upper``, a Poisson bound as if the changes had been counted, widened around ``point`` by
    the information a yes/no answer loses. Counted, a pull's Fisher information on the rate is
    ``span / rate``; told only whether any of ``m = rate * span`` expected changes came, it is
    ``m / (e^m - 1)`` of that, so the bound's half-width grows by ``sqrt((e^m - 1) / m)``
    (1 as ``m`` tends to 0: rare changes lose nothing; past ``m = 50`` every pull changes and
    the answers bound nothing: ``inf``)."""
    m = point * span
    if not m > 1e-9 or not upper < math.inf:  # unknown (nan), no changes, or no bound yet
        return upper
    if m >= 50.0:
        return math.inf
    return point + (upper - point) * math.sqrt(math.expm1(m) / m)


class ChangeRuns:
    """The share of changed pulls, after a changed pull, that carry on a burst (in [0, 1]).

    A pull tells whether anything changed since the previous one, not when. Changes that
    arrive one by one (Poisson) land anywhere in the cycle, so a read late in it was stale only
    with some probability. A burst that was still going when the previous pull ended has its
    next commit at the very start of the cycle, and then every read past the freshness target
    was stale. The two are told apart by how often a pull brings changes after a changed pull
    (``q_hot``) against after a quiet one (``q_cold``): without bursts they are the same, and
    what ``q_hot`` has above ``q_cold`` is the bursts that carried on. :attr:`carried` is that
    excess as a share of the changed pulls after a changed pull, ``1 - q_cold / q_hot``.

    Works on "changed or not" alone, so a driver that counts changes and one that cannot
    (pyturso, libsql) get the same answer. Counts decay with ``half_life`` seconds of cycles and
    each side starts from ``prior`` pseudo pulls at one half. O(1) per pull, fixed memory.

    Args:
        half_life: seconds of cycles after which old evidence weighs half (> 0).
        prior: pseudo pulls on each side, half of them changed (> 0).

    Attributes:
        carried: the share above, after the last pull observed; 0 when that pull was quiet
            (the next cycle starts with no burst going). Read by every judgement, not to be set.
    """

    __slots__ = ("_cold_n", "_cold_y", "_half_life", "_hot_n", "_hot_y", "_prior", "_was_hot",
                 "carried")

    def __init__(self, half_life: float = 86_400.0, prior: float = 2.0) -> None:
        self._half_life = _check.real("half_life", half_life, minimum=0.0, strict=True)
        self._prior = _check.real("prior", prior, minimum=0.0, strict=True)
        self._hot_n = self._hot_y = self._cold_n = self._cold_y = 0.0
        self._was_hot = False
        self.carried = 0.0

    def share_carried(self) -> float:
        """The share of changed pulls after a changed pull that carry on a burst, in [0, 1]."""
        half = 0.5 * self._prior
        hot = (self._hot_y + half) / (self._hot_n + self._prior)
        cold = (self._cold_y + half) / (self._cold_n + self._prior)
        return 1.0 - cold / hot if hot > cold else 0.0

    def observe(self, changed: bool, span: float) -> float:
        """One pull over ``span`` seconds that did or did not bring changes; returns the share
        of this pull's changes (if any) that carried on a burst: 0 after a quiet pull."""
        w = math.exp(-_LN2 * span / self._half_life) if span > 0.0 else 1.0
        y = 1.0 if changed else 0.0
        this = 0.0
        if self._was_hot:
            this = self.carried  # judged by what was known before this pull
            self._hot_n = self._hot_n * w + 1.0
            self._hot_y = self._hot_y * w + y
            self._cold_n *= w
            self._cold_y *= w
        else:
            self._cold_n = self._cold_n * w + 1.0
            self._cold_y = self._cold_y * w + y
            self._hot_n *= w
            self._hot_y *= w
        self._was_hot = changed
        self.carried = self.share_carried() if changed else 0.0
        return this

    def __repr__(self) -> str:
        return f"ChangeRuns(carried={self.carried:.3g}, half_life={self._half_life:g})"
