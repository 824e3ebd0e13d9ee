"""Has anything people resolution reads changed since it last ran? A digest of the inputs, kept in one row.

The digest covers the rule files, the rule code's version and, from the database, cheap aggregates that move whenever
collection or an administrator changes what resolution reads: identities are only ever inserted (count, highest id,
how many have a person), corrections likewise (count, highest id); people and organisations are few or indexed. An
existing account changes in place only in `name` and `platform_bot` (collection's upsert), so those two columns are
hashed row by row — one scan of the accounts table, never of commits.
"""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import Connection

from tracker.config import IdentitiesFile, OrganisationsFile
from tracker.models import PeopleResolutionState, utcnow

# Bump when a change to the rules (tracker/people/rules.py) can give other people from the same data: the next
# resolution then runs in full instead of trusting the digest.
RULES_VERSION = 2

STATE_ID = 1

# every account's mutable inputs as one text, built by the database (length-prefixed names: no two inputs collide)
_ROW = "id || ':' || coalesce(length(name), -1) || ':' || coalesce(name, '') || ':' || {bot}"
_ACCOUNTS_TEXT = {
    "postgresql": f"SELECT md5(string_agg({_ROW.format(bot='platform_bot::int')}, ',' ORDER BY id)) FROM accounts",
    "sqlite": f"SELECT group_concat(r, ',') FROM (SELECT {_ROW.format(bot='platform_bot')} AS r FROM accounts "
              "ORDER BY id)",
}


def config_digest(identities: IdentitiesFile, organisations: OrganisationsFile) -> str:
    payload = json.dumps([RULES_VERSION, identities.model_dump(mode="json"), organisations.model_dump(mode="json")],
                         sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


# plain SQL: a no-op resolution should not pay for compiling ORM statements (or configuring the mappers at all)
_AGGREGATES = (
    "SELECT count(*), max(id), count(person_id) FROM commit_identities",
    "SELECT count(*), max(id), count(person_id) FROM accounts",
    "SELECT count(*), max(id) FROM identity_corrections",
    "SELECT count(*), max(id) FROM people",
    "SELECT count(*), max(id) FROM affiliations",
    "SELECT count(*), max(id) FROM person_suggestions",
    "SELECT count(*), max(id) FROM organisations",
)


class Probe:
    """The database half of the digest, plus the counts a no-op resolution reports."""

    def __init__(self, conn: Connection, config: str) -> None:
        h = hashlib.blake2b(config.encode(), digest_size=16)
        values = [tuple(conn.exec_driver_sql(sql).one()) for sql in _AGGREGATES]
        self.identities, self.people, self.suggestions = values[0][0], values[3][0], values[5][0]
        h.update(repr(values).encode())
        h.update(repr([tuple(r) for r in conn.exec_driver_sql(
            "SELECT id, name, kind, chongqing_local, verified FROM organisations ORDER BY id")]).encode())
        h.update((conn.exec_driver_sql(_ACCOUNTS_TEXT[conn.dialect.name]).scalar() or "").encode())
        self.digest = h.hexdigest()


def stored_digest(conn: Connection) -> str | None:
    return conn.exec_driver_sql(f"SELECT digest FROM people_resolution_state WHERE id = {STATE_ID}").scalar()


def store_digest(conn: Connection, digest: str, now=None) -> None:
    table = PeopleResolutionState.__table__
    values = {"digest": digest, "resolved_at": now or utcnow()}
    if conn.execute(table.update().where(table.c.id == STATE_ID).values(values)).rowcount == 0:
        conn.execute(table.insert().values(id=STATE_ID, **values))


def forget(conn: Connection) -> None:
    """The next resolution runs in full (after something the digest cannot see, e.g. a test editing rows)."""
    conn.execute(PeopleResolutionState.__table__.delete())
