"""The compact activity aggregates metrics, the overview and `mtx status` read instead of the commits.

Four tables (tracker/models.py), all derived from commits and the people as resolved, bots and merge commits left out:

- ``activity_days``   community x Beijing day x person x organisation -> commits, latest author time
- ``activity_people`` scope (community c / repository r / everything a) x person -> commits, first and last time
- ``activity_months`` Beijing month x person -> commits over everything (the overview's chart)
- ``activity_scopes`` what each scope was built over (a digest of a community's repositories)

A sha found in several repositories of a community (mirrors) counts once there, under its smallest commit id; the same
rule over the whole database for the ``a`` scope. Exactly three things change them, and each one keeps them in step
in its own transaction: new commits (:func:`add_commits`, called by the store for each page), people resolution
(:func:`refresh_people`, for the people it reports touched), and a community's repositories changing (found by
:func:`ensure_current` from the digests, which rebuilds that community). :func:`rebuild` starts from scratch.

On PostgreSQL, page writers take a shared advisory lock and rebuilds and refreshes an exclusive one, so a rebuild
never interleaves with a page; pages that insert the same sha are serialised by a per-sha lock taken before the
insert (tracker.collect.store), so "smallest commit id" is also "first committed". SQLite has one writer at a time.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Callable, Iterable, Sequence

from sqlalchemy import delete, exists, func, insert, literal, select, text, true
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from tracker.models import (ActivityDay, ActivityMonth, ActivityPerson, ActivityScope, Commit, CommitIdentity,
                            CommunityRepository, utcnow)
from tracker.people.attribution import commit_attribution
from tracker.sqlutil import beijing_month, greatest, least

LOCK_KEY = 0x6D74785F61637476  # "mtx_actv": the aggregates' advisory lock on PostgreSQL
ALL_SCOPE = "all"
FULL_REFRESH_SHARE = 0.25  # refreshing more than this share of the people rebuilds everything instead

Progress = Callable[[str, int, int], None]


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def lock(session: Session, exclusive: bool) -> None:
    """Hold the aggregates' advisory lock until the transaction ends (PostgreSQL; SQLite serialises writers)."""
    if _dialect(session) == "postgresql":
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        session.execute(text(f"SELECT {fn}(:key)"), {"key": LOCK_KEY})


# --- the attributed commits, and the three selections built from them -------------------------------------------------


def _counted(session: Session, where) -> Select:
    """Attributed commits that count: not a merge, not a bot, an author time, matching ``where`` (on commits)."""
    a = commit_attribution(_dialect(session)).where(where, Commit.author_time.is_not(None),
                                                    Commit.is_merge.is_(False)).subquery()
    return a


def _first_in_community(a, link):
    c2, l2 = aliased(Commit), aliased(CommunityRepository)
    return ~exists(select(literal(1)).select_from(c2).join(l2, l2.repository_id == c2.repository_id)
                   .where(c2.sha == a.c.sha, l2.community_id == link.community_id, c2.id < a.c.commit_id))


def _first_anywhere(a):
    c2 = aliased(Commit)
    return ~exists(select(literal(1)).select_from(c2).where(c2.sha == a.c.sha, c2.id < a.c.commit_id))


def _community_selects(session: Session, where, community_where=None) -> tuple[Select, Select]:
    """(activity_days rows, activity_people 'c' rows) for the commits matching ``where``."""
    a = _counted(session, where)
    link = aliased(CommunityRepository)
    conditions = [a.c.is_bot.is_(False), a.c.person_id.is_not(None), _first_in_community(a, link)]
    if community_where is not None:
        conditions.append(community_where(link))
    base = select(link.community_id, a.c.day, a.c.person_id,
                  func.coalesce(a.c.organisation_id, 0).label("organisation_id"), a.c.author_time) \
        .select_from(a).join(link, link.repository_id == a.c.repository_id).where(*conditions).subquery()
    days = (select(base.c.community_id, base.c.day, base.c.person_id, base.c.organisation_id,
                   func.count().label("commits"), func.max(base.c.author_time).label("last_at"))
            .group_by(base.c.community_id, base.c.day, base.c.person_id, base.c.organisation_id))
    people = (select(literal("c").label("kind"), base.c.community_id.label("scope_id"), base.c.person_id,
                     func.count().label("commits"), func.min(base.c.author_time).label("first_at"),
                     func.max(base.c.author_time).label("last_at"))
              .group_by(base.c.community_id, base.c.person_id))
    return days, people


def _repository_people(session: Session, where) -> Select:
    a = _counted(session, where)
    return (select(literal("r").label("kind"), a.c.repository_id.label("scope_id"), a.c.person_id,
                   func.count().label("commits"), func.min(a.c.author_time).label("first_at"),
                   func.max(a.c.author_time).label("last_at"))
            .where(a.c.is_bot.is_(False), a.c.person_id.is_not(None))
            .group_by(a.c.repository_id, a.c.person_id))


