"""The GitLab emulator checked with bare python-gitlab and httpx (never our collector)."""

from __future__ import annotations

import gitlab
import httpx
import pytest

AUTH = {"PRIVATE-TOKEN": "emu-token-two"}


@pytest.fixture
def gl(emulator):
    client = gitlab.Gitlab(emulator.url, private_token="emu-token-two", per_page=100)
    yield client
    client.session.close()


@pytest.fixture
def subgroup(world):
    from tests.emulator import generate_repo
    return generate_repo(world, "org/team/sub/widget", commits=130, seed=11, issues=5, pulls=6, releases=3,
                         only_on=("gitlab",))


def test_python_gitlab_reads_a_subgroup_project_by_path(gl, subgroup, emulator):
    project = gl.projects.get("org/team/sub/widget")
    assert project.path_with_namespace == "org/team/sub/widget" and project.id == subgroup.id
    assert emulator.log[-1].path == "/api/v4/projects/org%2Fteam%2Fsub%2Fwidget"
    assert project.namespace["full_path"] == "org/team/sub" and project.empty_repo is False


def test_python_gitlab_follows_link_pages_through_commits_without_totals(gl, subgroup, emulator):
    project = gl.projects.get(subgroup.id)
    commits = list(project.commits.list(iterator=True))
    assert [c.id for c in commits] == [c.sha for c in subgroup.commits]
    assert commits[0].authored_date != commits[0].committed_date or commits[0].authored_date[-6:] != "+00:00"
    first_page = httpx.get(f"{emulator.url}/api/v4/projects/{subgroup.id}/repository/commits", headers=AUTH,
                           params={"per_page": 100})
    assert first_page.headers["x-next-page"] == "2" and "x-total" not in first_page.headers
    assert f'<{emulator.url}/api/v4/projects/{subgroup.id}/repository/commits?per_page=100&page=2>; rel="next"' \
        in first_page.headers["link"]
    assert project.commits.list(get_all=False).__len__() == 100  # python-gitlab: only the first page


def test_states_releases_and_notes(gl, subgroup):
    project = gl.projects.get(subgroup.id)
    assert {i.state for i in project.issues.list(get_all=True)} <= {"opened", "closed"}
    states = {m.state for m in project.mergerequests.list(get_all=True, state="all")}
    assert states <= {"opened", "closed", "locked", "merged"} and "merged" in states
    releases = project.releases.list(get_all=True)
    assert len(releases) == 2 and all(r.released_at.endswith("Z") for r in releases)  # the draft is not there
    closed = next(i for i in project.issues.list(get_all=True) if i.state == "closed")
    notes = closed.notes.list(get_all=True, sort="asc")
    assert notes[-1].system is True and closed.user_notes_count == sum(not n.system for n in notes)


def test_group_projects_include_subgroups_only_when_asked(gl, subgroup):
    group_projects = gl.groups.get("org", lazy=True).projects.list(get_all=True, include_subgroups=True)
    assert [p.path_with_namespace for p in group_projects] == ["org/team/sub/widget"]
    assert gl.groups.get("org", lazy=True).projects.list(get_all=True) == []


def test_etag_304_counts_against_the_limit_and_contributors_have_no_etag(emulator, subgroup):
    url = f"{emulator.url}/api/v4/projects/{subgroup.id}/releases"
    first = httpx.get(url, headers=AUTH)
    again = httpx.get(url, headers={**AUTH, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert int(again.headers["ratelimit-remaining"]) == int(first.headers["ratelimit-remaining"]) - 1
    assert "etag" not in httpx.get(f"{url.rsplit('/', 1)[0]}/repository/contributors", headers=AUTH).headers


def test_429_with_ratelimit_headers_and_retry_after_only_sometimes(emulator, subgroup, gl):
    emulator.set_remaining("emu-token-one", 0, reset_in=40)
    headers = {"PRIVATE-TOKEN": "emu-token-one"}
    answers = [httpx.get(f"{emulator.url}/api/v4/projects/{subgroup.id}", headers=headers) for _ in range(2)]
    assert [a.status_code for a in answers] == [429, 429] and answers[0].text == "Retry later\n"
    assert "retry-after" in answers[0].headers and "retry-after" not in answers[1].headers
    assert all(a.headers["ratelimit-remaining"] == "0" and "ratelimit-reset" in a.headers for a in answers)
    limited = gitlab.Gitlab(emulator.url, private_token="emu-token-one")
    with pytest.raises(gitlab.exceptions.GitlabHttpError) as caught:
        limited.http_request("get", f"/projects/{subgroup.id}", obey_rate_limit=False)
    assert caught.value.response_code == 429


def test_renamed_project_answers_at_its_old_path_and_bad_tokens_are_401(emulator, world, gl):
    moved = world.repo_by_name("newacme/new-name")
    assert gl.projects.get("acme/old-name").path_with_namespace == "newacme/new-name"
    assert gl.projects.get("acme/old-name").id == moved.id
    with pytest.raises(gitlab.exceptions.GitlabAuthenticationError):
        gitlab.Gitlab(emulator.url, private_token="nope").projects.get(moved.id)
    with pytest.raises(gitlab.exceptions.GitlabGetError) as caught:
        gl.projects.get("acme/deleted")
    assert caught.value.response_code == 404
