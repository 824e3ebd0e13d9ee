"""The platform registry: every :class:`~collector.platforms.Platform` declaration, found once, read by everyone.

Where declarations come from (in this order; a name declared twice is an error):

1. every module of the ``collector.platforms`` package (``PLATFORM = ...`` or ``PLATFORMS = (...)``);
2. installed plugins: entry points in the group ``mtx.platforms``, each naming a module or a ``Platform``;
3. the environment variable ``MTX_PLATFORM_MODULES``: module names separated by commas or spaces (how the test-only
   platform in ``tests/`` is added to an ``mtx`` subprocess without installing anything);
4. :func:`register_platform` at run time (in-process tests).

Adding a platform is one declaration module (plus its collector and, for tests, its emulator); nothing else changes.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import re
import threading
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from collector.addresses import origin
from collector.platforms import Platform

ENV_MODULES = "MTX_PLATFORM_MODULES"
ENTRY_POINT_GROUP = "mtx.platforms"

_lock = threading.RLock()
_declared: dict[str, Platform] = {}      # from modules (built-in, plugins, MTX_PLATFORM_MODULES)
_runtime: dict[str, Platform] = {}       # register_platform()
_overrides: dict[str, type] = {}         # @register: a collector class given for a declared name
_loaded_for: str | None = None           # the MTX_PLATFORM_MODULES value the module declarations were read for
_generation = 0                          # bumped whenever the set of declarations changes (for readers' caches)


class RegistryError(ValueError):
    """A declaration that cannot be registered (a name taken twice, a module that does not declare a platform)."""


def _declarations(module: ModuleType) -> list[Platform]:
    found = list(getattr(module, "PLATFORMS", ()) or ())
    if isinstance(getattr(module, "PLATFORM", None), Platform):
        found.append(module.PLATFORM)
    return [p for p in dict.fromkeys(found) if isinstance(p, Platform)]


def _add(into: dict[str, Platform], platform: Platform, source: str) -> None:
    taken = into.get(platform.name) or _runtime.get(platform.name)
    if taken is not None and taken is not platform:
        raise RegistryError(f"平台 {platform.name} 重复声明 / platform {platform.name!r} is declared twice "
                            f"(again in {source}); give each platform its own name")
    into[platform.name] = platform


def _load() -> dict[str, Platform]:
    global _loaded_for, _generation
    wanted = os.environ.get(ENV_MODULES, "")
    with _lock:
        if _loaded_for == wanted:
            return _declared
        declared: dict[str, Platform] = {}
        import collector.platforms as package

        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if not info.name.startswith("_"):
                module = importlib.import_module(f"{package.__name__}.{info.name}")
                for platform in _declarations(module):
                    _add(declared, platform, module.__name__)
        for point in entry_points(group=ENTRY_POINT_GROUP):
            value = point.load()
            items = [value] if isinstance(value, Platform) else _declarations(value)
            for platform in items:
                _add(declared, platform, f"entry point {point.name}")
        for name in filter(None, re.split(r"[,\s]+", wanted)):
            try:
                module = importlib.import_module(name)
            except ImportError as exc:
                raise RegistryError(f"{ENV_MODULES}: 无法导入 {name} / cannot import module {name!r}: {exc}") from None
            items = _declarations(module)
            if not items:
                raise RegistryError(f"{ENV_MODULES}: {name} 未声明平台 / module {name!r} declares no PLATFORM")
            for platform in items:
                _add(declared, platform, f"{ENV_MODULES} module {name}")
        _declared.clear()
        _declared.update(declared)
        _loaded_for = wanted
        _generation += 1
        return _declared


def _all() -> dict[str, Platform]:
    declared = _load()
    return {**declared, **_runtime}


# -- reading the registry ------------------------------------------------------------------------------------


def all_platforms() -> list[Platform]:
    """Every declared platform, by name."""
    return [p for _, p in sorted(_all().items())]


def names() -> list[str]:
    return sorted(_all())


def find(name: str) -> Platform | None:
    """The declaration of ``name`` (an alias such as ``atomgit`` included), or None."""
    platforms = _all()
    if name in platforms:
        return platforms[name]
    lowered = name.lower()
    return next((p for p in platforms.values() if lowered in p.aliases), None)


def get(name: str) -> Platform:
    """The declaration of ``name``; :class:`KeyError` naming the known platforms otherwise."""
    platform = _all().get(name)
    if platform is None:
        raise KeyError(unknown_message(name))
    return platform


def unknown_message(name: str) -> str:
    return f"未知平台 {name!r} / unknown platform {name!r}; known: {', '.join(names())}"


def label(name: str) -> str:
    """The Chinese label of a platform as shown in the app (the name itself for a platform no longer declared)."""
    platform = _all().get(name)
    return platform.label_zh if platform else name


def by_web_host(host: str) -> Platform | None:
    host = host.lower().rstrip(".")
    return next((p for p in _all().values() if host in p.web_hosts), None)


def web_hosts() -> list[str]:
    return sorted({h for p in _all().values() for h in p.web_hosts})


def token_variables() -> set[str]:
    """Every default token variable of every platform (configured ones are added by the caller)."""
    return {v for p in _all().values() for v in p.token_env}


def parse_web_url(url: str, organisation: bool = False) -> tuple[str, str]:
    """A web URL as ``(platform, path)``; ValueError saying what is wrong when the host or shape is unknown."""
    import urllib.parse

    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{url!r} is not an http(s) URL")
    host = parts.hostname or ""
    platform = by_web_host(host)
    if platform is None:
        raise ValueError(f"unknown host {host!r}: known hosts are {', '.join(web_hosts())}")
    return platform.name, platform.web_path(url, parts.path, organisation)


# -- changing it -----------------------------------------------------------------------------------------------


def register_platform(platform: Platform) -> Platform:
    """Add a declaration at run time (an in-process test, an embedding program); see :func:`unregister_platform`."""
    global _generation
    with _lock:
        _add(dict(_load()), platform, "register_platform()")
        _runtime[platform.name] = platform
        _generation += 1
    return platform


def unregister_platform(name: str) -> None:
    global _generation
    with _lock:
        if _runtime.pop(name, None) is not None:
            _generation += 1


def generation() -> int:
    """A number that changes whenever the declarations do: readers key their caches on it."""
    _load()
    return _generation


def register(cls: type) -> type:
    """Class decorator: use ``cls`` as the collector of the declared platform ``cls.name``."""
    _overrides[cls.name] = cls
    return cls


# -- collectors --------------------------------------------------------------------------------------------------


def platforms() -> list[str]:
    """The platforms that have a collector (a declared platform without one is recorded and skipped)."""
    return [p.name for p in all_platforms() if p.has_collector or p.name in _overrides]


def platform_class(name: str) -> type:
    if name in _overrides and name in _all():
        return _overrides[name]
    platform = find(name)
    if platform is None or not platform.has_collector:
        raise KeyError(f"unknown platform {name!r}; known: {', '.join(platforms())}")
    return platform.collector_class()


def open_platform(name: str, **options: Any) -> Any:
    """``open_platform("github", tokens=[("MTX_GITHUB_TOKEN", value)], base_url=..., http=..., settings=...)``."""
    return platform_class(name)(**options)


def credential_origins(name: str, api_url: str) -> tuple[str, ...]:
    """The URLs whose origins a collector for ``name`` opened on ``api_url`` may send tokens to."""
    platform = find(name)
    return platform.credential_origins(api_url) if platform else (api_url,)


__all__ = ["ENTRY_POINT_GROUP", "ENV_MODULES", "Platform", "RegistryError", "all_platforms", "by_web_host",
           "credential_origins", "find", "generation", "get", "label", "names", "open_platform", "origin",
           "parse_web_url", "platform_class", "platforms", "register", "register_platform", "token_variables",
           "unknown_message", "unregister_platform", "web_hosts"]
