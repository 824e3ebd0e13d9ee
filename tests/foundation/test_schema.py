"""`mtx init` on SQLite and PostgreSQL: schema at head, a second run a no-op, models and migrations in step."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tracker import db as dbm
from tracker import vocab
from tracker.cli import main
from tracker.models import AuditEntry, Base, Commit, Repository

pytestmark = pytest.mark.postgres


def schema_snapshot(url: str) -> dict:
    insp = inspect(dbm.get_engine(url))
    return {t: (sorted(c["name"] for c in insp.get_columns(t)),
                sorted(i["name"] for i in insp.get_indexes(t)),
                sorted(u["name"] for u in insp.get_unique_constraints(t)))
            for t in insp.get_table_names()}


def test_init_twice_reaches_head_and_second_run_changes_nothing(empty_db_url, capsys):
    assert main(["--db", empty_db_url, "init"]) == 0
    first = capsys.readouterr().out
    assert "-> " + dbm.head_revision() in first
    assert dbm.current_revision(empty_db_url) == dbm.head_revision()
    before = schema_snapshot(empty_db_url)
    assert {"communities", "repositories", "commits", "certificates", "awards", "audit_log", "users",
            "evaluation_rounds", "collection_bookmarks"} <= set(before)

    assert main(["--db", empty_db_url, "init"]) == 0
    second = capsys.readouterr().out
    assert "already at head" in second
    assert schema_snapshot(empty_db_url) == before


def test_models_and_migrations_do_not_drift(db_url):
    """The equivalent of `alembic check`: autogenerate finds nothing to add at head. `mtx init` also applies the job
    queue's schema on PostgreSQL (tracker.workers.schema: procrastinate's tables, the token quota), which is not ours
    to migrate: it is left out."""
    from tracker.workers.schema import OUR_TABLES

    assert main(["--db", db_url, "init"]) == 0

    def ours(name, type_, *_):
        return not (type_ == "table" and (name.startswith("procrastinate_") or name in OUR_TABLES))

    with dbm.get_engine(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True,
                                                                       "include_name": ours}), Base.metadata)
    assert diff == []


def _quoted(sql: str) -> set[str]:
    return set(re.findall(r"'([^']*)'", sql))


def test_check_constraints_in_the_database_allow_exactly_the_vocabulary(db_url):
    """Autogenerate does not compare CHECK constraints: each value list the models build from tracker.vocab must be
    the one the migrations created (read back from the database, on SQLite and PostgreSQL)."""
    insp = inspect(dbm.get_engine(db_url))
    checked = 0
    for table in Base.metadata.sorted_tables:
        in_database = {c["name"]: c["sqltext"] for c in insp.get_check_constraints(table.name)}
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint) and " IN (" in str(constraint.sqltext):
                assert constraint.name in in_database, (table.name, constraint.name)
                assert _quoted(in_database[constraint.name]) == _quoted(str(constraint.sqltext)), constraint.name
                checked += 1
    assert checked >= 14
    assert _quoted(next(c["sqltext"] for c in insp.get_check_constraints("collection_results")
                        if c["name"] == "ck_collection_results_status")) == set(vocab.RESULT_STATUSES.values)


def test_every_constraint_is_named(db_url):
    insp = inspect(dbm.get_engine(db_url))
    for table in insp.get_table_names():
        for fk in insp.get_foreign_keys(table):
            assert fk["name"], f"unnamed foreign key on {table}"
        for uq in insp.get_unique_constraints(table):
            assert uq["name"] and uq["name"].startswith("uq_"), (table, uq)


def test_audit_log_refuses_update_and_delete(session):
    session.add(AuditEntry(actor="a", actor_role="admin", action="x", entity="e", entity_key="k"))
    session.commit()
    for statement in ("UPDATE audit_log SET actor = 'b'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert session.scalar(select(AuditEntry.actor)) == "a"


def test_commit_unique_per_repository_and_sha_and_times_come_back_utc(session):
    repo = Repository(platform="github", api_url="https://api.github.com", path="o/r")
    session.add(repo)
    session.flush()
    beijing = dt.timezone(dt.timedelta(hours=8))
    session.add(Commit(repository_id=repo.id, sha="a" * 40, author_time=dt.datetime(2025, 3, 1, 9, 0, tzinfo=beijing)))
    session.commit()
    stored = session.scalar(select(Commit.author_time))
    assert stored == dt.datetime(2025, 3, 1, 1, 0, tzinfo=dt.timezone.utc)
    assert stored.utcoffset() == dt.timedelta(0)
    session.add(Commit(repository_id=repo.id, sha="a" * 40))
    with pytest.raises(IntegrityError):
        session.commit()


def test_naive_datetimes_are_refused(session):
    repo = Repository(platform="github", api_url="https://api.github.com", path="o/r")
    session.add(repo)
    session.flush()
    session.add(Commit(repository_id=repo.id, sha="b" * 40, author_time=dt.datetime(2025, 3, 1)))
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()


def test_state_is_checked_by_the_database(session):
    session.add(Repository(platform="github", api_url="x", path="o/r", state="nonsense"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_platform_is_checked_against_the_registry_on_write(session):
    """Since 0007 the database has no platform CHECK: the declared platforms (collector.registry) are the check."""
    from tracker.access import Actor
    from tracker.collect.store import UnknownPlatform, ensure_accounts
    from tracker.collect.sync import get_or_add_repository

    actor = Actor("admin", "admin")
    with pytest.raises(UnknownPlatform, match="unknown platform 'sourceforge'; known: git, gitcode, gitee, github, "
                                              "gitlab"):
        get_or_add_repository(session, "sourceforge", "https://sf.example", "o/r", None, actor)
    with pytest.raises(UnknownPlatform, match="sourceforge"):
        ensure_accounts(session, "sourceforge", [("bob", "Bob", None, False)])
    assert get_or_add_repository(session, "gitee", "https://gitee.com/api/v5", "o/r", None, actor).id
    assert session.scalars(select(Repository.platform)).all() == ["gitee"]
