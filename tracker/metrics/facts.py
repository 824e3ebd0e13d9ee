"""The few queries every signal is computed from, each run once per window and shared (memoised) between signals.

A scope is a community (its repositories together; commits from the activity aggregates, a mirrored sha once) or one
repository (commits read from the commit table through the same attribution). Work items, releases and snapshots are
read per repository and added up per scope. Windows are Beijing days: a window of N days ending at as-of D covers
D-N+1 .. D, i.e. [start of D-N+1, end of D) in Beijing time; "all" covers everything before the end of D.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import and_, case, func, literal, literal_column, or_, select, true
from sqlalchemy.orm import Session

from tracker.formatting import beijing_day_end
from tracker.metrics.registry import ALL
from tracker.models import (ActivityDay, Commit, Issue, Organisation, PullRequest, Release, RepositorySnapshot,
                            UTCDateTime)
from tracker.sqlutil import seconds_between
from tracker.people.attribution import commit_attribution

CHUNK = 500
WHOLE_TABLE = 2000  # more repositories than this: read each table once, without an IN list


def window_bounds(as_of: dt.date, window: int | str | None) -> tuple[dt.date | None, dt.datetime | None, dt.datetime]:
    """(first Beijing day, its start as UTC, the exclusive UTC end) of a window ending at ``as_of``."""
    end = beijing_day_end(as_of)
    if window is None or window == ALL:
        return None, None, end
    first = as_of - dt.timedelta(days=int(window) - 1)
    return first, beijing_day_end(first - dt.timedelta(days=1)), end


@dataclass
class CommitFacts:
    """One scope's counted commits in a window: per person and per organisation (0 = individuals)."""

    commits: int = 0
    people: set[int] = field(default_factory=set)
    by_org: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    chongqing_people: set[int] = field(default_factory=set)
    chongqing_commits: int = 0


