"""Optional dependencies: a feature whose extra is missing stops with one line naming it."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType


class MissingExtra(ImportError):
    """``feature`` needs ``pip install 'synctune[extra]'``; the message says exactly that."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        super().__init__(f"{feature} needs the {extra} extra: pip install 'synctune[{extra}]'",
                         name=module)


def _present(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package is missing, or a broken stub
        return False


def require(feature: str, extra: str, *modules: str) -> None:
    """Raise :class:`MissingExtra` unless every one of ``modules`` can be imported.

    Looks the modules up without importing them (cheap, no side effects), so callers can check
    before doing any work: a missing extra is reported before anything is opened or written.
    """
    for module in modules:
        if not _present(module):
            raise MissingExtra(feature, extra, module)


def import_extra(feature: str, extra: str, module: str) -> ModuleType:
    """``import module``, or :class:`MissingExtra` when it (not something it needs) is absent."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.split(".")[0]
        if exc.name is not None and exc.name.split(".")[0] == top:
            raise MissingExtra(feature, extra, module) from None
        raise
