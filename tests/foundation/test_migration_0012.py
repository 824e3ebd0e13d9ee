"""Migration 0012 (user administration) on a database holding users, an organisation and audit entries: every user
kept, with must_change_password false and no organisation; the users table's constraints still hold (SQLite rebuilds
it); an organisation that goes leaves its evaluators unlinked (SET NULL); the audit log gains its filter indexes and
stays append-only; the downgrade gives the rows back."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import inspect, text

from tracker import db as dbm

pytestmark = pytest.mark.postgres

USERS = [("admin", "admin", None), ("expert", "evaluator", None), ("entA", "enterprise", 1)]


def seed(url: str) -> None:
    with dbm.get_engine(url).begin() as conn:
        conn.execute(text("INSERT INTO enterprises (id, name, uscc, registered_in_chongqing, created_at, updated_at) "
                          "VALUES (1, '示例甲科技（虚构）', '91500000MA5U000001', :t, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"t": True})
        conn.execute(text("INSERT INTO organisations (id, name, kind, chongqing_local, verified) "
                          "VALUES (1, '重庆大学', 'university', :t, :t)"), {"t": True})
        for n, (name, role, enterprise) in enumerate(USERS, 1):
            conn.execute(text("INSERT INTO users (id, username, username_key, display_name, role, password_hash, "
                              "enterprise_id, is_active, failed_logins, created_at) VALUES (:id, :u, :k, :u, :r, "
                              "'hash', :e, :t, :f, CURRENT_TIMESTAMP)"),
                         {"id": n, "u": name, "k": name.lower(), "r": role, "e": enterprise, "t": True, "f": n})
        for n in range(3):
            conn.execute(text("INSERT INTO audit_log (at, actor, actor_role, action, entity, entity_key) "
                              "VALUES (CURRENT_TIMESTAMP, 'admin', 'admin', 'user.create', 'user', :k)"),
                         {"k": USERS[n][0]})
    dbm.dispose_engine(url)


def user_rows(url: str) -> list[tuple]:
    with dbm.get_engine(url).connect() as conn:
        found = conn.execute(text("SELECT username, role, enterprise_id, failed_logins FROM users ORDER BY id")).all()
    dbm.dispose_engine(url)
    return [tuple(r) for r in found]


def test_users_and_the_audit_log_survive_0012_and_its_downgrade(empty_db_url):
    dbm.upgrade(empty_db_url, "0011")
    seed(empty_db_url)
    before = user_rows(empty_db_url)
    dbm.upgrade(empty_db_url, "0012")
    assert user_rows(empty_db_url) == before == [(u, r, e, n) for n, (u, r, e) in enumerate(USERS, 1)]
    engine = dbm.get_engine(empty_db_url)
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(text(
            "SELECT must_change_password, organisation_id, last_sign_in_at FROM users ORDER BY id"))] \
            == [(False, None, None)] * 3
    insp = inspect(engine)
    assert {"ix_audit_log_actor", "ix_audit_log_action", "ix_audit_log_entity", "ix_audit_log_at"} \
        <= {i["name"] for i in insp.get_indexes("audit_log")}
    assert [(fk["name"], fk["referred_table"], fk["options"].get("ondelete")) for fk in insp.get_foreign_keys("users")
            if fk["constrained_columns"] == ["organisation_id"]] \
        == [("fk_users_organisation_id_organisations", "organisations", "SET NULL")]

    with engine.begin() as conn:  # a new row without the column gets the server default
        conn.execute(text("INSERT INTO users (id, username, username_key, role, is_active, failed_logins, created_at) "
                          "VALUES (4, 'late', 'late', 'evaluator', :t, 0, CURRENT_TIMESTAMP)"), {"t": True})
        assert conn.execute(text("SELECT must_change_password FROM users WHERE username = 'late'")).scalar() in (False, 0)
        conn.execute(text("UPDATE users SET organisation_id = 1 WHERE username = 'expert'"))
    for bad in ("UPDATE users SET enterprise_id = NULL WHERE username = 'entA'",  # the enterprise link
                "UPDATE users SET role = 'guest' WHERE username = 'expert'",
                "UPDATE users SET organisation_id = 99 WHERE username = 'expert'",
                "UPDATE audit_log SET actor = 'someone' WHERE id = 1",
                "DELETE FROM audit_log WHERE id = 1"):
        with pytest.raises(sa.exc.DBAPIError):
            with engine.begin() as conn:
                conn.execute(text(bad))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM organisations WHERE id = 1"))
        assert conn.execute(text("SELECT organisation_id FROM users WHERE username = 'expert'")).scalar() is None
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == 3
    dbm.dispose_engine(empty_db_url)

    command.downgrade(dbm.alembic_config(empty_db_url), "0011")
    dbm.dispose_engine(empty_db_url)
    assert user_rows(empty_db_url)[:3] == before
    insp = inspect(dbm.get_engine(empty_db_url))
    assert "must_change_password" not in {c["name"] for c in insp.get_columns("users")}
    assert "ix_audit_log_actor" not in {i["name"] for i in insp.get_indexes("audit_log")}
    dbm.dispose_engine(empty_db_url)
    dbm.upgrade(empty_db_url)
    assert dbm.current_revision(empty_db_url) == dbm.head_revision()
    dbm.dispose_engine(empty_db_url)
