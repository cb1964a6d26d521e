"""Replication statistics: t-based confidence intervals of the mean across seeds.

The Student t quantile is computed here (regularised incomplete beta by continued fraction, then
bisection on the CDF) so that the package needs no SciPy at run time; the tests check it against
``scipy.stats.t``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synctune.policy import _check
from synctune.policy.errors import InvalidInput

_EPS = 1e-16
_TINY = 1e-300


def _beta_fraction(a: float, b: float, x: float) -> float:
    # continued fraction of the incomplete beta (modified Lentz), converges for x < (a+1)/(a+b+2)
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
                    -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + num / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if not (a > 0 and b > 0):
        raise InvalidInput(f"incomplete_beta needs a, b > 0, got a={a!r}, b={b!r}")
    if not 0.0 <= x <= 1.0:
        raise InvalidInput(f"incomplete_beta needs 0 <= x <= 1, got x={x!r}")
    if x in (0.0, 1.0):
        return x
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """Student t cumulative distribution function with ``df`` degrees of freedom."""
    if not df > 0:
        raise InvalidInput(f"df must be > 0, got {df!r}")
    t2 = t * t
    # take the argument that is not close to 1, where 1 - x would lose digits
    if t2 < df:
        tail = 0.5 * (1.0 - incomplete_beta(0.5, df / 2.0, t2 / (df + t2)))
    else:
        tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t2))
    return 1.0 - tail if t > 0 else tail


@functools.lru_cache(maxsize=1024)
def t_quantile(p: float, df: float) -> float:
    """Inverse of :func:`t_cdf`: the ``t`` with ``P(T <= t) = p`` (0 < p < 1, df > 0)."""
    if not 0.0 < p < 1.0:
        raise InvalidInput(f"p must be in (0, 1), got {p!r}")
    if not df > 0:
        raise InvalidInput(f"df must be > 0, got {df!r}")
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@dataclass(frozen=True, slots=True)
class MeanCI:
    """Mean of ``n`` replications with its two-sided t confidence interval.

    ``half_width`` is NaN when ``n < 2`` (no spread to estimate); it is 0 when all values agree.
    """

    n: int
    mean: float
    std: float
    half_width: float
    confidence: float

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width


def _check_confidence(confidence: float) -> float:
    return _check.real("confidence", confidence, minimum=0.0, strict=True, maximum=1.0,
                       strict_maximum=True)


def mean_ci(values: Iterable[float], confidence: float = 0.95) -> MeanCI:
    """Mean and t-based CI: ``mean ± t_{(1+c)/2, n-1} · s / sqrt(n)``; NaN values are dropped."""
    confidence = _check_confidence(confidence)
    x = np.asarray(list(values), dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return MeanCI(0, math.nan, math.nan, math.nan, confidence)
    with np.errstate(invalid="ignore"):  # inf + -inf -> nan, without a warning
        mean = float(x.mean())
    if n == 1:
        return MeanCI(1, mean, math.nan, math.nan, confidence)
    if not np.isfinite(x).all():  # e.g. a ratio over a zero: the mean says it, no interval
        return MeanCI(n, mean, math.nan, math.nan, confidence)
    std = float(x.std(ddof=1))
    half = t_quantile((1.0 + confidence) / 2.0, n - 1) * std / math.sqrt(n)
    return MeanCI(n, mean, std, half, confidence)


def summarize(results: pd.DataFrame, by: Sequence[str], metrics: Sequence[str] | None = None,
              confidence: float = 0.95) -> pd.DataFrame:
    """Replication summary: one row per (``by`` cell, metric) with n, mean, std and the CI.

    Args:
        results: one row per run (as returned by the runner or the results store).
        by: the design factors that define a cell (replications differ only in the seed).
        metrics: numeric result columns to summarise; default all numeric columns not in ``by``
            and not a seed or run bookkeeping column.
        confidence: two-sided confidence level, e.g. 0.95.

    Returns:
        Long format: columns ``*by, metric, n, mean, std, ci_low, ci_high, half_width``.
    """
    confidence = _check_confidence(confidence)
    by = list(by)
    missing = [c for c in by if c not in results.columns]
    if missing:
        raise InvalidInput(f"summarize: no column {missing[0]!r} in the results")
    if metrics is None:
        metrics = [c for c in results.columns
                   if c not in by and c != "seed" and not c.startswith("run_")
                   and pd.api.types.is_numeric_dtype(results[c])
                   and not pd.api.types.is_bool_dtype(results[c])]
    metrics = list(metrics)
    for m in metrics:
        if m not in results.columns:
            raise InvalidInput(f"summarize: no metric column {m!r} in the results")
    rows = []
    groups = results.groupby(by, sort=False, dropna=False) if by else [((), results)]
    for cell, part in groups:
        cell = cell if isinstance(cell, tuple) else (cell,)
        for m in metrics:
            ci = mean_ci(pd.to_numeric(part[m], errors="coerce"), confidence)
            rows.append({**dict(zip(by, cell, strict=True)), "metric": m, "n": ci.n,
                         "mean": ci.mean, "std": ci.std, "ci_low": ci.low,
                         "ci_high": ci.high, "half_width": ci.half_width})
    columns = [*by, "metric", "n", "mean", "std", "ci_low", "ci_high", "half_width"]
    return pd.DataFrame(rows, columns=columns)


def _fmt(x: float) -> str:
    if math.isnan(x):
        return "nan"
    # large counts and sizes in full with separators (64,012,345), never 6.4e+07
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def ci_table(summary: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Wide, printable table: one row per cell, one ``mean ± half-width`` column per metric."""
    by = list(by)
    text = summary.assign(
        value=[_fmt(m) if math.isnan(h) else f"{_fmt(m)} ± {_fmt(h)}"
               for m, h in zip(summary["mean"], summary["half_width"], strict=True)])
    order = list(dict.fromkeys(summary["metric"]))
    if not by:
        return text.set_index("metric")["value"].reindex(order).to_frame().T
    wide = text.pivot(index=by, columns="metric", values="value")
    cells = list(dict.fromkeys(map(tuple, summary[by].itertuples(index=False))))
    wide = wide.reindex(pd.MultiIndex.from_tuples(cells, names=by) if len(by) > 1
                        else [c[0] for c in cells])
    wide = wide[order].reset_index()
    wide.columns.name = None
    return wide
