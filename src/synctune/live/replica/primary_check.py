"""How far does the primary at a URL hold a replica's pushes? One bounded read-only query,
asked when an existing replica opens (a copy or an older backup is behind its own pushes,
:mod:`synctune.live.replica.turso.stale_copy`) and when it opens with a URL other than the one
recorded for it.

A URL names an address, not a database: the same primary behind a proxy or a new host name has
a new URL. What the primary itself holds does tell: pyturso records every replica that pushed
to it in its ``turso_sync_last_change_id`` table, keyed by the replica's ``client_unique_id``
(from the replica's ``-info``). Found there, the primary is the replica's own; not found (or no
such table) it is another database, or one this replica never pushed to; no answer, unknown.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

_MARK = "SELECT pull_gen, change_id FROM turso_sync_last_change_id WHERE client_id = ?"


def _pipeline_url(url: str) -> str:
    base = url.split("?", 1)[0].rstrip("/")
    for scheme in ("libsql://", "turso://"):
        if base.startswith(scheme):
            base = "https://" + base[len(scheme):]
    return base + "/v2/pipeline"


def _ask(url: str, token: str | None, sql: str, client_id: str, timeout: float) -> Any:
    """The pipeline's answer to ``sql`` with ``client_id``, ``None`` when none came."""
    body = {"requests": [{"type": "execute", "stmt": {
        "sql": sql, "args": [{"type": "text", "value": client_id}]}}]}
    request = urllib.request.Request(_pipeline_url(url), data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"},
                                     method="POST")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return json.loads(resp.read(1 << 20))
    except (OSError, ValueError, urllib.error.URLError):
        return None


def last_change(url: str, token: str | None, client_id: str,
                timeout: float) -> tuple[int, int] | None:
    """``(pull generation, change id)`` of the last change the primary at ``url`` applied from
    ``client_id``: ``(0, 0)`` when none (or no such table); ``None`` when it could not tell
    (unreachable, an error, ``timeout`` seconds passed). Reads only; the token goes in the
    header and is never shown."""
    answer = _ask(url, token, _MARK, client_id, timeout)
    try:
        result = answer["results"][0]
        if result["type"] == "error":
            missing = "no such table" in str(result.get("error", {}).get("message", ""))
            return (0, 0) if missing else None
        rows = result["response"]["result"]["rows"]
        if not rows:
            return (0, 0)
        return int(rows[0][0]["value"]), int(rows[0][1]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
