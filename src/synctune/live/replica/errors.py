"""How a replica fails: :class:`SyncError` with a :class:`~synctune.policy.FailureKind`, a refused
open, and the kind read from a client library's exception."""

from __future__ import annotations

import re

from synctune.policy import FailureKind


class SyncError(Exception):
    """A pull or push failed; ``kind`` says why, as far as the adapter can tell."""

    def __init__(self, kind: FailureKind | str, message: str) -> None:
        self.kind = FailureKind(kind)
        super().__init__(f"{self.kind.value}: {message}")


class OpenRefused(SyncError):
    """Opening a replica was refused before anything touched the file: it is not a healthy
    replica of this primary (``reason``: ``plain``, ``not-database``, ``other-primary``,
    ``unrecorded``, ``corrupt``, ``leftover``, ``directory``, ``read-only``, ``no-folder``,
    ``behind``: a copy of a replica or an older backup of one, behind the pushes its primary
    holds from it) or it is in use (``in-use``).

    The message is one line naming the file and what it is; the file is left as it was.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(FailureKind.OTHER, message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return self.message


#: local causes worth naming in a failure's message (lower-case fragment -> what it means)
_LOCAL_CAUSES = (
    (("no space left", "disk is full", "database or disk is full", "enospc",
      "no storage space"),
     "local disk full: free space beside the replica file (unpushed changes are kept)"),
    (("read-only file system", "readonly database", "attempt to write a readonly"),
     "the replica file or its folder is read-only"),
    (("file is locked by another process",),
     "the replica file is open in another process (one process per replica file: give each "
     "worker its own with claim_worker_slot)"),
)


def local_cause(text: str) -> str | None:
    """What a local failure means in plain words (disk full, read-only, file locked), or
    ``None`` when ``text`` names none of them."""
    low = text.lower()
    for fragments, meaning in _LOCAL_CAUSES:
        if any(f in low for f in fragments):
            return meaning
    return None


def classify(exc: BaseException, message: str | None = None) -> FailureKind:
    """Best-effort :class:`FailureKind` from an exception raised by a client library."""
    text = (message if message is not None else f"{type(exc).__name__} {exc}").lower()
    if isinstance(exc, TimeoutError) or "timed out" in text or "timeout" in text:
        return FailureKind.TIMEOUT
    if re.search(r"\b(401|403)\b", text) or "unauthori" in text or "forbidden" in text \
            or ("auth" in text and ("token" in text or "fail" in text)):
        return FailureKind.AUTH
    if local_cause(text) is not None:  # a local file problem, however the library wraps it
        return FailureKind.OTHER
    if re.search(r"\b5\d\d\b", text) or "server error" in text or "internal error" in text:
        return FailureKind.SERVER
    if isinstance(exc, ConnectionError | OSError) or any(
            w in text for w in ("network", "connection", "refused", "reset", "unreachable",
                                "name or service", "broken pipe", "eof", "urlopen")):
        return FailureKind.NETWORK
    return FailureKind.OTHER
