"""GitHub REST v3 dialect of the emulator (github.com at ``/`` and Enterprise at ``/api/v3``).

Payloads follow the documented response shapes (full user objects, ``url``/``html_url``/``*_url`` fields written
with the emulator's own host and port, since PyGithub asserts both on every URL it follows), with GitHub's quirks:
Link headers joined by ``", "``, 409/204 for empty repositories, 301 to ``/repositories/{id}`` for moved ones,
202 from ``/stats``, a null ``author`` for unlinked e-mails, 403 (or 429) when the quota is spent.
"""

from __future__ import annotations

import re
import urllib.parse
from datetime import datetime, timezone
from typing import Any

from tests.emulator.model import (LICENCE_NAMES, Account, Comment, GitCommit, Issue, Release, Repo, World,
                                  fake_sha)
from tests.emulator.server import Emulator, Quota, Reply, Request

DOCS = "https://docs.github.com/rest"


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def error(status: int, message: str, doc: str = "") -> Reply:
    return Reply(status=status, body={"message": message, "documentation_url": f"{DOCS}{doc}", "status": str(status)},
                 conditional=False)


class GitHubPlatform:
    """Routes for the GitHub v3 subset the collectors use."""

    name = "github"

    def __init__(self, prefixes: tuple[str, ...] = ("", "/api/v3"), *, rate_limit_status: int = 403) -> None:
        self.prefixes = prefixes
        self.rate_limit_status = rate_limit_status

    # -- authentication and limits ------------------------------------------------------------------
    def credential(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        match = re.match(r"(?i)(token|bearer)\s+(\S+)", header)
        return match.group(2) if match else None

    def is_free(self, request: Request) -> bool:
        return request.path.rstrip("/") == "/rate_limit"

    def rate_headers(self, emulator: Emulator, quota: Quota | None) -> dict[str, str]:
        if quota is None:
            return {}
        return {"x-ratelimit-limit": str(quota.limit), "x-ratelimit-remaining": str(quota.remaining),
                "x-ratelimit-used": str(quota.used), "x-ratelimit-reset": str(int(quota.reset_at)),
                "x-ratelimit-resource": "core"}

    def rate_limited(self, emulator: Emulator, request: Request, quota: Quota) -> Reply:
        return error(self.rate_limit_status, "API rate limit exceeded for user ID 1. If you reach out to GitHub "
                     "Support for help, please include the request ID.", "/overview/rate-limits-for-the-rest-api")

    def secondary_limited(self, emulator: Emulator, request: Request, retry_after: int | None) -> Reply:
        reply = error(403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
                      "again. If you reach out to GitHub Support for help, please include the request ID.",
                      "/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits")
        reply.spend = False
        if retry_after is not None:
            reply.headers["retry-after"] = str(retry_after)
        return reply

    def unauthorised(self, emulator: Emulator, request: Request) -> Reply:
        return error(401, "Bad credentials")

    # -- routing ------------------------------------------------------------------------------------
    def handle(self, emulator: Emulator, request: Request) -> Reply:
        world = emulator.world
        path = request.path.rstrip("/")
        if request.method not in ("GET", "HEAD"):
            return error(405, "Method not allowed in the emulator")
        if path == "/rate_limit":
            return self._rate_limit(emulator, request)
        if path == "":
            return Reply(body={"current_user_url": f"{request.api_base}/user"})
        match = re.fullmatch(r"/(orgs|users)/([^/]+)/repos", path)
        if match:
            return self._owner_repos(world, match.group(1), match.group(2), request)
        match = re.fullmatch(r"/users/([^/]+)/orgs", path)
        if match:
            return Reply(body=[]) if world.account(urllib.parse.unquote(match.group(1))) else error(404, "Not Found")
        match = re.fullmatch(r"/users/([^/]+)", path)
        if match:
            account = world.account(urllib.parse.unquote(match.group(1)))  # "dependabot%5Bbot%5D"
            return Reply(body=user_json(account, request)) if account else error(404, "Not Found")
        match = re.fullmatch(r"/repositories/(\d+)(/.*)?", path)
        if match:
            repo = world.repos.get(int(match.group(1)))
            if repo is None:
                return error(404, "Not Found")
            return self._repo_route(world, repo, match.group(2) or "", request)
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
        if match:
            full_name = f"{match.group(1)}/{match.group(2)}"
            rest = match.group(3) or ""
            repo = world.repo_by_name(full_name)
            if repo is not None and not repo.hosted_on(self.name):
                repo = None
            if repo is None and full_name.lower() in world.redirects:
                target = world.redirects[full_name.lower()]
                location = f"{request.api_base}/repositories/{target}{rest}"
                raw_query = urllib.parse.urlencode([(k, v) for k, vs in request.query.items() for v in vs])
                if raw_query:
                    location += "?" + raw_query
                reply = Reply(status=301, body={"message": "Moved Permanently", "url": location,
                                                "documentation_url": f"{DOCS}/overview/resources-in-the-rest-api"},
                              conditional=False)
                reply.headers["location"] = location
                return reply
            if repo is None:
                return error(404, "Not Found", "/repos/repos#get-a-repository")
            return self._repo_route(world, repo, rest, request)
        return error(404, "Not Found")

    def _owner_repos(self, world: World, kind: str, owner: str, request: Request) -> Reply:
        """``/orgs/{org}/repos`` (404 for a user account) and ``/users/{user}/repos``; GitHub sorts the first by
        creation time and the second by full name."""
        account = world.account(owner)
        if account is None or (kind == "orgs" and account.type != "Organization"):
            return error(404, "Not Found", "/repos/repos#list-organization-repositories")
        repos = [r for r in world.repos.values() if r.owner.lower() == owner.lower() and r.hosted_on(self.name)]
        repos.sort(key=(lambda r: (r.created_at, r.id)) if kind == "orgs" else (lambda r: r.full_name.lower()))
        return paginate(request, [repo_json(world, r, request) for r in repos])

    def _rate_limit(self, emulator: Emulator, request: Request) -> Reply:
        quota = emulator.quota(self.credential(request))
        core = {"limit": quota.limit, "used": quota.used, "remaining": quota.remaining, "reset": int(quota.reset_at)}
        other = {"limit": 30, "used": 0, "remaining": 30, "reset": int(quota.reset_at)}
        return Reply(body={"resources": {"core": core, "search": other, "graphql": dict(core),
                                         "integration_manifest": other, "code_search": other},
                           "rate": core}, spend=False, conditional=False)

    def _repo_route(self, world: World, repo: Repo, rest: str, request: Request) -> Reply:
        if rest == "":
            return Reply(body=repo_json(world, repo, request),
                         last_modified=max(repo.updated_at, repo.pushed_at or repo.updated_at))
        if rest.startswith("/stats/"):
            return Reply(status=202, body={}, conditional=False)
        if rest == "/commits":
            return self._commits(world, repo, request)
        if rest == "/contributors":
            return self._contributors(world, repo, request)
        if rest == "/releases":
            return paginate(request, [release_json(world, repo, r, request) for r in repo.releases])
        if rest == "/issues":
            return self._issues(world, repo, request)
        if rest == "/pulls":
            return self._pulls(world, repo, request)
        match = re.fullmatch(r"/pulls/(\d+)(/commits|/reviews)?", rest)
        if match:
            item = next((i for i in repo.issues if i.is_pull and i.number == int(match.group(1))), None)
            if item is None:
                return error(404, "Not Found")
            if match.group(2) == "/reviews":
                return paginate(request, [])
            if match.group(2) == "/commits":
                return paginate(request, [{"sha": fake_sha("head", repo.full_name, item.number)}])
            return Reply(body=pull_detail_json(world, repo, item, request))
        match = re.fullmatch(r"/issues/(\d+)/comments", rest)
        if match:
            item = next((i for i in repo.issues if i.number == int(match.group(1))), None)
            if item is None:
                return error(404, "Not Found")
            comments = sorted(item.comments, key=lambda c: (c.created_at, c.id))
            return paginate(request, [comment_json(world, repo, item, c, request) for c in comments])
        return error(404, "Not Found")

    def _commits(self, world: World, repo: Repo, request: Request) -> Reply:
        if not repo.commits:
            return error(409, "Git Repository is empty.", "/commits/commits#list-commits")
        ref = request.arg("sha")
        if ref not in (None, "", repo.default_branch):
            if ref not in {c.sha for c in repo.commits}:
                return error(404, f"No commit found for SHA: {ref}", "/commits/commits#list-commits")
        commits = repo.commits
        if ref and ref != repo.default_branch:
            start = next(i for i, c in enumerate(commits) if c.sha == ref)
            commits = commits[start:]
        since, until = request.arg("since"), request.arg("until")
        if since:
            commits = [c for c in commits if c.committed_at >= parse_iso(since)]
        if until:
            commits = [c for c in commits if c.committed_at <= parse_iso(until)]
        return paginate(request, commits, render=lambda c: commit_json(world, repo, c, request))

    def _contributors(self, world: World, repo: Repo, request: Request) -> Reply:
        if not repo.commits:
            return Reply(status=204, body=None, conditional=False)
        anon = (request.arg("anon") or "").lower() in ("1", "true")
        counts: dict[tuple[str, str], int] = {}
        names: dict[str, str] = {}
        for commit in repo.commits:
            account = world.account_for_email(commit.author.email)
            key = ("user", account.login) if account else ("anon", commit.author.email.lower())
            counts[key] = counts.get(key, 0) + 1
            names.setdefault(commit.author.email.lower(), commit.author.name)
        entries = []
        for (kind, ident), count in counts.items():
            if kind == "user":
                entry = user_json(world.account(ident), request)
                entry["contributions"] = count
                entries.append(entry)
            elif anon:
                entries.append({"email": ident, "name": names[ident], "type": "Anonymous", "contributions": count})
        entries.sort(key=lambda e: (-e["contributions"], e.get("login") or e.get("email")))
        return paginate(request, entries)

    def _issues(self, world: World, repo: Repo, request: Request) -> Reply:
        state = request.arg("state", "open")
        items = [i for i in repo.issues if state == "all" or i.state == state]
        since = request.arg("since")
        if since:
            items = [i for i in items if i.updated_at >= parse_iso(since)]
        items = sort_items(items, request.arg("sort", "created"), request.arg("direction", "desc"))
        return paginate(request, [issue_json(world, repo, i, request) for i in items])

    def _pulls(self, world: World, repo: Repo, request: Request) -> Reply:
        state = request.arg("state", "open")
        items = [i for i in repo.issues if i.is_pull and (state == "all" or i.state == state)]
        items = sort_items(items, request.arg("sort", "created"), request.arg("direction", "desc"))
        return paginate(request, [pull_json(world, repo, i, request) for i in items])


def sort_items(items: list[Issue], sort: str | None, direction: str | None) -> list[Issue]:
    key = {"updated": lambda i: (i.updated_at, i.number), "comments": lambda i: (len(i.comments), i.number)}.get(
        sort or "created", lambda i: (i.created_at, i.number))
    return sorted(items, key=key, reverse=(direction or "desc") == "desc")


def paginate(request: Request, items: list[Any], *, default: int = 30, maximum: int = 100,
             render: Any = None) -> Reply:
    """One page of ``items`` with GitHub's Link header (prev, next, last, first joined by ", "); ``render``
    turns model objects into payloads for the page only (a 100,000-commit history stays cheap to serve)."""
    try:
        per_page = min(max(int(request.arg("per_page") or default), 1), maximum)
        page = max(int(request.arg("page") or 1), 1)
    except ValueError:
        return error(422, "Invalid pagination")
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = items[(page - 1) * per_page: page * per_page]
    if render is not None:
        chunk = [render(item) for item in chunk]

    def link(number: int) -> str:
        query = [(k, v) for k, vs in request.query.items() if k != "page" for v in vs] + [("page", str(number))]
        return f"{request.api_base}{request.path}?{urllib.parse.urlencode(query)}"

    links = []
    if page > 1:
        links.append(f'<{link(page - 1)}>; rel="prev"')
    if page < last:
        links.append(f'<{link(page + 1)}>; rel="next"')
        links.append(f'<{link(last)}>; rel="last"')
    if page > 1:
        links.append(f'<{link(1)}>; rel="first"')
    reply = Reply(body=chunk)
    if links:
        reply.headers["link"] = ", ".join(links)
    return reply


# -- payloads ---------------------------------------------------------------------------------------
def user_json(account: Account | None, request: Request) -> dict[str, Any] | None:
    if account is None:
        return None
    api = f"{request.api_base}/users/{account.login}"
    return {
        "login": account.login, "id": account.id, "node_id": f"MDQ6VXNlcj{account.id}",
        "avatar_url": f"{request.web_base}/avatars/u/{account.id}?v=4", "gravatar_id": "",
        "url": api, "html_url": f"{request.web_base}/{account.login}",
        "followers_url": f"{api}/followers", "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}", "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions", "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos", "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events", "type": account.type, "user_view_type": "public",
        "site_admin": False,
    }


def repo_json(world: World, repo: Repo, request: Request) -> dict[str, Any]:
    api = f"{request.api_base}/repos/{repo.full_name}"
    licence = None
    if repo.licence:
        key, name = LICENCE_NAMES.get(repo.licence, (repo.licence.lower(), repo.licence))
        licence = {"key": key, "name": name, "spdx_id": repo.licence, "url": f"{request.api_base}/licenses/{key}",
                   "node_id": f"MDc6TGljZW5zZ{key}"}
    owner = world.account(repo.owner)
    return {
        "id": repo.id, "node_id": f"MDEwOlJlcG9zaXRvcnk{repo.id}", "name": repo.name, "full_name": repo.full_name,
        "private": False, "owner": user_json(owner, request), "html_url": f"{request.web_base}/{repo.full_name}",
        "description": repo.description, "fork": repo.fork, "url": api,
        "forks_url": f"{api}/forks", "keys_url": f"{api}/keys{{/key_id}}",
        "collaborators_url": f"{api}/collaborators{{/collaborator}}", "teams_url": f"{api}/teams",
        "hooks_url": f"{api}/hooks", "issue_events_url": f"{api}/issues/events{{/number}}",
        "events_url": f"{api}/events", "assignees_url": f"{api}/assignees{{/user}}",
        "branches_url": f"{api}/branches{{/branch}}", "tags_url": f"{api}/tags", "blobs_url": f"{api}/git/blobs{{/sha}}",
        "git_tags_url": f"{api}/git/tags{{/sha}}", "git_refs_url": f"{api}/git/refs{{/sha}}",
        "trees_url": f"{api}/git/trees{{/sha}}", "statuses_url": f"{api}/statuses/{{sha}}",
        "languages_url": f"{api}/languages", "stargazers_url": f"{api}/stargazers",
        "contributors_url": f"{api}/contributors", "subscribers_url": f"{api}/subscribers",
        "subscription_url": f"{api}/subscription", "commits_url": f"{api}/commits{{/sha}}",
        "git_commits_url": f"{api}/git/commits{{/sha}}", "comments_url": f"{api}/comments{{/number}}",
        "issue_comment_url": f"{api}/issues/comments{{/number}}", "contents_url": f"{api}/contents/{{+path}}",
        "compare_url": f"{api}/compare/{{base}}...{{head}}", "merges_url": f"{api}/merges",
        "archive_url": f"{api}/{{archive_format}}{{/ref}}", "downloads_url": f"{api}/downloads",
        "issues_url": f"{api}/issues{{/number}}", "pulls_url": f"{api}/pulls{{/number}}",
        "milestones_url": f"{api}/milestones{{/number}}", "notifications_url": f"{api}/notifications{{?since,all,participating}}",
        "labels_url": f"{api}/labels{{/name}}", "releases_url": f"{api}/releases{{/id}}",
        "deployments_url": f"{api}/deployments",
        "created_at": iso(repo.created_at), "updated_at": iso(repo.updated_at), "pushed_at": iso(repo.pushed_at),
        "git_url": f"git://{request.host}/{repo.full_name}.git", "ssh_url": f"git@{request.host}:{repo.full_name}.git",
        "clone_url": f"{request.web_base}/{repo.full_name}.git", "svn_url": f"{request.web_base}/{repo.full_name}",
        "homepage": None, "size": 0 if not repo.commits else 42 + len(repo.commits),
        "stargazers_count": repo.stars, "watchers_count": repo.stars, "language": "Python",
        "has_issues": True, "has_projects": True, "has_downloads": True, "has_wiki": True, "has_pages": False,
        "has_discussions": False, "forks_count": repo.forks, "mirror_url": None, "archived": repo.archived,
        "disabled": False, "open_issues_count": repo.open_issues, "license": licence, "allow_forking": True,
        "is_template": False, "web_commit_signoff_required": False, "topics": [], "visibility": "public",
        "forks": repo.forks, "open_issues": repo.open_issues, "watchers": repo.stars,
        "default_branch": repo.default_branch, "network_count": repo.forks, "subscribers_count": repo.subscribers,
    }


def _git_user(person, moment: datetime) -> dict[str, Any]:
    return {"name": person.name, "email": person.email, "date": iso(moment)}


def commit_json(world: World, repo: Repo, commit: GitCommit, request: Request) -> dict[str, Any]:
    api = f"{request.api_base}/repos/{repo.full_name}"
    return {
        "sha": commit.sha, "node_id": f"C_{commit.sha[:20]}",
        "commit": {
            "author": _git_user(commit.author, commit.authored_at),
            "committer": _git_user(commit.committer, commit.committed_at),
            "message": commit.message,
            "tree": {"sha": fake_sha("tree", commit.sha), "url": f"{api}/git/trees/{fake_sha('tree', commit.sha)}"},
            "url": f"{api}/git/commits/{commit.sha}", "comment_count": 0,
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                             "verified_at": None},
        },
        "url": f"{api}/commits/{commit.sha}", "html_url": f"{request.web_base}/{repo.full_name}/commit/{commit.sha}",
        "comments_url": f"{api}/commits/{commit.sha}/comments",
        "author": user_json(world.account_for_email(commit.author.email), request),
        "committer": user_json(world.account("web-flow") if commit.committer.email == "noreply@github.com"
                               else world.account_for_email(commit.committer.email), request),
        "parents": [{"sha": p, "url": f"{api}/commits/{p}", "html_url": f"{request.web_base}/{repo.full_name}/commit/{p}"}
                    for p in commit.parents],
    }


