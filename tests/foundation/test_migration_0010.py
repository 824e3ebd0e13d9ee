"""Migration 0010 (evaluation rounds, part 1) maps the old round statuses onto the new ones and keeps every candidate,
frozen signal and score (SQLite: the referenced tables are altered in place, never rebuilt, so nothing cascades);
the new status and check constraints hold; the downgrade maps back."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import text

from tracker import db as dbm

pytestmark = pytest.mark.postgres


def seed_old_rounds(url: str) -> None:
    with dbm.get_engine(url).begin() as conn:
        conn.execute(text("INSERT INTO communities (slug, name_zh, focus, created_at) "
                          "VALUES ('c1', '社区', 'education', CURRENT_TIMESTAMP)"))
        for rid, status in ((1, "draft"), (2, "frozen"), (3, "published")):
            conn.execute(text("INSERT INTO evaluation_rounds (id, year, name, data_cutoff, model_name, model_content, "
                              "model_hash, budget, status, created_at) VALUES (:id, 2025, :name, '2025-10-31', 'm', "
                              "'{}', 'h', 1000, :status, CURRENT_TIMESTAMP)"),
                         {"id": rid, "name": f"round {rid}", "status": status})
            conn.execute(text("INSERT INTO round_candidates (id, round_id, community_id, applicant) "
                              "VALUES (:id, :id, 1, 'a')"), {"id": rid})
            conn.execute(text("INSERT INTO signal_values (candidate_id, signal, value) VALUES (:id, 'star_count', 5)"),
                         {"id": rid})
            conn.execute(text("INSERT INTO expert_scores (candidate_id, expert, signal, score, created_at) "
                              "VALUES (:id, 'e', 'expert_documentation', 4, CURRENT_TIMESTAMP)"), {"id": rid})
    dbm.dispose_engine(url)


def rows(url: str) -> tuple:
    with dbm.get_engine(url).connect() as conn:
        statuses = dict(conn.execute(text("SELECT id, status FROM evaluation_rounds")).all())
        counts = tuple(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar()
                       for t in ("round_candidates", "signal_values", "expert_scores"))
    dbm.dispose_engine(url)
    return statuses, counts


def test_old_statuses_map_and_nothing_cascades(empty_db_url):
    dbm.upgrade(empty_db_url, "0009")
    seed_old_rounds(empty_db_url)
    dbm.upgrade(empty_db_url, "0010")
    assert rows(empty_db_url) == ({1: "draft", 2: "frozen", 3: "publicised"}, (3, 3, 3))
    with dbm.get_engine(empty_db_url).connect() as conn:
        assert conn.execute(text("SELECT aggregation, min_experts, publicity_days FROM evaluation_rounds "
                                 "WHERE id = 1")).one() == ("mean", 3, 7)
        assert conn.execute(text("SELECT check_status FROM round_candidates WHERE id = 1")).scalar() == "pending"
        for bad in ("UPDATE evaluation_rounds SET status = 'published' WHERE id = 1",
                    "UPDATE evaluation_rounds SET aggregation = 'max' WHERE id = 1",
                    "UPDATE round_candidates SET check_status = 'maybe' WHERE id = 1"):
            with pytest.raises(sa.exc.IntegrityError):
                with conn.begin_nested() if conn.in_transaction() else conn.begin():
                    conn.execute(text(bad))
    dbm.dispose_engine(empty_db_url)
    command.downgrade(dbm.alembic_config(empty_db_url), "0009")
    dbm.dispose_engine(empty_db_url)
    assert rows(empty_db_url) == ({1: "draft", 2: "frozen", 3: "published"}, (3, 3, 3))


def test_the_downgrade_refuses_rounds_in_new_statuses(empty_db_url):
    dbm.upgrade(empty_db_url, "0009")
    seed_old_rounds(empty_db_url)
    dbm.upgrade(empty_db_url, "0010")
    with dbm.get_engine(empty_db_url).begin() as conn:
        conn.execute(text("UPDATE evaluation_rounds SET status = 'scored' WHERE id = 1"))
    dbm.dispose_engine(empty_db_url)
    with pytest.raises(RuntimeError, match="scored"):
        command.downgrade(dbm.alembic_config(empty_db_url), "0009")
    dbm.dispose_engine(empty_db_url)
    assert dbm.current_revision(empty_db_url) == "0010"
