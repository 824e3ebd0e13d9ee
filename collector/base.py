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
from datetime import datetime, timedelta
from typing import Any, Callable, ClassVar, Iterator, Mapping, Sequence

from collector.addresses import check_path
from collector.bookmarks import Bookmark, as_bookmark
from collector.bots import DEFAULT_BOT_RULES, BotRules
from collector.discovery import RepoListing
from collector.errors import StreamPartial
from collector.http import RequestStats
from collector.records import STREAMS, Record, RepoSnapshot
from collector.timeutil import iso_z, parse_time


@dataclass(frozen=True)
class CollectorSettings:
    """What to collect and how far back to look again.

    ``commit_overlap``: commits are re-asked from this long before the newest committer time seen (late pushes of
    older commits). ``update_overlap``: the same for issues and pulls (server-set ``updated_at``).
    ``response_window``: first response times are fetched only for items updated this recently.
    ``gone_recheck``: a deleted repository is asked again only after this long.
    ``max_pages_per_stream``: a stream stops (as partial, its bookmark resuming it) after this many pages.
    """

    commit_overlap: timedelta = timedelta(days=3)
    update_overlap: timedelta = timedelta(minutes=10)
    response_window: timedelta = timedelta(days=180)
    gone_recheck: timedelta = timedelta(days=7)
    per_page: int = 100
    max_settle_passes: int = 2
    max_pages_per_stream: int = 10_000
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

    def close(self) -> None:
        """Stop early: the steps' generator is closed (what it holds open, e.g. a ``git log``, ends)."""
        self.done = True
        close = getattr(self._steps, "close", None)  # steps are a generator, or a plain iterator of one page
        if close is not None:
            close()

    def records(self) -> Iterator[Record]:
        """All records of all pages (for callers that do not need page boundaries, e.g. tests)."""
        for page in self:
            yield from page.records


class RepositoryGone(Exception):
    """Raised inside a fetch when the platform answers 404/410/451: the repository was deleted or blocked."""


class RepositoryCollector(abc.ABC):
    """Collects the streams of one repository (``path`` as configured, e.g. ``owner/name``).

    ``fetch`` is the same on every platform: refuse unknown streams and paths the platform cannot have (before
    any request), skip a repository known to be gone until ``gone_recheck`` has passed, run the platform's
    ``_repo_steps`` or ``_list_steps``, stop with :class:`StreamPartial` after ``max_pages_per_stream`` pages, and
    turn :class:`RepositoryGone` into a ``gone`` snapshot and bookmark. Platforms fill in the steps and the hooks.
    """

    platform: str
    path: str
    settings: CollectorSettings

    def fetch(self, stream: str, bookmark: Bookmark | Mapping[str, Any] | str | None = None) -> Fetch:
        """Start collecting ``stream`` (one of :data:`collector.records.STREAMS`) from ``bookmark``."""
        if stream not in STREAMS:
            raise ValueError(f"unknown stream {stream!r}; expected one of {', '.join(STREAMS)}")
        check_path(self.platform, self.path)
        start = as_bookmark(bookmark, stream)
        self._resume(start)

        def steps(stats: RequestStats) -> Iterator[Step]:
            if start.state == "gone" and start.checked_at and (
                    self._now() - parse_time(start.checked_at) < self.settings.gone_recheck):
                yield [], start, True
                return
            self._prepare(stats)
            try:
                body = self._repo_steps(start, stats) if stream == "repo" else self._list_steps(stream, start, stats)
                for pages, (records, mark, final) in enumerate(body, 1):
                    yield records, self._finish(mark), final
                    if not final and pages >= self.settings.max_pages_per_stream:
                        raise StreamPartial(stream, pages)  # after the page and its bookmark were handed out
            except RepositoryGone:
                gone = start.evolve(state="gone", checked_at=iso_z(self._now()), pending=None, validators={},
                                    fingerprint=None, recent=None)
                records = [RepoSnapshot(platform=self.platform, path=self.path, state="gone")] \
                    if stream == "repo" else []
                yield records, self._finish(gone), True

        return Fetch(stream, start, steps)

    # -- what each platform provides ---------------------------------------------------------------------------
    @abc.abstractmethod
    def _now(self) -> datetime:
        """The platform's clock (the HTTP settings' clock, so tests can fake it)."""

    @abc.abstractmethod
    def _repo_steps(self, start: Bookmark, stats: RequestStats) -> Iterator[Step]: ...

    @abc.abstractmethod
    def _list_steps(self, stream: str, start: Bookmark, stats: RequestStats) -> Iterator[Step]: ...

    def _resume(self, start: Bookmark) -> None:
        """Take what the bookmark remembers of the repository (e.g. where a moved repository lives now)."""

    def _prepare(self, stats: RequestStats) -> None:
        """Work before the first request of a fetch (e.g. learning the token pool's quota)."""

    def _finish(self, bookmark: Bookmark) -> Bookmark:
        """The bookmark as stored: platforms add what they learnt during the fetch."""
        return bookmark


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