@dataclass
class Facts:
    session: Session
    as_of: dt.date
    kind: str                                  # "community" | "repository"
    members: dict[int, list[int]]              # scope id -> repository ids
    commit_windows: tuple = ()                 # windows the commit signals will ask for (read in one pass)
    _memo: dict = field(default_factory=dict)

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    @cached_property
    def end(self) -> dt.datetime:
        return beijing_day_end(self.as_of)

    @cached_property
    def scope_of_repository(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for scope, repos in self.members.items():
            for rid in repos:
                out[rid].append(scope)
        return out

    @cached_property
    def repositories(self) -> list[int]:
        return sorted(self.scope_of_repository)

    @cached_property
    def chongqing(self) -> set[int]:
        return set(self.session.scalars(select(Organisation.id).where(Organisation.chongqing_local.is_(True))))

    def _memoised(self, key, compute):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def _chunks(self, ids: list[int]):
        for start in range(0, len(ids), CHUNK):
            yield ids[start:start + CHUNK]

    def _repository_filters(self):
        """Conditions ``cond(column)`` selecting the scopes' repositories: a few IN lists, or, for many repositories,
        one pass over everything (rows of other repositories are dropped when added up per scope)."""
        if len(self.repositories) > WHOLE_TABLE:
            yield lambda column: true()
            return
        for chunk in self._chunks(self.repositories):
            yield lambda column, chunk=chunk: column.in_(chunk)

    # --- commits ---------------------------------------------------------------------------------------------------

    def commits(self, window: int | str | None) -> dict[int, CommitFacts]:
        """scope -> its counted commits in the window (bots and merges out; a community's mirrored sha once).

        For communities, every window in ``commit_windows`` is read in the same pass over the aggregates."""
        if ("commits", window) not in self._memo:
            if self.kind == "community":
                wanted = [w for w in dict.fromkeys([window, *self.commit_windows]) if ("commits", w) not in self._memo]
                for w, rows in zip(wanted, self._community_commit_rows(wanted)):
                    self._memo[("commits", w)] = self._commits(rows)
            else:
                self._memo[("commits", window)] = self._commits(self._repository_commit_rows(window))
        return self._memo[("commits", window)]

    def _community_commit_rows(self, windows: list) -> list[list[tuple]]:
        """One pass over activity_days, in its key order (community, person, organisation, day): per window the rows
        (community, person, organisation, commits)."""
        d = ActivityDay
        firsts = [window_bounds(self.as_of, w)[0] for w in windows]
        sums = [func.sum(d.commits) if first is None else func.sum(case((d.day >= first, d.commits), else_=0))
                for first in firsts]
        stmt = (select(d.community_id, d.person_id, d.organisation_id, *sums).where(d.day <= self.as_of)
                .group_by(d.community_id, d.person_id, d.organisation_id))
        if all(first is not None for first in firsts):
            stmt = stmt.where(d.day >= min(firsts))
        if len(self.members) < 200:
            stmt = stmt.where(d.community_id.in_(sorted(self.members)))
        out: list[list[tuple]] = [[] for _ in windows]
        for row in self.session.execute(stmt):
            for index in range(len(windows)):
                if row[3 + index]:
                    out[index].append((row[0], row[1], row[2], row[3 + index]))
        return out

    def _repository_commit_rows(self, window) -> list[tuple]:
        _, start, end = window_bounds(self.as_of, window)
        rows = []
        for chunk in self._chunks(self.repositories):
            a = commit_attribution(self.dialect).where(
                Commit.repository_id.in_(chunk), Commit.author_time < end, Commit.is_merge.is_(False)).subquery()
            org = func.coalesce(a.c.organisation_id, literal_column("0"))  # one expression: PostgreSQL groups by it
            stmt = (select(a.c.repository_id, a.c.person_id, org, func.count())
                    .where(a.c.is_bot.is_(False), a.c.person_id.is_not(None))
                    .group_by(a.c.repository_id, a.c.person_id, org))
            if start is not None:
                stmt = stmt.where(a.c.author_time >= start)
            rows += self.session.execute(stmt).all()
        return rows

    def _commits(self, rows) -> dict[int, CommitFacts]:
        out = {scope: CommitFacts() for scope in self.members}
        chongqing = self.chongqing
        for scope, person, org, n in rows:
            f = out.get(scope)
            if f is None or not n:
                continue
            n = int(n)
            f.commits += n
            f.people.add(person)
            f.by_org[org] += n
            if org in chongqing:
                f.chongqing_people.add(person)
                f.chongqing_commits += n
        return out

    def last_commit(self) -> dict[int, dt.datetime]:
        """scope -> the latest counted author time before the end of as-of."""
        return self._memoised("last_commit", self._last_commit)

    def _last_commit(self) -> dict[int, dt.datetime]:
        from tracker.models import ActivityPerson

        end = self.end
        out: dict[int, dt.datetime] = {}
        if self.kind == "community":
            ap = ActivityPerson  # all-time latest per community: right wherever nothing is later than as-of
            later = []
            for scope, last in self.session.execute(select(ap.scope_id, func.max(ap.last_at))
                                                    .where(ap.kind == "c").group_by(ap.scope_id)):
                last = _aware(last)
                if scope in self.members:
                    (later.append(scope) if last >= end else out.__setitem__(scope, last))
            d = ActivityDay
            for chunk in self._chunks(sorted(later)):
                for scope, last in self.session.execute(
                        select(d.community_id, func.max(d.last_at)).where(d.community_id.in_(chunk),
                                                                          d.day <= self.as_of)
                        .group_by(d.community_id)):
                    out[scope] = _aware(last)
            return out
        for chunk in self._chunks(self.repositories):
            a = commit_attribution(self.dialect).where(
                Commit.repository_id.in_(chunk), Commit.author_time < end, Commit.is_merge.is_(False)).subquery()
            for rid, last in self.session.execute(select(a.c.repository_id, func.max(a.c.author_time))
                                                  .where(a.c.is_bot.is_(False)).group_by(a.c.repository_id)):
                for scope in self.scope_of_repository.get(rid, ()):
                    out[scope] = _aware(last)
        return out

    # --- work items ------------------------------------------------------------------------------------------------

    def _per_repository(self, key, stmt_for) -> dict[int, list]:
        def run():
            rows: dict[int, list] = defaultdict(list)
            for where in self._repository_filters():
                for row in self.session.execute(stmt_for(where)):
                    rows[row[0]].append(row[1:])
            return rows
        return self._memoised(key, run)

    def _by_scope(self, per_repo: dict[int, list]) -> dict[int, list]:
        out: dict[int, list] = {scope: [] for scope in self.members}
        for rid, rows in per_repo.items():
            for scope in self.scope_of_repository.get(rid, ()):
                out[scope].extend(rows)
        return out

    def issue_counts(self, window) -> dict[int, tuple[int, int, int, int]]:
        """scope -> (closed in window, updated in window, comments on the updated ones, updated ones with a count)."""
        _, start, end = window_bounds(self.as_of, window)
        i = Issue

        def stmt(where):
            closed = and_(i.closed_at < end, *([i.closed_at >= start] if start else []))
            updated = and_(i.updated_at < end, *([i.updated_at >= start] if start else []))
            known = and_(updated, i.comments.is_not(None))
            return (select(i.repository_id, func.sum(case((closed, 1), else_=0)), func.sum(case((updated, 1), else_=0)),
                           func.sum(case((known, i.comments), else_=0)), func.sum(case((known, 1), else_=0)))
                    .where(where(i.repository_id), or_(closed, updated))
                    .group_by(i.repository_id))

        per_repo = self._per_repository(("issue_counts", window), stmt)
        return {scope: tuple(sum(int(r[k] or 0) for r in rows) for k in range(4))
                for scope, rows in self._by_scope(per_repo).items()}

    def issues_opened(self, window) -> dict[int, list[float]]:
        """scope -> for each issue opened in the window, seconds to its first response, or to the end of as-of when
        it had none before then (computed by the database)."""
        _, start, end = window_bounds(self.as_of, window)
        i = Issue
        until = literal(end, UTCDateTime())
        answered = and_(i.first_response_at.is_not(None), i.first_response_at < until)
        waited = case((answered, seconds_between(i.created_at, i.first_response_at, self.dialect)),
                      else_=seconds_between(i.created_at, until, self.dialect))

        def stmt(where):
            s = select(i.repository_id, waited).where(where(i.repository_id), i.created_at < end)
            return s.where(i.created_at >= start) if start else s

        return self._flat(self._by_scope(self._per_repository(("issues_opened", window), stmt)))

    def pulls_merged(self, window) -> dict[int, list[float]]:
        """scope -> for each pull request merged in the window, seconds from opening to merging."""
        _, start, end = window_bounds(self.as_of, window)
        p = PullRequest

        def stmt(where):
            s = select(p.repository_id, seconds_between(p.created_at, p.merged_at, self.dialect)).where(
                where(p.repository_id), p.merged_at < end, p.created_at.is_not(None))
            return s.where(p.merged_at >= start) if start else s

        return self._flat(self._by_scope(self._per_repository(("pulls_merged", window), stmt)))

    @staticmethod
    def _flat(by_scope: dict[int, list]) -> dict[int, list[float]]:
        return {scope: [float(r[0]) for r in rows] for scope, rows in by_scope.items()}

    def pulls_closed(self, window) -> dict[int, int]:
        """scope -> pull requests merged or closed in the window (each once)."""
        _, start, end = window_bounds(self.as_of, window)
        p = PullRequest
        done = func.coalesce(p.merged_at, p.closed_at)

        def stmt(where):
            s = select(p.repository_id, func.count()).where(where(p.repository_id), done < end)
            return (s.where(done >= start) if start else s).group_by(p.repository_id)

        return {scope: sum(int(r[0]) for r in rows)
                for scope, rows in self._by_scope(self._per_repository(("pulls_closed", window), stmt)).items()}

    def releases(self, window) -> dict[int, set[str]]:
        """scope -> the tags released in the window (a tag in several repositories of a community once: mirrors)."""
        _, start, end = window_bounds(self.as_of, window)
        r = Release

        def stmt(where):
            s = select(r.repository_id, r.tag).where(where(r.repository_id), r.published_at < end)
            return s.where(r.published_at >= start) if start else s

        return {scope: {row[0] for row in rows}
                for scope, rows in self._by_scope(self._per_repository(("releases", window), stmt)).items()}

    # --- snapshots -------------------------------------------------------------------------------------------------

    def snapshots(self) -> dict[int, tuple[int | None, int | None, dt.datetime | None]]:
        """repository -> (stars, forks, created_at) of its latest snapshot taken on or before as-of."""
        def run():
            s = RepositorySnapshot
            out = {}
            for where in self._repository_filters():
                latest = (select(s.repository_id, func.max(s.taken_on).label("taken_on"))
                          .where(where(s.repository_id), s.taken_on <= self.as_of)
                          .group_by(s.repository_id).subquery())
                for rid, stars, forks, created in self.session.execute(
                        select(s.repository_id, s.stars, s.forks, s.created_at)
                        .join(latest, and_(latest.c.repository_id == s.repository_id,
                                           latest.c.taken_on == s.taken_on))):
                    out[rid] = (stars, forks, created)
            return out
        return self._memoised("snapshots", run)


def _aware(value) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
