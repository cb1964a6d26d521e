"""A periodic interval too short to keep (``periodic:1e-300``) is refused with one line naming
the field and the value, from the spec and from the constructor alike."""

from __future__ import annotations

import pytest

from synctune.policy import Periodic, strategy_from_spec
from synctune.policy.periodic import MIN_INTERVAL


@pytest.mark.parametrize("spec,value", [
    ("periodic:1e-300", "1e-300"), ("periodic:0.0001", "0.0001"),
    ("periodic:60+periodic:1e-9", "1e-09")])
def test_a_periodic_spec_below_the_floor_is_refused_in_one_line(spec: str, value: str) -> None:
    with pytest.raises(ValueError) as info:
        strategy_from_spec(spec, 30.0)
    msg = str(info.value)
    assert msg.startswith(f"strategy {spec!r}") and "interval must be >= 0.001 s" in msg
    assert f"got {value};" in msg and "\n" not in msg


def test_the_floor_holds_for_the_constructor_and_retune_and_allows_it_exactly() -> None:
    with pytest.raises(ValueError, match=r"interval must be >= 0\.001 s .*got 1e-300"):
        Periodic(1e-300)
    p = Periodic(MIN_INTERVAL)
    with pytest.raises(ValueError, match="got 1e-06"):
        p.retune(1e-6)
    assert p.interval == MIN_INTERVAL
