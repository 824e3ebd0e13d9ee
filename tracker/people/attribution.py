"""Who made each commit, for metrics: one selectable of (commit, person, organisation, bot) everyone counts through.

    commit_attribution(dialect) -> SELECT commit_id, repository_id, sha, author_time, person_id, organisation_id, is_bot

- `person_id`: the resolved person (commits -> commit_identities -> people). Before the first resolution an identity
  has no person; it then counts as itself, with the negative identity id, so nobody disappears from a count.
- `organisation_id`: the person's dated affiliation on the commit's UTC date (start inclusive, end exclusive), else
  the organisation of the identity's e-mail domain; NULL = individual (free mail, noreply, anonymous).
- `is_bot`: the person's flag (authoritative). Every metric excludes bots: `WHERE NOT is_bot`.

Use it as a subquery: `a = commit_attribution(d).subquery(); select(func.count(distinct(a.c.person_id)))...`.
"""
from __future__ import annotations

from sqlalchemy import Date, and_, cast, func, or_, select
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from tracker.models import Affiliation, Commit, CommitIdentity, Person


def commit_day(column, dialect_name: str) -> ColumnElement:
    """The UTC calendar date of a timestamp column, comparable with DATE columns in both dialects."""
    if dialect_name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def commit_attribution(dialect_name: str) -> Select:
    day = commit_day(Commit.author_time, dialect_name)
    affiliation = and_(Affiliation.person_id == CommitIdentity.person_id,
                       or_(Affiliation.start_date.is_(None), Affiliation.start_date <= day),
                       or_(Affiliation.end_date.is_(None), day < Affiliation.end_date))
    return (select(Commit.id.label("commit_id"), Commit.repository_id, Commit.sha, Commit.author_time,
                   func.coalesce(CommitIdentity.person_id, -CommitIdentity.id).label("person_id"),
                   func.coalesce(Affiliation.organisation_id, CommitIdentity.organisation_id).label("organisation_id"),
                   func.coalesce(Person.is_bot, CommitIdentity.is_bot, Commit.is_bot).label("is_bot"))
            .select_from(Commit)
            .outerjoin(CommitIdentity, CommitIdentity.id == Commit.author_identity_id)
            .outerjoin(Person, Person.id == CommitIdentity.person_id)
            .outerjoin(Affiliation, affiliation))
