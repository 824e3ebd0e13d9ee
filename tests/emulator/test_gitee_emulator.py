"""The Gitee and GitCode emulator checked with bare httpx (never our collector), against the documented shapes."""

from __future__ import annotations

import httpx
import pytest

from tests.emulator.gitee import gitee_number

GITEE = "/api/v5"
GITCODE = "/gitcode/api/v5"
TOKEN = {"access_token": "emu-token-two"}
BEARER = {"Authorization": "Bearer emu-token-two"}


def gitee(emulator, path, **params):
    return httpx.get(f"{emulator.url}{GITEE}{path}", params={**TOKEN, **params})


def gitcode(emulator, path, **params):
    return httpx.get(f"{emulator.url}{GITCODE}{path}", params=params, headers=BEARER)


def test_repository_has_gitee_fields_with_beijing_times(emulator, world):
    model = world.repo_by_name("acme/rocket")
    data = gitee(emulator, "/repos/acme/rocket").json()
    assert data["full_name"] == "acme/rocket" and data["html_url"] == f"{emulator.url}/acme/rocket.git"
    assert data["license"] == "Apache-2.0" and data["status"] == "开始"
    assert data["stargazers_count"] == model.stars and data["watchers_count"] == model.subscribers
    assert data["created_at"].endswith("+08:00") and data["namespace"]["path"] == "acme"
    assert gitee(emulator, "/repos/acme/empty").json()["pushed_at"] is None


def test_gitee_pages_carry_totals_and_a_link_echoing_the_token(emulator):
    response = gitee(emulator, "/repos/acme/rocket/commits", per_page=100, page=2)
    assert (response.headers["total_count"], response.headers["total_page"]) == ("250", "3")
    link = response.headers["link"]
    assert f'<{emulator.url}{GITEE}/repos/acme/rocket/commits?access_token=emu-token-two&per_page=100&page=3>; ' \
           f'rel="next"' in link
    assert len(gitee(emulator, "/repos/acme/rocket/commits").json()) == 20  # default per_page
    assert "etag" not in response.headers  # unverified on the real platforms: off unless asked


def test_gitcode_pages_have_totals_but_no_link(emulator):
    response = gitcode(emulator, "/repos/acme/rocket/commits", per_page=100)
    assert response.headers["total_page"] == "3" and "link" not in response.headers
    assert response.headers["x-ratelimit-limit"] == "5000"
    assert len(gitcode(emulator, "/repos/acme/rocket/commits", per_page=100, page=3).json()) == 50


def test_gitee_issues_have_letter_numbers_four_states_and_no_pulls(emulator, world):
    model = world.repo_by_name("acme/rocket")
    items = gitee(emulator, "/repos/acme/rocket/issues", state="all", per_page=100).json()
    assert len(items) == 12 and all(i["number"].startswith("I") for i in items)
    assert {i["state"] for i in items} <= {"open", "progressing", "closed", "rejected"}
    closed = [i for i in items if i["state"] in ("closed", "rejected")]
    assert closed and all(i["finished_at"] for i in closed)
    issue = next(i for i in model.issues if not i.is_pull and i.comments)
    comments = gitee(emulator, f"/repos/acme/rocket/issues/{gitee_number(issue)}/comments").json()
    assert [c["id"] for c in comments] == [c.id for c in sorted(issue.comments, key=lambda c: (c.created_at, c.id))]


def test_pulls_have_merged_state_and_releases_have_no_published_at(emulator, world):
    pulls = gitee(emulator, "/repos/acme/rocket/pulls", state="all").json()
    assert len(pulls) == 8 and "merged" in {p["state"] for p in pulls}
    assert all(p["merged_at"] for p in pulls if p["state"] == "merged")
    releases = gitee(emulator, "/repos/acme/rocket/releases").json()
    assert len(releases) == 3  # the draft is not listed
    assert all("published_at" not in r and r["created_at"].endswith("+08:00") for r in releases)


def test_contributors_are_git_identities_with_text_counts_on_gitee(emulator):
    rows = gitee(emulator, "/repos/acme/rocket/contributors", per_page=100).json()
    assert all(set(r) == {"name", "email", "contributions"} for r in rows)
    assert all(isinstance(r["contributions"], str) for r in rows)
    assert sum(int(r["contributions"]) for r in rows) == 250
    numeric = gitcode(emulator, "/repos/acme/rocket/contributors", type="authors", per_page=100).json()
    assert sum(r["contributions"] for r in numeric) == 250


def test_gitcode_quirks_string_ids_nicknames_mixed_times(emulator):
    commit = next(c for c in gitcode(emulator, "/repos/acme/rocket/commits", per_page=100).json() if c["author"])
    assert commit["commit"]["author"]["date"].endswith(".000Z")
    assert commit["author"]["login"].endswith(")") and isinstance(commit["author"]["id"], str)
    issues = gitcode(emulator, "/repos/acme/rocket/issues", state="all", per_page=100).json()
    assert {i["state"] for i in issues} <= {"opened", "closed"} and all(isinstance(i["number"], int) for i in issues)
    assert all("comments" not in i and i["updated_at"].endswith("+08:00") for i in issues)
    release = gitcode(emulator, "/repos/acme/rocket/releases").json()[0]
    assert "+" not in release["created_at"] and not release["created_at"].endswith("Z")  # zone-less


def test_updated_after_and_since_filter_by_update_time(emulator, world):
    model = world.repo_by_name("acme/rocket")
    issues = sorted((i for i in model.issues if not i.is_pull), key=lambda i: i.updated_at)
    middle = issues[6].updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(gitcode(emulator, "/repos/acme/rocket/issues", state="all", updated_after=middle).json()) == 6
    assert len(gitee(emulator, "/repos/acme/rocket/issues", state="all", since=middle).json()) == 6


def test_auth_rate_limits_and_faults(emulator, clock):
    assert httpx.get(f"{emulator.url}{GITEE}/repos/acme/rocket", params={"access_token": "nope"}).status_code == 401
    bad = httpx.get(f"{emulator.url}{GITCODE}/repos/acme/rocket", headers={"PRIVATE-TOKEN": "nope"})
    assert bad.status_code == 401 and bad.json()["error_code"] == 401
    emulator.set_remaining("emu-token-one", 0, reset_in=60)
    spent = httpx.get(f"{emulator.url}{GITEE}/repos/acme/rocket", params={"access_token": "emu-token-one"})
    assert spent.status_code == 403 and "Rate Limit" in spent.json()["message"]
    limited = httpx.get(f"{emulator.url}{GITCODE}/repos/acme/rocket", headers={"Authorization": "Bearer emu-token-one"})
    assert limited.status_code == 429 and limited.headers["x-ratelimit-remaining"] == "0"
    emulator.inject("status", path="/commits$", times=1, status=502)
    assert gitee(emulator, "/repos/acme/rocket/commits").status_code == 502
    emulator.inject("truncate", path="/commits$")
    with pytest.raises(httpx.RemoteProtocolError):
        gitee(emulator, "/repos/acme/rocket/commits")
    assert all(e.query.get("access_token") in (None, ["***"]) for e in emulator.log)


def test_organisation_and_user_repository_lists(emulator, world):
    listed = gitee(emulator, "/orgs/acme/repos", per_page=100).json()
    assert {r["full_name"] for r in listed} == {"acme/rocket", "acme/empty"}
    assert gitee(emulator, "/orgs/nobody/repos").status_code == 404
    assert len(gitcode(emulator, "/users/acme/repos").json()) == 2 and gitcode(emulator, "/users/nobody/repos").status_code == 404
