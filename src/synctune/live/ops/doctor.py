"""The guide's set-up, tuning and incident checklists, run against a real replica.

Each check returns pass/fail, what it saw, and a hint to fix it. The token is used but never
shown: details say only whether one is set.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.parse
from dataclasses import asdict, dataclass

from synctune.live.replica import row_ids
from synctune.live.replica.base import Replica
from synctune.live.replica.errors import OpenRefused, SyncError
from synctune.live.replica.factory import TOKEN_ENV, URL_ENV, open_replica
from synctune.live.replica.probe import probe_primary
from synctune.live.replica.urls import redact
from synctune.policy import PRESETS, FailureKind
from synctune.policy import preset as get_preset

#: the guide's healthy sync lag (s) and the high_sync_lag alert threshold (s)
HEALTHY_LAG = 60.0
ALERT_LAG = 300.0

_HINTS = {
    FailureKind.NETWORK: "check the URL, DNS and firewall, and that the primary is running",
    FailureKind.TIMEOUT: "the primary accepts connections but does not answer in time: check "
                         "its health and load, or raise --timeout",
    FailureKind.AUTH: f"the token was refused: issue a new one and export {TOKEN_ENV}",
    FailureKind.SERVER: "the primary reported an error: check its status and logs",
    FailureKind.OTHER: "see the message; check the URL points at a sync server of this kind",
}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One checklist item: ``ok``, what was seen (``detail``) and how to fix it (``hint``)."""

    name: str
    ok: bool
    detail: str
    hint: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


_REFUSED_HINT = ("the file was left as it was: open it with its own primary's URL, point --db "
                 "at another file, or pass --existing move-aside to keep it aside (renamed, "
                 "never deleted) and bootstrap a fresh replica")


def _loopback(host: str | None) -> bool:
    return host in ("127.0.0.1", "localhost", "::1")


class _Sheet:
    """The results so far; details are shown with the token removed, hints only on failures."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        self.results: list[CheckResult] = []

    def add(self, name: str, ok: bool, detail: str, hint: str = "") -> bool:
        self.results.append(CheckResult(name, ok, redact(detail, self.token),
                                        "" if ok else hint))
        return ok


def run_checks(db: str | None, url: str | None, token: str | None, env: str,
               timeout: float = 5.0, existing: str = "refuse") -> list[CheckResult]:
    """Run the checklists for environment ``env`` (a preset name); see module docs.
    ``existing`` goes to :func:`~synctune.live.replica.factory.open_replica` ("open replica"
    check)."""
    chosen = get_preset(env)
    url = url if url is not None else os.environ.get(URL_ENV) or None
    token = token if token is not None else os.environ.get(TOKEN_ENV) or None
    sheet = _Sheet(token)
    mode = "local file, no sync" if not chosen.syncs else "embedded replica"
    sheet.add("environment", True, f"{chosen.name}: {mode} ({chosen.description})")
    if not chosen.syncs:
        if url is not None:
            sheet.add("url", True, "a URL is set but the development preset does not sync")
        return sheet.results + _local_checks(db or chosen.local_file)
    parsed = _settings_checks(sheet, url, token)
    if parsed is None or url is None:
        return sheet.results
    _network_checks(sheet, url, parsed, timeout)
    if not _replica_checks(sheet, db or chosen.local_file, url, timeout, existing):
        return sheet.results
    return [r if not r.ok else CheckResult(r.name, True, r.detail) for r in sheet.results]


def _settings_checks(sheet: _Sheet, url: str | None,
                     token: str | None) -> urllib.parse.ParseResult | None:
    """The URL and the token as given; the parsed URL, or ``None`` when there is none."""
    parsed = urllib.parse.urlparse(url) if url else None
    if not sheet.add("url", url is not None and parsed is not None and bool(parsed.hostname),
                     f"{parsed.scheme}://{parsed.hostname}:{parsed.port or ''}" if parsed and url
                     else "not set",
                     f"pass --url or export {URL_ENV} (the database's libsql:// or https:// "
                     f"URL)"):
        return None
    assert parsed is not None
    loop = _loopback(parsed.hostname)
    sheet.add("token", token is not None or loop,
              "set (hidden)" if token else "not set (a loopback server needs none)" if loop
              else "not set", f"export {TOKEN_ENV} (create one for the database first)")
    return parsed


def _network_checks(sheet: _Sheet, url: str, parsed: urllib.parse.ParseResult,
                    timeout: float) -> None:
    """The primary's port answers, and then whether it accepts the token."""
    port = parsed.port or (443 if parsed.scheme in ("https", "libsql") else 80)
    t0 = time.monotonic()
    try:
        socket.create_connection((parsed.hostname, port), timeout).close()
        reachable = sheet.add("reachable", True, f"TCP connect to {parsed.hostname}:{port} in "
                              f"{(time.monotonic() - t0) * 1000:.1f} ms")
    except OSError as exc:
        reachable = sheet.add("reachable", False, f"{parsed.hostname}:{port}: {exc}",
                              _HINTS[FailureKind.NETWORK])
    if reachable:
        sheet.results.append(_token_check(url, sheet.token, timeout))


