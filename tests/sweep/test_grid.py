"""Factorial design expansion and run keys."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctune.sweep import Grid, run_key


def test_full_factorial_with_seeds_innermost() -> None:
    grid = Grid({"scenario": ["web", "serverless"], "freshness": [10, 30, 60]}, seeds=2,
                fixed={"duration": 100.0})
    runs = grid.runs()
    assert len(grid) == len(runs) == 2 * 3 * 2
    assert grid.cells == 6
    assert runs[0] == {"duration": 100.0, "scenario": "web", "freshness": 10, "seed": 0}
    assert runs[1] == {"duration": 100.0, "scenario": "web", "freshness": 10, "seed": 1}
    assert runs[-1] == {"duration": 100.0, "scenario": "serverless", "freshness": 60, "seed": 1}
    combos = {(r["scenario"], r["freshness"], r["seed"]) for r in runs}
    assert len(combos) == len(runs)


def test_explicit_seed_list_and_seed_name() -> None:
    runs = Grid({"x": [1]}, seeds=[7, 3], seed_name="rng").runs()
    assert [r["rng"] for r in runs] == [7, 3]


levels = st.one_of(st.lists(st.integers(-50, 50), min_size=1, max_size=4, unique=True),
                   st.lists(st.text(max_size=3), min_size=1, max_size=4, unique=True))


@given(factors=st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), levels, max_size=4),
       seeds=st.integers(1, 4))
def test_size_and_unique_keys(factors: dict[str, list[object]], seeds: int) -> None:
    grid = Grid(factors, seeds=seeds)
    runs = grid.runs()
    assert len(runs) == math.prod(len(v) for v in factors.values()) * seeds
    assert len({run_key(r) for r in runs}) == len(runs)


@given(st.dictionaries(st.sampled_from(["a", "b", "c", "seed"]),
                       st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                                 st.text(), st.none()), min_size=1))
def test_run_key_ignores_order(params: dict[str, object]) -> None:
    reordered = dict(reversed(list(params.items())))
    assert run_key(params) == run_key(reordered)
    assert len(run_key(params)) == 16


def test_run_key_identifies_numeric_value_not_type() -> None:
    assert run_key({"freshness": 30}) == run_key({"freshness": 30.0})
    assert run_key({"freshness": 30}) != run_key({"freshness": 30.5})
    assert run_key({"freshness": 30, "seed": 1}) != run_key({"freshness": 30, "seed": 2})


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"factors": {"x": []}}, "levels of x must not be empty"),
    ({"factors": {"x": "abc"}}, "levels of x must be a list"),
    ({"factors": {"x": [1, 1.0]}}, "levels of x must be distinct"),
    ({"factors": {"x": [[1]]}}, "x values must be str, int, float, bool or None"),
    ({"factors": {"x": [math.inf]}}, "x values must be finite"),
    ({"factors": {"bad name": [1]}}, "parameter name must be an identifier"),
    ({"factors": {"x": [1]}, "seeds": 0}, "seeds must be >= 1"),
    ({"factors": {"x": [1]}, "seeds": [1, 1]}, "seeds must be distinct"),
    ({"factors": {"x": [1]}, "seeds": [-1]}, "seeds must be >= 0, got -1"),
    ({"factors": {"x": [1]}, "fixed": {"x": 2}}, "parameter given twice"),
    ({"factors": {"seed": [1]}}, "parameter given twice"),
])
def test_bad_designs_name_the_field(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        Grid(**kwargs)  # type: ignore[arg-type]
