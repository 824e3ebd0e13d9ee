"""The GitHub emulator checked with the bare client libraries (PyGithub, httpx), never with our collector, so it
stays faithful to GitHub rather than to our code."""

from __future__ import annotations

import httpx
import pytest
from github import Auth, Github, GithubException, RateLimitExceededException

AUTH = {"Authorization": "token emu-token-one"}


def pygithub(emulator, token="emu-token-two", prefix=""):
    return Github(auth=Auth.Token(token), base_url=emulator.url + prefix, per_page=100, retry=None,
                  seconds_between_requests=None)


def test_pygithub_reads_repository_fields(emulator, world):
    model = world.repo_by_name("acme/rocket")
    repo = pygithub(emulator).get_repo("acme/rocket")
    assert repo.full_name == "acme/rocket"
    assert repo.subscribers_count == model.subscribers
    assert repo.watchers_count == model.stars == repo.stargazers_count
    assert repo.license.spdx_id == "Apache-2.0"
    assert repo.default_branch == "main"
    assert repo.owner.login == "acme"


def test_pygithub_follows_link_pages_through_all_commits(emulator, world):
    model = world.repo_by_name("acme/rocket")
    commits = list(pygithub(emulator).get_repo("acme/rocket").get_commits())
    assert [c.sha for c in commits] == [c.sha for c in model.commits]
    unlinked = [c for c in commits if c.commit.author.email.endswith("@unlinked.example.net")]
    assert unlinked and all(c.author is None for c in unlinked)
    assert all(c.author.login.startswith("acme-rocket-dev") or c.author.login == "dependabot[bot]"
               for c in commits if c.author is not None)


def test_enterprise_prefix_serves_the_same_data_with_prefixed_links(emulator, world):
    gh = pygithub(emulator, prefix="/api/v3")
    assert len(list(gh.get_repo("acme/rocket").get_commits())) == 250
    response = httpx.get(f"{emulator.url}/api/v3/repos/acme/rocket/commits", params={"per_page": 100}, headers=AUTH)
    assert f"{emulator.url}/api/v3/repos/acme/rocket/commits?per_page=100&page=2" in response.headers["link"]
    assert response.json()[0]["url"].startswith(f"{emulator.url}/api/v3/repos/acme/rocket/commits/")


def test_link_header_is_joined_by_comma_space_with_own_host(emulator):
    response = httpx.get(f"{emulator.url}/repos/acme/rocket/commits", params={"per_page": 50, "page": 2},
                         headers=AUTH)
    parts = response.headers["link"].split(", ")
    rels = [p.split("; ")[1] for p in parts]
    assert rels == ['rel="prev"', 'rel="next"', 'rel="last"', 'rel="first"']
    assert all(p.startswith(f"<{emulator.url}/repos/acme/rocket/commits?") for p in parts)


def test_empty_repository_answers_409_for_commits_and_204_for_contributors(emulator):
    commits = httpx.get(f"{emulator.url}/repos/acme/empty/commits", headers=AUTH)
    assert commits.status_code == 409 and commits.json()["message"] == "Git Repository is empty."
    contributors = httpx.get(f"{emulator.url}/repos/acme/empty/contributors", headers=AUTH)
    assert contributors.status_code == 204 and contributors.content == b""


def test_moved_repository_answers_301_to_repositories_id(emulator, world):
    moved = world.repo_by_name("newacme/new-name")
    response = httpx.get(f"{emulator.url}/repos/acme/old-name/commits", params={"per_page": 2}, headers=AUTH)
    assert response.status_code == 301
    assert response.headers["location"] == f"{emulator.url}/repositories/{moved.id}/commits?per_page=2"
    # PyGithub follows the redirect itself for a single object
    assert pygithub(emulator).get_repo("acme/old-name").full_name == "newacme/new-name"


def test_deleted_repository_is_404_and_stats_are_202(emulator):
    assert httpx.get(f"{emulator.url}/repos/acme/deleted", headers=AUTH).status_code == 404
    with pytest.raises(GithubException) as caught:
        pygithub(emulator).get_repo("acme/deleted")
    assert caught.value.status == 404
    assert httpx.get(f"{emulator.url}/repos/acme/rocket/stats/contributors", headers=AUTH).status_code == 202


def test_contributors_anon_lists_unlinked_emails_as_anonymous(emulator, world):
    linked = httpx.get(f"{emulator.url}/repos/acme/rocket/contributors", headers=AUTH).json()
    everyone = httpx.get(f"{emulator.url}/repos/acme/rocket/contributors", params={"anon": "1"}, headers=AUTH).json()
    anonymous = [e for e in everyone if e.get("type") == "Anonymous"]
    assert anonymous and all("login" not in e and e["email"].endswith("@unlinked.example.net") for e in anonymous)
    assert sum(e["contributions"] for e in everyone) == 250
    assert len(everyone) == len(linked) + len(anonymous)
    assert [e["contributions"] for e in everyone] == sorted((e["contributions"] for e in everyone), reverse=True)