def _global_selects(session: Session, where) -> tuple[Select, Select]:
    """(activity_people 'a' rows, activity_months rows)."""
    a = _counted(session, where)
    base = (select(a.c.person_id, a.c.author_time,
                   beijing_month(a.c.author_time, _dialect(session)).label("month"))
            .where(a.c.is_bot.is_(False), a.c.person_id.is_not(None), _first_anywhere(a)).subquery())
    people = (select(literal("a").label("kind"), literal(0).label("scope_id"), base.c.person_id,
                     func.count().label("commits"), func.min(base.c.author_time).label("first_at"),
                     func.max(base.c.author_time).label("last_at"))
              .group_by(base.c.person_id))
    months = (select(base.c.month, base.c.person_id, func.count().label("commits"))
              .group_by(base.c.month, base.c.person_id))
    return people, months


_DAY_COLUMNS = ["community_id", "day", "person_id", "organisation_id", "commits", "last_at"]
_PEOPLE_COLUMNS = ["kind", "scope_id", "person_id", "commits", "first_at", "last_at"]
_MONTH_COLUMNS = ["month", "person_id", "commits"]


_DAY_KEYS = ["community_id", "person_id", "organisation_id", "day"]
_PEOPLE_KEYS = ["kind", "scope_id", "person_id"]
_MONTH_KEYS = ["month", "person_id"]


def _write(session: Session, where, community_where=None, scopes: str = "cra", add: bool = True) -> None:
    """The rows of the commits matching ``where``, added to what is there (``add``) or inserted into empty space."""
    def put(model, columns, select_, keys):
        if add:
            _upsert_add(session, model, columns, select_, keys)
        else:
            session.execute(insert(model).from_select(columns, select_))

    if "c" in scopes:
        days, people = _community_selects(session, where, community_where)
        put(ActivityDay, _DAY_COLUMNS, days, _DAY_KEYS)
        put(ActivityPerson, _PEOPLE_COLUMNS, people, _PEOPLE_KEYS)
    if "r" in scopes:
        put(ActivityPerson, _PEOPLE_COLUMNS, _repository_people(session, where), _PEOPLE_KEYS)
    if "a" in scopes:
        people, months = _global_selects(session, where)
        put(ActivityPerson, _PEOPLE_COLUMNS, people, _PEOPLE_KEYS)
        put(ActivityMonth, _MONTH_COLUMNS, months, _MONTH_KEYS)


def _upsert_add(session: Session, model, columns: list[str], select_: Select, keys: list[str]) -> None:
    """INSERT ... SELECT that adds to rows already there (commits summed, first/last widened)."""
    dialect = _dialect(session)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    ins = dialect_insert(model).from_select(columns, select_)
    table = model.__table__.c
    set_ = {"commits": table.commits + ins.excluded.commits}
    if "last_at" in columns:
        set_["last_at"] = greatest(dialect, table.last_at, ins.excluded.last_at)
    if "first_at" in columns:
        set_["first_at"] = least(dialect, table.first_at, ins.excluded.first_at)
    session.execute(ins.on_conflict_do_update(index_elements=keys, set_=set_))


# --- the three ways they change ---------------------------------------------------------------------------------------


def add_commits(session: Session, commit_ids: Sequence[int]) -> None:
    """New commit rows (just inserted in this transaction) added to every scope they count in."""
    if not commit_ids:
        return
    lock(session, exclusive=False)
    ids = list(commit_ids)
    for start in range(0, len(ids), 500):
        _write(session, Commit.id.in_(ids[start:start + 500]))


def refresh_identities(session: Session, identity_ids: Iterable[int]) -> None:
    """Commits whose author identity, time or merge flag was rewritten: refresh the people on both sides."""
    ids = sorted(set(identity_ids))
    if not ids:
        return
    people: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for iid, pid in session.execute(select(CommitIdentity.id, CommitIdentity.person_id)
                                        .where(CommitIdentity.id.in_(chunk))):
            people.add(pid if pid is not None else -iid)
    refresh_people(session, people)


def refresh_people(session: Session, person_ids: Iterable[int], progress: Progress | None = None) -> str:
    """Recompute every aggregate row of these people (ids as resolution reports them: created, changed, merged away).

    Returns "none", "people" or "all" (when they are a large share of everyone, a rebuild is cheaper).
    """
    people = sorted(set(person_ids))
    if not people or session.get(ActivityScope, ALL_SCOPE) is None:
        return "none"  # nothing to keep in step: never built (the first read builds everything)
    total = session.scalar(select(func.count()).select_from(CommitIdentity)) or 0
    if len(people) > max(1000, FULL_REFRESH_SHARE * total):
        rebuild(session, progress)
        return "all"
    lock(session, exclusive=True)
    positive = [p for p in people if p > 0]
    identities: list[int] = []
    for start in range(0, len(positive), 500):
        identities += session.scalars(select(CommitIdentity.id).where(
            CommitIdentity.person_id.in_(positive[start:start + 500]))).all()
    unresolved = [p for p in people if p < 0]
    identities += [-p for p in unresolved]  # identities that counted as themselves
    rows_of = sorted(set(people) | {-i for i in identities})
    for start in range(0, len(rows_of), 500):
        chunk = rows_of[start:start + 500]
        for model in (ActivityDay, ActivityPerson, ActivityMonth):
            session.execute(delete(model).where(model.person_id.in_(chunk)))
    identities = sorted(set(identities))
    for start in range(0, len(identities), 500):
        _write(session, Commit.author_identity_id.in_(identities[start:start + 500]))
    return "people"


