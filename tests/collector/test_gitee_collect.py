"""Gitee and GitCode collectors against the emulator: exact records, repository states, the re-run cost."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from collector import RepoSnapshot
from tests.collector import expected_platforms as expected
from tests.collector.conftest import NOW
from tests.collector.helpers import collect
from tests.collector.platforms import PREFIX, clock, emulator, make_platform, world  # noqa: F401
from tests.emulator import GitCommit, Person

GITEE_STYLE = ["gitee", "gitcode"]
ACTIVE = ("acme/big", "openharmony/docs", "acme/old-name")


def by_email(rows):
    return sorted(rows, key=lambda r: (r.email, r.name or ""))


@pytest.mark.parametrize("platform", GITEE_STYLE)
def test_large_repository_is_collected_exactly(platform, make_platform, world):
    model = world.repo_by_name("acme/big")
    records, _, stats = collect(make_platform(platform), "acme/big")
    assert records["commits"] == expected.commits(world, model, platform)
    assert len(records["commits"]) == 1234 and sum(c.is_merge for c in records["commits"]) == 123
    assert records["releases"] == expected.releases(model, platform)
    assert by_email(records["contributors"]) == expected.contributors(world, model, platform)
    assert {i.number: i for i in records["issues"]} == expected.issues(model, platform, NOW)
    assert {p.number: p for p in records["pulls"]} == expected.pulls(model, platform, NOW)
    assert stats["commits"].requests == 13  # 13 pages of 100; no settle pass without validators


@pytest.mark.parametrize("platform", GITEE_STYLE)
def test_repository_snapshot_reads_gitee_fields(platform, make_platform, world, emulator):
    model = world.repo_by_name("acme/big")
    [snapshot] = collect(make_platform(platform), "acme/big", streams=["repo"])[0]["repo"]
    assert snapshot == RepoSnapshot(
        platform=platform, path="acme/big", state="active", default_branch="main", licence="Apache-2.0",
        stars=model.stars, forks=model.forks, subscribers=model.subscribers, open_issues=model.open_issues,
        created_at=model.created_at, pushed_at=model.pushed_at, web_url=f"{emulator.url}/acme/big", is_fork=False,
        description=model.description)


@pytest.mark.parametrize("platform", GITEE_STYLE)
def test_empty_moved_and_deleted_repositories(platform, make_platform, world):
    collector = make_platform(platform)
    empty, bookmarks, _ = collect(collector, "acme/empty")
    assert empty["repo"][0].state == "empty" and empty["repo"][0].licence == "MIT"
    assert all(empty[s] == [] for s in ("commits", "releases", "contributors", "issues", "pulls"))
    moved, _, _ = collect(collector, "acme/old-name")
    model = world.repo_by_name("newacme/new-name")
    assert (moved["repo"][0].state, moved["repo"][0].moved_to) == ("moved", "newacme/new-name")
    assert moved["commits"] == expected.commits(world, model, platform)
    gone, marks, _ = collect(collector, "acme/deleted")
    assert gone["repo"] == [RepoSnapshot(platform=platform, path="acme/deleted", state="gone")]
    assert all(json.loads(m)["state"] == "gone" for m in marks.values())


@pytest.mark.parametrize("platform", GITEE_STYLE)
def test_unchanged_rerun_costs_four_requests_per_repository(platform, make_platform, emulator):
    """No ETags to rely on: repo (its pushed_at gates commits and contributors), releases, issues, pulls."""
    first = {path: collect(make_platform(platform), path)[1] for path in ACTIVE + ("acme/empty",)}
    emulator.clear_log()
    for path, bookmarks in first.items():
        records, _, _ = collect(make_platform(platform), path, bookmarks)
        assert records["commits"] == records["contributors"] == records["issues"] == records["pulls"] == []
    streams = [e.path.rsplit("/", 1)[-1] for e in emulator.log]
    assert len(emulator.log) == 4 * 4
    assert sorted(set(streams)) == ["big", "docs", "empty", "issues", "old-name", "pulls", "releases"]
    assert all(e.status == 200 for e in emulator.log)


@pytest.mark.parametrize("platform", GITEE_STYLE)
def test_new_commit_and_issue_update_are_picked_up(platform, make_platform, world, emulator):
    collector = make_platform(platform)
    _, bookmarks, _ = collect(collector, "openharmony/docs")
    model = world.repo_by_name("openharmony/docs")
    newest = model.commits[0]
    fresh = GitCommit(sha="e" * 40, message="Late docs fix\n", author=Person("Late", "late@unlinked.example.net"),
                      authored_at=newest.committed_at + timedelta(days=2), committer=Person("Late", "late@unlinked.example.net"),
                      committed_at=newest.committed_at + timedelta(days=2), parents=(newest.sha,))
    model.commits.insert(0, fresh)
    model.pushed_at = fresh.committed_at
    issue = next(i for i in model.issues if not i.is_pull)
    issue.updated_at = max(i.updated_at for i in model.issues) + timedelta(hours=1)
    records, bookmarks, _ = collect(make_platform(platform), "openharmony/docs", bookmarks)
    assert records["commits"][0].sha == "e" * 40 and len(records["commits"]) < 100
    assert [i.updated_at for i in records["issues"]] == [issue.updated_at]
    emulator.clear_log()
    records, _, _ = collect(make_platform(platform), "openharmony/docs", bookmarks)
    assert all(r == [] for s, r in records.items() if s not in ("repo", "releases"))
    assert len(emulator.log) == 4


@pytest.mark.parametrize("platform", GITEE_STYLE)
def test_interrupted_commits_resume_from_the_page_bookmark(platform, make_platform, world):
    model = world.repo_by_name("acme/big")
    run = make_platform(platform).repository("acme/big").fetch("commits", None)
    pages = [next(run) for _ in range(4)]
    saved = json.loads(pages[-1].bookmark.dumps())
    assert saved["pending"]["next_url"].endswith("page=5") and saved["cursor"] is None
    assert "access_token" not in json.dumps(saved)  # Gitee echoes the token into its Link URLs
    resumed = list(make_platform(platform).repository("acme/big").fetch("commits", saved).records())
    shas = [c.sha for page in pages for c in page.records] + [c.sha for c in resumed]
    assert sorted(set(shas)) == sorted(c.sha for c in model.commits) and len(shas) == 1234


def test_gitee_states_numbers_and_text_counts_are_normalised(make_platform, emulator):
    import httpx
    raw = httpx.get(f"{emulator.url}{PREFIX['gitee']}/repos/acme/big/issues",
                    params={"state": "all", "per_page": 100}).json()
    assert {i["state"] for i in raw} == {"open", "progressing", "closed", "rejected"}
    assert all(isinstance(i["number"], str) and i["number"].startswith("I") for i in raw)
    records = collect(make_platform("gitee"), "acme/big", streams=["issues", "pulls", "contributors"])[0]
    states = {i["number"]: i["state"] for i in raw}
    assert {r.state for r in records["issues"] if states[r.number] in ("open", "progressing")} == {"open"}
    assert {r.state for r in records["issues"] if states[r.number] in ("closed", "rejected")} == {"closed"}
    assert {p.state for p in records["pulls"]} == {"open", "closed", "merged"}
    assert all(isinstance(c.contributions, int) and c.contributions > 0 for c in records["contributors"])


def test_etags_are_used_when_a_gitee_style_server_sends_them(world, clock):
    from collector import HttpSettings, open_platform
    from tests.emulator import running_emulator
    with running_emulator(world, clock=clock.now, gitee_etags=True) as emu:
        emu.add_token("etag-token")
        gitee = open_platform("gitee", tokens=[("T", "etag-token")], base_url=emu.url + PREFIX["gitee"],
                              http=HttpSettings(sleep=clock.sleep, clock=clock.now))
        clean, bookmarks, _ = collect(gitee, "acme/big")
        emu.clear_log()
        again, _, stats = collect(gitee, "acme/big", bookmarks)
        assert sum(s.not_modified for s in stats.values()) == 4  # repo, releases, issues, pulls
        assert all(again[s] == [] for s in again)
        gitee.close()
