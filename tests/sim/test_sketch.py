"""The quantile sketch: exact while small, within its stated error once bucketed, and merging
shards gives the very sketch one pass would build."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synctune.sim.reduce.sketch import RELATIVE_ERROR, ZERO_BELOW, QuantileSketch

values = st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 1e7)), min_size=1, max_size=400)
quantiles = st.floats(0.0, 100.0)


def _sketch(parts: list[np.ndarray], limit: int) -> QuantileSketch:
    s = QuantileSketch(exact_limit=limit)
    for p in parts:
        s.add(p)
    return s


@given(values, quantiles)
def test_exact_sketch_is_numpy_percentile(xs: list[float], q: float) -> None:
    a = np.asarray(xs)
    s = _sketch([a], 10_000)
    assert s.exact
    assert s.quantile(q) == float(np.percentile(a, q))
    assert s.count == a.size and s.max == a.max() and s.mean == pytest.approx(a.mean())


@given(values, quantiles)
def test_bucketed_quantile_is_within_the_stated_relative_error(xs: list[float],
                                                               q: float) -> None:
    a = np.asarray(xs)
    s = _sketch([a], 0)
    assert not s.exact
    exact = float(np.percentile(a, q))
    # values below ZERO_BELOW count as 0: an absolute error of at most that much
    assert abs(s.quantile(q) - exact) <= RELATIVE_ERROR * exact + ZERO_BELOW


@settings(max_examples=60)
@given(values, st.lists(st.integers(0, 400), max_size=5), st.sampled_from([0, 50, 10_000]),
       quantiles)
def test_merged_shards_equal_one_pass(xs: list[float], cuts: list[int], limit: int,
                                      q: float) -> None:
    a = np.asarray(xs)
    edges = sorted({0, a.size, *[min(c, a.size) for c in cuts]})
    parts = [a[lo:hi] for lo, hi in pairwise(edges)]
    whole = _sketch(parts, limit)
    merged = QuantileSketch(exact_limit=limit)
    for p in parts:
        merged.merge(_sketch([p], limit))
    assert merged.count == whole.count and merged.max == whole.max
    assert merged.exact == whole.exact
    assert merged.quantile(q) == whole.quantile(q)
    assert merged.total == pytest.approx(whole.total)


def test_bad_values_and_mismatched_merges_are_refused() -> None:
    s = QuantileSketch()
    with pytest.raises(ValueError, match="finite and >= 0"):
        s.add(np.asarray([1.0, -0.5]))
    with pytest.raises(ValueError, match="finite and >= 0"):
        s.add(np.asarray([np.nan]))
    with pytest.raises(TypeError, match="exact_limit"):
        s.merge(QuantileSketch(exact_limit=3))
    with pytest.raises(ValueError, match="q must be"):
        s.quantile(101)
    assert s.quantile(99) == 0.0  # empty


def test_a_large_sample_stays_small_and_accurate() -> None:
    rng = np.random.default_rng(7)
    a = rng.lognormal(0.0, 1.5, 300_000)
    s = QuantileSketch(exact_limit=1000)
    for chunk in np.array_split(a, 30):
        s.add(chunk)
    assert not s.exact
    for q in (50, 90, 99, 99.9):
        exact = float(np.percentile(a, q))
        assert abs(s.quantile(q) - exact) <= RELATIVE_ERROR * exact
