"""Turn bad input into one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import NoReturn, ParamSpec, TypeVar

import click

P = ParamSpec("P")
R = TypeVar("R")

USAGE_ERROR = 2


def fail(message: str) -> NoReturn:
    """Print ``error: message`` on stderr and exit with code 2."""
    click.echo(f"synctune: error: {message}", err=True)
    sys.exit(USAGE_ERROR)


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "invalid input"


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Map bad input (ValueError, TypeError, FileNotFoundError, UsageError) to :func:`fail`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except click.UsageError as exc:
            fail(_one_line(exc.format_message()))
            raise AssertionError("unreachable") from exc
        except (ValueError, TypeError, FileNotFoundError) as exc:
            fail(_one_line(str(exc)) if str(exc) else type(exc).__name__)
            raise AssertionError("unreachable") from exc

    return wrapper


class OneLineErrors(click.Command):
    """A command whose option-parsing errors (bad values, unknown options) are one line, exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            fail(_one_line(exc.format_message()))
            raise AssertionError("unreachable") from exc
