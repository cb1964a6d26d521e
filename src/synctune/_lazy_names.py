"""Package attributes that import their module on first use (PEP 562)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from typing import Any


def lazy_names(package: str, sources: Mapping[str, Iterable[str]], namespace: dict[str, Any],
               public: Iterable[str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: each name in ``sources`` (submodule ->
    names) loads its submodule on first access and is then kept in ``namespace``."""
    where = {name: f"{package}.{module}" for module, names in sources.items() for name in names}
    shown = tuple(public)

    def getattr_(name: str) -> Any:
        if name in where:
            value = getattr(import_module(where[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def dir_() -> list[str]:
        return sorted({*namespace, *shown})

    return getattr_, dir_