def release_json(world: World, repo: Repo, release: Release, request: Request) -> dict[str, Any]:
    api = f"{request.api_base}/repos/{repo.full_name}/releases/{release.id}"
    web = f"{request.web_base}/{repo.full_name}"
    return {
        "url": api, "assets_url": f"{api}/assets",
        "upload_url": f"{request.web_base}/uploads/repos/{repo.full_name}/releases/{release.id}/assets{{?name,label}}",
        "html_url": f"{web}/releases/tag/{release.tag_name}", "id": release.id, "node_id": f"RE_{release.id}",
        "author": user_json(world.account(release.author_login), request), "tag_name": release.tag_name,
        "target_commitish": repo.default_branch, "name": release.name, "draft": release.draft,
        "immutable": False, "prerelease": release.prerelease, "created_at": iso(release.created_at),
        "updated_at": iso(release.published_at or release.created_at),
        "published_at": iso(release.published_at), "assets": [],
        "tarball_url": f"{request.api_base}/repos/{repo.full_name}/tarball/{release.tag_name}",
        "zipball_url": f"{request.api_base}/repos/{repo.full_name}/zipball/{release.tag_name}", "body": release.body,
    }


def _reactions(url: str) -> dict[str, Any]:
    return {"url": url, "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0, "heart": 0,
            "rocket": 0, "eyes": 0}


