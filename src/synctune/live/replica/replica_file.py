"""What lies at a replica's path, told before pyturso gets the file.

pyturso 0.8.3 bootstraps over whatever it finds: a plain SQLite file (the app's development
database), a replica of another primary, or a replica whose main file was overwritten are all
silently replaced by the primary's contents. So a replica is opened only when the path holds
nothing, or a sound replica of this very primary; anything else is refused in one line that
names the file and what it is, unless the caller asks to move it aside (renamed, never deleted).

How a replica is told from a plain file: pyturso keeps its sync metadata in ``PATH-info`` (JSON,
written at the first bootstrap). Which primary it belongs to is recorded by synctune in
``PATH-synctune`` (JSON ``{"primary": ...}``, written once the replica is open) as the
credential-free identity of the URL (:func:`primary_identity`); pyturso's own record
(``saved_configuration.remote_url`` in ``-info``, rewritten by any later open) is the fallback
for replicas made before. A URL tells addresses apart, not databases: when the URL differs
from the record, the primary at the new URL is asked whether it holds this replica's pushes
(:mod:`synctune.live.replica.primary_check`); if it does, it is the same primary behind a
proxy or a new host name and the record follows the URL. A replica that never pushed cannot
be recognised that way: the caller says so explicitly (``existing="new-url"``).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from synctune.live.replica.errors import OpenRefused
from synctune.live.replica.urls import safe_url

#: synctune's record of the primary a replica belongs to
RECORD = "-synctune"
#: every file pyturso, libsql (or a SQLite tool before them) keeps beside a database, moved
#: together
SIDE_FILES = ("-wal", "-shm", "-journal", "-info", "-changes", "-wal-revert",
              "-client_wal_index", RECORD)
#: what ``existing`` may be: refuse a file that is not ours; move it aside first; or accept a
#: replica recorded under another URL as this primary's (a proxy, a new host name)
EXISTING = ("refuse", "move-aside", "new-url")

log = logging.getLogger("synctune.live")

_MAGIC = b"SQLite format 3\x00"
_WAL_MAGICS = (0x377F0682, 0x377F0683)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def primary_identity(url: str) -> str:
    """The primary a URL names, without credentials, query or trailing slash:
    ``scheme://host:port/path`` with ``libsql://``/``turso://`` as pyturso reads them (https)."""
    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    scheme = "https" if scheme in ("libsql", "turso") else scheme
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port if port is not None else _DEFAULT_PORTS.get(scheme)
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{netloc}:{port}{parts.path.rstrip('/')}"


@dataclass(frozen=True, slots=True)
class FileState:
    """What is at a path: ``kind`` is ``none`` (nothing, or an empty file: safe to bootstrap),
    ``replica`` (pyturso's, of ``primary``), or a reason :class:`OpenRefused` carries."""

    kind: str
    what: str = ""
    primary: str | None = None
    #: pyturso's ``client_unique_id`` for a replica (how its primary knows its pushes)
    client_id: str | None = None


def byte_size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def header_fault(path: str, size: int) -> str | None:
    """Why the main file cannot be a SQLite database, or ``None`` when its header is sound."""
    if size == 0:
        return "its database file is empty"
    with open(path, "rb") as f:
        head = f.read(100)
    if len(head) < 100 or not head.startswith(_MAGIC):
        return "its database file does not start with a SQLite header"
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        return f"its SQLite header has an impossible page size ({page})"
    if size % page:
        return f"its size ({size} bytes) is not a whole number of {page}-byte pages"
    return None


def wal_fault(path: str) -> str | None:
    size = byte_size(path + "-wal")
    if not size:
        return None
    with open(path + "-wal", "rb") as f:
        head = f.read(4)
    if len(head) < 4 or int.from_bytes(head, "big") not in _WAL_MAGICS:
        return "its write-ahead log does not start with a WAL header"
    return None


def recorded_by_synctune(path: str) -> str | None:
    """The primary identity synctune recorded for the replica at ``path``, or ``None``."""
    try:
        with open(path + RECORD, encoding="utf-8") as f:
            mine = json.load(f)
    except (OSError, ValueError):
        return None  # none yet (a replica made before the record existed)
    if isinstance(mine, dict) and isinstance(mine.get("primary"), str):
        return str(mine["primary"])
    return None


