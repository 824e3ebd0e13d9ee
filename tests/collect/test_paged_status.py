"""The 数据采集 page's reads (tracker.collect.paged_status): failures first, then the stalest; filters, limit and offset
in SQL with the total; community freshness; administrators and evaluators only."""
from __future__ import annotations

import datetime as dt

import pytest

from tracker import db as dbm
from tracker.access import AccessDenied, Actor
from tracker.collect.paged_status import collection_summary, community_freshness, repository_page
from tracker.models import CollectionResult, CollectionRun, Community, CommunityRepository, Repository

pytestmark = pytest.mark.postgres

UTC = dt.timezone.utc
ADMIN = Actor("admin", "admin")
DAY1 = dt.datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
DAY2 = dt.datetime(2026, 10, 8, 2, 0, tzinfo=UTC)


def build(url: str) -> None:
    """Two communities, six repositories and two runs:

    run 1 (DAY1): every repository but `never` ok;
    run 2 (DAY2): `broken` failed, `late` stopped at the deadline, `fresh` ok; the others not reached.
    """
    with dbm.session_scope(url) as s:
        north = Community(slug="north", name_zh="北社区", focus="education")
        south = Community(slug="south", name_zh="南社区", focus="automotive")
        s.add_all([north, south])
        repos = {}
        for platform, path, community in [("github", "n/broken", north), ("github", "n/fresh", north),
                                          ("gitee", "n/quiet", north), ("github", "s/late", south),
                                          ("github", "s/never", south), ("github", "s/quiet", south)]:
            repos[path] = Repository(platform=platform, api_url=f"https://api.{platform}.test", path=path)
            s.add(repos[path])
            s.flush()
            s.add(CommunityRepository(community_id=community.id, repository_id=repos[path].id))
        for day, outcomes in [(DAY1, {p: "ok" for p in repos if p != "s/never"}),
                              (DAY2, {"n/broken": "failed", "s/late": "deadline", "n/fresh": "ok"})]:
            run = CollectionRun(started_at=day - dt.timedelta(minutes=30), finished_at=day, status="partial")
            s.add(run)
            s.flush()
            for path, status in outcomes.items():
                s.add(CollectionResult(run_id=run.id, repository_id=repos[path].id, status=status,
                                       items={"commits": 4, "issues": 1} if status == "ok" else {},
                                       requests=9, not_modified=3 if status == "ok" else 0,
                                       rate_limit_waits=1 if status == "failed" else 0,
                                       wait_seconds=12.5 if status == "failed" else 0.0,
                                       error="HTTPError: 502 Bad Gateway" if status == "failed" else None,
                                       started_at=day - dt.timedelta(minutes=20), finished_at=day))


@pytest.fixture
def url(db_url):
    build(db_url)
    return db_url


def paths(page) -> list[str]:
    return [r["path"] for r in page.rows]


def test_failures_come_first_then_the_stalest_and_a_page_is_cut_in_sql(url):
    with dbm.session_scope(url) as s:
        whole = repository_page(s, ADMIN, limit=50)
        # broken failed; never was never collected; late's last complete run is DAY1 like the quiet ones; fresh is DAY2
        assert paths(whole) == ["n/broken", "s/never", "n/quiet", "s/late", "s/quiet", "n/fresh"]
        assert whole.total == 6
        second = repository_page(s, ADMIN, limit=2, offset=2)
        assert paths(second) == ["n/quiet", "s/late"] and second.total == 6
        assert paths(repository_page(s, ADMIN, limit=2, offset=6)) == []


def test_a_row_holds_the_last_result_and_never_collected_has_no_figures(url):
    with dbm.session_scope(url) as s:
        rows = {r["path"]: r for r in repository_page(s, ADMIN).rows}
    broken = rows["n/broken"]
    assert (broken["status"], broken["requests"], broken["not_modified"], broken["rate_limit_waits"],
            broken["wait_seconds"], broken["error"]) == ("failed", 9, 0, 1, 12.5, "HTTPError: 502 Bad Gateway")
    assert broken["finished_at"] == DAY2 and broken["complete_at"] == DAY1 and broken["communities"] == ["北社区"]
    assert (rows["n/fresh"]["items"], rows["n/fresh"]["items_text"]) == (5, "提交 4 · Issue 1")
    never = rows["s/never"]
    assert never["status"] == "never"
    assert [never[k] for k in ("items", "requests", "not_modified", "finished_at", "complete_at")] == [None] * 5


def test_filters_narrow_the_list_and_its_total(url):
    with dbm.session_scope(url) as s:
        assert paths(repository_page(s, ADMIN, community="south")) == ["s/never", "s/late", "s/quiet"]
        assert paths(repository_page(s, ADMIN, platform="gitee")) == ["n/quiet"]
        assert paths(repository_page(s, ADMIN, status="never")) == ["s/never"]
        page = repository_page(s, ADMIN, community="north", status="ok", limit=1)
        assert paths(page) == ["n/quiet"] and page.total == 2
        with pytest.raises(LookupError):
            repository_page(s, ADMIN, community="nowhere")
        with pytest.raises(ValueError):
            repository_page(s, ADMIN, status="lost")
        with pytest.raises(ValueError):
            repository_page(s, ADMIN, limit=0)


def test_community_freshness_is_its_stalest_repository_and_unavailable_when_one_was_never_collected(url):
    with dbm.session_scope(url) as s:
        page = community_freshness(s, ADMIN)
        summary = collection_summary(s, Actor("e", "evaluator"))
    south, north = page.rows  # both have trouble; south's freshness is unavailable, so it comes first
    assert (south["slug"], south["repositories"], south["failed"], south["stopped_early"], south["never_complete"],
            south["complete_as_of"]) == ("south", 3, 0, 1, 1, None)
    assert (north["slug"], north["failed"], north["never_complete"], north["complete_as_of"],
            north["last_finished"]) == ("north", 1, 0, DAY1, DAY2)
    assert page.total == 2
    assert summary["by_status"] == {"failed": 1, "deadline": 1, "ok": 3, "never": 1}
    assert summary["repositories"] == 6 and summary["last_run"]["finished_at"] == DAY2


@pytest.mark.parametrize("read", [repository_page, community_freshness, collection_summary])
def test_an_enterprise_user_is_refused(url, read):
    with dbm.session_scope(url) as s:
        with pytest.raises(AccessDenied):
            read(s, Actor("ent", "enterprise", 1))
