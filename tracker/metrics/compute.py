"""Metrics for communities (or repositories) as of a date: every signal's value, or why there is none.

Missing is never zero. For each signal, a scope's repositories whose platform serves the streams behind it are
counted; the others are left out and listed. The value is a number when every counted repository had those streams
collected to their end after as-of ended, or within ``collection.stale_after_days`` of now when as-of is today
(a repository that is gone, or no longer listed by its organisation and so no longer collected, counts with what
was collected); otherwise it is null with a reason (tracker.vocab
METRIC_REASONS): not collected, not provided (no counted repository), no source, or no activity (a median or share
over nothing). Zero means "collected, and there was none".
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from collector import registry as platforms
from tracker.access import Actor
from tracker.formatting import beijing_day_end, beijing_today, to_beijing
from tracker.metrics import activity
from tracker.metrics.facts import Facts
from tracker.metrics.registry import SignalDef, signals as registered
from tracker.models import CollectionStream, Community, CommunityRepository, Repository

DEFAULT_STALE_AFTER_DAYS = 3


class MetricsError(ValueError):
    """A request metrics cannot answer (an unknown community, a date in the future); the message says the fix."""


@dataclass
class MetricValue:
    value: float | int | None
    reason: str | None
    repositories: int                                    # repositories counted
    window: int | str | None
    left_out: list[str] = field(default_factory=list)   # platform does not give it
    not_collected: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"value": self.value, "reason": self.reason, "repositories": self.repositories}


@dataclass
class ScopeMetrics:
    id: int
    slug: str | None            # communities
    name: str
    focus: str | None
    platform: str | None        # repositories
    path: str | None
    signals: dict[str, MetricValue]

    @property
    def key(self) -> str:
        return self.slug if self.slug is not None else f"{self.platform}:{self.path}"


@dataclass
class MetricsReport:
    as_of: dt.date
    by: str
    scopes: list[ScopeMetrics]
    windows: dict[str, int | str | None]
    as_of_note: str | None = None    # how a default as-of was chosen


def windows_for(model=None, names: Iterable[str] | None = None) -> dict[str, int | str | None]:
    """signal -> window: the model's signals that metrics compute (its window_days where it sets one), else all."""
    known = registered()
    if model is None:
        wanted = list(names) if names else list(known)
        return {n: known[n].window for n in wanted if n in known}
    out = {}
    for s in model.signals:
        if s.name in known:
            default = known[s.name].window
            out[s.name] = default if default is None else (s.window_days if s.window_days is not None else default)
    return out


def default_as_of(session: Session, now: dt.datetime, stale_after_days: int) -> tuple[dt.date, str]:
    """Today (Beijing) when the last collection is recent; else the last day it covered completely."""
    latest = session.scalar(select(func.max(CollectionStream.last_success_at)))
    today = beijing_today(now)
    if latest is None:
        return today, "尚无成功采集 / nothing collected yet"
    if latest >= now - dt.timedelta(days=stale_after_days):
        return today, f"今天 / today (最近采集 / last collected {to_beijing(latest):%Y-%m-%d %H:%M} 北京时间)"
    day = to_beijing(latest).date() - dt.timedelta(days=1)
    return day, (f"最近一次采集完成于 {to_beijing(latest):%Y-%m-%d %H:%M} 北京时间，之前的最后一个完整日 / "
                 f"the last full day before the last collection")


