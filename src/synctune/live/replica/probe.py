"""One bounded HTTP request to a primary: is it there, and does it take the token?"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from synctune.live.replica.errors import classify
from synctune.live.replica.urls import redact
from synctune.policy import FailureKind


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one probe saw.

    Attributes:
        status: the HTTP status the primary answered, or ``None`` when it did not answer.
        kind: the failure kind (``None`` when the primary is up and took the token: any answer
            but 401/403 and 5xx).
        message: what happened, without the token.
    """

    status: int | None
    kind: FailureKind | None
    message: str

    @property
    def ok(self) -> bool:
        return self.kind is None


def probe_primary(url: str, token: str | None, timeout: float) -> ProbeResult:
    """GET ``url`` (``libsql://`` as ``https://``) with the bearer token, within ``timeout`` s."""
    request = urllib.request.Request(url.replace("libsql://", "https://", 1), method="GET")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            status = int(resp.status)
    except urllib.error.HTTPError as exc:
        status = int(exc.code)
    except TimeoutError:
        return ProbeResult(None, FailureKind.TIMEOUT,
                           f"no answer from the primary in {timeout:g} s")
    except (OSError, urllib.error.URLError) as exc:
        reason = getattr(exc, "reason", exc)
        kind = FailureKind.TIMEOUT if isinstance(reason, TimeoutError) else classify(reason)
        if kind is FailureKind.OTHER:  # name resolution and refusals are network trouble
            kind = FailureKind.NETWORK
        return ProbeResult(None, kind, redact(f"primary unreachable: {reason}", token))
    if status in (401, 403):
        return ProbeResult(status, FailureKind.AUTH, f"primary refused the token (HTTP {status})")
    if status >= 500:
        return ProbeResult(status, FailureKind.SERVER, f"primary answered HTTP {status}")
    return ProbeResult(status, None, f"HTTP {status}")
