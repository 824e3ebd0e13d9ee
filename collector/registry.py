"""Platform name -> collector class. A platform module registers itself with ``@register``; adding a platform
is one new module in this package (it is found by :func:`discover`), nothing else changes."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

_PLATFORMS: dict[str, type] = {}
_INFRASTRUCTURE = {"addresses", "base", "bookmarks", "bots", "discovery", "errors", "http", "normalise", "paging", "ratelimit",
                   "records", "registry", "timeutil"}


def register(cls: type) -> type:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    _PLATFORMS[cls.name] = cls
    return cls


def discover() -> None:
    """Import every platform module of the ``collector`` package so their ``@register`` runs."""
    import collector

    for module in pkgutil.iter_modules(collector.__path__):
        if module.name not in _INFRASTRUCTURE and not module.name.startswith("_"):
            importlib.import_module(f"collector.{module.name}")


def platforms() -> list[str]:
    discover()
    return sorted(_PLATFORMS)


def platform_class(name: str) -> type:
    if name not in _PLATFORMS:
        discover()
    try:
        return _PLATFORMS[name]
    except KeyError:
        raise KeyError(f"unknown platform {name!r}; known: {', '.join(sorted(_PLATFORMS))}") from None


def open_platform(name: str, **options: Any) -> Any:
    """``open_platform("github", tokens=[("MTX_GITHUB_TOKEN", value)], base_url=..., http=..., settings=...)``."""
    return platform_class(name)(**options)