def _recorded_primary(path: str) -> tuple[str | None, str | None]:
    """(primary identity, fault) from synctune's record, else pyturso's ``-info``."""
    mine = recorded_by_synctune(path)
    if mine is not None:
        return mine, None
    try:
        with open(path + "-info", encoding="utf-8") as f:
            info = json.load(f)
    except (OSError, ValueError) as exc:
        return None, f"its sync metadata {path}-info is unreadable ({type(exc).__name__})"
    saved = info.get("saved_configuration") if isinstance(info, dict) else None
    url = saved.get("remote_url") if isinstance(saved, dict) else None
    if not isinstance(url, str) or not url:
        return None, f"its sync metadata {path}-info records no primary"
    return primary_identity(url), None


def _client_id(path: str) -> str | None:
    try:
        with open(path + "-info", encoding="utf-8") as f:
            found = json.load(f).get("client_unique_id")
    except (OSError, ValueError, AttributeError):
        return None
    return found if isinstance(found, str) and found else None


def table_names(path: str) -> list[str] | None:
    """Table names in a SQLite main file alone, read without writing anything (``immutable``:
    no journal, no -shm, no lock, its WAL ignored), or ``None`` when it cannot be read."""
    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error:
        return None
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return [str(r[0]) for r in rows]
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def _content_fault(path: str) -> str | None:
    """With its WAL empty, a replica's main file is the whole database and holds pyturso's
    change table (``turso_cdc``, created at the first open and checkpointed with the rest);
    a main file without it was overwritten by another database."""
    if byte_size(path + "-wal"):
        return None  # the latest pages are in the WAL: the main file alone tells nothing
    tables = table_names(path)
    if tables is None:
        return "its database file cannot be read as SQLite"
    if "turso_cdc" not in tables:
        return "its database file holds none of its sync tables (overwritten by another database?)"
    return None


def inspect(path: str) -> FileState:
    """What is at ``path`` (and beside it), reading only: see :class:`FileState`."""
    if os.path.isdir(path):
        return FileState("directory", "a directory")
    if os.path.exists(path) and not os.path.isfile(path):
        return FileState("not-database", "not a regular file (a device, pipe or socket)")
    size = byte_size(path)
    wal = byte_size(path + "-wal") or 0
    if os.path.exists(path + "-info"):
        primary, fault = _recorded_primary(path)
        if size is None:
            fault = fault or "its database file is missing"
        fault = (fault or header_fault(path, size or 0) or wal_fault(path)
                 or _content_fault(path))
        if fault is not None:
            return FileState("corrupt", f"a damaged replica: {fault}", primary)
        if os.path.exists(path + "-shm"):  # pyturso makes none: a SQLite tool has it open
            return FileState("leftover", (
                f"a replica open in a SQLite tool, or it was when that tool stopped ({path}-shm "
                f"exists; writes made that way are never pushed): close the tool first"),
                primary)
        return FileState("replica", "a replica", primary, _client_id(path))
    if size is None or size == 0:
        if wal:
            return FileState("leftover", f"an empty database beside a write-ahead log left by "
                                         f"another tool ({path}-wal, {wal} bytes)")
        return FileState("none")
    return not_a_replica(path, size)


def not_a_replica(path: str, size: int) -> FileState:
    """A non-empty file with no replica's metadata beside it: plain SQLite or not a database."""
    if header_fault(path, size) is not None:
        return FileState("not-database", f"not a SQLite database ({size} bytes)")
    names = table_names(path)
    tables = None if names is None else len([n for n in names if not n.startswith("sqlite_")])
    counted = "" if tables is None else f" with {tables} table{'s' if tables != 1 else ''}"
    return FileState("plain", f"a plain SQLite database{counted}, not a replica")


def writable_fault(path: str) -> str | None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):  # else it would read as "not writable", sending one to chmod
        return f"its folder {folder} does not exist (create it first)"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"its folder {folder} is not writable"
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return "it is read-only"
    return None


def check_existing(existing: str, path: str) -> None:
    """Raise for an ``existing`` that is not one of :data:`EXISTING`, or a ``path`` that cannot
    be written (:class:`OpenRefused` ``read-only``, or ``no-folder`` when its folder is
    missing)."""
    if existing not in EXISTING:
        from synctune.policy.errors import InvalidInput

        raise InvalidInput(f"existing must be one of {', '.join(EXISTING)}; got {existing!r}")
    fault = writable_fault(path)
    if fault is not None:
        reason = "read-only" if os.path.isdir(os.path.dirname(os.path.abspath(path))) \
            else "no-folder"
        raise OpenRefused(reason, f"{path} cannot be opened as a replica: {fault}")