def _replica_checks(sheet: _Sheet, path: str, url: str, timeout: float, existing: str) -> bool:
    """Open the replica at ``path``, then check it is sound, synced and syncs now; False when
    it could not be opened."""
    existed = os.path.exists(path)
    opened = _open(path, url, sheet.token, timeout, existing)
    sheet.results.append(opened[0])
    replica = opened[1]
    if replica is None:
        return False
    existed = existed and getattr(replica, "moved_aside", None) is None
    try:
        sheet.add("integrity", *_integrity(replica), "restore from the primary: move the file "
                  "aside and let the next open bootstrap a fresh copy")
        sheet.results.append(_sync_state(replica, existed))
        sheet.results.append(_manual_sync(replica, timeout))
        if replica.kind == "turso":  # local-first: the replica's pushes replay its inserts
            sheet.results.append(_row_ids(replica))
    finally:
        replica.close()
    return True


def _open(path: str, url: str, token: str | None, timeout: float,
          existing: str) -> tuple[CheckResult, Replica | None]:
    """The "open replica" check, and the replica when it opened."""
    try:
        replica = open_replica(path, url, auth_token=token, open_timeout=timeout,
                               existing=existing)
    except OpenRefused as exc:
        return CheckResult("open replica", False, redact(str(exc), token), _REFUSED_HINT), None
    except SyncError as exc:
        return CheckResult("open replica", False, redact(str(exc), token),
                           _HINTS[exc.kind]), None
    moved = getattr(replica, "moved_aside", None)
    detail = "opened" if moved is None else (
        f"{path} was not a replica of this primary: moved aside to {moved}; bootstrapped a "
        f"fresh replica")
    return CheckResult("open replica", True, detail), replica


def _token_check(url: str, token: str | None, timeout: float) -> CheckResult:
    seen = probe_primary(url, token, timeout)
    if seen.status is None:
        assert seen.kind is not None
        return CheckResult("token accepted", False, f"no HTTP answer: {seen.message}",
                           _HINTS[seen.kind])
    if seen.kind is FailureKind.AUTH:
        return CheckResult("token accepted", False, f"HTTP {seen.status} with the token",
                           _HINTS[FailureKind.AUTH])
    return CheckResult("token accepted", True, f"HTTP {seen.status}, no auth error (servers "
                       "that do not check tokens always pass)")


def _integrity(replica: Replica) -> tuple[bool, str]:
    try:
        result = replica.integrity_check()
    except Exception as exc:
        return False, f"PRAGMA integrity_check failed: {type(exc).__name__}"
    return result == "ok", f"PRAGMA integrity_check: {result}"


def _sync_state(replica: Replica, existed: bool) -> CheckResult:
    unpushed = replica.pending_changes()
    when = replica.last_pull_unix_time()
    extra = "" if unpushed is None else f", {unpushed} local change(s) not pushed"
    if not existed:
        return CheckResult("sync state", True, f"new replica, bootstrapped just now{extra}")
    if when is None:
        return CheckResult("sync state", False, f"never pulled{extra}",
                           "run a manual sync (below) and check the primary")
    lag = max(0.0, time.time() - when)
    ok = lag <= ALERT_LAG
    verdict = "healthy" if lag <= HEALTHY_LAG else "above the guide's 60 s" if ok else \
        "above the high_sync_lag alert (300 s)"
    return CheckResult("sync state", ok, f"last pull {lag:.0f} s ago ({verdict}){extra}",
                       "the replica is stale: sync now, then check the controller is running")


def _manual_sync(replica: Replica, timeout: float) -> CheckResult:
    t0 = time.monotonic()
    try:
        pushed = replica.push(timeout)
        pulled = replica.pull(timeout)
    except SyncError as exc:
        return CheckResult("manual sync", False, str(exc), _HINTS[exc.kind])
    return CheckResult("manual sync", True, f"pushed {pushed.changes}, pulled {pulled.changes} "
                       f"in {(time.monotonic() - t0) * 1000:.0f} ms")


def _row_ids(replica: Replica) -> CheckResult:
    conn = replica.connection()
    try:
        tables = row_ids.rowid_key_tables(conn)
    except Exception as exc:  # an advisory check: say it could not look, never fail doctor
        return CheckResult("row ids", True, f"not checked: {type(exc).__name__}")
    finally:
        conn.close()
    return CheckResult("row ids", True, row_ids.warning(tables))


def _local_checks(path: str) -> list[CheckResult]:
    if not os.path.exists(path):
        return [CheckResult("local database", False, f"{path!r} does not exist",
                            "pass --db with the development database file")]
    replica = open_replica(path, None)
    ok, detail = _integrity(replica)
    return [CheckResult("integrity", ok, detail, "restore the file from a backup")]


def environments() -> tuple[str, ...]:
    """Names accepted by ``--env`` (the guide's presets)."""
    return tuple(PRESETS)