def _scopes(session: Session, by: str, communities: list[str] | None):
    stmt = select(Community).order_by(Community.slug)
    if communities:
        stmt = stmt.where(Community.slug.in_(communities))
    rows = list(session.scalars(stmt))
    if communities:
        missing = sorted(set(communities) - {c.slug for c in rows})
        if missing:
            raise MetricsError(f"没有社区 / no community with slug {', '.join(missing)}; `mtx status --communities` "
                               "lists them")
    links = session.execute(select(CommunityRepository.community_id, CommunityRepository.repository_id)
                            .where(CommunityRepository.community_id.in_([c.id for c in rows]) if communities else
                                   CommunityRepository.community_id.is_not(None))).all()
    members: dict[int, list[int]] = {c.id: [] for c in rows}
    for cid, rid in links:
        if cid in members:
            members[cid].append(rid)
    repo_ids = sorted({rid for rids in members.values() for rid in rids})
    wanted = set(repo_ids)
    repos = {r.id: r for r in session.execute(select(Repository.id, Repository.platform, Repository.path,
                                                     Repository.state, Repository.missing_since)).all()
             if r.id in wanted}
    if by == "community":
        scopes = [(c.id, c.slug, c.name_zh, c.focus, None, None) for c in rows]
        return scopes, {cid: sorted(rids) for cid, rids in members.items()}, repos
    scopes = [(rid, None, repos[rid].path, None, repos[rid].platform, repos[rid].path)
              for rid in sorted(repo_ids, key=lambda r: (repos[r].platform, repos[r].path))]
    return scopes, {rid: [rid] for rid in repo_ids}, repos


def compute_metrics(session: Session, actor: Actor, *, as_of: dt.date | None = None,
                    communities: list[str] | None = None, model=None, names: Iterable[str] | None = None,
                    by: str = "community", now: dt.datetime | None = None,
                    stale_after_days: int = DEFAULT_STALE_AFTER_DAYS) -> MetricsReport:
    """Every scope's signals as of ``as_of`` (a Beijing date; default: see :func:`default_as_of`). Any role may read.

    Brings the activity aggregates up to date first (in this transaction), so the caller should commit.
    """
    if by not in ("community", "repository"):
        raise MetricsError(f"--by {by!r}: use community or repository")
    now = now or dt.datetime.now(dt.timezone.utc)
    note = None
    if as_of is None:
        as_of, note = default_as_of(session, now, stale_after_days)
    elif as_of > beijing_today(now):
        raise MetricsError(f"--as-of {as_of} is in the future (today in Beijing is {beijing_today(now)}); "
                           "give today or an earlier date")
    if by == "community":
        activity.ensure_current(session)
    windows = windows_for(model, names)
    scopes, members, repos = _scopes(session, by, communities)
    commit_windows = tuple(dict.fromkeys(w for n, w in windows.items()
                                         if w is not None and registered()[n].streams == ("commits",)))
    facts = Facts(session, as_of, by, members, commit_windows)
    fresh = _freshness(session, sorted(repos), as_of, now, stale_after_days)
    known = registered()
    snapshot_days = set(facts.snapshots()) if any("repo" in known[n].streams for n in windows) else set()
    values: dict[str, dict] = {}
    serves = _Serves()
    by_streams: dict[tuple, Facts] = {}  # a signal is computed over the repositories whose platform serves its streams
    for name, window in windows.items():
        sig = known[name]
        if sig.streams not in by_streams:
            counted = {sid: [r for r in rids if serves(repos[r].platform, sig.streams)] for sid, rids in members.items()}
            by_streams[sig.streams] = facts if counted == members else Facts(session, as_of, by, counted,
                                                                             commit_windows)
        values[name] = sig.compute(by_streams[sig.streams], window) if sig.compute else {}
    standing = _Standing(repos, fresh, snapshot_days, serves)
    out = []
    for sid, slug, label, focus, platform, path in scopes:
        repo_ids = members.get(sid, [])
        signals = {name: _value(known[name], window, values[name].get(sid), standing.of(known[name].streams, sid, repo_ids))
                   for name, window in windows.items()}
        out.append(ScopeMetrics(sid, slug, label, focus, platform, path, signals))
    return MetricsReport(as_of, by, out, windows, note)


class _Serves:
    """Whether a platform serves streams (its declaration in collector.registry), each platform looked up once."""

    def __init__(self) -> None:
        self._served: dict[str, frozenset] = {}

    def __call__(self, platform: str, streams: tuple[str, ...]) -> bool:
        served = self._served.get(platform)
        if served is None:
            declared = platforms.find(platform)
            served = self._served[platform] = frozenset(declared.figure_streams) if declared else frozenset()
        return served.issuperset(streams)


