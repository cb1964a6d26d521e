"""Small top-level sweep tasks for the tests (picklable by reference in worker processes)."""

from __future__ import annotations

import os
import random
import time
from typing import Any


def noisy(params: dict[str, Any]) -> dict[str, Any]:
    """A deterministic function of the parameters plus seeded noise."""
    rng = random.Random(params["seed"])
    return {"value": 2.0 * params["x"] + rng.gauss(0.0, 1.0), "label": f"x={params['x']}",
            "pid": os.getpid()}


def logged(params: dict[str, Any]) -> dict[str, Any]:
    """Sleep a little and append one line per execution to ``params['log']``."""
    time.sleep(params.get("sleep", 0.05))
    line = f"{os.environ.get('SWEEP_PHASE', '?')} {params['x']} {params['seed']}\n"
    fd = os.open(params["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    return {"value": params["x"] * 10 + params["seed"]}


def failing(params: dict[str, Any]) -> dict[str, Any]:
    """Raise on ``x == 3``."""
    if params["x"] == 3:
        raise ValueError("x must not be 3")
    return {"value": float(params["x"])}


def not_a_mapping(params: dict[str, Any]) -> Any:
    return [params["x"]]
