"""Helpers for figures with many strategies: tell curves apart when they coincide.

Plain Python and numpy (no plotting library): the notebooks and ``simulations/headline.py``
pass the result to matplotlib.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: line styles cycled through so that curves drawn on top of each other stay visible
LINE_STYLES = ("-", "--", ":", "-.")


def line_style(index: int) -> dict[str, Any]:
    """Style of the ``index``-th curve: solid first, then dashed, dotted, dash-dotted, each a
    little thinner, so a curve drawn over an equal one lets it show through."""
    return {"ls": LINE_STYLES[index % len(LINE_STYLES)],
            "lw": max(0.8, 2.2 - 0.35 * (index % len(LINE_STYLES)))}


def coincident_labels(curves: Mapping[str, Sequence[np.ndarray]], *,
                      atol: float = 0.0) -> dict[str, str]:
    """A legend label per curve, so the reader knows why fewer lines show than the legend has.

    A curve equal to an earlier one (every array the same shape and equal) is labelled
    ``"name (same as earlier)"``; with ``atol`` > 0, one within ``atol`` everywhere (in the
    arrays' unit) is labelled ``"name (≈ earlier)"``.
    """
    labels: dict[str, str] = {}
    seen: list[tuple[str, Sequence[np.ndarray]]] = []
    for name, arrays in curves.items():
        labels[name] = name
        for other, prev in seen:
            gap = _gap(arrays, prev)
            if gap == 0.0:
                labels[name] = f"{name} (same as {other})"
                break
            if gap <= atol:
                labels[name] = f"{name} (≈ {other})"
                break
        seen.append((name, arrays))
    return labels


def _gap(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """Largest difference between two curves (inf when their shapes differ)."""
    if len(a) != len(b):
        return float("inf")
    gap = 0.0
    for x, y in zip(a, b, strict=True):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if x.shape != y.shape:
            return float("inf")
        if x.size:
            gap = max(gap, float(np.nanmax(np.abs(x - y))))
    return gap