class _Standing:
    """Each repository's standing for a set of streams: left out (its platform does not serve them), not collected,
    or counted; worked out once per repository and set of streams, and once per scope and set of streams."""

    def __init__(self, repos: dict, fresh: dict, snapshot_days: set, serves: _Serves) -> None:
        self.repos, self.serves = repos, serves
        self.fresh_streams: dict[int, set[str]] = {}
        for (rid, stream), ok in fresh.items():
            if ok:
                self.fresh_streams.setdefault(rid, set()).add(stream)
        for rid in snapshot_days:  # a snapshot on or before as-of: the "repo" stream's figures are known then
            self.fresh_streams.setdefault(rid, set()).add("snapshot")
        self._memo: dict[tuple, dict[int, str]] = {}
        self._scopes: dict[tuple, tuple[int, list[str], list[str]]] = {}

    def _state(self, streams: tuple[str, ...], needed: frozenset, rid: int) -> str:
        repo = self.repos[rid]
        if not self.serves(repo.platform, streams):
            return "left_out"
        if repo.state == "gone" or repo.missing_since is not None:
            return "counted"  # gone, or no longer listed (so no longer collected): what was collected stands
        return "counted" if self.fresh_streams.get(rid, _NONE).issuperset(needed) else "stale"

    def of(self, streams: tuple[str, ...], scope: int, repo_ids: list[int]) -> tuple[int, list[str], list[str]]:
        """(repositories counted, names left out, names not collected), once per scope and set of streams."""
        key = (streams, scope)
        if key not in self._scopes:
            self._scopes[key] = self._of(streams, repo_ids)
        return self._scopes[key]

    def _of(self, streams: tuple[str, ...], repo_ids: list[int]) -> tuple[int, list[str], list[str]]:
        states = self._memo.setdefault(streams, {})
        needed = frozenset(streams) | ({"snapshot"} if "repo" in streams else set())
        counted, left_out, stale = 0, [], []
        for rid in repo_ids:
            state = states.get(rid)
            if state is None:
                state = states[rid] = self._state(streams, needed, rid)
            if state == "left_out":
                left_out.append(self._name(rid))
            else:
                counted += 1
                if state == "stale":
                    stale.append(self._name(rid))
        return counted, left_out, stale

    def _name(self, rid: int) -> str:
        repo = self.repos[rid]
        return f"{repo.platform}:{repo.path}"


_NONE: frozenset = frozenset()


def _value(sig: SignalDef, window, value, standing: tuple[int, list[str], list[str]]) -> MetricValue:
    if sig.unavailable:
        return MetricValue(None, sig.unavailable, 0, window)
    counted, left_out, stale = standing
    if not counted:
        return MetricValue(None, "not provided", 0, window, left_out)
    if stale:
        return MetricValue(None, "not collected", counted, window, left_out, stale)
    if value is None:
        return MetricValue(None, "no activity", counted, window, left_out)
    return MetricValue(value, None, counted, window, left_out)


def _freshness(session: Session, repo_ids: list[int], as_of: dt.date, now: dt.datetime,
               stale_after_days: int) -> dict[tuple[int, str], bool]:
    """(repository, stream) -> collected to its end after as-of ended, or, when as-of is today, within the last
    ``stale_after_days`` (decided by the database: no timestamps travel)."""
    end = beijing_day_end(as_of)
    success = CollectionStream.last_success_at
    fresh = success >= end
    if as_of == beijing_today(now):
        fresh = or_(fresh, success >= now - dt.timedelta(days=stale_after_days))
    flag = case((fresh, 1), else_=0)
    out = {}
    if len(repo_ids) > 2000:
        wanted = set(repo_ids)
        for rid, stream, ok in session.execute(select(CollectionStream.repository_id, CollectionStream.stream, flag)):
            if rid in wanted:
                out[(rid, stream)] = bool(ok)
        return out
    for start in range(0, len(repo_ids), 500):
        chunk = repo_ids[start:start + 500]
        for rid, stream, ok in session.execute(select(CollectionStream.repository_id, CollectionStream.stream, flag)
                                               .where(CollectionStream.repository_id.in_(chunk))):
            out[(rid, stream)] = bool(ok)
    return out
