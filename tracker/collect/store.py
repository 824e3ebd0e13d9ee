"""Upserts of collector records on their natural keys, one page per call, inside the caller's transaction.

Re-storing the same page changes nothing, so a run killed at any point and run again converges to the same rows.
Values that describe *when we looked* (snapshot day, contributor `seen_at`) are the only ones that depend on the run.
"""
from __future__ import annotations

import datetime as dt
from operator import itemgetter
from typing import Iterable, Sequence

from sqlalchemy import Column, MetaData, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

import collector.records as rec
from collector import registry
from tracker.models import (Account, Commit, CommitIdentity, Issue, PullRequest, Release, Repository, RepositoryContributor,
                            RepositorySnapshot)
from tracker.sqlutil import empty_temporary


def _insert(session: Session, model):
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(model)


def _least(session: Session, a, b):
    """The smaller non-null of two values, in either dialect (order-independent merging of first-seen values)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.least(a, b)
    return func.min(func.coalesce(a, b), func.coalesce(b, a))


def _dedupe(rows: list[dict], keys: Sequence[str]) -> list[dict]:
    """The last row per key (PostgreSQL refuses to update one row twice in one statement)."""
    out: dict[tuple, dict] = {}
    for row in rows:
        out[tuple(row[k] for k in keys)] = row
    return list(out.values())


class UnknownPlatform(ValueError):
    """A row naming a platform no module declares (the database has no CHECK constraint: this is the check)."""


def declared_platform(name: str) -> str:
    """``name`` when a platform module declares it (collector.registry); :class:`UnknownPlatform` otherwise."""
    platform = registry.find(name)
    if platform is None or platform.name != name:
        raise UnknownPlatform(registry.unknown_message(name) + " (declare it in collector/platforms/, or correct "
                              "the configuration)")
    return name


def account_key(login: str | None, email: str | None) -> str | None:
    if login:
        return f"login:{login.lower()}"
    if email:
        return f"email:{email.strip().lower()}"
    return None


def ensure_accounts(session: Session, platform: str, people: Iterable[tuple[str | None, str | None, str | None, bool]]
                    ) -> dict[str, int]:
    """Upsert accounts from (login, name, email, is_bot); returns key -> id. Name and e-mail keep the smallest seen.

    What collection says about bots accumulates in `platform_bot`; `is_bot` starts from it and is then resolution's.
    """
    declared_platform(platform)
    rows = {}
    for login, name, email, is_bot in people:
        key = account_key(login, email)
        if key is None:
            continue
        row = rows.setdefault(key, {"platform": platform, "key": key, "login": login, "name": name,
                                    "email": None if login else (email or "").strip().lower() or None,
                                    "is_bot": is_bot, "platform_bot": is_bot})
        row["is_bot"] = row["platform_bot"] = row["is_bot"] or is_bot
        if name and (row["name"] is None or name < row["name"]):
            row["name"] = name
    if not rows:
        return {}
    ins = _insert(session, Account)
    stmt = ins.on_conflict_do_update(index_elements=["platform", "key"], set_={
        "name": _least(session, Account.name, ins.excluded.name),
        "platform_bot": Account.platform_bot | ins.excluded.platform_bot,
    })
    ordered = sorted(rows.values(), key=lambda r: r["key"])  # a fixed order: concurrent runs lock rows alike
    session.execute(stmt, ordered)
    ids: dict[str, int] = {}
    keys = [r["key"] for r in ordered]
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        ids.update(session.execute(select(Account.key, Account.id)
                                   .where(Account.platform == platform, Account.key.in_(chunk))).all())
    return ids


def identity_key(account_id: int | None, email: str | None, name: str | None) -> str:
    """The natural key of a commit author identity (the migration computes the same in SQL)."""
    return f"{'' if account_id is None else account_id}\n{email or ''}\n{name or ''}"


def ensure_identities(session: Session, identities: Iterable[tuple[int | None, str | None, str | None, bool]]
                      ) -> dict[str, tuple[int, bool]]:
    """Upsert distinct author identities (account id, e-mail, name, collector's bot flag); key -> (id, is_bot).

    A new identity starts with the collector's bot flag; resolution then keeps `is_bot` equal to its person's.
    """
    rows: dict[str, dict] = {}
    for account_id, email, name, is_bot in identities:
        key = identity_key(account_id, email, name)
        row = rows.setdefault(key, {"key": key, "email": email, "name": name, "account_id": account_id,
                                    "is_bot": is_bot})
        row["is_bot"] = row["is_bot"] or is_bot
    if not rows:
        return {}
    ordered = sorted(rows.values(), key=lambda r: r["key"])
    session.execute(_insert(session, CommitIdentity).on_conflict_do_nothing(index_elements=["key"]), ordered)
    out: dict[str, tuple[int, bool]] = {}
    keys = [r["key"] for r in ordered]
    for start in range(0, len(keys), 500):
        for key, iid, bot in session.execute(select(CommitIdentity.key, CommitIdentity.id, CommitIdentity.is_bot)
                                             .where(CommitIdentity.key.in_(keys[start:start + 500]))):
            out[key] = (iid, bot)
    return out


def store_snapshot(session: Session, repository: Repository, snap: rec.RepoSnapshot, today: dt.date,
                   now: dt.datetime) -> int:
    """Update the repository's state and descriptive fields and keep one dated snapshot per day."""
    state = "archived" if snap.archived and snap.state == "active" else snap.state
    values = {"state": state, "moved_to": snap.moved_to if snap.state == "moved" else None}
    if snap.state != "gone":  # a deleted repository keeps what we last knew of it
        values.update(default_branch=snap.default_branch, licence=snap.licence, description=snap.description)
        if snap.is_fork is not None:
            values["is_fork"] = snap.is_fork
    session.execute(update(Repository).where(Repository.id == repository.id).values(**values))
    if snap.state == "gone":
        return 0
    ins = _insert(session, RepositorySnapshot)
    row = {"repository_id": repository.id, "taken_on": today, "taken_at": now, "stars": snap.stars,
           "forks": snap.forks, "subscribers": snap.subscribers, "open_issues": snap.open_issues,
           "created_at": snap.created_at, "pushed_at": snap.pushed_at}
    session.execute(ins.on_conflict_do_update(index_elements=["repository_id", "taken_on"],
                                              set_={k: ins.excluded[k] for k in row if k not in ("repository_id",
                                                                                                 "taken_on")}), [row])
    return 1


COMMIT_COLUMNS = ("repository_id", "sha", "author_name", "author_email", "author_time", "committer_name",
                  "committer_email", "committer_time", "author_account_id", "committer_account_id",
                  "author_identity_id", "is_bot", "is_merge", "message_title", "missing_since")
_COMMIT_UPDATED = COMMIT_COLUMNS[2:]
_STAGE = Table("mtx_commit_stage", MetaData(), *(Column(c.name, c.type) for c in Commit.__table__.columns
                                                 if c.name in COMMIT_COLUMNS), prefixes=["TEMPORARY"])
_UTC = dt.timezone.utc


def _sqlite_time(value: dt.datetime | None) -> str | None:
    """What SQLAlchemy's SQLite DATETIME stores for an aware time (tracker.models.UTCDateTime: naive UTC text)."""
    if value is None:
        return None
    if value.tzinfo is not _UTC:
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: convert to aware UTC before storing")
        value = value.astimezone(_UTC)
    return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (value.year, value.month, value.day, value.hour, value.minute,
                                                   value.second, value.microsecond)


def store_commits(session: Session, repository: Repository, commits: Sequence[rec.Commit],
                  defer_aggregates: bool = False) -> int:
    """Upsert a page of commits and keep the activity aggregates in step, in the caller's transaction: new shas are
    added to them; a stored commit whose author, time or merge flag changed refreshes the people on both sides.

    ``defer_aggregates`` (the collection job): the first page of a repository with no commits stored lists it as
    pending (tracker.metrics.activity.settle), and pages of a pending repository skip the aggregates — a first
    collection then costs one pass over its commits after people resolution instead of one per page and another
    when resolution refreshes the new people. Rows are written with the driver's bulk path (executemany of tuples on
    SQLite, COPY into a staging table on PostgreSQL): a first collection is millions of rows.
    """
    if not commits:
        return 0
    from tracker.metrics import activity

    dialect = session.get_bind().dialect.name
    shas = sorted({c.sha for c in commits})
    activity.lock_shas(session, shas)  # PostgreSQL: mirrors' pages inserting one sha, in turn
    fresh = defer_aggregates and session.scalar(
        select(Commit.id).where(Commit.repository_id == repository.id).limit(1)) is None
    before = {} if fresh else _stored(session, dialect, repository.id, shas)
    people = dict.fromkeys(p for c in commits for p in (
        (c.author_login, c.author_name, c.author_email, c.is_bot),
        (c.committer_login, c.committer_name, c.committer_email, False)))  # distinct, in order of appearance
    accounts = ensure_accounts(session, repository.platform, people)
    account_of = {(login, email): accounts.get(account_key(login, email)) for login, _n, email, _b in people}
    authored = dict.fromkeys((account_of[(c.author_login, c.author_email)], c.author_email, c.author_name, c.is_bot)
                             for c in commits)
    identities = ensure_identities(session, authored)
    identity_of = {(a, e, n): identities[identity_key(a, e, n)] for a, e, n, _b in authored}
    when = _sqlite_time if dialect == "sqlite" else (lambda value: value)
    rid = repository.id
    unique: dict[str, tuple] = {}
    for c in commits:  # the last row per sha, as the upsert would leave it
        author = account_of[(c.author_login, c.author_email)]
        identity_id, identity_bot = identity_of[(author, c.author_email, c.author_name)]
        unique[c.sha] = (rid, c.sha, c.author_name, c.author_email, when(c.author_time), c.committer_name,
                         c.committer_email, when(c.committer_time), author,
                         account_of[(c.committer_login, c.committer_email)], identity_id,
                         identity_bot,  # the person's flag once resolved
                         c.is_merge, (c.message_title or "")[:500], None)
    rows = sorted(unique.values(), key=itemgetter(1))  # in sha order: the two sha indexes fill page by page
    # shas this repository has not stored are plain inserts (their per-sha locks are held on PostgreSQL, SQLite has
    # one writer): SQLite's upsert costs twice an insert when foreign keys are on; stored ones are updated in place
    _write_commit_rows(session, dialect, [r for r in rows if r[1] not in before], update=False)
    _write_commit_rows(session, dialect, [r for r in rows if r[1] in before], update=True)
    rewritten = set()
    for r in rows if before else ():
        old = before.get(r[1])  # (identity, author time, merge) as stored, in the driver's terms like ``r``
        if old is not None and old != (r[10], r[4], r[12]):
            rewritten.update(i for i in (old[0], r[10]) if i is not None)
    if rewritten:
        activity.lock(session, exclusive=True)  # before the shared one below: one lock order for everybody
    activity.lock(session, exclusive=False)  # a settling waits for this page; this page sees what it settled
    pending = activity.is_pending(session, rid)
    if fresh and not pending:
        activity.mark_pending(session, rid)
        pending = True
    new = sorted(r[1] for r in rows if r[1] not in before)
    if new and not pending:
        activity.add_commits(session, session.scalars(select(Commit.id).where(
            Commit.repository_id == rid, Commit.sha.in_(new))).all())
    activity.refresh_identities(session, rewritten)
    return len(rows)


def _stored(session: Session, dialect: str, repository_id: int, shas: list[str]) -> dict[str, tuple]:
    """sha -> (author identity, author time, merge flag) of the shas this repository has stored, as the driver reads
    them (one parameter for the whole list: a page is thousands of shas)."""
    if dialect == "postgresql":
        sql, shas_param = "sha = ANY(%s)", shas
    else:
        import json

        sql, shas_param = "sha IN (SELECT value FROM json_each(?))", json.dumps(shas)
    mark = "%s" if dialect == "postgresql" else "?"
    found = session.connection().exec_driver_sql(
        f"SELECT sha, author_identity_id, author_time, is_merge FROM commits WHERE repository_id = {mark} AND {sql}",
        (repository_id, shas_param)).all()
    return {sha: (identity, when, bool(merge)) for sha, identity, when, merge in found}


def _write_commit_rows(session: Session, dialect: str, rows: list[tuple], update: bool) -> None:
    if not rows:
        return
    columns = ", ".join(COMMIT_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in _COMMIT_UPDATED)
    conflict = f"ON CONFLICT (repository_id, sha) DO UPDATE SET {updates}" if update else ""
    connection = session.connection()
    if dialect != "postgresql":
        marks = ", ".join("?" * len(COMMIT_COLUMNS))
        connection.exec_driver_sql(f"INSERT INTO commits ({columns}) VALUES ({marks}) {conflict}", rows)
        return
    # COPY into this connection's staging table (the commit columns, emptied at commit), then one set-based upsert
    empty_temporary(connection, _STAGE)
    raw = connection.connection.dbapi_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY mtx_commit_stage ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    connection.exec_driver_sql(f"INSERT INTO commits ({columns}) SELECT {columns} FROM mtx_commit_stage "
                               f"ORDER BY sha {conflict}".rstrip())


def store_releases(session: Session, repository: Repository, releases: Sequence[rec.Release]) -> int:
    rows = _dedupe([{"repository_id": repository.id, "tag": r.tag, "name": r.name, "published_at": r.published_at,
                     "prerelease": r.prerelease, "missing_since": None} for r in releases if not r.draft], ("tag",))
    if not rows:
        return 0
    ins = _insert(session, Release)
    session.execute(ins.on_conflict_do_update(
        index_elements=["repository_id", "tag"],
        set_={k: ins.excluded[k] for k in ("name", "published_at", "prerelease", "missing_since")}), rows)
    return len(rows)


def store_contributors(session: Session, repository: Repository, contributors: Sequence[rec.Contributor],
                       now: dt.datetime) -> int:
    rows = []
    for c in contributors:
        key = account_key(c.login, c.email) or (f"name:{c.name}" if c.name else None)
        if key:
            rows.append({"repository_id": repository.id, "key": key, "login": c.login, "name": c.name,
                         "email": c.email, "contributions": int(c.contributions or 0), "seen_at": now})
    rows = _dedupe(rows, ("key",))
    if not rows:
        return 0
    ins = _insert(session, RepositoryContributor)
    session.execute(ins.on_conflict_do_update(
        index_elements=["repository_id", "key"],
        set_={k: ins.excluded[k] for k in ("login", "name", "email", "contributions", "seen_at")}), rows)
    return len(rows)


def _store_items(session: Session, repository: Repository, model, items: Sequence, extra) -> int:
    if not items:
        return 0
    accounts = ensure_accounts(session, repository.platform, [(i.author_login, None, None, False) for i in items
                                                              if i.author_login])
    rows = _dedupe([{"repository_id": repository.id, "number": str(i.number), "title": (i.title or "")[:1000],
                     "state": i.state, "author_login": i.author_login,
                     "author_account_id": accounts.get(account_key(i.author_login, None)),
                     "created_at": i.created_at, "updated_at": i.updated_at, "closed_at": i.closed_at,
                     "comments": i.comments, "first_response_at": i.first_response_at, "missing_since": None,
                     **extra(i)} for i in items], ("number",))
    ins = _insert(session, model)
    table = model.__table__.c
    keep_known = {"comments", "first_response_at"}  # None means "not fetched this time", not "none"
    set_ = {k: (func.coalesce(ins.excluded[k], table[k]) if k in keep_known else ins.excluded[k])
            for k in rows[0] if k not in ("repository_id", "number")}
    newer = (table.updated_at.is_(None)) | (table.updated_at <= ins.excluded.updated_at)
    session.execute(ins.on_conflict_do_update(index_elements=["repository_id", "number"], set_=set_, where=newer), rows)
    return len(rows)


def store_issues(session: Session, repository: Repository, issues: Sequence[rec.Issue]) -> int:
    return _store_items(session, repository, Issue, issues, lambda i: {})


def store_pulls(session: Session, repository: Repository, pulls: Sequence[rec.PullRequest]) -> int:
    return _store_items(session, repository, PullRequest, pulls, lambda p: {"merged_at": p.merged_at})


def mark_missing(session: Session, model, repository_id: int, key_column: str, seen: set[str],
                 now: dt.datetime) -> int:
    """After a complete --full pass: rows no longer seen get `missing_since` (kept, not deleted)."""
    column = getattr(model, key_column)
    stored = set(session.scalars(select(column).where(model.repository_id == repository_id,
                                                      model.missing_since.is_(None))))
    gone = sorted(stored - seen)
    for start in range(0, len(gone), 500):
        session.execute(update(model).where(model.repository_id == repository_id,
                                            column.in_(gone[start:start + 500])).values(missing_since=now))
    return len(gone)
