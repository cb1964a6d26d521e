"""One announcement: a small, data-free hint that a primary has a new commit (or that its
watcher is alive), and its JSON wire format.

A hint says *when to pull*, never what changed: no row data, no URL, no credential. Anyone who
can publish on the channel can send one, so :func:`decode` is strict and never trusts more than
it checks; a forged hint costs at most one pull per the strategy's ``min_interval``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from synctune.live.replica.urls import safe_url

#: the wire format's version, the ``v`` field
WIRE_VERSION = 1
#: longest message accepted (bytes); a real hint is about 150
MAX_WIRE_BYTES = 512
#: commit times accepted (Unix s): 2001 to 2286, anything else is junk
_UNIX_RANGE = (1e9, 1e10)
_PRIMARY = re.compile(r"[0-9a-f]{16}")
_SENDER = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_FIELDS = frozenset({"v", "primary", "commit_unix", "revision", "sender", "kind"})
#: the fields with the optional sequence number (a sender that numbers its hints)
_NUMBERED = _FIELDS | {"seq"}
#: largest sequence number accepted (exact in every JSON reader)
MAX_SEQ = 2**53

Kind = Literal["commit", "heartbeat"]


class HintError(ValueError):
    """An incoming message that is not a valid hint (counted and dropped, never raised into
    the app)."""


def primary_id(url: str) -> str:
    """The primary's id on the wire: 16 hex digits of the SHA-256 of its URL without
    credentials or query (so every replica of one primary agrees, and the URL never travels)."""
    shown = safe_url(url.strip()) or ""
    scheme, sep, rest = shown.partition("://")
    normal = f"{scheme.lower()}{sep}{rest.rstrip('/').lower()}" if sep else shown.lower()
    return hashlib.sha256(normal.encode()).hexdigest()[:16]


def new_sender() -> str:
    """A random id for this process's hints (so it can ignore its own)."""
    return secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class Hint:
    """A hint about one primary.

    Attributes:
        primary: :func:`primary_id` of the primary.
        commit_unix: the earliest the announced commit can have landed at the primary (Unix
            seconds, the sender's clock), or ``None`` when unknown.
        revision: the primary's revision if the sender knows it (an integer >= 0), else None.
        sender: the sending process's random id.
        kind: ``"commit"`` (pull before it is D old) or ``"heartbeat"`` (the watcher is alive).
        seq: the sender's hint number: a commit's own (1, 2, 3... per sender), a heartbeat's
            the sender's latest commit hint's (0: none yet); ``None`` for a sender that does not
            number its hints (then no loss can be noticed from it).
    """

    primary: str
    commit_unix: float | None
    revision: int | None
    sender: str
    kind: Kind = "commit"
    seq: int | None = None

    def __post_init__(self) -> None:
        _check(self.primary, self.commit_unix, self.revision, self.sender, self.kind)
        if self.seq is not None and (self.seq.__class__ is not int
                                     or not 0 <= self.seq <= MAX_SEQ):
            raise HintError(f"seq must be an integer in 0..2**53 or absent, got "
                            f"{str(self.seq)[:40]!r}")

    def encode(self) -> bytes:
        """The wire form: compact JSON, UTF-8 (``seq`` only when numbered)."""
        obj: dict[str, object] = {"v": WIRE_VERSION, "primary": self.primary,
                                  "commit_unix": self.commit_unix, "revision": self.revision,
                                  "sender": self.sender, "kind": self.kind}
        if self.seq is not None:
            obj["seq"] = self.seq
        return json.dumps(obj, separators=(",", ":")).encode()


def _check(primary: object, commit_unix: object, revision: object, sender: object,
           kind: object) -> None:
    if not isinstance(primary, str) or not _PRIMARY.fullmatch(primary):
        raise HintError(f"primary must be 16 hex digits, got {str(primary)[:40]!r}")
    if commit_unix is not None and not _is_unix(commit_unix):
        raise HintError(f"commit_unix must be Unix seconds or null, got "
                            f"{str(commit_unix)[:40]!r}")
    if revision is not None and (revision.__class__ is not int or revision < 0):
        raise HintError(f"revision must be an integer >= 0 or null, got {str(revision)[:40]!r}")
    if not isinstance(sender, str) or not _SENDER.fullmatch(sender):
        raise HintError(f"sender must be 1-64 of [A-Za-z0-9_.-], got {str(sender)[:40]!r}")
    if kind not in ("commit", "heartbeat"):
        raise HintError(f"kind must be 'commit' or 'heartbeat', got {str(kind)[:40]!r}")


def _is_unix(value: object) -> bool:
    return isinstance(value, float | int) and value.__class__ is not bool \
        and math.isfinite(value) and _UNIX_RANGE[0] <= value <= _UNIX_RANGE[1]


def decode(data: bytes | str) -> Hint:
    """Parse one wire message, strictly; raises :class:`HintError` for anything else (wrong
    size, not JSON, other fields, other types, other version). ``seq`` may be absent (a
    sender that does not number its hints)."""
    raw = data.encode() if isinstance(data, str) else data
    if not isinstance(raw, bytes | bytearray) or len(raw) > MAX_WIRE_BYTES:
        raise HintError("message is not bytes of at most 512")
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        raise HintError("message is not JSON") from None
    if not isinstance(obj, dict) or set(obj) not in (_FIELDS, _NUMBERED):
        raise HintError("message is not an object with exactly the hint's fields")
    if obj["v"] != WIRE_VERSION or obj["v"].__class__ is not int:
        raise HintError(f"v must be {WIRE_VERSION}, got {str(obj['v'])[:40]!r}")
    commit = obj["commit_unix"]
    if commit.__class__ is int:
        commit = float(commit)
    return Hint(obj["primary"], commit, obj["revision"], obj["sender"], obj["kind"],
                obj.get("seq"))