def issue_json(world: World, repo: Repo, item: Issue, request: Request) -> dict[str, Any]:
    api = f"{request.api_base}/repos/{repo.full_name}/issues/{item.number}"
    kind = "pull" if item.is_pull else "issues"
    data = {
        "url": api, "repository_url": f"{request.api_base}/repos/{repo.full_name}",
        "labels_url": f"{api}/labels{{/name}}", "comments_url": f"{api}/comments", "events_url": f"{api}/events",
        "html_url": f"{request.web_base}/{repo.full_name}/{kind}/{item.number}", "id": item.id,
        "node_id": f"I_{item.id}", "number": item.number, "title": item.title,
        "user": user_json(world.account(item.author_login), request), "labels": [], "state": item.state,
        "locked": False, "assignee": None, "assignees": [], "milestone": None, "comments": len(item.comments),
        "created_at": iso(item.created_at), "updated_at": iso(item.updated_at), "closed_at": iso(item.closed_at),
        "author_association": "CONTRIBUTOR", "active_lock_reason": None, "body": f"Body of {item.title}",
        "closed_by": None, "reactions": _reactions(f"{api}/reactions"), "timeline_url": f"{api}/timeline",
        "performed_via_github_app": None,
        "state_reason": ("completed" if item.state == "closed" else None),
    }
    if item.is_pull:
        pulls = f"{request.api_base}/repos/{repo.full_name}/pulls/{item.number}"
        data["draft"] = item.draft
        data["pull_request"] = {"url": pulls, "html_url": f"{request.web_base}/{repo.full_name}/pull/{item.number}",
                                "diff_url": f"{request.web_base}/{repo.full_name}/pull/{item.number}.diff",
                                "patch_url": f"{request.web_base}/{repo.full_name}/pull/{item.number}.patch",
                                "merged_at": iso(item.merged_at)}
    return data


