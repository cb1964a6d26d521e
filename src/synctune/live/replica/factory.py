"""Build the right replica from a preset name or from a database path and URL."""

from __future__ import annotations

import os
from pathlib import Path

from synctune._extras import require
from synctune.live.replica.base import Replica
from synctune.live.replica.local import LocalReplica
from synctune.live.replica.urls import ADAPTERS, TOKEN_ENV, URL_ENV, check_url
from synctune.policy import preset as get_preset
from synctune.policy.errors import InvalidInput

__all__ = ["TOKEN_ENV", "URL_ENV", "check_url", "open_replica"]

#: adapter -> (extra, module it needs)
_EXTRAS = {"turso": ("turso", "turso"), "libsql": ("libsql", "libsql"),
           "remote": ("remote", "libsql_client")}


def open_replica(db: str | os.PathLike[str] | None = None, url: str | None = None, *,
                 auth_token: str | None = None, preset: str | None = None,
                 adapter: str | None = None, open_timeout: float = 10.0,
                 existing: str = "refuse") -> Replica:
    """Open a replica as the guide's client configurations describe it.

    Args:
        db: local database file; defaults to the preset's file (``dev.db``, ``prod.db``...).
        url: the primary's URL; defaults to ``$TURSO_DATABASE_URL`` for presets that sync.
            ``None`` (or the development preset) gives a local file with no sync.
        auth_token: bearer token; defaults to ``$TURSO_AUTH_TOKEN``.
        preset: a name from :data:`synctune.policy.PRESETS`.
        adapter: ``turso`` (pyturso, default for http/https/libsql URLs), ``libsql``
            (libsql embedded replica), ``remote`` (libsql-client, no local file) or
            ``local``.
        open_timeout: seconds allowed to open (a first open bootstraps from the primary).
        existing: (turso and libsql adapters) what to do with a file at ``db`` that is not a
            sound replica of this primary: ``"refuse"`` (default; raises
            :class:`~synctune.live.replica.errors.OpenRefused` naming the file and what it is, and
            touches nothing) or ``"move-aside"`` (renames it and its side files to
            ``DB.aside-<UTC time>``, never deletes, then bootstraps a fresh replica) or
            ``"new-url"`` (a replica recorded under another URL is this primary's, reached
            through a proxy or a new host name: opened, and the new URL recorded).
    """
    db, url, token, adapter = _settings(db, url, auth_token, preset, adapter)
    return _build(adapter, db, url, token, open_timeout=open_timeout, existing=existing)


def _settings(db: str | os.PathLike[str] | None, url: str | None, auth_token: str | None,
              preset: str | None, adapter: str | None,
              ) -> tuple[str | os.PathLike[str] | None, str | None, str | None, str]:
    """The file, URL, token and adapter :func:`open_replica` opens, from its arguments, the
    preset and the environment; a bad one raises before anything is opened."""
    chosen = get_preset(preset) if preset is not None else None
    if chosen is not None and not chosen.syncs:
        url = None
    elif url is None and chosen is not None:
        url = os.environ.get(URL_ENV) or None
    if db is None:
        if chosen is None and adapter != "remote":
            raise InvalidInput("db must name the local database file (or give a preset), got None")
        db = chosen.local_file if chosen is not None else None
    token = auth_token if auth_token is not None else os.environ.get(TOKEN_ENV) or None
    if url is not None and adapter in (None, "turso", "libsql"):
        check_url(url)
    if adapter is None:
        adapter = "local" if url is None else ADAPTERS[url.split("://", 1)[0].lower()]
    return db, url, token, adapter


def _build(adapter: str, db: str | os.PathLike[str] | None, url: str | None, token: str | None,
           *, open_timeout: float, existing: str) -> Replica:
    """The ``adapter`` replica opened on ``db`` and ``url`` (its extra loaded first)."""
    if adapter == "local":
        return LocalReplica(_path(db))
    if adapter in _EXTRAS:
        require(f"the {adapter} adapter", *_EXTRAS[adapter])
    if adapter == "remote":
        from synctune.live.replica.remote import RemoteReplica

        if url is None:
            raise InvalidInput("url is required for the remote adapter, got None")
        return RemoteReplica(url, auth_token=token)
    if url is None:
        raise InvalidInput(f"url is required for the {adapter} adapter, got None")
    if adapter == "turso":
        from synctune.live.replica.turso.adapter import TursoReplica

        return TursoReplica(_path(db), url, auth_token=token, open_timeout=open_timeout,
                            existing=existing)
    if adapter == "libsql":
        from synctune.live.replica.libsql import LibsqlReplica

        return LibsqlReplica(_path(db), url, auth_token=token, existing=existing)
    raise InvalidInput(f"adapter must be one of turso, libsql, remote, local; got {adapter!r}")


def _path(db: str | os.PathLike[str] | None) -> str:
    if db is None:
        raise InvalidInput("db must name the local database file, got None")
    path = Path(db)
    if path.is_dir():
        raise InvalidInput(f"db must be a file path, got a directory: {str(path)!r}")
    if not path.parent.exists():
        raise FileNotFoundError(f"db folder does not exist: {str(path.parent)!r}")
    return str(path)
