"""Trace files: load (with validation that names file, line and column) and save.

Columns: ``t`` (seconds from the start, non-decreasing), ``node`` (``primary`` for writes made
directly on the primary by other clients), ``op`` (``read``, ``write``, ``sync``, the app's
manual sync point, or ``pull``) and optionally ``bytes`` (size of a write) and ``changes``.
CSV, or parquet by extension.

``pull`` rows are what a live recording (:class:`synctune.live.control.recorder.TraceRecorder`) saw
of other clients: a pull applying ``changes`` remote changes. A trace with no ``primary`` rows
replays them as that many primary writes spread evenly since the node's previous pull (the
node with the most pulled changes, when several recorded pulls: they all see the same
commits); a trace with ``primary`` rows ignores them. The replayed policy decides its own pulls.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd

from synctune._extras import require
from synctune._files import write_atomically
from synctune._trace_format import COLUMNS, OPS
from synctune.policy.errors import InvalidInput
from synctune.sim.config import MAX_DURATION_S
from synctune.sim.elaborate.workload import PRIMARY, NodeLoad, Workload

DEFAULT_WRITE_BYTES = 256


class TraceError(InvalidInput):
    """A malformed trace; the message names the file, the line (or row) and the column."""


def _where(path: str, parquet: bool, index: int) -> str:
    # CSV: the header is line 1, so data row i is on line i + 2
    return f"{path}, row {index + 1}" if parquet else f"{path}, line {index + 2}"


def _read(path: str) -> tuple[pd.DataFrame, bool]:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"trace file not found: {path}")
    if p.suffix.lower() in (".parquet", ".pq"):
        require(f"reading the parquet trace {path}", "parquet", "pyarrow")
        try:
            df = pd.read_parquet(p)
        except Exception as exc:
            raise TraceError(f"{path}: not a readable parquet file ({exc})") from None
        missing = df.isna().to_numpy()
        if missing.any():
            row, col = (int(i[0]) for i in np.nonzero(missing))
            raise TraceError(f"{_where(path, True, row)}, column {str(df.columns[col])!r}: "
                             f"missing value (null)")
        return df.astype(str), True
    header = _csv_header(p)
    dup = next((c for i, c in enumerate(header) if c in header[:i]), None)
    if dup is not None:
        raise TraceError(f"{path}, line 1, column {dup!r}: the header names it twice")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, na_filter=False,
                         skip_blank_lines=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise TraceError(f"{path}, line 1: empty file, expected a header with columns "
                         f"{', '.join(COLUMNS)}") from None
    except pd.errors.ParserError as exc:
        raise TraceError(f"{path}: not valid CSV ({str(exc).splitlines()[0]})") from None
    except UnicodeDecodeError as exc:
        raise TraceError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    df.columns = [str(c).strip() for c in df.columns]
    # blank lines at the end of the file (an editor's final newline or two) are no events
    blank = (df == "").all(axis=1).to_numpy()
    end = len(blank)
    while end and blank[end - 1]:
        end -= 1
    return df.iloc[:end], False


def _csv_header(p: Path) -> list[str]:
    """The CSV's header fields as written (pandas would rename a repeated ``t`` to ``t.1``)."""
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            first = next(csv.reader(fh), [])
    except UnicodeDecodeError as exc:
        raise TraceError(f"{p}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except csv.Error as exc:
        raise TraceError(f"{p}, line 1: not valid CSV ({exc})") from None
    return [c.strip() for c in first]


def load_trace(path: str | os.PathLike[str]) -> Workload:
    """Load and validate a trace; raise :class:`TraceError` naming file, line and column."""
    path = os.fspath(path)
    df, parquet = _read(path)
    for col in COLUMNS:
        if col not in df.columns:
            where = f"{path}, row 0" if parquet else f"{path}, line 1"
            raise TraceError(f"{where}, column {col!r}: missing column (have "
                             f"{', '.join(map(repr, df.columns)) or 'none'})")
    if df.empty:
        raise TraceError(f"{path}: no events after the header")
    t = _times(path, parquet, df)
    node, op = _nodes_and_ops(path, parquet, df)
    nbytes = _write_bytes(path, parquet, df, op)
    nodes: dict[str, NodeLoad] = {}
    # sorted names: node order (and so each node's random streams) must not depend on
    # which node happens to act first
    for name in sorted(set(node.tolist()) - {PRIMARY}):
        mine = node == name
        w = mine & (op == "write")
        nodes[name] = NodeLoad(t[mine & (op == "read")], t[w], nbytes[w],
                               t[mine & (op == "sync")])
    if not nodes:
        raise TraceError(f"{path}: no replica node in the trace (only {PRIMARY!r})")
    pw = (node == PRIMARY) & (op == "write")
    duration = float(t[-1]) if t[-1] > 0 else 1.0
    if not pw.any() and (op == "pull").any():
        primary = _pulled_commits(path, parquet, df, t, node, op)
        return Workload(nodes, duration, primary,
                        np.full(primary.size, DEFAULT_WRITE_BYTES, dtype=np.int64))
    return Workload(nodes, duration, t[pw], nbytes[pw])


def _times(path: str, parquet: bool, df: pd.DataFrame) -> np.ndarray:
    """Column ``t``: seconds in range, never going backwards."""
    raw_t = df["t"].str.strip()
    t = pd.to_numeric(raw_t, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(t) | (t < 0) | (t > MAX_DURATION_S)
    if bad.any():
        i = int(np.argmax(bad))
        raise TraceError(f"{_where(path, parquet, i)}, column 't': expected seconds in 0.."
                         f"{MAX_DURATION_S:.0f} (30 days), got {raw_t.iloc[i]!r}")
    back = np.flatnonzero(np.diff(t) < 0)
    if back.size:
        i = int(back[0]) + 1
        raise TraceError(f"{_where(path, parquet, i)}, column 't': time goes backwards "
                         f"({raw_t.iloc[i]} after {raw_t.iloc[i - 1]})")
    return t


def _nodes_and_ops(path: str, parquet: bool, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Columns ``node`` (non-empty names) and ``op`` (known, lower case; only writes on the
    primary)."""
    node = df["node"].str.strip().to_numpy(dtype=object)
    empty = node == ""
    if empty.any():
        i = int(np.argmax(empty))
        raise TraceError(f"{_where(path, parquet, i)}, column 'node': empty node name")
    op = df["op"].str.strip().str.lower().to_numpy(dtype=object)
    unknown = ~np.isin(op, OPS)
    if unknown.any():
        i = int(np.argmax(unknown))
        raise TraceError(f"{_where(path, parquet, i)}, column 'op': expected one of "
                         f"{', '.join(OPS)}, got {df['op'].iloc[i]!r}")
    on_primary = (node == PRIMARY) & (op != "write")
    if on_primary.any():
        i = int(np.argmax(on_primary))
        raise TraceError(f"{_where(path, parquet, i)}, column 'op': the primary only takes "
                         f"writes in a trace, got {df['op'].iloc[i]!r}")
    return node, op


def _write_bytes(path: str, parquet: bool, df: pd.DataFrame, op: np.ndarray) -> np.ndarray:
    """Column ``bytes`` (optional): each write's size, the default where not given."""
    nbytes = np.full(len(df), DEFAULT_WRITE_BYTES, dtype=np.int64)
    if "bytes" not in df.columns:
        return nbytes
    raw_b = df["bytes"].str.strip()
    given = (raw_b != "").to_numpy() & (op == "write")
    b = pd.to_numeric(raw_b.where(given, "0"), errors="coerce").to_numpy(dtype=np.float64)
    # int64 holds sizes below 2**63; larger ones would wrap to negatives
    bad = ~np.isfinite(b) | (b < 0) | (b != np.floor(b)) | (b >= 2.0**63)
    if bad.any():
        i = int(np.argmax(bad))
        raise TraceError(f"{_where(path, parquet, i)}, column 'bytes': expected a whole "
                         f"number >= 0 and < 2**63, got {raw_b.iloc[i]!r}")
    result: np.ndarray = np.where(given, b, DEFAULT_WRITE_BYTES).astype(np.int64)
    return result


def _pulled_commits(path: str, parquet: bool, df: pd.DataFrame, t: np.ndarray,
                    node: np.ndarray, op: np.ndarray) -> np.ndarray:
    """Primary commit times inferred from recorded pulls (see the module docstring)."""
    pulls = op == "pull"
    if "changes" not in df.columns:
        i = int(np.argmax(pulls))
        raise TraceError(f"{_where(path, parquet, i)}, column 'changes': a pull row needs the "
                         f"count of changes it applied (missing column)")
    raw = df["changes"].str.strip()
    c = pd.to_numeric(raw.where(pulls, "0"), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(c) | (c < 0) | (c != np.floor(c)) | (c > 1e7)
    if bad.any():
        i = int(np.argmax(bad))
        raise TraceError(f"{_where(path, parquet, i)}, column 'changes': expected a whole "
                         f"number of changes >= 0 (at most 10**7), got {raw.iloc[i]!r}")
    counts = c.astype(np.int64)
    totals = {name: int(counts[pulls & (node == name)].sum())
              for name in sorted(set(node[pulls].tolist()))}
    source = max(totals, key=lambda name: totals[name])
    mine = pulls & (node == source)
    times, per = t[mine], counts[mine]
    starts = np.concatenate(([0.0], times[:-1]))
    # n commits in (start, end]: at the midpoints of n equal slices
    parts = [s + (e - s) * (np.arange(n) + 0.5) / n
             for s, e, n in zip(starts, times, per, strict=True) if n]
    return np.concatenate(parts) if parts else np.empty(0)


def trace_frame(workload: Workload) -> pd.DataFrame:
    """The workload as a trace table (``t``, ``node``, ``op``, ``bytes``), sorted by time."""
    parts = []
    for name, ld in workload.nodes.items():
        for op, times, nb in (("read", ld.reads, None), ("write", ld.writes, ld.write_bytes),
                              ("sync", ld.syncs, None)):
            parts.append(pd.DataFrame({"t": times, "node": name, "op": op,
                                       "bytes": nb if nb is not None else 0}))
    parts.append(pd.DataFrame({"t": workload.primary_writes, "node": PRIMARY, "op": "write",
                               "bytes": workload.primary_bytes}))
    df = pd.concat(parts, ignore_index=True).sort_values("t", kind="stable", ignore_index=True)
    return df


def save_trace(workload: Workload, path: str | os.PathLike[str]) -> None:
    """Write ``workload`` as a CSV (or parquet) trace, atomically (temp file, then rename).

    Cold starts are not part of the trace format and are dropped.
    """
    path = Path(path)
    df = trace_frame(workload)
    if path.suffix.lower() in (".parquet", ".pq"):
        write_atomically(path, lambda tmp: df.to_parquet(tmp, index=False))
    else:
        write_atomically(path, lambda tmp: df.to_csv(tmp, index=False, float_format="%.9g"))
