"""Re-resolution is incremental: an unchanged database is not read again, and whatever changed (collection, corrections,
an account's platform flag, the rule files) gives exactly what a full resolution gives."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from tests.people.conftest import IDENTITIES, commit, write_config
from tests.people.test_resolution import partition, resolve
from tracker import db as dbm
from tracker.access import SYSTEM
from tracker.cli import main
from tracker.collect import store
from tracker.config import load_config
from tracker.models import Repository
from tracker.people.resolve import resolve_people

pytestmark = pytest.mark.postgres

SNAPSHOT = {
    "people": "SELECT id, display_name, is_bot, bot_reason, is_anonymous FROM people",
    "identities": "SELECT id, person_id, organisation_id, rule, rule_via, is_bot FROM commit_identities",
    "accounts": "SELECT id, person_id, is_bot, rule, rule_via FROM accounts",
    "commits": "SELECT id, is_bot FROM commits",
    "affiliations": "SELECT person_id, organisation_id, start_date, end_date, source FROM affiliations",
    "suggestions": "SELECT key_a, key_b, rule, detail FROM person_suggestions",
    "organisations": "SELECT id, name, verified FROM organisations",
}


def snapshot(url) -> dict[str, list[tuple]]:
    with dbm.get_engine(url).connect() as conn:
        return {name: sorted(tuple(bool(v) if isinstance(v, bool) else v for v in row)
                             for row in conn.exec_driver_sql(sql)) for name, sql in SNAPSHOT.items()}


def full_resolution_changes_nothing(url, config_dir) -> None:
    """The incremental result is what a full resolution computes: running one in full afterwards changes no row."""
    before = snapshot(url)
    config = load_config(config_dir)
    with dbm.session_scope(url) as s:
        report = resolve_people(s, SYSTEM, config.identities, config.organisations, full=True)
    assert (report.created, report.changed, report.merged_away) == ([], [], [])
    assert snapshot(url) == before


def store_more(url, platform: str, *commits) -> None:
    with dbm.session_scope(url) as s:
        store.store_commits(s, s.scalar(select(Repository).where(Repository.platform == platform)),
                            [commit(*c) for c in commits])


def test_an_unchanged_database_is_answered_from_the_digest(world_url, people_config):
    first = resolve(world_url, people_config)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    engine = dbm.get_engine(world_url)
    event.listen(engine, "before_cursor_execute", record)
    try:
        again = resolve(world_url, people_config)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert (again.created, again.changed, again.merged_away) == ([], [], [])
    assert (again.people, again.identities, again.unchanged) == (first.people, first.identities, True)
    # aggregates only: no identity, commit or person row is read, nothing is written
    assert not [s for s in statements if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert not [s for s in statements if "FROM commits" in s or "SELECT id, email" in s]
    assert len(statements) <= 12, statements


def test_incremental_equals_full_after_collections_corrections_and_rule_changes(world_url, people_config, tmp_path,
                                                                                capsys):
    first = resolve(world_url, people_config)
    full_resolution_changes_nothing(world_url, people_config)

    # 1. a collection: a known address under a new name, a known address linked to a new account, somebody new
    store_more(world_url, "gitcode", ("41", "Chen Yiwen", "cyw@kaihong.com", None, "2024-04-01T00:00:00", False),
               ("42", "李四", "lisi@h-partners.com", "lisi-hp", "2024-04-02T00:00:00", False),
               ("43", "孙七", "sunqi@cqu.edu.cn", "sunqi", "2024-04-03T00:00:00", False))
    step = resolve(world_url, people_config)
    assert step.created and step.identities == first.identities + 3
    full_resolution_changes_nothing(world_url, people_config)

    # 2. corrections through the CLI: a merge, a bot flag, then a split (each resolves at once, incrementally)
    def mtx(*args: str) -> None:
        code = main(["--db", world_url, "--config", str(people_config), "--as", "office", *args])
        out, err = capsys.readouterr()
        assert code == 0, err

    mtx("people", "merge", "sunqi@cqu.edu.cn", "li@mail.cqu.edu.cn", "--reason", "同一人 / same person")
    full_resolution_changes_nothing(world_url, people_config)
    mtx("people", "bot", "lisi@h-partners.com", "--yes", "--reason", "脚本账号 / a script")
    full_resolution_changes_nothing(world_url, people_config)
    mtx("people", "split", "sunqi@cqu.edu.cn", "li@mail.cqu.edu.cn", "--reason", "两个人 / two people")
    full_resolution_changes_nothing(world_url, people_config)

    # 3. a collection that only changes an existing account in place: the platform now says it is a bot
    with dbm.session_scope(world_url) as s:
        store.ensure_accounts(s, "gitcode", [("wangwu", "王五", None, True)])
    step = resolve(world_url, people_config)
    assert step.changed
    full_resolution_changes_nothing(world_url, people_config)
    with dbm.get_engine(world_url).connect() as conn:
        assert conn.exec_driver_sql("SELECT p.is_bot FROM people p JOIN accounts a ON a.person_id = p.id "
                                    "WHERE a.login = 'wangwu'").scalar()

    # 4. the rule files change: identities.yaml gains a bot pattern
    changed_rules = write_config(tmp_path / "changed", identities={
        **IDENTITIES, "bots": {**IDENTITIES["bots"], "patterns": [*IDENTITIES["bots"]["patterns"], "^孙七$"]}})
    step = resolve(world_url, changed_rules)
    assert step.changed
    full_resolution_changes_nothing(world_url, changed_rules)

    # and the people, by natural keys, are those of a resolution from nothing at all
    incremental = partition(world_url), snapshot(world_url)["people"]
    with dbm.session_scope(world_url) as s:
        s.connection().exec_driver_sql("DELETE FROM people")
    resolve(world_url, changed_rules)
    assert partition(world_url) == incremental[0]
    assert sorted(p[1:] for p in snapshot(world_url)["people"]) == sorted(p[1:] for p in incremental[1])
