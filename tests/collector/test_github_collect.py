"""The GitHub collector against the emulator: collected records equal the platform's data exactly."""

from __future__ import annotations

import json

from collector import Bookmark, RepoSnapshot
from tests.collector import expected
from tests.collector.conftest import NOW, REPOS
from tests.collector.helpers import collect, collect_many


def test_large_repository_is_collected_exactly(make_github, world):
    model = world.repo_by_name("acme/big")
    records, _, stats = collect(make_github(), "acme/big")
    assert records["commits"] == expected.commits(world, model)
    assert len(records["commits"]) == 1234
    assert sum(c.is_merge for c in records["commits"]) == 123
    assert {c.author_login for c in records["commits"] if c.is_bot} == {"dependabot[bot]"}
    assert records["releases"] == expected.releases(model)
    assert records["contributors"] == expected.contributors(world, model)
    assert {i.number: i for i in records["issues"]} == expected.issues(model, NOW)
    assert {p.number: p for p in records["pulls"]} == expected.pulls(model, NOW)
    # 13 pages of commits, then one settle request for the URL the next run will use
    assert stats["commits"].requests == 14


def test_repository_snapshot_has_licence_subscribers_and_counts(make_github, world):
    model = world.repo_by_name("acme/big")
    records, _, _ = collect(make_github(), "acme/big", streams=["repo"])
    [snapshot] = records["repo"]
    assert snapshot == RepoSnapshot(
        platform="github", path="acme/big", state="active", default_branch="main", licence="Apache-2.0",
        stars=model.stars, forks=model.forks, subscribers=model.subscribers, open_issues=model.open_issues,
        created_at=model.created_at, pushed_at=model.pushed_at, web_url=snapshot.web_url, is_fork=False,
        description=model.description)
    assert snapshot.subscribers != snapshot.stars
    assert snapshot.web_url.endswith("/acme/big")


def test_empty_repository_is_recorded_as_empty(make_github):
    records, bookmarks, _ = collect(make_github(), "acme/empty")
    assert records["repo"][0].state == "empty" and records["repo"][0].licence == "MIT"
    assert all(records[s] == [] for s in ("commits", "releases", "contributors", "issues", "pulls"))
    assert json.loads(bookmarks["commits"])["state"] == "empty"


def test_moved_repository_is_recorded_and_still_collected(make_github, world):
    model = world.repo_by_name("newacme/new-name")
    records, bookmarks, _ = collect(make_github(), "acme/old-name")
    snapshot = records["repo"][0]
    assert (snapshot.state, snapshot.moved_to, snapshot.path) == ("moved", "newacme/new-name", "acme/old-name")
    assert records["commits"] == expected.commits(world, model)
    assert records["releases"] == expected.releases(model)
    assert {p.number: p for p in records["pulls"]} == expected.pulls(model, NOW)
    assert json.loads(bookmarks["commits"])["location"] == f"repositories/{model.id}"


def test_deleted_repository_is_recorded_as_gone(make_github):
    records, bookmarks, _ = collect(make_github(), "acme/deleted")
    assert records["repo"] == [RepoSnapshot(platform="github", path="acme/deleted", state="gone")]
    assert all(json.loads(bookmarks[s])["state"] == "gone" for s in bookmarks)


def test_unlinked_authors_keep_git_identity_without_login(make_github, world):
    model = world.repo_by_name("acme/unlinked")
    records, _, _ = collect(make_github(), "acme/unlinked", streams=["commits", "contributors"])
    assert records["commits"] == expected.commits(world, model)
    unlinked = [c for c in records["commits"] if c.author_login is None]
    assert len(unlinked) == 30
    assert all(c.author_email.endswith("@unlinked.example.net") and c.author_name for c in unlinked)
    anonymous = [c for c in records["contributors"] if c.login is None]
    assert anonymous and sum(c.contributions for c in anonymous) == 30


def test_second_run_over_unchanged_data_costs_only_304s_and_rate_limit_calls(make_github, emulator):
    github = make_github()
    _, bookmarks = collect_many(github, REPOS)
    emulator.clear_log()
    again, _ = collect_many(make_github(), REPOS, bookmarks)
    assert all(records == [] for per_repo in again.values() for records in per_repo.values())
    assert emulator.log, "the re-run asked nothing at all"
    assert not [e for e in emulator.log if e.spent]
    assert {(e.path, e.status) for e in emulator.log if e.status != 304} == {("/rate_limit", 200)}
    assert sum(e.status == 304 for e in emulator.log) == 4 * 6  # deleted repo: re-checked only after a week


