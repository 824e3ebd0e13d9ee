"""Who made each commit, for metrics: one selectable of (commit, person, organisation, bot) everyone counts through.

    commit_attribution(dialect) -> SELECT commit_id, repository_id, sha, author_time, day, is_merge,
                                          person_id, organisation_id, is_bot

- `person_id`: the resolved person (commits -> commit_identities -> people). Before the first resolution an identity
  has no person; it then counts as itself, with the negative identity id, so nobody disappears from a count.
- `day`: the commit's Beijing calendar date (author time; user dates are Beijing dates).
- `organisation_id`: the person's dated affiliation on that date (start inclusive, end exclusive), else
  the organisation of the identity's e-mail domain; NULL = individual (free mail, noreply, anonymous).
- `is_bot`: the person's flag (authoritative). Every metric excludes bots: `WHERE NOT is_bot`.

Use it as a subquery: `a = commit_attribution(d).subquery(); select(func.count(distinct(a.c.person_id)))...`.
"""
from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql import Select

from tracker.models import Affiliation, Commit, CommitIdentity, Person
from tracker.sqlutil import beijing_day


def commit_attribution(dialect_name: str) -> Select:
    day = beijing_day(Commit.author_time, dialect_name)
    affiliation = and_(Affiliation.person_id == CommitIdentity.person_id,
                       or_(Affiliation.start_date.is_(None), Affiliation.start_date <= day),
                       or_(Affiliation.end_date.is_(None), day < Affiliation.end_date))
    return (select(Commit.id.label("commit_id"), Commit.repository_id, Commit.sha, Commit.author_time,
                   day.label("day"), Commit.is_merge,
                   func.coalesce(CommitIdentity.person_id, -CommitIdentity.id).label("person_id"),
                   func.coalesce(Affiliation.organisation_id, CommitIdentity.organisation_id).label("organisation_id"),
                   func.coalesce(Person.is_bot, CommitIdentity.is_bot, Commit.is_bot).label("is_bot"))
            .select_from(Commit)
            .outerjoin(CommitIdentity, CommitIdentity.id == Commit.author_identity_id)
            .outerjoin(Person, Person.id == CommitIdentity.person_id)
            .outerjoin(Affiliation, affiliation))
