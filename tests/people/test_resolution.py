"""Resolution against a real database: the issue's real-world shapes, stable ids, incremental, order-free, counts."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from tests.people.conftest import EXPECTED_HUMANS, commit, store_world
from tracker import db as dbm
from tracker.access import Actor, SYSTEM
from tracker.collect import store
from tracker.collect.status import community_status
from tracker.config import load_config
from tracker.models import Account, CommitIdentity, Commit, Organisation, Person, Repository
from tracker.overview import overview
from tracker.people.attribution import commit_attribution
from tracker.people.resolve import resolve_people

pytestmark = pytest.mark.postgres


def resolve(url, config_dir):
    config = load_config(config_dir)
    with dbm.session_scope(url) as s:
        return resolve_people(s, SYSTEM, config.identities, config.organisations)


def people_by_email(url) -> dict[str, int]:
    with dbm.session_scope(url) as s:
        return {e: p for e, p in s.execute(select(CommitIdentity.email, CommitIdentity.person_id))}


def partition(url) -> set[frozenset[str]]:
    """People as sets of (address, name) — natural keys only, so two databases compare."""
    groups: dict[int, set[str]] = {}
    with dbm.session_scope(url) as s:
        for email, name, pid in s.execute(select(CommitIdentity.email, CommitIdentity.name, CommitIdentity.person_id)):
            groups.setdefault(pid, set()).add(f"{email}|{name}")
        for platform, login, pid in s.execute(select(Account.platform, Account.login, Account.person_id)
                                              .where(Account.login.is_not(None))):
            groups.setdefault(pid, set()).add(f"{platform}:{login}")
    return {frozenset(g) for g in groups.values()}


def test_the_real_world_shapes(world_url, people_config):
    report = resolve(world_url, people_config)
    by = people_by_email(world_url)
    # the merge bot with two addresses is one person, and a bot
    assert by["120357966@qq.com"] == by["openharmony_ci@noreply.gitcode.com"]
    with dbm.session_scope(world_url) as s:
        bot = s.get(Person, by["120357966@qq.com"])
        assert bot.is_bot and "openharmony_ci" in bot.bot_reason
        # commits and accounts follow the person's flag
        assert set(s.scalars(select(Commit.is_bot).where(Commit.author_email.like("%openharmony_ci%")))) == {True}
        assert s.scalar(select(Account.is_bot).where(Account.login == "openharmony_ci")) is True
        assert s.get(Person, by["bot@renovate.example.org"]).is_bot
    # one address under two names; each noreply form joins its account; never by the domain
    assert len({by["cyw@kaihong.com"]}) == 1
    assert by["a8f3.wangwu@noreply.gitcode.com"] == by["wangwu@kaihongdigi.com"]
    assert by["778899+zhaoliu@user.noreply.gitee.com"] == by["zhaoliu@163.com"]
    assert by["a8f3.wangwu@noreply.gitcode.com"] != by["openharmony_ci@noreply.gitcode.com"]
    with dbm.session_scope(world_url) as s:
        assert s.scalar(select(func.count()).select_from(CommitIdentity)
                        .where(CommitIdentity.email == "cyw@kaihong.com")) == 2
        orgs = dict(s.execute(select(CommitIdentity.email, Organisation.name)
                              .join(Organisation, Organisation.id == CommitIdentity.organisation_id)).all())
        verified = dict(s.execute(select(Organisation.name, Organisation.verified)).all())
        anonymous = s.get(Person, by["root@localhost"])
        assert anonymous.is_anonymous and not anonymous.is_bot
    assert orgs["li@mail.cqu.edu.cn"] == "重庆大学"  # a subdomain
    assert orgs["wangwu@kaihongdigi.com"] == orgs["cyw@kaihong.com"] == "深开鸿"  # two domains, one organisation
    assert orgs["stu@mail.ustc.edu.cn"] == "ustc.edu.cn" and verified["ustc.edu.cn"] is False  # unmapped
    assert orgs["lisi@h-partners.com"] == "h-partners.com" and verified["h-partners.com"] is False
    for individual in ("zhaoliu@163.com", "120357966@qq.com", "root@localhost", "778899+zhaoliu@user.noreply.gitee.com"):
        assert individual not in orgs  # free mail, noreply and anonymous addresses: no organisation
    assert report.people == EXPECTED_HUMANS + 2


def test_a_dated_job_change_on_the_commit_date_boundary(world_url, people_config):
    resolve(world_url, people_config)
    with dbm.session_scope(world_url) as s:
        a = commit_attribution(s.get_bind().dialect.name).subquery()
        rows = dict(s.execute(select(Commit.author_time, Organisation.name).join(a, a.c.commit_id == Commit.id)
                              .join(Organisation, Organisation.id == a.c.organisation_id)
                              .where(Commit.author_email == "zhangsan@huawei.com")).all())
    utc = dt.timezone.utc
    # affiliation dates are Beijing dates: 15:59:59 UTC is 23:59:59 on 2024-02-29 in Beijing, 16:00 UTC is 03-01
    assert rows == {dt.datetime(2024, 2, 29, 15, 59, 59, tzinfo=utc): "华为技术有限公司",  # end is exclusive
                    dt.datetime(2024, 2, 29, 16, 0, tzinfo=utc): "深开鸿"}  # start inclusive; the alias names it


def test_overview_and_community_status_count_resolved_people(world_url, people_config):
    resolve(world_url, people_config)
    with dbm.session_scope(world_url) as s:
        assert overview(s, Actor("e", "evaluator"))["contributors"] == EXPECTED_HUMANS
        assert [r["contributors"] for r in community_status(s, SYSTEM)] == [EXPECTED_HUMANS]
        # the old count (account's person, else the e-mail) folds the two anonymous builders into one address
        old = s.scalar(text("SELECT COUNT(DISTINCT COALESCE(CAST(a.person_id AS VARCHAR), lower(c.author_email))) "
                            "FROM commits c LEFT JOIN accounts a ON a.id = c.author_account_id WHERE NOT c.is_bot"))
        assert old == EXPECTED_HUMANS - 1


def test_resolving_again_changes_nothing_and_a_new_link_merges_into_the_smallest_id(world_url, people_config):
    first = resolve(world_url, people_config)
    assert first.created and not first.merged_away
    again = resolve(world_url, people_config)
    assert (again.created, again.changed, again.merged_away) == ([], [], [])
    by = people_by_email(world_url)
    lisi, student = by["lisi@h-partners.com"], by["stu@mail.ustc.edu.cn"]
    # a new commit links both addresses to one gitcode account: one person, keeping the smaller id
    with dbm.session_scope(world_url) as s:
        repo = s.scalar(select(Repository).where(Repository.platform == "gitcode"))
        store.store_commits(s, repo, [commit("31", "李四", "lisi@h-partners.com", "lisi", "2024-02-01T00:00:00", False),
                                      commit("32", "student", "stu@mail.ustc.edu.cn", "lisi", "2024-02-02T00:00:00",
                                             False)])
    third = resolve(world_url, people_config)
    by = people_by_email(world_url)
    assert by["lisi@h-partners.com"] == by["stu@mail.ustc.edu.cn"] == min(lisi, student)
    assert third.merged_away == [max(lisi, student)] and third.created == []
    assert min(lisi, student) in third.changed


def test_the_same_data_in_another_order_gives_the_same_people(db_url, tmp_path, people_config, backend, pg_databases):
    store_world(db_url, order=1)
    resolve(db_url, people_config)
    if backend == "postgresql":
        other = pg_databases.create(migrated=True)
    else:
        import shutil

        from tests.conftest import ROOT  # noqa: F401  (the template is the session's)
        other = f"sqlite:///{tmp_path / 'other.db'}"
        dbm.upgrade(other)
    try:
        store_world(other, order=-1)
        resolve(other, people_config)
        assert partition(other) == partition(db_url)
    finally:
        if backend == "postgresql":
            pg_databases.drop(other)
        else:
            dbm.dispose_engine(other)


def test_a_migrated_database_is_backfilled(empty_db_url):
    """Commits stored before 0005 get identities from the migration."""
    from alembic import command

    cfg = dbm.alembic_config(empty_db_url)
    command.upgrade(cfg, "0002")
    with dbm.get_engine(empty_db_url).begin() as conn:
        conn.execute(text("INSERT INTO repositories (id, platform, api_url, path, state, is_fork, first_seen_at) "
                          "VALUES (1, 'github', 'x', 'o/r', 'active', false, '2024-01-01')"))
        conn.execute(text("INSERT INTO accounts (id, platform, key, login, is_bot) VALUES "
                          "(1, 'github', 'login:a', 'a', false)"))
        for i, (email, name, account, bot) in enumerate([("a@x.cn", "A", 1, False), ("a@x.cn", "A", 1, False),
                                                         ("b@y.cn", "B", None, True), (None, None, None, False)]):
            conn.execute(text("INSERT INTO commits (repository_id, sha, author_email, author_name, author_account_id, "
                              "is_merge, is_bot) VALUES (1, :sha, :e, :n, :a, false, :b)"),
                         {"sha": f"{i:040d}", "e": email, "n": name, "a": account, "b": bot})
    dbm.dispose_engine(empty_db_url)
    command.upgrade(cfg, "0005")
    with dbm.get_engine(empty_db_url).connect() as conn:
        rows = conn.execute(text("SELECT ci.key, ci.is_bot, COUNT(*) FROM commits c JOIN commit_identities ci "
                                 "ON ci.id = c.author_identity_id GROUP BY ci.key, ci.is_bot ORDER BY ci.key")).all()
    assert [(k, bool(b), n) for k, b, n in rows] == [
        ("\n\n", False, 1), ("\nb@y.cn\nB", True, 1), ("1\na@x.cn\nA", False, 2)]
    assert store.identity_key(1, "a@x.cn", "A") == "1\na@x.cn\nA"
    dbm.dispose_engine(empty_db_url)
