"""Migration 0006: results stopped by the page cap (stored as `deadline` until now) become `partial`; round results
say `ranked` instead of `ok`; both directions, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tracker import db as dbm

pytestmark = pytest.mark.postgres

CAPPED = "stream commits stopped after 2 pages (collection.max_pages_per_stream); stored so far, its bookmark resumes it"


def _fill(url: str) -> None:
    with dbm.get_engine(url).begin() as conn:
        conn.execute(text("INSERT INTO collection_runs (id, started_at, status) VALUES (1, '2026-01-01 00:00:00', "
                          "'partial')"))
        for rid, error in ((1, CAPPED), (2, "deadline reached inside stream issues; its bookmark resumes it")):
            conn.execute(text("INSERT INTO repositories (id, platform, api_url, path, state, is_fork, first_seen_at) "
                              "VALUES (:id, 'github', 'https://api.github.com', :path, 'active', false, "
                              "'2026-01-01 00:00:00')"), {"id": rid, "path": f"o/r{rid}"})
            conn.execute(text("INSERT INTO collection_results (id, run_id, repository_id, status, requests, "
                              "not_modified, rate_limit_waits, wait_seconds, error) "
                              "VALUES (:id, 1, :id, 'deadline', 0, 0, 0, 0, :error)"), {"id": rid, "error": error})


def _statuses(url: str) -> list[str]:
    with dbm.get_engine(url).connect() as conn:
        return list(conn.execute(text("SELECT status FROM collection_results ORDER BY id")).scalars())


def test_capped_results_become_partial_and_back(empty_db_url):
    dbm.upgrade(empty_db_url, "0005")
    _fill(empty_db_url)
    dbm.upgrade(empty_db_url)
    assert _statuses(empty_db_url) == ["partial", "deadline"]  # a real deadline stays a deadline
    with pytest.raises(IntegrityError), dbm.get_engine(empty_db_url).begin() as conn:
        conn.execute(text("UPDATE collection_results SET status = 'stopped' WHERE id = 1"))
    command.downgrade(dbm.alembic_config(empty_db_url), "0005")
    assert _statuses(empty_db_url) == ["deadline", "deadline"]
    dbm.upgrade(empty_db_url)
    assert dbm.current_revision(empty_db_url) == dbm.head_revision()
