"""URLs and messages fit to show: credentials and tokens removed before anything is logged."""

from __future__ import annotations

import re


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
