"""Migration 0004 through `mtx init`, on SQLite and PostgreSQL: credentials already stored in URLs are removed from
repositories and communities, redacted in the append-only audit log (which stays append-only), and the redaction is
itself audited."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError

from tracker import db as dbm
from tracker.cli import main

pytestmark = pytest.mark.postgres
SECRET = "glpat-S3cretTokenValue0123456789"
JSON = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def table(name: str, *columns: str, json_columns: tuple[str, ...] = ()) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns), *(sa.column(c, JSON) for c in json_columns))


REPOS = table("repositories", "id", "platform", "api_url", "path", "web_url", "state", "is_fork", "first_seen_at")
COMMUNITIES = table("communities", "id", "slug", "name_zh", "focus", "homepage", "created_at")
LINKS = table("community_repositories", "community_id", "repository_id", "source")
BOOKMARKS = table("collection_bookmarks", "id", "repository_id", "stream", "updated_at", json_columns=("validators",))
AUDIT = table("audit_log", "id", "at", "actor", "actor_role", "action", "entity", "entity_key",
              json_columns=("before", "after"))


def store_rows_with_credentials(url: str) -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    if url.startswith("sqlite"):
        now = now.replace(tzinfo=None)
    with dbm.get_engine(url).begin() as conn:
        repo = {"state": "active", "is_fork": False, "first_seen_at": now}
        conn.execute(REPOS.insert(), [
            {"id": 1, "platform": "github", "api_url": "https://api.github.com", "path": "acme/engine",
             "web_url": f"https://user:{SECRET}@github.com/acme/engine", **repo},
            {"id": 2, "platform": "gitlab", "api_url": f"https://oauth2:{SECRET}@gitlab.example.org/api/v4",
             "path": "grp/app", "web_url": None, **repo},
            # the same repository stored again once the config was fixed: the scrubbed api_url would collide
            {"id": 3, "platform": "gitlab", "api_url": f"https://{SECRET}@gitlab.example.org/api/v4",
             "path": "grp/clean", "web_url": None, **repo},
            {"id": 4, "platform": "gitlab", "api_url": "https://gitlab.example.org/api/v4", "path": "grp/clean",
             "web_url": "https://gitlab.example.org/grp/clean", **repo},
        ])
        conn.execute(COMMUNITIES.insert(), [{"id": 1, "slug": "demo", "name_zh": "演示", "focus": "other",
                                             "homepage": f"https://admin:{SECRET}@demo.example.org/", "created_at": now}])
        conn.execute(LINKS.insert(), [{"community_id": 1, "repository_id": 2,
                                       "source": f"org:gitlab:https://oauth2:{SECRET}@gitlab.example.org/api/v4:grp"}])
        conn.execute(BOOKMARKS.insert(), [{"id": 1, "repository_id": 2, "stream": "issues", "updated_at": now,
                                           "validators": {f"https://oauth2:{SECRET}@gitlab.example.org/api/v4/x":
                                                          {"etag": "W/1"}}}])
        for entry in [  # one by one, so the ids follow this order
            {"at": now, "actor": "office", "actor_role": "admin", "action": "repository.add",
             "entity": "repository", "entity_key": "github:acme/engine", "before": None,
             "after": {"api_url": "https://api.github.com", "web_url": f"https://user:{SECRET}@github.com/acme/engine"}},
            {"at": now, "actor": "office", "actor_role": "admin", "action": "community.add",
             "entity": "community", "entity_key": "demo", "before": None,
             "after": {"homepage": f"https://admin:{SECRET}@demo.example.org/", "name_zh": "演示"}},
            {"at": now, "actor": "office", "actor_role": "admin", "action": "enterprise.create",
             "entity": "enterprise", "entity_key": "915000000000000192", "before": None, "after": {"name": "示例"}},
        ]:
            conn.execute(AUDIT.insert().values(**entry))


def everything_stored(url: str) -> str:
    with dbm.get_engine(url).connect() as conn:
        return json.dumps([[list(map(str, row)) for row in conn.execute(sa.text(f"SELECT * FROM {name}"))]
                           for name in ("repositories", "communities", "community_repositories",
                                        "collection_bookmarks", "audit_log")], ensure_ascii=False)


def test_init_scrubs_stored_credentials_and_audits_the_redaction(empty_db_url, capsys):
    dbm.upgrade(empty_db_url, "0002")
    store_rows_with_credentials(empty_db_url)
    assert SECRET in everything_stored(empty_db_url)

    assert main(["--db", empty_db_url, "init"]) == 0
    assert "0002 -> " in capsys.readouterr().out  # upgraded from before the scrub to head
    assert SECRET not in everything_stored(empty_db_url)

    with dbm.get_engine(empty_db_url).connect() as conn:
        repos = {r.id: (r.api_url, r.web_url) for r in conn.execute(sa.select(REPOS))}
        assert repos == {1: ("https://api.github.com", "https://github.com/acme/engine"),
                         2: ("https://gitlab.example.org/api/v4", None),
                         3: ("https://***@gitlab.example.org/api/v4", None),  # kept unique, the secret gone
                         4: ("https://gitlab.example.org/api/v4", "https://gitlab.example.org/grp/clean")}
        assert conn.scalar(sa.select(COMMUNITIES.c.homepage)) == "https://demo.example.org/"
        assert conn.scalar(sa.select(LINKS.c.source)) == "org:gitlab:https://gitlab.example.org/api/v4:grp"
        assert conn.scalar(sa.select(BOOKMARKS.c.validators)) == {
            "https://gitlab.example.org/api/v4/x": {"etag": "W/1"}}
        entries = dict(enumerate(conn.execute(sa.select(AUDIT).order_by(AUDIT.c.id)), start=1))
    assert entries[1].after == {"api_url": "https://api.github.com",
                                "web_url": "https://***@github.com/acme/engine"}
    assert entries[2].after == {"homepage": "https://***@demo.example.org/", "name_zh": "演示"}
    assert entries[3].after == {"name": "示例"}  # untouched
    assert len(entries) == 4
    record = entries[4]
    assert (record.action, record.entity, record.actor_role) == ("audit.redact_credentials", "audit_log", "system")
    assert record.after["audit_entries_redacted"] == [entries[1].id, entries[2].id]
    assert record.after["rows_scrubbed"] == {"repositories": 3, "communities": 1, "community_repositories": 1,
                                             "collection_bookmarks": 1}

    # the append-only guard is back
    with dbm.get_engine(empty_db_url).connect() as conn:
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(sa.text(statement))
            conn.rollback()

    assert main(["--db", empty_db_url, "init"]) == 0  # a second run: at head, nothing more recorded
    with dbm.get_engine(empty_db_url).connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(AUDIT)) == 4


def test_a_clean_database_gets_no_redaction_entry(empty_db_url):
    assert main(["--db", empty_db_url, "init"]) == 0
    with dbm.get_engine(empty_db_url).connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(AUDIT)) == 0
