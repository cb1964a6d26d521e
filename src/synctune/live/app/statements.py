"""What a statement does to the write lock: a read, a write, a commit or a rollback."""

from __future__ import annotations

import re

_COMMENT = re.compile(r"^\s*(?:(?:--[^\n]*(?:\n|$))|(?:/\*.*?\*/)|\s+)*", re.S)
_DML = re.compile(r"\b(insert|update|delete|replace|upsert)\b", re.I)
READ, WRITE, COMMIT, ROLLBACK = "read", "write", "commit", "rollback"



def statement_kind(sql: str) -> str:
    """``read``, ``write``, ``commit`` or ``rollback``: what a statement does to the lock.

    Only statements that provably change nothing count as reads (``SELECT``, ``VALUES``,
    ``EXPLAIN``, a ``WITH`` without DML); anything else takes the write lock.
    """
    head = sql[_COMMENT.match(sql).end():][:16].lower()  # type: ignore[union-attr]
    word = head.split(None, 1)[0] if head.split() else ""
    if word in ("select", "values", "explain"):
        return READ
    if word == "with":
        return WRITE if _DML.search(sql) else READ
    if word in ("commit", "end"):
        return COMMIT
    if word == "rollback" and " to " not in f" {sql.lower()} ":
        return ROLLBACK
    return WRITE
