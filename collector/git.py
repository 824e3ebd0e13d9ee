"""The git collector: commits and tags from a bare partial mirror (``collector.gitclone``), no API and no quota.

Two uses:

- ``platform: git`` repositories (any clone URL; the path is the normalised URL): streams ``repo`` (state and
  default branch only: a clone has no stars or forks), ``commits`` and ``releases`` (tags);
- ``commits_via: git`` on an API repository: :class:`ViaGit` takes ``commits`` from the clone and every other
  stream from the API collector, so commit pages cost no quota.

Commits are those reachable from the default branch (``HEAD`` of the mirror, which follows the server's), read by
one streaming ``git log`` and handed out in pages of ``GitSettings.page_size``. The bookmark (``fingerprint``
``git:<tip sha>``, ``cursor`` the newest committer time, which an API collector can resume from) makes the next run
read ``old..new`` only. When the old tip is no longer an ancestor of the new one (a force-push) the whole branch is
listed again and the fetch says ``complete``: the job then marks the commits it did not see ``missing_since``, as
``--full`` does. A pass cut short (kill, deadline) resumes from ``pending`` (``--skip`` of what was stored); a cut
rewrite pass starts again, since only a whole pass can tell what vanished.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from collector.base import CollectorSettings, Fetch, PlatformCollector, RepositoryCollector, Step
from collector.bookmarks import Bookmark, as_bookmark
from collector.errors import StreamPartial
from collector.gitclone import (CLONE_TIMEOUT, FETCH_TIMEOUT, Credential, GitRunner, MirrorCache, MirrorState,
                                epoch, is_ancestor, log_args, normalise_clone_url, parse_log, tags)
from collector.http import HttpSettings, RequestStats
from collector.records import STREAMS, Commit, Record, Release, RepoSnapshot
from collector.timeutil import iso_z, parse_time

PAGE_SIZE = 5000


@dataclass(frozen=True)
class GitSettings:
    """Where mirrors live and how long git may take. ``environ`` is the base environment of git processes
    (inherited git settings and ``secret_variables`` are removed from it)."""

    cache_dir: Path = field(default_factory=lambda: Path(os.path.expanduser("~/.cache/mtx/git")))
    clone_timeout: float = CLONE_TIMEOUT
    fetch_timeout: float = FETCH_TIMEOUT
    page_size: int = PAGE_SIZE
    binary: str = "git"
    environ: Mapping[str, str] | None = None
    secret_variables: tuple[str, ...] = ()


class GitFetch(Fetch):
    """A :class:`Fetch` that also says whether it lists the whole branch (``complete``): then what it did not
    hand out is no longer on the default branch."""

    complete: bool = False
    read_ahead = True  # parsing is Python's work, storing the database's: the job overlaps them (ReadAhead)


class GitCollector(PlatformCollector):
    """Shared by the repositories of a run: the mirror cache and the git runner."""

    name = "git"
    streams = ("repo", "commits", "releases")

    def __init__(self, *, tokens: Any = (), base_url: str = "", http: HttpSettings = HttpSettings(),
                 settings: CollectorSettings = CollectorSettings(), git: GitSettings | None = None) -> None:
        self.git = git or GitSettings()
        self.http = http
        self.settings = settings
        self.runner = GitRunner(self.git.binary, dict(self.git.environ) if self.git.environ is not None else None,
                                self.git.secret_variables)
        self.cache = MirrorCache(self.git.cache_dir, self.runner, clone_timeout=self.git.clone_timeout,
                                 fetch_timeout=self.git.fetch_timeout)

    def repository(self, path: str, *, url: str | None = None, credential: Credential | None = None,
                   platform: str = "git") -> "GitRepository":
        """``path``: the normalised clone URL (a ``platform: git`` repository's path); ``url`` the URL to clone
        as configured (credential-free; default ``path``); ``credential`` a token for its origin."""
        return GitRepository(self, path, url or path, credential, platform)


class GitRepository(RepositoryCollector):
    def __init__(self, owner: GitCollector, path: str, url: str, credential: Credential | None,
                 platform: str = "git") -> None:
        self.owner = owner
        self.platform = platform
        self.path = path
        self.key = normalise_clone_url(url)
        self.url = url
        self.credential = credential
        self.settings = owner.settings
        self._state: MirrorState | None = None
        self._people: dict[tuple[str, str, str, str], tuple] = {}

    # -- the contract ----------------------------------------------------------------------------------------------
    def _now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)

    def _repo_steps(self, start: Bookmark, stats: RequestStats) -> Iterator[Step]:  # pragma: no cover - fetch()
        raise NotImplementedError

    def _list_steps(self, stream: str, start: Bookmark, stats: RequestStats) -> Iterator[Step]:  # pragma: no cover
        raise NotImplementedError

    def mirror(self, stats: RequestStats | None = None) -> MirrorState:
        """Clone or fetch once per repository and run (the first stream that needs it)."""
        if self._state is None:
            self._state = self.owner.cache.update(self.key, self.url, self.credential)
            if stats is not None:
                stats.requests += 1
        return self._state

    def fetch(self, stream: str, bookmark: Bookmark | Mapping[str, Any] | str | None = None) -> GitFetch:
        if stream not in STREAMS:
            raise ValueError(f"unknown stream {stream!r}; expected one of {', '.join(STREAMS)}")
        start = as_bookmark(bookmark, stream)
        stats = RequestStats()
        state = self.mirror(stats)
        complete = False
        if stream == "repo":
            steps = self._snapshot(state, start)
        elif stream == "commits":
            plans = self._plans(state, start)
            complete = any(p.complete for p in plans)
            steps = self._commit_steps(state, start, plans)
        elif stream == "releases":
            complete = True
            steps = self._tag_steps(state, start)
        else:  # not served by a clone: nothing, and the bookmark stays
            steps = iter([([], start, True)])
        result = GitFetch(stream, start, lambda s: steps)
        result.stats = stats
        result.complete = complete
        return result

    # -- repo ----------------------------------------------------------------------------------------------------
    def _snapshot(self, state: MirrorState, start: Bookmark) -> Iterator[Step]:
        web = self.url if self.url.startswith("https://") else None
        snapshot = RepoSnapshot(platform=self.platform, path=self.path, state="active" if state.tip else "empty",
                                default_branch=state.branch, web_url=web)
        yield [snapshot], start.evolve(state=None if state.tip else "empty", checked_at=None), True

    # -- commits -------------------------------------------------------------------------------------------------
    def _plans(self, state: MirrorState, start: Bookmark) -> list["_Plan"]:
        tip = state.tip
        if tip is None:
            return []
        fingerprint = start.fingerprint or ""
        old = fingerprint[4:] if fingerprint.startswith("git:") else None
        plans: list[_Plan] = []
        previous = old
        pending = start.pending if isinstance(start.pending, Mapping) and start.pending.get("git") else None
        runner, path = self.owner.runner, state.path
        if pending and pending.get("tip") and is_ancestor(runner, path, pending["tip"], pending["tip"]) is not None:
            if pending.get("restart"):
                plans.append(_Plan(pending["tip"], pending.get("base"), 0, complete=pending.get("base") is None,
                                   restart=True))
            else:
                plans.append(_Plan(pending["tip"], pending.get("base"), int(pending.get("skip") or 0)))
            previous = pending["tip"]
        if previous != tip:
            if previous is None:  # the whole branch; it can tell what vanished only if something was stored
                plans.append(_Plan(tip, None, 0, complete=start.cursor is not None))
            elif is_ancestor(runner, path, previous, tip):
                plans.append(_Plan(tip, previous, 0))
            else:  # rewritten history: the whole branch again; what is not listed has vanished
                plans.append(_Plan(tip, None, 0, complete=True, restart=True))
        if any(p.complete for p in plans):
            plans = [next(p for p in plans if p.complete)]
        return plans

    def _commit_steps(self, state: MirrorState, start: Bookmark, plans: list["_Plan"]) -> Iterator[Step]:
        if state.tip is None:
            yield [], start.evolve(state="empty", pending=None, fingerprint=None), True
            return
        if not plans:
            yield [], start.evolve(state=None, pending=None), True
            return
        size = max(1, self.owner.git.page_size)
        newest = parse_time(start.cursor) if start.cursor else None
        if start.pending and start.pending.get("git") and start.pending.get("newest"):
            newest = max(filter(None, [newest, parse_time(start.pending["newest"])]))
        timeout = max(self.owner.git.clone_timeout, 3600.0)  # the reader stores pages as it goes

        def listed() -> Iterator[tuple[Commit, _Plan, int]]:
            for plan in plans:  # a resumed pass, then what came after it
                position = plan.skip
                chunks = self.owner.runner.stream(log_args(plan.tip, plan.base, plan.skip), cwd=state.path,
                                                  timeout=timeout, what="log")
                for fields in parse_log(chunks):
                    position += 1
                    yield self._commit(fields), plan, position

        pages = 0
        page: list[Record] = []
        held: tuple[list[Record], Bookmark] | None = None
        for commit, plan, position in listed():
            page.append(commit)
            if newest is None or commit.committer_time > newest:
                newest = commit.committer_time
            if len(page) >= size:
                if held is not None:
                    yield held[0], held[1], False
                    pages += 1
                    if pages >= self.settings.max_pages_per_stream:
                        raise StreamPartial("commits", pages)
                held, page = (page, self._pending(start, plan, position, newest)), []
        if held is not None:
            if page:
                yield held[0], held[1], False
                pages += 1
                if pages >= self.settings.max_pages_per_stream:
                    raise StreamPartial("commits", pages)
            else:
                page = held[0]
        yield page, start.evolve(cursor=iso_z(newest) if newest else start.cursor, fingerprint=f"git:{plans[-1].tip}",
                                 pending=None, state=None, checked_at=None), True

    @staticmethod
    def _pending(start: Bookmark, plan: "_Plan", count: int, newest: dt.datetime | None) -> Bookmark:
        pending = {"git": 1, "tip": plan.tip, "base": plan.base, "skip": count,
                   "newest": iso_z(newest) if newest else None}
        if plan.restart:
            pending["restart"] = True
        return start.evolve(pending=pending, state=None)

    def _commit(self, fields: tuple) -> Commit:
        sha, parents, an, ae, at, cn, ce, ct, title = fields
        key = (an, ae, cn, ce)
        people = self._people.get(key)
        if people is None:  # one string object per distinct person, however many commits they made
            people = self._people[key] = (an or None, ae or None, cn or None, ce or None,
                                          self.settings.bots.is_bot(None, ae or None, an or None))
        an, ae, cn, ce, bot = people
        return Commit(sha, an, ae, None, epoch(at), cn, ce, None, epoch(ct), parents > 1, bot, title)

    # -- tags as releases ------------------------------------------------------------------------------------------
    def _tag_steps(self, state: MirrorState, start: Bookmark) -> Iterator[Step]:
        found = tags(self.owner.runner, state.path)
        releases = [Release(tag=name, name=subject, published_at=epoch(when) if when is not None else None,
                            prerelease=False, draft=False) for name, _kind, when, subject in found]
        yield releases, start.evolve(state=None, pending=None, fingerprint=f"tags:{len(releases)}"), True


@dataclass(frozen=True)
class _Plan:
    tip: str
    base: str | None
    skip: int
    complete: bool = False
    restart: bool = False


class ViaGit:
    """An API repository whose ``commits`` come from a clone (``commits_via: git``); every other stream from the
    API collector. Same ``fetch`` contract as a :class:`RepositoryCollector`."""

    def __init__(self, api: RepositoryCollector, git: GitRepository, streams: tuple[str, ...] = ("commits",)) -> None:
        self.api, self.git, self.streams = api, git, streams
        self.platform, self.path = api.platform, api.path

    def fetch(self, stream: str, bookmark: Any = None) -> Fetch:
        return (self.git if stream in self.streams else self.api).fetch(stream, bookmark)


__all__ = ["GitCollector", "GitFetch", "GitRepository", "GitSettings", "ViaGit"]
