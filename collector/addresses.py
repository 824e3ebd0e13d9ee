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
NESTED_PLATFORMS = {"gitlab"}  # group/subgroup/.../project
CHECKED_PLATFORMS = {"github", "gitee", "gitcode", "gitlab"}


def normalise_text(text: str) -> str:
    """NFKC, zero-width and other invisible characters removed, surrounding whitespace trimmed."""
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE).strip()


def normalise_path(path: str) -> str:
    """A repository or organisation path as matched and stored: normalised text without outer slashes."""
    return normalise_text(path).strip("/")


def path_problem(platform: str, path: str, *, organisation: bool = False) -> str | None:
    """Why ``path`` cannot be a repository (or organisation) on ``platform``; None when it can."""
    if platform not in CHECKED_PLATFORMS:
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
    if platform in NESTED_PLATFORMS:
        if len(segments) < want:
            return "a GitLab project path is group/name (subgroups allowed)" if not organisation else "empty group"
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
GITLAB_API = "/api/v4"


def api_root(platform: str, url: str) -> str:
    """The API root the collector talks to. GitLab takes the server (``http://host:port``, as python-gitlab does)
    or the API root (``.../api/v4``): both become ``.../api/v4``. Other platforms: the URL without a final '/'."""
    url = normalise_text(url).rstrip("/")
    if platform == "gitlab" and url and not url.endswith(GITLAB_API):
        return url + GITLAB_API
    return url


def api_url_problem(platform: str, url: str) -> str | None:
    """Why ``url`` cannot be the platform's API address; None when it can."""
    parts = urllib.parse.urlsplit(normalise_text(url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL"
    if platform == "gitlab":
        path = urllib.parse.urlsplit(api_root(platform, url)).path
        if path.count("/api/v") > 1:
            return f"{url!r} names another GitLab API version; give the server (https://HOST) or https://HOST/api/v4"
    return None