def test_new_activity_is_picked_up_then_the_next_run_is_free_again(make_github, emulator, world, clock):
    github = make_github()
    _, bookmarks, _ = collect(github, "acme/big")
    model = world.repo_by_name("acme/big")
    from tests.emulator import GitCommit, Person
    from datetime import timedelta
    newest = model.commits[0]
    fresh = GitCommit(sha="f" * 40, message="Fresh work\n\nbody", author=Person("Late Comer", "late@unlinked.example.net"),
                      authored_at=newest.committed_at + timedelta(days=1),
                      committer=Person("Late Comer", "late@unlinked.example.net"),
                      committed_at=newest.committed_at + timedelta(days=1), parents=(newest.sha,))
    model.commits.insert(0, fresh)
    model.pushed_at = model.updated_at = fresh.committed_at
    records, bookmarks, _ = collect(github, "acme/big", bookmarks)
    assert [c.sha for c in records["commits"]][0] == "f" * 40
    assert len(records["commits"]) < 50  # only the overlap window, not the whole history
    assert records["repo"][0].pushed_at == fresh.committed_at
    emulator.clear_log()
    records, _, _ = collect(github, "acme/big", bookmarks)
    assert all(r == [] for r in records.values())
    assert not [e for e in emulator.log if e.spent]


def test_interrupted_stream_resumes_from_the_page_bookmark(make_github, world):
    model = world.repo_by_name("acme/big")
    github = make_github()
    run = github.repository("acme/big").fetch("commits", None)
    first_pages = [next(run) for _ in range(4)]
    saved = first_pages[-1].bookmark.dumps()  # the job committed this with page 4, then the process died
    assert json.loads(saved)["pending"]["next_url"].endswith("page=5")
    assert json.loads(saved)["cursor"] is None
    resumed = list(make_github().repository("acme/big").fetch("commits", saved).records())
    shas = [c.sha for page in first_pages for c in page.records] + [c.sha for c in resumed]
    assert sorted(set(shas)) == sorted(c.sha for c in model.commits)


def test_bookmark_round_trips_through_json():
    mark = Bookmark.from_json({"v": 1, "stream": "issues", "cursor": "2024-01-01T00:00:00Z",
                               "validators": {"http://x/a": {"etag": 'W/"1"'}}, "location": "repositories/7"},
                              "issues")
    assert Bookmark.from_json(mark.dumps(), "issues") == mark
    assert mark.validators["http://x/a"].etag == 'W/"1"'


def test_pages_carry_records_and_bookmarks_for_one_transaction_each(make_github):
    run = make_github().repository("acme/big").fetch("commits", None)
    pages = list(run)
    assert [p.final for p in pages] == [False] * (len(pages) - 1) + [True]
    assert sum(len(p.records) for p in pages) == 1234
    assert pages[-1].bookmark.cursor is not None and pages[-1].bookmark.pending is None
    assert run.stats.requests == len(pages) + 2  # + one free /rate_limit probe per token of the new pool


def test_enterprise_base_url_with_api_v3_prefix(make_github, world, emulator):
    from collector.github import enterprise_base_url
    assert enterprise_base_url("git.example.cn") == "https://git.example.cn/api/v3"
    model = world.repo_by_name("acme/big")
    records, _, _ = collect(make_github(prefix="/api/v3"), "acme/big", streams=["commits", "releases"])
    assert records["commits"] == expected.commits(world, model)
    assert records["releases"] == expected.releases(model)
    assert all(e.path.startswith("/api/v3/") for e in emulator.log)


def test_first_response_is_only_fetched_inside_the_window(make_github, world, emulator):
    from collector import CollectorSettings
    from datetime import timedelta
    model = world.repo_by_name("acme/big")
    settings = CollectorSettings(response_window=timedelta(days=30))
    records, _, _ = collect(make_github(settings=settings), "acme/big", streams=["issues"])
    want = expected.issues(model, NOW, window=timedelta(days=30))
    assert {i.number: i for i in records["issues"]} == want
    asked = {e.path.split("/")[-2] for e in emulator.log if e.path.endswith("/comments")}
    recent = {n for n, i in want.items() if i.updated_at >= NOW - timedelta(days=30) and i.comments}
    assert asked == recent