def pull_json(world: World, repo: Repo, item: Issue, request: Request) -> dict[str, Any]:
    api = f"{request.api_base}/repos/{repo.full_name}/pulls/{item.number}"
    issue_api = f"{request.api_base}/repos/{repo.full_name}/issues/{item.number}"
    user = user_json(world.account(item.author_login), request)
    repo_min = repo_json(world, repo, request)
    head_sha = fake_sha("head", repo.full_name, item.number)
    return {
        "url": api, "id": item.id, "node_id": f"PR_{item.id}",
        "html_url": f"{request.web_base}/{repo.full_name}/pull/{item.number}",
        "diff_url": f"{request.web_base}/{repo.full_name}/pull/{item.number}.diff",
        "patch_url": f"{request.web_base}/{repo.full_name}/pull/{item.number}.patch", "issue_url": issue_api,
        "number": item.number, "state": item.state, "locked": False, "title": item.title, "user": user,
        "body": f"Body of {item.title}", "created_at": iso(item.created_at), "updated_at": iso(item.updated_at),
        "closed_at": iso(item.closed_at), "merged_at": iso(item.merged_at),
        "merge_commit_sha": fake_sha("merge", repo.full_name, item.number) if item.merged_at else None,
        "assignee": None, "assignees": [], "requested_reviewers": [], "requested_teams": [], "labels": [],
        "milestone": None, "draft": item.draft, "commits_url": f"{api}/commits",
        "review_comments_url": f"{api}/comments", "review_comment_url": f"{request.api_base}/repos/{repo.full_name}/pulls/comments{{/number}}",
        "comments_url": f"{issue_api}/comments", "statuses_url": f"{request.api_base}/repos/{repo.full_name}/statuses/{head_sha}",
        "head": {"label": f"{item.author_login}:feature-{item.number}", "ref": f"feature-{item.number}",
                 "sha": head_sha, "user": user, "repo": repo_min},
        "base": {"label": f"{repo.owner}:{repo.default_branch}", "ref": repo.default_branch,
                 "sha": repo.commits[0].sha if repo.commits else fake_sha("base", repo.full_name),
                 "user": user_json(world.account(repo.owner), request), "repo": repo_min},
        "_links": {"self": {"href": api}, "html": {"href": f"{request.web_base}/{repo.full_name}/pull/{item.number}"},
                   "issue": {"href": issue_api}, "comments": {"href": f"{issue_api}/comments"},
                   "review_comments": {"href": f"{api}/comments"}, "commits": {"href": f"{api}/commits"}},
        "author_association": "CONTRIBUTOR", "auto_merge": None, "active_lock_reason": None,
    }


