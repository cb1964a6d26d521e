"""A run's settings with the scenario's defaults filled in."""

from __future__ import annotations

from dataclasses import dataclass

from synctune.sim.config import SimConfig
from synctune.sim.elaborate.scenarios import scenario


@dataclass(frozen=True, slots=True)
class Setting:
    """Scenario defaults filled into a config (``duration`` in s, ``rtt_ms`` in ms)."""

    duration: float
    rtt_ms: float
    write_model: str
    base_db_bytes: int
    nodes: int


def resolve(config: SimConfig) -> Setting:
    """The config's settings with the scenario's defaults filled in."""
    sc = scenario(config.scenario if config.trace is None else "web")
    return Setting(
        duration=config.duration if config.duration is not None else sc.duration,
        rtt_ms=config.rtt_ms if config.rtt_ms is not None else sc.rtt_ms,
        write_model=config.write_model if config.write_model is not None else sc.write_model,
        base_db_bytes=(config.base_db_bytes if config.base_db_bytes is not None
                       else (0 if config.trace is not None else sc.base_db_bytes)),
        nodes=config.nodes if config.nodes is not None else sc.nodes,
    )
