"""Replication statistics against SciPy and against the coverage the theory promises."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special
from scipy import stats as sps

from synctune.sweep import ci_table, mean_ci, summarize, t_quantile
from synctune.sweep.stats import incomplete_beta, t_cdf


@given(p=st.floats(1e-6, 1 - 1e-6), df=st.one_of(st.integers(1, 500).map(float),
                                                  st.floats(0.5, 1e4)))
def test_t_quantile_matches_scipy(p: float, df: float) -> None:
    expected = sps.t.ppf(p, df)
    assert t_quantile(p, df) == pytest.approx(expected, rel=1e-8, abs=1e-9)


@given(t=st.floats(-50, 50), df=st.floats(0.5, 1e3))
def test_t_cdf_matches_scipy(t: float, df: float) -> None:
    assert t_cdf(t, df) == pytest.approx(sps.t.cdf(t, df), rel=1e-9, abs=1e-12)


@given(a=st.floats(0.05, 200), b=st.floats(0.05, 200), x=st.floats(0, 1))
def test_incomplete_beta_matches_scipy(a: float, b: float, x: float) -> None:
    assert incomplete_beta(a, b, x) == pytest.approx(special.betainc(a, b, x), rel=1e-8,
                                                     abs=1e-12)


@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30),
       st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_mean_ci_matches_scipy_interval(values: list[float], confidence: float) -> None:
    ci = mean_ci(values, confidence)
    x = np.asarray(values)
    sem = x.std(ddof=1) / math.sqrt(len(x))
    assert ci.n == len(values)
    assert ci.mean == pytest.approx(x.mean(), abs=1e-9)
    if sem == 0:
        assert ci.half_width == 0
        return
    low, high = sps.t.interval(confidence, len(x) - 1, loc=x.mean(), scale=sem)
    assert ci.low == pytest.approx(low, rel=1e-7, abs=1e-7)
    assert ci.high == pytest.approx(high, rel=1e-7, abs=1e-7)


def test_ci_covers_the_true_mean_at_the_nominal_rate() -> None:
    # 2000 samples of 5 normal replications: a 90 % interval holds the mean ~1800 times
    rng = np.random.default_rng(12)
    trials, hits = 2000, 0
    for _ in range(trials):
        ci = mean_ci(rng.normal(3.0, 2.0, size=5), confidence=0.9)
        hits += ci.low <= 3.0 <= ci.high
    sd = math.sqrt(trials * 0.9 * 0.1)
    assert abs(hits - 0.9 * trials) < 4 * sd


def test_degenerate_replications() -> None:
    one = mean_ci([4.0])
    assert one.n == 1 and one.mean == 4.0 and math.isnan(one.half_width)
    none = mean_ci([math.nan])
    assert none.n == 0 and math.isnan(none.mean)
    same = mean_ci([2.0, 2.0, 2.0])
    assert same.half_width == 0.0 and same.low == same.high == 2.0
    with_nan = mean_ci([1.0, math.nan, 3.0])
    assert with_nan.n == 2 and with_nan.mean == 2.0
    with_inf = mean_ci([1.0, math.inf, 3.0])  # e.g. syncs / 0 oracle syncs
    assert with_inf.n == 3 and with_inf.mean == math.inf and math.isnan(with_inf.half_width)


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1])
def test_bad_confidence(bad: float) -> None:
    with pytest.raises(ValueError, match=r"confidence must be [<>] [01], got"):
        mean_ci([1.0, 2.0], bad)


def test_summarize_groups_cells_and_picks_numeric_metrics() -> None:
    frame = pd.DataFrame({
        "strategy": ["a"] * 3 + ["b"] * 3,
        "seed": [0, 1, 2] * 2,
        "syncs": [10, 12, 14, 1, 1, 1],
        "name": ["x"] * 6,
        "run_elapsed_s": [0.1] * 6,
    })
    out = summarize(frame, ["strategy"])
    assert list(out["metric"]) == ["syncs", "syncs"]
    a = out[out["strategy"] == "a"].iloc[0]
    lo, hi = sps.t.interval(0.95, 2, loc=12, scale=2 / math.sqrt(3))
    assert a["n"] == 3 and a["mean"] == 12
    assert a["ci_low"] == pytest.approx(lo) and a["ci_high"] == pytest.approx(hi)
    b = out[out["strategy"] == "b"].iloc[0]
    assert b["half_width"] == 0
    table = ci_table(out, ["strategy"])
    assert list(table["strategy"]) == ["a", "b"]
    assert table.loc[0, "syncs"].startswith("12 ± ")
    with pytest.raises(ValueError, match="no column 'nope'"):
        summarize(frame, ["nope"])
    with pytest.raises(ValueError, match="no metric column 'nope'"):
        summarize(frame, ["strategy"], ["nope"])