def comment_json(world: World, repo: Repo, item: Issue, comment: Comment, request: Request) -> dict[str, Any]:
    api = f"{request.api_base}/repos/{repo.full_name}/issues/comments/{comment.id}"
    return {
        "url": api, "html_url": f"{request.web_base}/{repo.full_name}/issues/{item.number}#issuecomment-{comment.id}",
        "issue_url": f"{request.api_base}/repos/{repo.full_name}/issues/{item.number}", "id": comment.id,
        "node_id": f"IC_{comment.id}", "user": user_json(world.account(comment.author_login), request),
        "created_at": iso(comment.created_at), "updated_at": iso(comment.created_at),
        "author_association": "CONTRIBUTOR", "body": comment.body, "reactions": _reactions(f"{api}/reactions"),
        "performed_via_github_app": None,
    }


def pull_detail_json(world: World, repo: Repo, item: Issue, request: Request) -> dict[str, Any]:
    """``GET /repos/{o}/{r}/pulls/{n}``: the list shape plus the counts only the single pull carries."""
    data = pull_json(world, repo, item, request)
    data.update({"merged": item.merged_at is not None, "mergeable": None, "rebaseable": None,
                 "mergeable_state": "unknown",
                 "merged_by": user_json(world.account(item.author_login), request) if item.merged_at else None,
                 "comments": len(item.comments), "review_comments": 0, "maintainer_can_modify": False,
                 "commits": 1, "additions": 1, "deletions": 0, "changed_files": 1})
    return data
