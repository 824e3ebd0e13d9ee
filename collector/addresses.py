"""Repository paths and API roots as configured: normalised once, checked before any request is built from them.

A path is interpolated into request URLs that carry a token, so ``../../etc/passwd``, ``%2e%2e`` or an empty
segment must never reach a client. The configuration check refuses them (naming the line) and every collector
refuses them again (defence in depth: organisation listings come from the server). Paths are normalised before
matching or validation (NFKC, trimmed, zero-width characters removed), so a full-width twin is the same path.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse

from collector.errors import InvalidRepositoryPath

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad"),
                           None)
_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_MAX_SEGMENT = 255
SEGMENT_RULE = "letters, digits, '.', '-' and '_'"


def normalise_text(text: str) -> str:
    """NFKC, zero-width and other invisible characters removed, surrounding whitespace trimmed."""
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE).strip()


def normalise_path(path: str) -> str:
    """A repository or organisation path as matched and stored: normalised text without outer slashes."""
    return normalise_text(path).strip("/")


def path_problem(platform: str, path: str, *, organisation: bool = False) -> str | None:
    """Why ``path`` cannot be a repository (or organisation) on ``platform``; None when it can.

    The rules are the platform's declaration (``checks_paths``, ``nested_paths``); an unknown platform has none."""
    from collector import registry

    declared = registry.find(platform)
    if declared is None or not declared.checks_paths:
        return None
    if not path:
        return "the path is empty"
    if "%" in path:
        return "percent-encoded characters (%) are not allowed; write the path as shown on the platform"
    segments = path.split("/")
    if any(s == "" for s in segments):
        return "it has an empty segment ('//' or a leading/trailing '/')"
    if any(s in (".", "..") for s in segments):
        return "'.' and '..' segments are not allowed"
    for segment in segments:
        if not _SEGMENT.fullmatch(segment):
            bad = next(ch for ch in segment if not _SEGMENT.fullmatch(ch))
            return f"character {bad!r} is not allowed (a segment has {SEGMENT_RULE} only)"
        if len(segment) > _MAX_SEGMENT:
            return f"a segment is longer than {_MAX_SEGMENT} characters"
    want = 1 if organisation else 2
    if declared.nested_paths:
        if len(segments) < want:
            return (f"a {declared.label_en} project path is group/name (subgroups allowed)" if not organisation
                    else "empty group")
    elif len(segments) != want:
        return "an organisation is one name" if organisation else "a repository path is owner/name"
    return None


def check_path(platform: str, path: str, *, organisation: bool = False) -> str:
    """``path`` when it is a valid path on ``platform``; raises :class:`InvalidRepositoryPath` otherwise."""
    problem = path_problem(platform, path, organisation=organisation)
    if problem:
        raise InvalidRepositoryPath(platform, path, problem)
    return path


# -- API roots -----------------------------------------------------------------------------------------------


def api_root(platform: str, url: str) -> str:
    """The API root the collector talks to, as the platform declares it (:meth:`Platform.api_root`): GitLab takes
    the server (``http://host:port``) or ``.../api/v4``, both become ``.../api/v4``; others lose a final '/'."""
    from collector import registry

    url = normalise_text(url).rstrip("/")
    declared = registry.find(platform)
    return declared.api_root(url) if declared else url


def api_url_problem(platform: str, url: str) -> str | None:
    """Why ``url`` cannot be the platform's API address; None when it can."""
    from collector import registry

    parts = urllib.parse.urlsplit(normalise_text(url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL"
    declared = registry.find(platform)
    if declared is not None and declared.api_suffix:
        path = urllib.parse.urlsplit(api_root(platform, url)).path
        version = re.sub(r"\d+$", "", declared.api_suffix.rstrip("/"))  # "/api/v4" -> "/api/v"
        if path.count(version) > 1:
            return (f"{url!r} names another {declared.label_en} API version; give the server (https://HOST) or "
                    f"https://HOST{declared.api_suffix}")
    return None


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an absolute http(s) URL, the unit credentials are scoped to; None otherwise."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]
