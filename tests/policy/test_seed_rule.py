"""The guide's adjustSyncInterval rule and its presets, reproduced exactly."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctune.policy import PRESETS, SyncSettings, preset, seed_rule


# the rule's thresholds and their float neighbours are drawn often, beside arbitrary values
def _near(*points: float) -> st.SearchStrategy[float]:
    down, up = -math.inf, math.inf
    return st.sampled_from([q for p in points
                            for q in (p, math.nextafter(p, down), math.nextafter(p, up))])


rates = st.floats(min_value=0.0, max_value=1e6, allow_nan=False) | _near(10.0)
latencies = st.floats(min_value=0.0, max_value=1e5, allow_nan=False) | _near(200.0)
freshness = st.floats(min_value=1e-6, max_value=1e7, allow_nan=False) | _near(30.0, 60.0)


@given(rates, latencies, freshness)
def test_branches_in_the_guides_order(wf: float, lat: float, fresh: float) -> None:
    got = seed_rule(wf, lat, fresh)
    if wf > 10:
        want = SyncSettings(sync_interval=30.0, sync_on_write=True)
    elif lat > 200:
        want = SyncSettings(sync_interval=300.0, sync_on_write=False)
    else:
        want = SyncSettings(sync_interval=max(fresh, 60.0), sync_on_write=fresh < 30)
    assert got == want
    assert got.read_your_writes is True


@given(latencies, freshness)
def test_write_frequency_boundary_is_strict(lat: float, fresh: float) -> None:
    at = seed_rule(10.0, lat, fresh)
    above = seed_rule(math.nextafter(10.0, math.inf), lat, fresh)
    assert above == SyncSettings(sync_interval=30.0, sync_on_write=True)
    assert at == seed_rule(0.0, lat, fresh)  # exactly 10/min does not fire the first branch


@given(freshness)
def test_latency_boundary_is_strict(fresh: float) -> None:
    at = seed_rule(0.0, 200.0, fresh)
    above = seed_rule(0.0, math.nextafter(200.0, math.inf), fresh)
    assert above == SyncSettings(sync_interval=300.0, sync_on_write=False)
    assert at.sync_interval == max(fresh, 60.0)


def test_freshness_boundaries_30_and_60() -> None:
    assert seed_rule(0, 0, 30.0) == SyncSettings(sync_interval=60.0, sync_on_write=False)
    assert seed_rule(0, 0, math.nextafter(30.0, 0)).sync_on_write is True
    assert seed_rule(0, 0, 60.0).sync_interval == 60.0
    assert seed_rule(0, 0, 59.0).sync_interval == 60.0
    assert seed_rule(0, 0, 61.0).sync_interval == 61.0
    assert seed_rule(0, 0, 20.0) == SyncSettings(sync_interval=60.0, sync_on_write=True)
    # the guide's function answers data_freshness = 0 too: every 60 s, on write
    assert seed_rule(0, 0, 0.0) == SyncSettings(sync_interval=60.0, sync_on_write=True)


def test_write_frequency_wins_over_latency() -> None:
    assert seed_rule(11.0, 500.0, 600.0) == SyncSettings(sync_interval=30.0, sync_on_write=True)
    assert seed_rule(10.0, 500.0, 600.0) == SyncSettings(sync_interval=300.0)


@pytest.mark.parametrize("field,args", [
    ("write_frequency", (math.nan, 0.0, 60.0)),
    ("write_frequency", (math.inf, 0.0, 60.0)),
    ("write_frequency", (-1.0, 0.0, 60.0)),
    ("network_latency", (0.0, math.nan, 60.0)),
    ("network_latency", (0.0, -math.inf, 60.0)),
    ("network_latency", (0.0, -0.5, 60.0)),
    ("data_freshness", (0.0, 0.0, -3.0)),
    ("data_freshness", (0.0, 0.0, math.inf)),
])
def test_bad_values_name_the_field(field: str, args: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError, match=field):
        seed_rule(*args)


@pytest.mark.parametrize("field,args", [
    ("write_frequency", (True, 0.0, 60.0)),
    ("network_latency", (0.0, "50", 60.0)),
    ("data_freshness", (0.0, 0.0, False)),
    ("data_freshness", (0.0, 0.0, None)),
])
def test_bad_types_name_the_field(field: str, args: tuple[object, object, object]) -> None:
    with pytest.raises(TypeError, match=field):
        seed_rule(*args)  # type: ignore[arg-type]


def test_presets_match_the_guide() -> None:
    assert set(PRESETS) == {"development", "staging", "production", "web", "serverless",
                            "microservice"}
    assert PRESETS["development"].settings is None and not PRESETS["development"].syncs
    assert PRESETS["staging"].settings == SyncSettings(sync_interval=300.0, sync_on_write=False)
    prod = PRESETS["production"].settings
    assert prod == SyncSettings(sync_interval=60.0, sync_on_write=True, read_your_writes=True)
    assert PRESETS["web"].settings == SyncSettings(sync_interval=60.0, sync_on_write=True)
    serverless = PRESETS["serverless"]
    assert serverless.settings is not None and serverless.settings.manual
    assert serverless.client_cached is True
    assert PRESETS["microservice"].settings == SyncSettings(sync_interval=30.0)
    assert all(not p.client_cached for n, p in PRESETS.items() if n != "serverless")


def test_presets_are_read_only_and_lookup_names_the_field() -> None:
    with pytest.raises(TypeError):
        PRESETS["mine"] = PRESETS["web"]  # type: ignore[index]
    assert preset("web") is PRESETS["web"]
    with pytest.raises(ValueError, match=r"preset .*nope"):
        preset("nope")
