"""Bad input, as distinct from a bug: what the CLI turns into one line and exit code 2."""

from __future__ import annotations


class InvalidInput(ValueError):
    """A caller gave a value the library cannot use; the message names the field and value.

    Anything else that escapes the library (a plain ``TypeError``, ``KeyError``...) is a bug,
    and the command line shows its traceback.
    """


class InvalidType(InvalidInput, TypeError):
    """Bad input of the wrong type (also a ``TypeError``, as Python code expects)."""
