"""A primary's URL: which ones are accepted, and URLs and messages fit to show (credentials and
tokens removed before anything is logged)."""

from __future__ import annotations

import re
import urllib.parse

from synctune.policy.errors import InvalidInput, InvalidType


def safe_url(url: str | None) -> str | None:
    """``url`` fit to show: no ``user:password@`` and no query string (tokens travel there)."""
    if url is None:
        return None
    head, sep, rest = url.partition("://")
    if not sep:
        head, rest = "", url
    host = rest.split("?", 1)[0].split("#", 1)[0]
    authority, slash, path = host.partition("/")
    authority = authority.rpartition("@")[2]
    return f"{head}{sep}{authority}{slash}{path}"


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every non-empty secret replaced by ``***`` (and bearer headers masked)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return re.sub(r"(?i)(bearer\s+|authToken=|auth_token=|token=)[^\s&'\"]+", r"\1***", text)


#: URL schemes and the adapter each selects
ADAPTERS = {
    "http": "turso", "https": "turso", "libsql": "turso", "turso": "turso",
}

TOKEN_ENV = "TURSO_AUTH_TOKEN"
URL_ENV = "TURSO_DATABASE_URL"


def check_url(url: str) -> str:
    """Return ``url`` if it is a primary's sync URL, else :class:`InvalidInput` naming the
    problem (the URL is shown without credentials or query)."""
    if not isinstance(url, str):
        raise InvalidType(f"url must be a string, got {type(url).__name__}")
    shown = safe_url(url)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in ADAPTERS:
        raise InvalidInput(f"url must start with one of "
                           f"{', '.join(s + '://' for s in ADAPTERS)}; got {shown!r}")
    parts = urllib.parse.urlsplit(url)
    if "@" in parts.netloc:
        raise InvalidInput(f"url must not carry user:password@ (pass the token with "
                           f"--auth-token or ${TOKEN_ENV}); got {shown!r}")
    names = [k.lower() for k, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)]
    if any("token" in k or "auth" in k or "key" in k for k in names):
        raise InvalidInput(f"url must not carry a token in its query (?authToken=...): pass it "
                           f"with --auth-token or ${TOKEN_ENV}; got {shown!r}")
    if not parts.hostname:
        raise InvalidInput(f"url has no host; got {shown!r}")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or parts.netloc.endswith(":"):
        raise InvalidInput(f"url port must be a number in 1..65535; got {shown!r}")
    return url