def rebuild(session: Session, progress: Progress | None = None, now=None) -> None:
    """Everything from the commits, in this transaction (``now``: the build time recorded; the sample fixes it)."""
    lock(session, exclusive=True)
    for model in (ActivityDay, ActivityPerson, ActivityMonth, ActivityScope):
        session.execute(delete(model))
    steps = [("r", "repositories"), ("a", "everything"), ("c", "communities")]
    for number, (scope, _label) in enumerate(steps, start=1):
        _write(session, true(), scopes=scope, add=False)
        if progress:
            progress("activity", number, len(steps))
    now = now or utcnow()
    _store_digests(session, community_digests(session), replace=False, now=now)
    session.add(ActivityScope(scope=ALL_SCOPE, digest="", built_at=now))
    session.flush()


def rebuild_communities(session: Session, community_ids: Iterable[int]) -> None:
    """A community's rows again from its current repositories (after its list of repositories changed)."""
    ids = sorted(set(community_ids))
    if not ids:
        return
    lock(session, exclusive=True)
    session.execute(delete(ActivityDay).where(ActivityDay.community_id.in_(ids)))
    session.execute(delete(ActivityPerson).where(ActivityPerson.kind == "c", ActivityPerson.scope_id.in_(ids)))
    _write(session, true(), community_where=lambda link: link.community_id.in_(ids), scopes="c", add=False)
    digests = community_digests(session)
    _store_digests(session, {c: d for c, d in digests.items() if c in ids}, replace=True)


# --- knowing they are current -----------------------------------------------------------------------------------------


def community_digests(session: Session) -> dict[int, str]:
    """community id -> sha256 of its sorted repository ids (what its aggregates were built over)."""
    members: dict[int, list[int]] = defaultdict(list)
    for cid, rid in session.execute(select(CommunityRepository.community_id, CommunityRepository.repository_id)
                                    .order_by(CommunityRepository.community_id, CommunityRepository.repository_id)):
        members[cid].append(rid)
    from tracker.models import Community

    for cid in session.scalars(select(Community.id)):
        members.setdefault(cid, [])
    return {cid: hashlib.sha256(",".join(map(str, rids)).encode()).hexdigest() for cid, rids in members.items()}


def _store_digests(session: Session, digests: dict[int, str], replace: bool, now=None) -> None:
    if replace and digests:
        session.execute(delete(ActivityScope).where(ActivityScope.scope.in_([f"c:{c}" for c in digests])))
    now = now or utcnow()
    if digests:
        session.execute(insert(ActivityScope), [{"scope": f"c:{c}", "digest": d, "built_at": now}
                                                for c, d in sorted(digests.items())])


def stale_scopes(session: Session) -> tuple[bool, list[int], list[str]]:
    """(never built, communities whose repositories changed, scope rows of communities that are gone)."""
    stored = dict(session.execute(select(ActivityScope.scope, ActivityScope.digest)).all())
    if ALL_SCOPE not in stored:
        return True, [], []
    current = community_digests(session)
    changed = [cid for cid, digest in current.items() if stored.get(f"c:{cid}") != digest]
    gone = [scope for scope in stored if scope != ALL_SCOPE and int(scope[2:]) not in current]
    return False, sorted(changed), gone


def ensure_current(session: Session, progress: Progress | None = None, build: bool = True) -> str:
    """Build what is missing before a read: everything the first time (``build``), else the communities whose
    repositories changed (their digests differ). Returns what was done: "current", "communities" or "all"."""
    never, changed, gone = stale_scopes(session)
    if never:
        if not build:
            return "current"  # nothing kept in step yet: the first read builds everything
        rebuild(session, progress)
        return "all"
    if not changed and not gone:
        return "current"
    if gone:
        ids = [int(scope[2:]) for scope in gone]
        session.execute(delete(ActivityDay).where(ActivityDay.community_id.in_(ids)))
        session.execute(delete(ActivityPerson).where(ActivityPerson.kind == "c", ActivityPerson.scope_id.in_(ids)))
        session.execute(delete(ActivityScope).where(ActivityScope.scope.in_(gone)))
    rebuild_communities(session, changed)
    return "communities"


def follow_links(session: Session) -> str:
    """After communities' repositories changed (configuration sync, organisation discovery), in that transaction."""
    session.flush()
    return ensure_current(session, build=False)


def lock_shas(session: Session, shas: Iterable[str]) -> None:
    """PostgreSQL: serialise transactions inserting the same shas (taken before the insert, in one sorted order)."""
    if _dialect(session) != "postgresql":
        return
    keys = sorted(set(shas))
    if keys:
        session.execute(text("SELECT count(pg_advisory_xact_lock(k)) FROM "
                             "(SELECT hashtextextended('mtx_sha:' || s, 0) AS k FROM unnest(CAST(:shas AS text[])) s "
                             "ORDER BY 1) q"), {"shas": keys})
