"""Migration 0008 drops the platform CHECK constraint on repositories without touching a row (SQLite rewrites the
stored schema: rebuilding the table would cascade-delete every commit), and its downgrade restores it."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import text

from tracker import db as dbm

pytestmark = pytest.mark.postgres

REPO = ("INSERT INTO repositories (platform, api_url, path, state, is_fork, first_seen_at) "
        "VALUES (:platform, 'https://api.example.org', :path, 'active', false, CURRENT_TIMESTAMP)")
COMMIT = ("INSERT INTO commits (repository_id, sha, author_time, committer_time, is_merge, is_bot) "
          "VALUES (:rid, :sha, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false, false)")


def insert_repository(url: str, platform: str, path: str, commits: int = 0) -> None:
    with dbm.get_engine(url).begin() as conn:
        conn.execute(text(REPO), {"platform": platform, "path": path})
        rid = conn.execute(text("SELECT id FROM repositories WHERE path = :p"), {"p": path}).scalar()
        for i in range(commits):
            conn.execute(text(COMMIT), {"rid": rid, "sha": f"{i:040x}"})


def counts(url: str) -> tuple[int, int]:
    with dbm.get_engine(url).connect() as conn:
        return (conn.execute(text("SELECT COUNT(*) FROM repositories")).scalar(),
                conn.execute(text("SELECT COUNT(*) FROM commits")).scalar())


def test_upgrade_lets_any_declared_platform_in_and_keeps_every_row(empty_db_url):
    dbm.upgrade(empty_db_url, "0007")
    insert_repository(empty_db_url, "github", "acme/kept", commits=3)
    with pytest.raises(sa.exc.IntegrityError):  # before: only the five built-in names
        insert_repository(empty_db_url, "testforge", "acme/new")
    dbm.dispose_engine(empty_db_url)
    dbm.upgrade(empty_db_url, "0008")
    assert counts(empty_db_url) == (1, 3)  # nothing cascaded away
    insert_repository(empty_db_url, "testforge", "acme/new")
    with dbm.get_engine(empty_db_url).connect() as conn:  # the other constraints are still there
        with pytest.raises(sa.exc.IntegrityError):
            conn.execute(text(REPO.replace("'active'", "'nonsense'")), {"platform": "github", "path": "x/y"})
    assert counts(empty_db_url) == (2, 3)


def test_downgrade_restores_the_constraint_and_refuses_other_platforms(empty_db_url):
    dbm.upgrade(empty_db_url, "0008")
    insert_repository(empty_db_url, "gitee", "acme/kept", commits=2)
    insert_repository(empty_db_url, "testforge", "acme/new")
    with pytest.raises(RuntimeError, match="testforge"):
        command.downgrade(dbm.alembic_config(empty_db_url), "0007")
    dbm.dispose_engine(empty_db_url)
    assert dbm.current_revision(empty_db_url) == "0008" and counts(empty_db_url) == (2, 2)
    with dbm.get_engine(empty_db_url).begin() as conn:
        conn.execute(text("DELETE FROM repositories WHERE platform = 'testforge'"))
    command.downgrade(dbm.alembic_config(empty_db_url), "0007")
    dbm.dispose_engine(empty_db_url)
    assert dbm.current_revision(empty_db_url) == "0007" and counts(empty_db_url) == (1, 2)
    with pytest.raises(sa.exc.IntegrityError):
        insert_repository(empty_db_url, "testforge", "acme/again")
