"""Turn bad input into one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click

P = ParamSpec("P")
R = TypeVar("R")

USAGE_ERROR = 2


def fail(message: str) -> None:
    """Print ``error: message`` on stderr and exit with code 2."""
    click.echo(f"synctune: error: {message}", err=True)
    sys.exit(USAGE_ERROR)


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Map ValueError/TypeError/FileNotFoundError raised by bad input to :func:`fail`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError, FileNotFoundError) as exc:
            fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise AssertionError("unreachable") from exc

    return wrapper
