"""The commit store's bulk path (executemany of tuples on SQLite, COPY on PostgreSQL) writes exactly what the ORM's
own insert of the same values writes: the same text for times on SQLite (naive UTC with microseconds), the same
instants on PostgreSQL, the last row of a sha repeated in a page, titles cut at 500 characters, merges, bots."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select

import collector.records as rec
from tracker import db as dbm
from tracker.collect import store
from tracker.models import ActivityPending, Commit, Repository

pytestmark = pytest.mark.postgres

RAW = ("SELECT sha, author_name, author_email, author_time, committer_name, committer_email, committer_time, "
       "is_merge, is_bot, message_title, missing_since FROM commits WHERE repository_id = {} ORDER BY sha")


def tz(hours: float) -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=hours))


PAGE = [
    rec.Commit("a" * 40, "张三", "zhangsan@example.com", None, dt.datetime(2024, 3, 1, 8, 0, 0, tzinfo=tz(8)),
               "张三", "zhangsan@example.com", None, dt.datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=tz(8)),
               False, False, "初始提交"),
    rec.Commit("b" * 40, "Li Si", "lisi@example.org", None, dt.datetime(2023, 12, 31, 23, 59, 59, tzinfo=tz(-5.5)),
               "Li Si", "lisi@example.org", None, dt.datetime(2024, 1, 1, 5, 29, 59, 1, tzinfo=dt.timezone.utc),
               True, False, "Merge branch 'x'"),
    rec.Commit("c" * 40, "ci-bot", "ci@example.org", None, dt.datetime(2020, 2, 29, 0, 0, tzinfo=dt.timezone.utc),
               None, None, None, None, False, True, "t" * 700),
    # a sha repeated in one page: the later row is what the upsert leaves
    rec.Commit("a" * 40, "张三", "zhangsan@example.com", None, dt.datetime(2024, 3, 2, 8, 0, 0, tzinfo=tz(8)),
               "张三", "zhangsan@example.com", None, dt.datetime(2024, 3, 2, 9, 0, 0, tzinfo=tz(8)),
               False, False, "改写后"),
]


def orm_rows(repository_id: int) -> list[dict]:
    """The same commits as ORM insert values, worked out here: the last row per sha, the title cut."""
    last = {c.sha: c for c in PAGE}
    return [{"repository_id": repository_id, "sha": c.sha, "author_name": c.author_name,
             "author_email": c.author_email, "author_time": c.author_time, "committer_name": c.committer_name,
             "committer_email": c.committer_email, "committer_time": c.committer_time, "is_merge": c.is_merge,
             "is_bot": c.is_bot, "message_title": c.message_title[:500], "missing_since": None}
            for c in last.values()]


@pytest.mark.parametrize("defer", [False, True], ids=["kept-in-step", "deferred"])
def test_the_bulk_path_stores_what_the_orm_stores(db_url, defer):
    with dbm.session_scope(db_url) as s:
        bulk = Repository(platform="git", api_url="", path="file:///bulk")
        orm = Repository(platform="git", api_url="", path="file:///orm")
        s.add_all([bulk, orm])
        s.flush()
        assert store.store_commits(s, bulk, PAGE, defer_aggregates=defer) == 3
        s.execute(insert(Commit), orm_rows(orm.id))
        bulk_id, orm_id = bulk.id, orm.id
        pending = s.scalars(select(ActivityPending.repository_id)).all()
    assert pending == ([bulk_id] if defer else [])
    with dbm.get_engine(db_url).connect() as conn:
        stored = conn.exec_driver_sql(RAW.format(bulk_id)).all()
        expected = conn.exec_driver_sql(RAW.format(orm_id)).all()
    assert [tuple(r) for r in stored] == [tuple(r) for r in expected]
    assert len(stored) == 3 and stored[0][9] == "改写后" and len(stored[2][9]) == 500


def test_storing_the_page_again_changes_nothing_and_a_changed_row_is_updated(db_url):
    with dbm.session_scope(db_url) as s:
        repo = Repository(platform="git", api_url="", path="file:///again")
        s.add(repo)
        s.flush()
        store.store_commits(s, repo, PAGE, defer_aggregates=True)
        repo_id = repo.id
    with dbm.get_engine(db_url).connect() as conn:
        first = conn.exec_driver_sql(RAW.format(repo_id)).all()
    with dbm.session_scope(db_url) as s:
        store.store_commits(s, s.get(Repository, repo_id), PAGE, defer_aggregates=True)
    with dbm.get_engine(db_url).connect() as conn:
        assert conn.exec_driver_sql(RAW.format(repo_id)).all() == first
    moved = rec.Commit("b" * 40, "Li Si", "lisi@example.org", None,
                       dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc), "Li Si", "lisi@example.org", None,
                       dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc), True, False, "rebased")
    with dbm.session_scope(db_url) as s:
        store.store_commits(s, s.get(Repository, repo_id), [moved], defer_aggregates=True)
        row = s.scalar(select(Commit).where(Commit.repository_id == repo_id, Commit.sha == "b" * 40))
        assert (row.author_time, row.message_title) == (dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc), "rebased")
        assert s.scalar(select(Commit.message_title).where(Commit.sha == "a" * 40)) == "改写后"
