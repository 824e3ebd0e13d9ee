"""Migration 0003 gives existing users their normalised username key, and stops on two names that collide."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from tracker import db as dbm
from tracker.cli import main

pytestmark = pytest.mark.postgres

INSERT = ("INSERT INTO users (username, role, is_active, failed_logins, created_at) "
          "VALUES (:name, 'evaluator', true, 0, CURRENT_TIMESTAMP)")


def add_users(url: str, *names: str) -> None:
    with dbm.get_engine(url).begin() as conn:
        for name in names:
            conn.execute(text(INSERT), {"name": name})


def test_upgrade_fills_the_key_of_existing_users_and_downgrades(empty_db_url):
    dbm.upgrade(empty_db_url, "0002")
    add_users(empty_db_url, "entA", "ＥＸＰＥＲＴ\u200b", "张三")
    dbm.upgrade(empty_db_url)
    with dbm.get_engine(empty_db_url).connect() as conn:
        keys = dict(conn.execute(text("SELECT username, username_key FROM users")).all())
    assert keys == {"entA": "enta", "ＥＸＰＥＲＴ\u200b": "expert", "张三": "张三"}
    command.downgrade(dbm.alembic_config(empty_db_url), "0002")
    assert dbm.current_revision(empty_db_url) == "0002"


def test_init_stops_on_two_users_with_the_same_normalised_name(empty_db_url, capsys):
    dbm.upgrade(empty_db_url, "0002")
    add_users(empty_db_url, "entA", "ENTA ")
    assert main(["--db", empty_db_url, "init"]) == 1
    err = capsys.readouterr().err
    assert "users 'entA' and 'ENTA ' are the same name once normalised; rename one" in err and "Traceback" not in err
    assert dbm.current_revision(empty_db_url) == "0002"
