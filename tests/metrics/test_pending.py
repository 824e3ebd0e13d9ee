"""A first collection defers the activity aggregates: its repository is listed in ``activity_pending``, its pages
leave the aggregates as they were, and people resolution (or the next read, after a killed run) adds its commits in
one pass. Whatever the order — a mirror sharing shas with a repository already counted, a page stored after the
settling — the aggregates end equal to a rebuild from the commits."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.collect.conftest import aggregates
from tests.people.conftest import GITCODE_COMMITS, commit, store_world
from tracker import db as dbm
from tracker.access import SYSTEM
from tracker.collect import store
from tracker.metrics import activity
from tracker.models import ActivityPending, Community, CommunityRepository, Repository
from tracker.people.resolve import resolve_people

pytestmark = pytest.mark.postgres

# the mirror: two shas of the gitcode repository (counted already) and three of its own
NEW = [("91", "Wang Wu", "wangwu@example.org", None, "2024-05-01T00:00:00", False),
       ("92", "Wang Wu", "wangwu@example.org", None, "2024-05-02T12:00:00", False),
       ("93", "赵六", "zhaoliu@example.cn", None, "2024-05-03T20:00:00", False)]


def equals_a_rebuild(url: str) -> None:
    kept = aggregates(url)
    with dbm.session_scope(url) as s:
        activity.rebuild(s)
    assert aggregates(url) == kept


def add_mirror(url: str) -> int:
    with dbm.session_scope(url) as s:
        community = s.scalar(select(Community).where(Community.slug == "oh"))
        mirror = Repository(platform="github", api_url="https://api.github.test", path="mirror/arkui")
        s.add(mirror)
        s.flush()
        s.add(CommunityRepository(community_id=community.id, repository_id=mirror.id))
        activity.follow_links(s)  # as the configuration sync does
        return mirror.id


def store_page(url: str, repository_id: int, rows) -> None:
    with dbm.session_scope(url) as s:
        store.store_commits(s, s.get(Repository, repository_id), [commit(*r) for r in rows], defer_aggregates=True)


def pending(url: str) -> list[int]:
    with dbm.session_scope(url) as s:
        return s.scalars(select(ActivityPending.repository_id)).all()


@pytest.fixture
def world(db_url):
    store_world(db_url)
    with dbm.session_scope(db_url) as s:
        resolve_people(s, SYSTEM)
        activity.ensure_current(s)
    equals_a_rebuild(db_url)
    return db_url


def test_pages_of_a_first_collection_wait_and_resolution_adds_them_once(world):
    mirror = add_mirror(world)
    before = aggregates(world)
    store_page(world, mirror, GITCODE_COMMITS[:2] + NEW[:1])
    store_page(world, mirror, NEW[1:])
    assert pending(world) == [mirror]
    assert aggregates(world) == before  # the pages touched nothing
    with dbm.session_scope(world) as s:
        report = resolve_people(s, SYSTEM)
    assert report.settled == 1 and pending(world) == []
    assert aggregates(world) != before
    equals_a_rebuild(world)


def test_a_run_killed_before_resolution_is_settled_by_the_next_read(world):
    mirror = add_mirror(world)
    store_page(world, mirror, NEW)
    assert pending(world) == [mirror]
    with dbm.session_scope(world) as s:
        assert activity.ensure_current(s) == "settled"
    assert pending(world) == []
    equals_a_rebuild(world)


def test_a_page_after_the_settling_is_added_by_itself(world):
    mirror = add_mirror(world)
    store_page(world, mirror, NEW[:1])
    with dbm.session_scope(world) as s:
        activity.settle(s)
    store_page(world, mirror, GITCODE_COMMITS[:3] + NEW[1:])  # the repository has commits now: not pending again
    assert pending(world) == []
    equals_a_rebuild(world)
