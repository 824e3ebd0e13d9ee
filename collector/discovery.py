"""Whole-organisation entries: what an organisation or group holds now, filtered as the configuration asks.

Each platform lists an organisation its own way (GitHub ``/orgs/{org}/repos`` else ``/users/{u}/repos``; Gitee and
GitCode the same paths; GitLab ``/groups/{id}/projects?include_subgroups=true`` else ``/users/{u}/projects``) and
turns the items into :class:`RepoListing`; the filtering rules are shared here so they cannot drift apart. The job
compares the result with what it stored: new paths are added, missing ones marked as vanished.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass(frozen=True)
class RepoListing:
    """One repository of an organisation as listed now. ``path`` is what ``repository(path)`` takes."""

    path: str
    web_url: str | None
    archived: bool
    is_fork: bool
    default_branch: str | None


def matches(name: str, patterns: Sequence[str]) -> bool:
    """Case-insensitive ``fnmatch`` globs (``*``, ``?``, ``[seq]``): repository names are case-insensitive."""
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, p.lower()) for p in patterns)


def select(listings: Iterable[RepoListing], *, include: Sequence[str] = (), exclude: Sequence[str] = (),
           archived: bool = False, forks: bool = False, full_path: bool = False) -> list[RepoListing]:
    """Keep listings whose name (last path segment; the whole path when ``full_path``, as for GitLab groups)
    matches an ``include`` glob (all when none given) and no ``exclude`` glob; archived repositories and forks
    only when asked. Sorted by path so runs compare cleanly."""
    kept = []
    for listing in listings:
        name = listing.path if full_path else listing.path.rsplit("/", 1)[-1]
        if include and not matches(name, include):
            continue
        if exclude and matches(name, exclude):
            continue
        if listing.archived and not archived:
            continue
        if listing.is_fork and not forks:
            continue
        kept.append(listing)
    return sorted(kept, key=lambda l: l.path.lower())