def move_aside(path: str, now: Callable[[], float] = time.time) -> str:
    """Rename ``path`` and every file beside it to ``PATH.aside-YYYYmmddTHHMMSSZ[-N]`` (same
    folder, nothing deleted); returns the new main path."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now()))
    target, n = f"{path}.aside-{stamp}", 1
    while any(os.path.lexists(target + s) for s in ("", *SIDE_FILES)):
        n += 1
        target = f"{path}.aside-{stamp}-{n}"
    # side files first: an interruption leaves a main file without metadata, which is refused
    for suffix in (*SIDE_FILES, ""):
        if os.path.lexists(path + suffix):
            os.rename(path + suffix, target + suffix)
    return target


def refusal(path: str, state: FileState, url: str, known: bool | None = None) -> OpenRefused:
    if state.kind == "replica":
        told = ("could not be asked whether it ever received this replica's pushes"
                if known is None else "has no record that it ever received this replica's "
                "pushes, or only of pushes older than the last one it confirmed: a copy of "
                "its primary")
        return OpenRefused("other-primary", (
            f"{path} is a replica of another primary ({state.primary}), not of "
            f"{safe_url(url)} (which {told}); open it "
            f"with its own URL (to push what it holds), pass existing='new-url' (--existing "
            f"new-url) if it is the same primary at a new address, or existing='move-aside' "
            f"(--existing move-aside) to keep it aside and bootstrap anew"))
    if state.kind == "directory":
        return OpenRefused("directory", f"{path} is a directory, not a database file")
    if state.kind == "unrecorded":
        return OpenRefused("unrecorded", (
            f"{path} is {state.what}, with no record of its primary (made outside synctune); "
            f"pass existing='new-url' (--existing new-url) if it is {safe_url(url)}'s, or "
            f"existing='move-aside' (--existing move-aside) to keep it aside and bootstrap anew"))
    return OpenRefused(state.kind, (
        f"{path} is {state.what}; refusing to replace it with the primary's copy. Pass "
        f"existing='move-aside' (--existing move-aside) to keep it aside and bootstrap anew, "
        f"or point at another file"))


def prepare(path: str, url: str, existing: str = "refuse",
            now: Callable[[], float] = time.time,
            knows: Callable[[str], bool | None] | None = None,
            inspect_path: Callable[[str], FileState] = inspect) -> str | None:
    """Make ``path`` safe to hand to pyturso (or, with libsql's ``inspect_path``, libsql) for
    primary ``url``: nothing there, or a sound replica of it. Anything else raises
    :class:`OpenRefused`, or with ``existing="move-aside"`` is moved aside; returns where it
    went (``None`` when nothing moved).

    ``knows(client_id)`` asks the primary at ``url`` whether it holds the pushes of a replica
    recorded under another URL (see :mod:`synctune.live.replica.primary_check`); True opens it
    there.
    """
    check_existing(existing, path)
    state = inspect_path(path)
    if state.kind == "none" or (state.kind == "replica"
                                and state.primary == primary_identity(url)):
        return None
    known: bool | None = None
    if state.kind in ("replica", "unrecorded"):
        if existing == "new-url":
            log.warning("%s was recorded as a replica of %s: opening it as %s's (new-url)",
                        path, state.primary, safe_url(url))
            return None
        if state.kind == "replica" and knows is not None and state.client_id:
            known = knows(state.client_id)
        if known:
            log.warning("%s was recorded as a replica of %s; the primary at %s holds its "
                        "pushes, so it is the same primary at a new URL", path, state.primary,
                        safe_url(url))
            return None
    if existing != "move-aside" or state.kind == "directory":
        raise refusal(path, state, url, known)
    if state.kind == "replica":
        what = f"a replica of another primary ({state.primary})"
    else:
        what = state.what
    moved = move_aside(path, now)
    log.warning("%s was %s: moved it and its side files aside to %s (nothing deleted); "
                "bootstrapping a fresh replica", path, what, moved)
    return moved


def record_primary(path: str, url: str) -> None:
    """Record ``url``'s primary as the one the replica at ``path`` belongs to (atomically;
    the identity carries no credentials). Done once the replica is open."""
    identity = primary_identity(url)
    current, _ = _recorded_primary(path)
    if current == identity and os.path.exists(path + RECORD):
        return
    tmp = f"{path}{RECORD}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"primary": identity}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path + RECORD)
