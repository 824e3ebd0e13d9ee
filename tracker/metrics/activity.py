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

A repository's first collection is the exception that makes it fast: its pages are stored without touching the
aggregates and the repository is listed in ``activity_pending``; every aggregate write leaves listed repositories'
commits out, and :func:`settle` (called by people resolution, after it has refreshed the people it touched, and by
:func:`ensure_current` for what a killed run left) adds each listed repository's commits in one pass and unlists it,
in one transaction: a commit is counted by its page or by the settling, never both, never neither.

On PostgreSQL, page writers take a shared advisory lock and rebuilds and refreshes an exclusive one, so a rebuild
never interleaves with a page; pages that insert the same sha are serialised by a per-sha lock taken before the
insert (tracker.collect.store), so "smallest commit id" is also "first committed". SQLite has one writer at a time.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Callable, Iterable, Sequence

from sqlalchemy import (BigInteger, Boolean, Column, Date, Integer, MetaData, String, Table, delete, exists, func, insert,
                        literal, select, text, true)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from tracker.models import (ActivityDay, ActivityMonth, ActivityPending, ActivityPerson, ActivityScope, Commit,
                            CommitIdentity, CommunityRepository, UTCDateTime, utcnow)
from tracker.people.attribution import commit_attribution
from tracker.sqlutil import beijing_month, empty_temporary, greatest, least

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
    """Attributed commits that count: not a merge, not a bot, an author time, matching ``where`` (on commits), not
    of a repository whose first collection is still pending (:func:`settle` adds those)."""
    a = commit_attribution(_dialect(session)).where(
        where, Commit.author_time.is_not(None), Commit.is_merge.is_(False),
        Commit.repository_id.not_in(select(ActivityPending.repository_id))).subquery()
    return a


def _first_in_community(a, link):
    c2, l2 = aliased(Commit), aliased(CommunityRepository)
    return ~exists(select(literal(1)).select_from(c2).join(l2, l2.repository_id == c2.repository_id)
                   .where(c2.sha == a.c.sha, l2.community_id == link.community_id, c2.id < a.c.commit_id))


def _first_anywhere(a):
    c2 = aliased(Commit)
    return ~exists(select(literal(1)).select_from(c2).where(c2.sha == a.c.sha, c2.id < a.c.commit_id))


# The commits a write counts are attributed once into a temporary table (the joins to identities, people and
# affiliations, the Beijing day and "first anywhere" evaluated once, not once per aggregate), and the community
# rows once into another; each aggregate is then a GROUP BY over them. Temporary tables belong to the connection
# (SQLite: its temp schema; PostgreSQL: the session, emptied at commit), so concurrent writers never share one.
_TEMP = MetaData()
_COUNTED = Table("mtx_counted", _TEMP,
                 Column("commit_id", BigInteger), Column("repository_id", Integer), Column("sha", String(64)),
                 Column("author_time", UTCDateTime),
                 Column("day", Date), Column("person_id", Integer), Column("organisation_id", Integer),
                 Column("first_anywhere", Boolean), prefixes=["TEMPORARY"])
_IN_COMMUNITY = Table("mtx_counted_community", _TEMP,
                      Column("community_id", Integer), Column("day", Date), Column("person_id", Integer),
                      Column("organisation_id", Integer), Column("author_time", UTCDateTime), prefixes=["TEMPORARY"])


def _temporary(session: Session, table: Table, select_: Select) -> Table:
    """``table`` (temporary, this connection's) holding exactly the rows of ``select_``."""
    connection = session.connection()
    empty_temporary(connection, table)
    connection.execute(insert(table).from_select([c.name for c in table.columns], select_))
    return table


def _materialise(session: Session, where, community_where=None, scopes: str = "cra") -> tuple[Table, Table | None]:
    a = _counted(session, where)
    first = _first_anywhere(a) if "a" in scopes else literal(False)
    counted = _temporary(session, _COUNTED, select(
        a.c.commit_id, a.c.repository_id, a.c.sha, a.c.author_time, a.c.day, a.c.person_id, a.c.organisation_id,
        first.label("first_anywhere")).where(a.c.is_bot.is_(False), a.c.person_id.is_not(None)))
    if "c" not in scopes:
        return counted, None
    link = aliased(CommunityRepository)
    conditions = [_first_in_community(counted, link)]
    if community_where is not None:
        conditions.append(community_where(link))
    community = _temporary(session, _IN_COMMUNITY, select(
        link.community_id, counted.c.day, counted.c.person_id,
        func.coalesce(counted.c.organisation_id, 0), counted.c.author_time)
        .select_from(counted).join(link, link.repository_id == counted.c.repository_id).where(*conditions))
    return counted, community


def _community_selects(community: Table) -> tuple[Select, Select]:
    """(activity_days rows, activity_people 'c' rows) from the community rows of a write."""
    c = community.c
    days = (select(c.community_id, c.day, c.person_id, c.organisation_id, func.count().label("commits"),
                   func.max(c.author_time).label("last_at"))
            .group_by(c.community_id, c.day, c.person_id, c.organisation_id))
    people = (select(literal("c").label("kind"), c.community_id.label("scope_id"), c.person_id,
                     func.count().label("commits"), func.min(c.author_time).label("first_at"),
                     func.max(c.author_time).label("last_at"))
              .group_by(c.community_id, c.person_id))
    return days, people


