"""The guide's remote mode: every query goes to the primary (``libsql-client``, ``remote`` extra).

There is no local copy, hence nothing to sync: the controller schedules no syncs, reports zero
lag and staleness, and ``query_latency`` shows the network round trip the guide warns about.
"""

from __future__ import annotations

from typing import Any

from synctune._extras import require
from synctune.live.replica.base import NoSyncReplica
from synctune.live.replica.errors import SyncError, classify
from synctune.live.replica.urls import redact, safe_url


class RemoteConnection:
    """A minimal DB-API-style face on a ``libsql_client`` sync client."""

    def __init__(self, client: Any, token: str | None) -> None:
        self._client = client
        self._token = token

    def execute(self, sql: str, params: Any = ()) -> _Result:
        """Run one statement on the primary (auto-committed)."""
        try:
            rs = self._client.execute(sql, list(params))
        except Exception as exc:
            message = redact(f"{type(exc).__name__}: {exc}", self._token)
            raise SyncError(classify(exc, message.lower()), message) from None
        return _Result([tuple(row) for row in rs.rows])

    def commit(self) -> None:
        """Statements are committed by the primary as they run."""

    def close(self) -> None:
        """Close the client; its worker thread is not a daemon and would hold up exit."""
        self._client.close()

    def __enter__(self) -> RemoteConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Result:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


class RemoteReplica(NoSyncReplica):
    """Remote-only access to the primary at ``url`` (``libsql://``, ``https://``, ``wss://``,
    or ``file:`` for a local sqld-less test)."""

    kind = "remote"

    def __init__(self, url: str, *, auth_token: str | None = None) -> None:
        require("remote mode", "remote", "libsql_client")
        self.url = url
        self._token = auth_token or None
        self._open: list[RemoteConnection] = []

    def local_db_size(self) -> int:
        return 0

    def connect(self) -> RemoteConnection:
        import libsql_client

        url = self.url.replace("libsql://", "https://", 1)
        conn = RemoteConnection(libsql_client.create_client_sync(url, auth_token=self._token),
                                self._token)
        self._open.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection handed out (libsql-client runs a non-daemon thread each)."""
        conns, self._open = self._open, []
        for conn in conns:
            conn.close()

    def __repr__(self) -> str:
        token = "set" if self._token else "none"
        return f"RemoteReplica(url={safe_url(self.url)!r}, token={token})"
