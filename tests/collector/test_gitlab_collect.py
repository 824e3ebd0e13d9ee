"""GitLab through python-gitlab against the emulator: exact records, subgroups, dates, states, re-run cost."""

from __future__ import annotations

import json

import httpx

from collector import RepoSnapshot
from tests.collector import expected_platforms as expected
from tests.collector.conftest import NOW
from tests.collector.helpers import collect
from tests.collector.platforms import PREFIX, SUBGROUP, TOKENS, clock, emulator, make_platform, world  # noqa: F401

AUTH = {"PRIVATE-TOKEN": TOKENS["gitlab"][0][1]}


def by_email(rows):
    return sorted(rows, key=lambda r: (r.email, r.name or ""))


def test_large_project_is_collected_exactly(make_platform, world, emulator):
    model = world.repo_by_name("acme/big")
    records, _, stats = collect(make_platform("gitlab"), "acme/big")
    assert records["commits"] == expected.commits(world, model, "gitlab")
    assert len(records["commits"]) == 1234
    assert records["releases"] == expected.releases(model, "gitlab")
    assert by_email(records["contributors"]) == expected.contributors(world, model, "gitlab")
    assert {i.number: i for i in records["issues"]} == expected.issues(model, "gitlab", NOW)
    assert {p.number: p for p in records["pulls"]} == expected.pulls(model, "gitlab", NOW)
    commit_pages = [e for e in emulator.log if e.path.endswith("/repository/commits")]
    assert len(commit_pages) == stats["commits"].requests == 13 + 1  # + the settle pass for the next run's URL


def test_subgroup_project_by_url_encoded_path(make_platform, world, emulator):
    model = world.repo_by_name(SUBGROUP)
    records, _, _ = collect(make_platform("gitlab"), SUBGROUP)
    assert records["repo"][0].path == SUBGROUP and records["repo"][0].state == "active"
    assert records["commits"] == expected.commits(world, model, "gitlab") and len(records["commits"]) == 150
    assert all(e.path.startswith("/api/v4/projects/group%2Fsub%2Fdeep%2Fproject") for e in emulator.log)
    assert httpx.get(f"{emulator.url}/api/v5/repos/{SUBGROUP}").status_code == 404  # GitLab only


def test_author_and_committer_times_come_from_their_own_offsets(make_platform, world, emulator):
    raw = httpx.get(f"{emulator.url}/api/v4/projects/acme%2Fbig/repository/commits", headers=AUTH,
                    params={"per_page": 100}).json()
    assert "x-total" not in httpx.get(f"{emulator.url}/api/v4/projects/acme%2Fbig/repository/commits",
                                      headers=AUTH).headers  # no totals on commits
    offsets = {c["authored_date"][-6:] for c in raw}
    assert len(offsets) > 1 and "Z" not in "".join(offsets)
    records = collect(make_platform("gitlab"), "acme/big", streams=["commits"])[0]["commits"]
    model = {c.sha: c for c in world.repo_by_name("acme/big").commits}
    differing = [c for c in records if c.author_time != c.committer_time]
    assert differing and all(c.author_time == model[c.sha].authored_at for c in differing)
    assert all(c.committer_time.utcoffset().total_seconds() == 0 for c in records)


def test_merge_request_states_and_system_notes(make_platform, world, emulator):
    raw = httpx.get(f"{emulator.url}/api/v4/projects/acme%2Fbig/merge_requests", headers=AUTH,
                    params={"state": "all", "per_page": 100}).json()
    assert {m["state"] for m in raw} >= {"opened", "merged", "closed", "locked"}
    records = collect(make_platform("gitlab"), "acme/big", streams=["pulls"])[0]["pulls"]
    locked = {str(m["iid"]) for m in raw if m["state"] == "locked"}
    assert {p.state for p in records if p.number in locked} == {"open"}
    merged = [p for p in records if p.state == "merged"]
    assert merged and all(p.closed_at == p.merged_at for p in merged)


def test_empty_moved_and_deleted_projects(make_platform, world):
    gitlab = make_platform("gitlab")
    empty = collect(gitlab, "acme/empty")[0]
    assert empty["repo"][0].state == "empty" and empty["repo"][0].default_branch is None
    assert empty["repo"][0].licence == "MIT"
    moved, marks, _ = collect(gitlab, "acme/old-name")
    model = world.repo_by_name("newacme/new-name")
    assert (moved["repo"][0].state, moved["repo"][0].moved_to) == ("moved", "newacme/new-name")
    assert moved["commits"] == expected.commits(world, model, "gitlab")
    assert json.loads(marks["commits"])["location"] == f"projects/{model.id}"
    gone = collect(gitlab, "acme/deleted")[0]
    assert gone["repo"] == [RepoSnapshot(platform="gitlab", path="acme/deleted", state="gone")]


def test_unchanged_rerun_is_five_304s_each_counted_by_gitlab(make_platform, emulator):
    """GitLab 304s every list, but its throttle counts them: repo, commits, releases, issues, merge requests;
    contributors are skipped because the commits list answered with the ETag it had last time."""
    paths = ("acme/big", SUBGROUP, "acme/empty", "acme/old-name")
    first = {p: collect(make_platform("gitlab"), p)[1] for p in paths}
    emulator.clear_log()
    for path, bookmarks in first.items():
        records, _, stats = collect(make_platform("gitlab"), path, bookmarks)
        assert all(r == [] for r in records.values())
        assert sum(s.requests for s in stats.values()) == 5
    assert len(emulator.log) == 5 * len(paths)
    assert all(e.status == 304 and e.spent and e.if_none_match for e in emulator.log)
    assert not [e for e in emulator.log if e.path.endswith("/contributors")]
