"""`mtx collect`: every configured repository, incrementally, concurrently, within rate limits.

Per repository and stream the collector yields pages; each page's records and the bookmark that covers them are
written in ONE transaction, so a run killed at any instant resumes where the last committed page ended, and upserts
on natural keys make the overlap harmless. `--full` starts every stream from scratch (no bookmark) and, after a
complete pass, marks commits, releases and contributors it no longer saw with `missing_since` (nothing is deleted):
run it periodically (e.g. weekly) to find commits that reached the default branch with an old date.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import os
import socket
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

import collector
from collector import CollectorError, CollectorSettings, HttpSettings, registry
from collector.addresses import normalise_path
from collector.errors import QuotaExhausted, StreamPartial
from common.redaction import SecretScrubber
from tracker import db as dbm
from tracker.access import Actor
from tracker.collect.readahead import ReadAhead
from tracker.collect import faults, store
from tracker.collect.lock import CollectionLock
from tracker.collect.discovery import apply_listing
from tracker.collect.sync import sync_config
from tracker.config import Config
from tracker.models import (CollectionBookmark, CollectionResult, CollectionRun, CollectionStream, Commit, Community,
                            CommunityRepository, Release, Repository, RepositoryContributor)

log = logging.getLogger("mtx.collect")
STREAMS = collector.STREAMS


@dataclass
class CollectOptions:
    community: str | None = None
    repo: str | None = None
    platform: str | None = None
    full: bool = False
    concurrency: int | None = None
    max_wait: float = 3600.0
    deadline: float | None = None
    streams: tuple[str, ...] = STREAMS
    git_cache: str | None = None  # where git mirrors live (--git-cache; else collection.git_cache)


@dataclass
class RepoOutcome:
    repository_id: int
    platform: str
    path: str
    status: str = "ok"  # one of tracker.vocab.RESULT_STATUSES (partial: a stream hit max_pages_per_stream)
    items: dict[str, int] = field(default_factory=dict)
    not_served: tuple[str, ...] = ()  # asked-for streams the platform does not declare: never requested
    requests: int = 0
    not_modified: int = 0
    rate_limit_waits: int = 0
    wait_seconds: float = 0.0
    error: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    duration: float = 0.0
    streams: dict[str, tuple[str, dt.datetime]] = field(default_factory=dict)  # stream -> (how it ended, when)
    current_stream: str | None = None
    quota_wait: float | None = None  # failed with QuotaExhausted: seconds until a token resets (a worker retries then)

    def ended(self, stream: str, status: str) -> None:
        self.streams[stream] = (status, dt.datetime.now(dt.timezone.utc))

    def line(self) -> str:
        items = " ".join(f"{k}={v}" for k, v in self.items.items() if v) or "no new items"
        text = (f"{self.platform} {self.path}: {self.status} {items} requests={self.requests} "
                f"304s={self.not_modified} waits={self.rate_limit_waits} ({self.wait_seconds:.0f}s) "
                f"{self.duration:.1f}s")
        if self.not_served:
            text += f" 平台不提供 / not served by {self.platform}: {' '.join(self.not_served)}"
        return text + (f" error: {self.error}" if self.error else "")


@dataclass
class RunSummary:
    run_id: int
    status: str
    outcomes: list[RepoOutcome]
    seconds: float

    @property
    def failed(self) -> list[RepoOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    discovery_errors: list[str] = field(default_factory=list)
    people: object | None = None  # tracker.people.resolve.ResolveReport of the resolution that ends the run

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or self.discovery_errors else 0


def tokens_for(config: Config, platform: str, environ: dict[str, str]) -> list[tuple[str, str]]:
    return [(name, environ[name]) for name in config.token_env(platform) if environ.get(name)]


def select_repositories(session: Session, config: Config, options: CollectOptions) -> list[Repository]:
    slugs = [c.slug for c in config.communities.communities]
    stmt = (select(Repository).join(CommunityRepository, CommunityRepository.repository_id == Repository.id)
            .join(Community, Community.id == CommunityRepository.community_id)
            .where(Community.slug.in_(slugs), Repository.missing_since.is_(None)).distinct().order_by(Repository.id))
    if options.community:
        if options.community not in slugs:
            raise ValueError(f"unknown community {options.community!r}: known are {', '.join(slugs)}")
        stmt = stmt.where(Community.slug == options.community)
    if options.platform:
        declared = registry.find(options.platform)
        if declared is None:
            raise ValueError(registry.unknown_message(options.platform))
        stmt = stmt.where(Repository.platform == declared.name)
    repos = list(session.scalars(stmt))
    if options.repo:
        wanted = normalise_path(options.repo) if "://" not in options.repo else options.repo.strip().rstrip("/")
        from collector.gitclone import InvalidCloneUrl, normalise_clone_url

        try:  # a git repository's path is its normalised clone URL: any spelling of the URL names it
            as_clone = normalise_clone_url(options.repo)
        except InvalidCloneUrl:
            as_clone = None
        repos = [r for r in repos if wanted in (r.path, r.web_url, f"{r.platform}:{r.path}")
                 or (r.web_url or "").rstrip("/") == wanted or (r.platform == "git" and r.path == as_clone)]
        if not repos:
            raise ValueError(f"no configured repository matches {options.repo!r} (give its URL or owner/name)")
    return repos


def http_settings(config: Config, options: CollectOptions, **overrides) -> HttpSettings:
    """The shared HTTP policy for a run, from ``collection:`` and the command line (tests add sleep and clock)."""
    settings = config.communities.collection
    values = dict(max_wait=options.max_wait, max_retries=settings.max_retries, timeout=settings.timeout_seconds,
                  request_deadline=settings.request_deadline_seconds)
    return HttpSettings(**(values | overrides))


def _finite(value: float) -> float:
    """Seconds as stored: never NaN or infinite, whatever a server sent."""
    return value if isinstance(value, (int, float)) and math.isfinite(value) else 0.0


class CollectionJob:
    def __init__(self, url: str, config: Config, actor: Actor, options: CollectOptions, *,
                 environ: dict[str, str] | None = None, http: HttpSettings | None = None,
                 on_result: Callable[[RepoOutcome], None] | None = None,
                 on_start: Callable[[int], None] | None = None) -> None:
        self.url = url
        self.config = config
        self.actor = actor
        self.options = options
        self.environ = dict(os.environ) if environ is None else environ
        settings = config.communities.collection
        self.http = http or http_settings(config, options)
        self.on_result = on_result or (lambda outcome: None)
        self.on_start = on_start or (lambda total: None)
        self.factory: sessionmaker[Session] = dbm.session_factory(url)
        self._platforms: dict[tuple[str, str], object] = {}
        self._platform_lock = threading.Lock()
        token_variables = config.token_variables()
        self.redact = SecretScrubber([v for name, v in self.environ.items() if name in token_variables])  # defence in depth
        self.started = time.monotonic()
        from tracker.collect.gitroutes import GitRoutes

        self.git = GitRoutes(url, config, options.git_cache, self.environ)  # platform: git and commits_via: git
        self.collector_settings = CollectorSettings(response_window=dt.timedelta(days=settings.first_response_days),
                                                    max_pages_per_stream=settings.max_pages_per_stream)

    # -- the run -----------------------------------------------------------------------------------------------------
    def run(self) -> RunSummary:
        with CollectionLock(self.url, self.actor.name):
            return self._run_locked()

    def _run_locked(self) -> RunSummary:
        with self.factory.begin() as session:
            session.execute(update(CollectionRun).where(CollectionRun.status == "running")
                            .values(status="interrupted", error="the process ended before finishing (killed?)"))
        run_id, targets, discovery_errors = self.plan()
        self.on_start(len(targets))
        concurrency = self.options.concurrency or self.config.communities.collection.concurrency
        outcomes: list[RepoOutcome] = []
        status, crash = "failed", None
        try:
            with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="collect") as pool:
                for outcome in pool.map(lambda t: self._collect_repository(run_id, *t), targets):
                    outcomes.append(outcome)
            status = "partial" if discovery_errors else "ok"
            if any(o.status == "failed" for o in outcomes):
                status = "failed" if all(o.status == "failed" for o in outcomes) else "partial"
            elif any(o.status in ("deadline", "skipped", "partial") for o in outcomes):
                status = "partial"
        except BaseException as exc:  # whatever failed, the run row is closed below (never left "running")
            crash = self.redact(f"the run stopped: {type(exc).__name__}: {exc}")
            raise
        finally:
            for platform in self._platforms.values():
                try:
                    platform.close()
                except Exception:  # closing connections must not hide the run's outcome
                    pass
            self._close_run(run_id, status, discovery_errors, outcomes, crash)
        from tracker.people.resolve import resolve_people

        with self.factory.begin() as session:  # the people behind what was stored, corrections applied
            people = resolve_people(session, self.actor, self.config.identities, self.config.organisations)
        return RunSummary(run_id, status, outcomes, time.monotonic() - self.started, discovery_errors, people)

    def plan(self, **run_options) -> tuple[int, list[tuple[int, str, str, str]], list[str]]:
        """Sync the configuration, list organisations, open a run row: (run id, [(repository id, platform, API URL,
        path)], discovery errors). `mtx collect` then collects the targets; `mtx collect --enqueue` queues them."""
        with self.factory.begin() as session:
            sync_config(session, self.actor, self.config)
        discovery_errors = self._discover()
        with self.factory.begin() as session:
            repos = select_repositories(session, self.config, self.options)
            run = CollectionRun(actor=self.actor.name, host=socket.gethostname(), pid=os.getpid(), status="running",
                                options={k: v for k, v in self.options.__dict__.items() if k != "streams"}
                                | {"streams": list(self.options.streams)} | run_options)
            session.add(run)
            session.flush()
            return run.id, [(r.id, r.platform, r.api_url, r.path) for r in repos], discovery_errors

    def collect_one(self, run_id: int, repository_id: int) -> RepoOutcome:
        """One repository of a run, as a queued job does it (tracker.workers): every stream, page by page, then its
        result row (replacing an earlier attempt's). A repository no longer in the database is skipped."""
        with self.factory() as session:
            repo = session.get(Repository, repository_id)
            target = None if repo is None else (repo.id, repo.platform, repo.api_url, repo.path)
        if target is None:
            return RepoOutcome(repository_id, "?", "?", status="skipped", error="the repository is no longer stored")
        return self._collect_repository(run_id, *target)

    def close_platforms(self) -> None:
        with self._platform_lock:
            platforms, self._platforms = list(self._platforms.values()), {}
        for platform in platforms:
            try:
                platform.close()
            except Exception:  # closing connections must not hide an outcome
                pass

    def _close_run(self, run_id: int, status: str, discovery_errors: list[str], outcomes: list[RepoOutcome],
                   crash: str | None) -> None:
        errors = ([crash] if crash else []) + discovery_errors + [
            f"{o.platform}:{o.path}: {o.error or o.status}" for o in outcomes if o.status != "ok"]
        with self.factory.begin() as session:
            session.execute(update(CollectionRun).where(CollectionRun.id == run_id).values(
                status=status, finished_at=dt.datetime.now(dt.timezone.utc),
                error=None if status == "ok" and not crash else "; ".join(errors)[:4000]))

    def _discover(self) -> list[str]:
        """Organisation entries: list each organisation now and bring the community's repositories in line."""
        errors: list[str] = []
        for community in self.config.communities.communities:
            if self.options.community and community.slug != self.options.community:
                continue
            for entry in community.organisations:
                target = self.config.resolve_organisation(entry)
                if self.options.platform and target.platform != self.options.platform:
                    continue
                try:
                    listings = self._platform(target.platform, target.api_url).list_repositories(
                        target.path, target.include, target.exclude, target.archived, target.forks)
                except Exception as exc:  # keep what we know; collect the rest; report it (exit 1)
                    errors.append(self.redact(f"organisation {target.platform}:{target.path}: "
                                              f"{type(exc).__name__}: {exc}"))
                    continue
                with self.factory.begin() as session:
                    found = apply_listing(session, self.actor, community.slug, target, listings)
                log.info("organisation %s:%s: %d listed, %d new, %d vanished", target.platform, target.path,
                         len(listings), len(found.added), len(found.vanished))
        return errors

    def _deadline_passed(self) -> bool:
        return self.options.deadline is not None and time.monotonic() - self.started >= self.options.deadline

    def _platform(self, platform: str, api_url: str):
        key = (platform, api_url)
        with self._platform_lock:
            if key not in self._platforms:
                self._platforms[key] = collector.open_platform(
                    platform, tokens=tokens_for(self.config, platform, self.environ), base_url=api_url,
                    http=self.http, settings=self.collector_settings)
            return self._platforms[key]

    def _collect_repository(self, run_id: int, repo_id: int, platform: str, api_url: str, path: str) -> RepoOutcome:
        outcome = RepoOutcome(repo_id, platform, path, started_at=dt.datetime.now(dt.timezone.utc))
        began = time.monotonic()
        try:
            if self._deadline_passed():
                outcome.status = "skipped"
                outcome.error = "deadline reached before this repository started; the next run resumes here"
            elif platform not in collector.platform_names():
                outcome.status = "skipped"
                outcome.error = f"platform {platform!r} has no collector yet"
            else:
                served = registry.get(platform).streams
                outcome.not_served = tuple(s for s in self.options.streams if s not in served)
                repo_collector = self.git.repository(platform, api_url, path,
                                                     lambda: self._platform(platform, api_url).repository(path))
                self._collect_streams(repo_id, repo_collector, outcome,
                                      tuple(s for s in self.options.streams if s in served))
        except CollectorError as exc:
            outcome.status, outcome.error = "failed", self.redact(f"{type(exc).__name__}: {exc}")
            outcome.quota_wait = getattr(exc, "wait", None) if isinstance(exc, QuotaExhausted) else None
        except Exception as exc:  # one repository's failure is recorded; the others go on
            outcome.status = "failed"
            outcome.error = self.redact(f"{type(exc).__name__}: {exc}")
            log.debug("collect %s:%s failed: %s", platform, path, self.redact(traceback.format_exc()))
        if outcome.status == "failed" and outcome.current_stream and outcome.current_stream not in outcome.streams:
            outcome.ended(outcome.current_stream, "failed")
        outcome.finished_at = dt.datetime.now(dt.timezone.utc)
        outcome.duration = time.monotonic() - began
        outcome.wait_seconds = _finite(outcome.wait_seconds)
        with self.factory.begin() as session:
            session.execute(delete(CollectionResult).where(CollectionResult.run_id == run_id,  # a retried job's
                                                           CollectionResult.repository_id == repo_id))
            session.add(CollectionResult(
                run_id=run_id, repository_id=repo_id, status=outcome.status,
                items=outcome.items, requests=outcome.requests, not_modified=outcome.not_modified,
                rate_limit_waits=outcome.rate_limit_waits, wait_seconds=outcome.wait_seconds,
                error=outcome.error, started_at=outcome.started_at, finished_at=outcome.finished_at,
                duration_seconds=_finite(outcome.duration)))
            _record_streams(session, repo_id, outcome)
        self.on_result(outcome)
        return outcome

    def _collect_streams(self, repo_id: int, repo_collector, outcome: RepoOutcome, streams: tuple[str, ...]) -> None:
        """The streams the platform declares (``Platform.streams``), in order; the others are never asked for."""
        for stream in streams:
            if self._deadline_passed():
                outcome.status = "deadline"
                outcome.error = f"deadline reached before stream {stream}; the next run resumes here"
                return
            outcome.current_stream = stream
            with self.factory() as session:
                repository = session.get(Repository, repo_id)
                if stream != "repo" and repository.state == "gone":
                    return
                saved = session.scalar(select(CollectionBookmark).where(
                    CollectionBookmark.repository_id == repo_id, CollectionBookmark.stream == stream))
                bookmark = None if (self.options.full or saved is None) else _bookmark_json(saved)
            fetch = repo_collector.fetch(stream, bookmark)
            complete = self.options.full or getattr(fetch, "complete", False)  # git: a whole listing of the branch
            seen: set[str] | None = set() if complete and stream in ("commits", "releases", "contributors") else None
            completed = exhausted = False
            pages = ReadAhead(fetch, name=f"read-ahead-{repo_id}-{stream}") if getattr(fetch, "read_ahead", False) \
                else fetch  # git: the next page is parsed while this one is stored
            try:
                for page in pages:
                    faults.checkpoint(stream, "before_store")
                    with self.factory.begin() as session:
                        repository = session.get(Repository, repo_id)
                        count = self._store(session, repository, stream, page.records)
                        _save_bookmark(session, repo_id, stream, page.bookmark.to_json())
                        session.flush()
                        faults.checkpoint(stream, "after_store")
                    faults.checkpoint(stream, "after_commit")
                    outcome.items[stream] = outcome.items.get(stream, 0) + count
                    if seen is not None:
                        seen.update(_natural_keys(stream, page.records))
                    if page.final:
                        completed = True
                        break
                    if self._deadline_passed():
                        outcome.status = "deadline"
                        outcome.error = f"deadline reached inside stream {stream}; its bookmark resumes it"
                        outcome.ended(stream, "deadline")
                        return
                else:
                    exhausted = True  # the pages ran out without a final one: read to its end, nothing to compare
            except StreamPartial as exc:  # the pages so far and their bookmark are stored; go on with the next
                outcome.status = "partial"
                outcome.error = "; ".join(filter(None, [outcome.error, str(exc)]))
                outcome.ended(stream, "partial")
            finally:
                if pages is not fetch:
                    pages.close()
                stats = fetch.stats
                outcome.requests += stats.requests
                outcome.not_modified += stats.not_modified
                outcome.rate_limit_waits += stats.rate_limit_waits
                outcome.wait_seconds += stats.waited_seconds
            if completed and seen is not None:
                self._mark_missing(repo_id, stream, seen)
            if completed or exhausted:
                outcome.ended(stream, "ok")

    def _store(self, session: Session, repository: Repository, stream: str, records) -> int:
        now = dt.datetime.now(dt.timezone.utc)
        if stream == "repo":
            return sum(store.store_snapshot(session, repository, r, now.date(), now) for r in records)
        if stream == "commits":
            return store.store_commits(session, repository, records, defer_aggregates=True)
        if stream == "releases":
            return store.store_releases(session, repository, records)
        if stream == "contributors":
            return store.store_contributors(session, repository, records, now)
        if stream == "issues":
            return store.store_issues(session, repository, records)
        if stream == "pulls":
            return store.store_pulls(session, repository, records)
        raise ValueError(f"unknown stream {stream}")

    def _mark_missing(self, repo_id: int, stream: str, seen: set[str]) -> None:
        model, column = {"commits": (Commit, "sha"), "releases": (Release, "tag"),
                         "contributors": (RepositoryContributor, "key")}[stream]
        now = dt.datetime.now(dt.timezone.utc)
        with self.factory.begin() as session:
            if model is RepositoryContributor:
                stored = set(session.scalars(select(model.key).where(model.repository_id == repo_id)))
                gone = stored - seen
                if gone:  # the platform's list no longer names them: drop from the cross-check list
                    session.execute(model.__table__.delete().where(model.repository_id == repo_id,
                                                                   model.key.in_(sorted(gone))))
                return
            store.mark_missing(session, model, repo_id, column, seen, now)


def _record_streams(session: Session, repo_id: int, outcome: RepoOutcome) -> None:
    """collection_streams: each stream's last attempt, and the last time it was read to its end (metrics' freshness)."""
    for stream, (status, at) in outcome.streams.items():
        row = session.get(CollectionStream, (repo_id, stream))
        if row is None:
            row = CollectionStream(repository_id=repo_id, stream=stream)
            session.add(row)
        row.last_attempt_at, row.last_status = at, status
        if status == "ok":
            row.last_success_at = at


def _natural_keys(stream: str, records) -> set[str]:
    if stream == "commits":
        return {r.sha for r in records}
    if stream == "releases":
        return {r.tag for r in records if not r.draft}
    return {store.account_key(r.login, r.email) or f"name:{r.name}" for r in records}


def _bookmark_json(saved: CollectionBookmark) -> dict:
    data = dict(saved.cursor or {})
    if saved.validators:
        data["validators"] = saved.validators
    return data


def _save_bookmark(session: Session, repo_id: int, stream: str, data: dict) -> None:
    data = dict(data)
    validators = data.pop("validators", None)
    saved = session.scalar(select(CollectionBookmark).where(CollectionBookmark.repository_id == repo_id,
                                                            CollectionBookmark.stream == stream))
    if saved is None:
        session.add(CollectionBookmark(repository_id=repo_id, stream=stream, cursor=data, validators=validators))
    else:
        saved.cursor, saved.validators = data, validators
        saved.updated_at = dt.datetime.now(dt.timezone.utc)
