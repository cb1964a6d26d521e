"""The guide's environment presets and configuration examples."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from synctune.policy.errors import InvalidInput
from synctune.policy.settings import SyncSettings


@dataclass(frozen=True, slots=True)
class Preset:
    """A named configuration from the guide.

    Attributes:
        name: short key (``production``, ``web``...).
        description: one line on what it is for.
        settings: sync settings, or ``None`` for a local file that never syncs.
        local_file: default local database file name from the guide.
        client_cached: create the client once and reuse it (serverless).
    """

    name: str
    description: str
    settings: SyncSettings | None
    local_file: str
    client_cached: bool = False

    @property
    def syncs(self) -> bool:
        """False for the development preset: a local file with no remote."""
        return self.settings is not None


_ALL = (
    Preset("development", "Local file only, no sync: fast, no network, focus on the code.",
           None, "dev.db"),
    Preset("staging", "Embedded replica synced every 300 s: production-like behaviour, cheap.",
           SyncSettings(sync_interval=300.0), "staging.db"),
    Preset("production", "Synced every 60 s and on every write, reading your own writes.",
           SyncSettings(sync_interval=60.0, sync_on_write=True, read_your_writes=True),
           "prod.db"),
    Preset("web", "Web app (1,000 users, 100 req/s, local reads < 1 ms): 60 s and on write.",
           SyncSettings(sync_interval=60.0, sync_on_write=True), "app.db"),
    Preset("serverless", "Lambda/edge: manual sync; client created once, reused while warm.",
           SyncSettings(sync_interval=None, sync_on_write=False), "lambda.db", client_cached=True),
    Preset("microservice", "One replica per service, synced every 30 s; scale out freely.",
           SyncSettings(sync_interval=30.0), "service.db"),
)

#: the guide's presets by name, read-only
PRESETS: MappingProxyType[str, Preset] = MappingProxyType({p.name: p for p in _ALL})


def preset(name: str) -> Preset:
    """Return the preset called ``name`` or raise ``ValueError`` listing the known names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise InvalidInput(f"preset must be one of {', '.join(PRESETS)}; got {name!r}") from None