def _repository_people(counted: Table) -> Select:
    c = counted.c
    return (select(literal("r").label("kind"), c.repository_id.label("scope_id"), c.person_id,
                   func.count().label("commits"), func.min(c.author_time).label("first_at"),
                   func.max(c.author_time).label("last_at"))
            .group_by(c.repository_id, c.person_id))


def _global_selects(session: Session, counted: Table) -> tuple[Select, Select]:
    """(activity_people 'a' rows, activity_months rows)."""
    c = counted.c
    base = (select(c.person_id, c.author_time, beijing_month(c.author_time, _dialect(session)).label("month"))
            .where(c.first_anywhere.is_(True)).subquery())
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

    counted, community = _materialise(session, where, community_where, scopes)
    if community is not None:
        days, people = _community_selects(community)
        put(ActivityDay, _DAY_COLUMNS, days, _DAY_KEYS)
        put(ActivityPerson, _PEOPLE_COLUMNS, people, _PEOPLE_KEYS)
    if "r" in scopes:
        put(ActivityPerson, _PEOPLE_COLUMNS, _repository_people(counted), _PEOPLE_KEYS)
    if "a" in scopes:
        people, months = _global_selects(session, counted)
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
    identities = _outside_pending(session, sorted(set(identities)))
    for start in range(0, len(identities), 500):
        _write(session, Commit.author_identity_id.in_(identities[start:start + 500]))
    return "people"


def _outside_pending(session: Session, identities: list[int]) -> list[int]:
    """The identities with a commit outside pending repositories (from the identity-repository index): the new
    people of a first collection have none, and their rows are written once, by :func:`settle`."""
    if not identities or session.scalar(select(func.count()).select_from(ActivityPending)) == 0:
        return identities
    kept: list[int] = []
    for start in range(0, len(identities), 500):
        kept += session.scalars(select(Commit.author_identity_id).distinct().where(
            Commit.author_identity_id.in_(identities[start:start + 500]),
            Commit.repository_id.not_in(select(ActivityPending.repository_id)))).all()
    return sorted(kept)


def rebuild(session: Session, progress: Progress | None = None, now=None) -> None:
    """Everything from the commits, in this transaction (``now``: the build time recorded; the sample fixes it)."""
    lock(session, exclusive=True)
    for model in (ActivityDay, ActivityPerson, ActivityMonth, ActivityScope, ActivityPending):
        session.execute(delete(model))  # pending repositories too: everything is counted below
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
    repositories changed (their digests differ), and settles what a killed run left pending. Returns what was done:
    "current", "settled", "communities" or "all"."""
    never, changed, gone = stale_scopes(session)
    if never:
        if not build:
            return "current"  # nothing kept in step yet: the first read builds everything
        rebuild(session, progress)
        return "all"
    settled = settle(session)  # what a killed run left pending
    if not changed and not gone:
        return "settled" if settled else "current"
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


def mark_pending(session: Session, repository_id: int) -> None:
    """List a repository whose first collection begins: its pages skip the aggregates until :func:`settle`."""
    dialect = _dialect(session)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    session.execute(dialect_insert(ActivityPending).values(repository_id=repository_id, since=utcnow())
                    .on_conflict_do_nothing(index_elements=["repository_id"]))


def is_pending(session: Session, repository_id: int) -> bool:
    return session.scalar(select(ActivityPending.repository_id)
                          .where(ActivityPending.repository_id == repository_id)) is not None


def settle(session: Session, progress: Progress | None = None) -> int:
    """Add every pending repository's commits to the aggregates, one pass each, and unlist it (in this transaction;
    exclusive lock on PostgreSQL, so no page of it is half-counted). Returns how many were settled."""
    if session.scalar(select(func.count()).select_from(ActivityPending)) == 0:
        return 0
    lock(session, exclusive=True)
    pending = session.scalars(select(ActivityPending.repository_id).order_by(ActivityPending.repository_id)).all()
    if not pending:
        return 0  # another transaction settled them while this one waited for the lock
    session.execute(delete(ActivityPending).where(ActivityPending.repository_id.in_(pending)))
    if session.get(ActivityScope, ALL_SCOPE) is None:
        return len(pending)  # never built: the first read builds everything, these included
    for number, repository_id in enumerate(pending, start=1):
        # each repository's own commits; "first in the community / anywhere" looks at every stored commit, so
        # mirrors among them still count once, under the smallest commit id
        _write(session, Commit.repository_id == repository_id)
        if progress:
            progress("activity", number, len(pending))
    return len(pending)


def lock_shas(session: Session, shas: Iterable[str]) -> None:
    """PostgreSQL: serialise transactions inserting the same shas (taken before the insert, in one sorted order)."""
    if _dialect(session) != "postgresql":
        return
    keys = sorted(set(shas))
    if keys:
        session.execute(text("SELECT count(pg_advisory_xact_lock(k)) FROM "
                             "(SELECT hashtextextended('mtx_sha:' || s, 0) AS k FROM unnest(CAST(:shas AS text[])) s "
                             "ORDER BY 1) q"), {"shas": keys})
