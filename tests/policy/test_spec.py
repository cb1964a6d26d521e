"""Strategy specs: what each form builds, and one-line errors for bad ones."""

from __future__ import annotations

import random

import pytest

from synctune.policy import (
    STRATEGY_SPECS,
    Adaptive,
    AnyOf,
    Manual,
    OnWrite,
    Periodic,
    SeedRule,
    strategy_forms,
    strategy_from_spec,
)


def test_simple_forms() -> None:
    p = strategy_from_spec("periodic:60", 30.0)
    assert isinstance(p, Periodic) and p.interval == 60.0
    assert isinstance(strategy_from_spec("on-write", 30.0), OnWrite)
    assert isinstance(strategy_from_spec("manual", 30.0), Manual)
    seed = strategy_from_spec("seed-rule", 30.0)
    assert isinstance(seed, SeedRule) and seed.data_freshness == 30.0
    a = strategy_from_spec("adaptive", 30.0)
    assert isinstance(a, Adaptive) and (a.freshness, a.stale_share) == (30.0, 0.01)
    a5 = strategy_from_spec(" adaptive:0.05 ", 45.0)
    assert isinstance(a5, Adaptive) and a5.stale_share == 0.05 and a5.freshness == 45.0


def test_presets_and_combos() -> None:
    prod = strategy_from_spec("preset:production", 30.0)
    assert isinstance(prod, AnyOf) and prod.interval_in_force == 60.0
    assert [type(p) for p in prod.parts] == [Periodic, OnWrite]
    staging = strategy_from_spec("preset:staging", 30.0)
    assert isinstance(staging, Periodic) and staging.interval == 300.0
    assert isinstance(strategy_from_spec("preset:serverless", 30.0), Manual)
    assert isinstance(strategy_from_spec("preset:development", 30.0), Manual)
    combo = strategy_from_spec("periodic:60+on-write", 30.0)
    assert isinstance(combo, AnyOf) and combo.name == "periodic+on-write"
    three = strategy_from_spec("adaptive + manual + periodic:600", 30.0)
    assert isinstance(three, AnyOf) and len(three.parts) == 3


def test_injected_rng_makes_runs_reproducible() -> None:
    def retry_delay(seed: int) -> float:
        s = strategy_from_spec("on-write", 30.0, rng=random.Random(seed))
        s.start(0.0)
        s.on_local_write(0.0)
        s.on_sync_started(0.0)
        s.on_sync_failed(1.0, "network", 1.0)
        due = s.next_sync_due(1.0)
        assert due is not None
        return due

    assert retry_delay(1) == retry_delay(1) != retry_delay(2)


@pytest.mark.parametrize("spec", [
    "", "periodic", "periodic:", "periodic:x", "periodic:-5", "periodic:nan", "on-write:3",
    "manual:1", "adaptive:1.5", "adaptive:0", "adaptive:abc", "preset:nope", "preset",
    "sometimes", "periodic:60+", "+manual", "periodic:60++manual",
])
def test_bad_specs_name_strategy_the_spec_and_the_forms(spec: str) -> None:
    with pytest.raises(ValueError) as info:
        strategy_from_spec(spec, 30.0)
    msg = str(info.value)
    assert msg.startswith(f"strategy {spec!r}") and "periodic:SECONDS" in msg
    assert "\n" not in msg and msg.count("valid forms") == 1


def test_oracle_is_the_simulators_job() -> None:
    with pytest.raises(ValueError, match="simulator"):
        strategy_from_spec("oracle", 30.0)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="strategy"):
        strategy_from_spec(60, 30.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="freshness"):
        strategy_from_spec("manual", -1.0)
    with pytest.raises(TypeError, match="rng"):
        strategy_from_spec("manual", 30.0, rng=7)  # type: ignore[arg-type]


def test_forms_listing_for_help() -> None:
    forms = [form for form, _ in STRATEGY_SPECS]
    assert "periodic:SECONDS" in forms and "preset:NAME" in forms
    assert all(help_text for _, help_text in STRATEGY_SPECS)
    assert strategy_forms() == ", ".join(forms)
    # every simple form shown builds
    for form in ("on-write", "manual", "seed-rule", "adaptive"):
        strategy_from_spec(form, 30.0)


def test_bool_pulls_reaches_the_tuners() -> None:
    from synctune.policy import Budgeted
    from synctune.policy.errors import InvalidInput

    told = strategy_from_spec("budgeted+periodic:60", 30, bool_pulls=False)
    tuner = next(p for p in told.parts if isinstance(p, Budgeted))  # type: ignore[attr-defined]
    assert tuner._bool_pulls is False
    plain = strategy_from_spec("budgeted", 30)  # changed or not, as the live adapters tell
    assert isinstance(plain, Budgeted) and plain._bool_pulls is True
    counted = strategy_from_spec("adaptive", 30, bool_pulls=False)
    assert isinstance(counted, Adaptive) and counted.config.bool_pulls is False
    default = strategy_from_spec("adaptive", 30)
    assert isinstance(default, Adaptive) and default.config.bool_pulls is True
    watcher = strategy_from_spec("watcher", 30, bool_pulls=False)
    assert watcher._bool_pulls is False  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput, match="bool_pulls"):
        strategy_from_spec("budgeted", 30, bool_pulls="yes")  # type: ignore[arg-type]