def test_issues_include_pull_requests_marked_by_pull_request_key(emulator, world):
    items = httpx.get(f"{emulator.url}/repos/acme/rocket/issues",
                      params={"state": "all", "per_page": 100, "sort": "updated", "direction": "asc"},
                      headers=AUTH).json()
    assert len(items) == 20
    assert sum("pull_request" in i for i in items) == 8
    assert [i["updated_at"] for i in items] == sorted(i["updated_at"] for i in items)
    pulls = httpx.get(f"{emulator.url}/repos/acme/rocket/pulls", params={"state": "all"}, headers=AUTH).json()
    assert len(pulls) == 8 and "comments" not in pulls[0] and "merged_at" in pulls[0]


def test_rate_limit_headers_quota_exhaustion_and_reset(emulator, clock):
    first = httpx.get(f"{emulator.url}/repos/acme/rocket", headers=AUTH)
    assert first.headers["x-ratelimit-limit"] == "50"
    assert first.headers["x-ratelimit-remaining"] == "49"
    assert first.headers["x-ratelimit-resource"] == "core"
    reset = int(first.headers["x-ratelimit-reset"])
    emulator.set_remaining("emu-token-one", 0)
    spent = httpx.get(f"{emulator.url}/repos/acme/rocket", headers=AUTH)
    assert spent.status_code == 403 and spent.headers["x-ratelimit-remaining"] == "0"
    assert spent.json()["message"].startswith("API rate limit exceeded")
    with pytest.raises(RateLimitExceededException):
        pygithub(emulator, token="emu-token-one").get_repo("acme/rocket")
    free = httpx.get(f"{emulator.url}/rate_limit", headers=AUTH)
    assert free.status_code == 200 and free.json()["resources"]["core"]["remaining"] == 0
    clock.advance(reset - clock.now() + 1)
    assert httpx.get(f"{emulator.url}/repos/acme/rocket", headers=AUTH).headers["x-ratelimit-remaining"] == "49"


def test_etag_304_spends_no_quota_and_is_logged(emulator):
    url = f"{emulator.url}/repos/acme/rocket/releases"
    first = httpx.get(url, headers=AUTH)
    again = httpx.get(url, headers={**AUTH, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]
    modified = httpx.get(f"{emulator.url}/repos/acme/rocket", headers=AUTH)
    since = httpx.get(f"{emulator.url}/repos/acme/rocket",
                      headers={**AUTH, "If-Modified-Since": modified.headers["last-modified"]})
    assert since.status_code == 304
    assert [(e.status, e.spent, e.token_index) for e in emulator.log] == [
        (200, True, 0), (304, False, 0), (200, True, 0), (304, False, 0)]


def test_bad_token_is_401_bad_credentials(emulator):
    with pytest.raises(GithubException) as caught:
        pygithub(emulator, token="not-registered").get_repo("acme/rocket")
    assert caught.value.status == 401 and caught.value.data["message"] == "Bad credentials"


def test_faults_502_burst_secondary_limit_truncation_and_delay(emulator):
    url = f"{emulator.url}/repos/acme/rocket/commits"
    emulator.inject("status", path="/commits$", times=2, status=502)
    assert [httpx.get(url, headers=AUTH).status_code for _ in range(3)] == [502, 502, 200]
    emulator.inject("secondary", path="/commits$", retry_after=7)
    limited = httpx.get(url, headers=AUTH)
    assert limited.status_code == 403 and limited.headers["retry-after"] == "7"
    assert "secondary rate limit" in limited.json()["message"]
    emulator.inject("truncate", path="/commits$")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url, headers=AUTH)
    emulator.inject("delay", path="/commits$", seconds=0.5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, headers=AUTH, timeout=0.1)
    assert httpx.get(url, headers=AUTH).status_code == 200
    assert [e.fault for e in emulator.log] == ["status", "status", None, "secondary", "truncate", "delay", None]


def test_since_and_until_filter_commits_by_committer_date(emulator, world):
    model = world.repo_by_name("acme/rocket")
    middle = model.commits[50].committed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    newer = httpx.get(f"{emulator.url}/repos/acme/rocket/commits", params={"since": middle, "per_page": 100},
                      headers=AUTH).json()
    assert [c["sha"] for c in newer] == [c.sha for c in model.commits[:51]]
