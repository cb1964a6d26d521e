"""One handler for every failure of a command: one line on stderr, and an exit code.

Bad input (click's own :class:`click.UsageError`, the library's :class:`InvalidInput`, a
missing extra) exits 2; a runtime failure (network, a missing or unwritable file, a sync that
failed) exits 1. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import click

from synctune._extras import MissingExtra
from synctune.policy.errors import InvalidInput

#: exit code of ``synctune`` interrupted by Ctrl-C (128 + SIGINT)
INTERRUPTED = 130

#: top-level module -> the extra that installs it (for imports made outside a check)
EXTRA_OF = {
    "numpy": "sim", "pandas": "sim", "simpy": "sim", "tqdm": "sim", "matplotlib": "plot",
    "pyarrow": "parquet", "turso": "turso", "libsql": "libsql", "libsql_client": "remote",
    "prometheus_client": "prometheus", "dask": "dask", "distributed": "dask",
}


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines too) made one space."""
    return " ".join(text.split())


def fail(message: str) -> NoReturn:
    """Stop the command: bad input, exit code 2."""
    raise click.UsageError(message)


def _runtime_errors() -> tuple[type[BaseException], ...]:
    # the live adapters' error, only if that code was loaded (else nothing can raise it)
    found: list[type[BaseException]] = [OSError]
    errors = sys.modules.get("synctune.live.replica.errors")
    if errors is not None:
        found.append(errors.SyncError)
    return tuple(found)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc) or type(exc).__name__


def translate(exc: Exception) -> click.ClickException | None:
    """The click exception that reports ``exc`` in one line, or None for a bug."""
    if isinstance(exc, InvalidInput):
        return click.UsageError(one_line(str(exc)))
    if isinstance(exc, MissingExtra):
        return click.UsageError(one_line(str(exc)))
    if isinstance(exc, ModuleNotFoundError) and exc.name is not None:
        extra = EXTRA_OF.get(exc.name.split(".")[0])
        if extra is not None:
            return click.UsageError(f"this needs the {extra} extra: "
                                    f"pip install 'synctune[{extra}]' (no module {exc.name!r})")
        return None
    if isinstance(exc, BrokenPipeError):  # the reader went away (``| head``): not a failure
        return None
    if isinstance(exc, _runtime_errors()):
        return click.ClickException(one_line(_describe(exc)))  # exit code 1
    return None


class OneLineErrors(click.Group):
    """A command group whose subcommands fail in one line (see the module's docs)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise
        except Exception as exc:
            reported = translate(exc)
            if reported is None:
                raise
            raise reported from exc

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"synctune: error: {one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("synctune: interrupted", err=True)
            sys.exit(INTERRUPTED)
        except BrokenPipeError:
            # nobody reads stdout any more: stop quietly, and keep the interpreter's final
            # flush from failing on the same pipe
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)
