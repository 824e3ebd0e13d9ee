"""The collector contract the job programs against, whatever the platform.

``PlatformCollector`` (one per platform and run: holds the token pool and HTTP policy) hands out
``RepositoryCollector`` objects; ``fetch(stream, bookmark)`` returns a :class:`Fetch`, an iterator of
:class:`Page` objects. Each page carries its records *and* the bookmark that is valid once those records are
stored, so the job writes both in one transaction per page; the last page has ``final=True``. A fetch always
yields at least one page (possibly empty, e.g. on a 304), so the job has no special case for "nothing new".
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, ClassVar, Iterator, Mapping, Sequence

from collector.bookmarks import Bookmark
from collector.bots import DEFAULT_BOT_RULES, BotRules
from collector.discovery import RepoListing
from collector.http import RequestStats
from collector.records import STREAMS, Record


@dataclass(frozen=True)
class CollectorSettings:
    """What to collect and how far back to look again.

    ``commit_overlap``: commits are re-asked from this long before the newest committer time seen (late pushes of
    older commits). ``update_overlap``: the same for issues and pulls (server-set ``updated_at``).
    ``response_window``: first response times are fetched only for items updated this recently.
    ``gone_recheck``: a deleted repository is asked again only after this long.
    """

    commit_overlap: timedelta = timedelta(days=3)
    update_overlap: timedelta = timedelta(minutes=10)
    response_window: timedelta = timedelta(days=180)
    gone_recheck: timedelta = timedelta(days=7)
    per_page: int = 100
    max_settle_passes: int = 2
    bots: BotRules = DEFAULT_BOT_RULES


@dataclass(frozen=True)
class Page:
    """Records plus the bookmark to store with them in the same transaction."""

    stream: str
    records: tuple[Record, ...]
    bookmark: Bookmark
    final: bool


Step = tuple[list[Record], Bookmark, bool]


class Fetch(Iterator[Page]):
    """One stream of one repository being collected. Iterate for pages; ``stats`` counts this fetch's requests,
    304s, retries and rate-limit waits; ``bookmark`` is the latest bookmark handed out."""

    def __init__(self, stream: str, bookmark: Bookmark, steps: Callable[[RequestStats], Iterator[Step]]) -> None:
        self.stream = stream
        self.bookmark = bookmark
        self.stats = RequestStats()
        self._steps = steps(self.stats)
        self.done = False

    def __iter__(self) -> "Fetch":
        return self

    def __next__(self) -> Page:
        if self.done:
            raise StopIteration
        records, bookmark, final = next(self._steps)
        self.bookmark = bookmark
        self.done = final
        return Page(self.stream, tuple(records), bookmark, final)

    def records(self) -> Iterator[Record]:
        """All records of all pages (for callers that do not need page boundaries, e.g. tests)."""
        for page in self:
            yield from page.records


class RepositoryCollector(abc.ABC):
    """Collects the streams of one repository (``path`` as configured, e.g. ``owner/name``)."""

    platform: str
    path: str

    @abc.abstractmethod
    def fetch(self, stream: str, bookmark: Bookmark | Mapping[str, Any] | str | None = None) -> Fetch:
        """Start collecting ``stream`` (one of :data:`collector.records.STREAMS`) from ``bookmark``."""


class PlatformCollector(abc.ABC):
    """One platform (and base URL) with its token pool and HTTP policy; share it across repositories of a run."""

    name: ClassVar[str]
    streams: ClassVar[tuple[str, ...]] = STREAMS

    @abc.abstractmethod
    def repository(self, path: str) -> RepositoryCollector: ...

    def list_repositories(self, org_path: str, include: Sequence[str] = (), exclude: Sequence[str] = (),
                          archived: bool = False, forks: bool = False) -> list[RepoListing]:
        """The repositories an organisation, group or user holds now, filtered by name globs (the whole path
        for GitLab groups) and the archived/fork switches; see :mod:`collector.discovery`."""
        raise NotImplementedError(f"{self.name}: organisation entries are not supported")

    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> "PlatformCollector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
