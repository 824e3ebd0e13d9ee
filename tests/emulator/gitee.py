"""Gitee API v5 and GitCode/AtomGit API v5 dialects of the emulator: one route module, two flavours as data.

Shapes follow Gitee's v5 swagger and GitCode's published v5 docs, with the quirks a collector must survive:
- Gitee: ``access_token`` in the query (echoed back in Link URLs, as a server building links from the request
  does), times with ``+08:00``, issue numbers like ``"I00RS4"``, issue states open/progressing/closed/rejected,
  pull state ``merged``, releases without ``published_at`` or drafts, contributors ``{name, email, contributions}``
  with the count as text, ``total_count``/``total_page`` headers plus Link, rate limit as a bare 403.
- GitCode: ``Authorization: Bearer``/``PRIVATE-TOKEN`` (or ``access_token``), string user ids, issue states
  opened/closed with integer numbers, times as ``.000Z``, ``+08:00`` and zone-less (Beijing) text, commit author
  logins like ``"dev0(Developer 0)"``, ``type=authors`` on contributors, ``updated_after`` on issues and pulls,
  ``total_count``/``total_page`` without Link, 429 with ``x-ratelimit-*`` when the window is spent.
Neither flavour sends ETags unless asked (``etags=True``): whether they do is unverified, so the collector must not
rely on them.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.emulator.model import Account, Comment, GitCommit, Issue, Person, Release, Repo, World, fake_sha
from tests.emulator.server import Emulator, Quota, Reply, Request

UTC = timezone.utc
CHINA = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Flavour:
    """How one Gitee-style platform differs from the other (the collector keeps the mirror image of this)."""

    name: str
    prefixes: tuple[str, ...]
    header_auth: bool  # Bearer / PRIVATE-TOKEN accepted besides access_token
    string_ids: bool  # user ids as text
    string_counts: bool  # contributors' "contributions" as text
    letter_numbers: bool  # issue numbers like "I00RS4"
    open_states: tuple[str, ...]  # issue states used for open issues (alternating)
    closed_states: tuple[str, ...]
    pull_open_state: str
    link_header: bool
    nickname_logins: bool  # commit author login "login(name)"
    updated_after: bool  # issues/pulls filter by ``updated_after`` (else issues by ``since``)
    rate_limit_status: int
    rate_headers: bool
    etags: bool = False


GITEE = Flavour(name="gitee", prefixes=("/api/v5",), header_auth=False, string_ids=False, string_counts=True,
                letter_numbers=True, open_states=("open", "progressing"), closed_states=("closed", "rejected"),
                pull_open_state="open", link_header=True, nickname_logins=False, updated_after=False,
                rate_limit_status=403, rate_headers=False)
GITCODE = Flavour(name="gitcode", prefixes=("/gitcode/api/v5",), header_auth=True, string_ids=True,
                  string_counts=False, letter_numbers=False, open_states=("opened",), closed_states=("closed",),
                  pull_open_state="opened", link_header=False, nickname_logins=True, updated_after=True,
                  rate_limit_status=429, rate_headers=True)


def gitee_number(item: Issue) -> str:
    """Gitee's issue "number": a short upper-case base-36 text derived from the id (unique, not sequential)."""
    digits, n = "", item.id
    while n:
        n, r = divmod(n, 36)
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[r] + digits
    return "I" + digits.rjust(5, "0")


def _error(status: int, message: str, flavour: Flavour) -> Reply:
    if flavour.name == "gitcode":
        return Reply(status=status, body={"error_code": status, "error_message": message}, conditional=False)
    return Reply(status=status, body={"message": message}, conditional=False)


class GiteePlatform:
    """Routes for the Gitee-style v5 subset the collectors use, in one flavour."""

    def __init__(self, flavour: Flavour = GITEE, *, prefixes: tuple[str, ...] | None = None,
                 etags: bool | None = None) -> None:
        self.flavour = flavour if etags is None else replace(flavour, etags=etags)
        self.name = flavour.name
        self.prefixes = prefixes or flavour.prefixes

    # -- authentication and limits ------------------------------------------------------------------
    def credential(self, request: Request) -> str | None:
        token = request.arg("access_token")
        if token:
            return token
        if self.flavour.header_auth:
            match = re.match(r"(?i)bearer\s+(\S+)", request.headers.get("authorization", ""))
            if match:
                return match.group(1)
            return request.headers.get("private-token") or None
        return None

    def is_free(self, request: Request) -> bool:
        return False

    def rate_headers(self, emulator: Emulator, quota: Quota | None) -> dict[str, str]:
        if quota is None or not self.flavour.rate_headers:
            return {}
        return {"x-ratelimit-limit": str(quota.limit), "x-ratelimit-remaining": str(quota.remaining),
                "x-ratelimit-reset": str(int(quota.reset_at))}

    def rate_limited(self, emulator: Emulator, request: Request, quota: Quota) -> Reply:
        if self.flavour.rate_limit_status == 429:
            return _error(429, "Too Many Requests", self.flavour)
        return _error(403, "Rate Limit Exceeded", self.flavour)

    def secondary_limited(self, emulator: Emulator, request: Request, retry_after: int | None) -> Reply:
        reply = _error(self.flavour.rate_limit_status, "请求过于频繁，请稍后再试 (too many requests)", self.flavour)
        reply.spend = False
        if retry_after is not None:
            reply.headers["retry-after"] = str(retry_after)
        return reply

    def unauthorised(self, emulator: Emulator, request: Request) -> Reply:
        return _error(401, "401 Unauthorized: Access token does not exist", self.flavour)

    # -- routing ------------------------------------------------------------------------------------
    def handle(self, emulator: Emulator, request: Request) -> Reply:
        reply = self._route(emulator.world, request)
        reply.conditional = reply.conditional and self.flavour.etags
        return reply

    def _route(self, world: World, request: Request) -> Reply:
        path = request.path.rstrip("/")
        if request.method not in ("GET", "HEAD"):
            return _error(405, "Method not allowed in the emulator", self.flavour)
        match = re.fullmatch(r"/(orgs|users)/([^/]+)/repos", path)
        if match:
            return self._owner_repos(world, match.group(1), match.group(2), request)
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
        if not match:
            return _error(404, "Not Found", self.flavour)
        full_name, rest = f"{match.group(1)}/{match.group(2)}", match.group(3) or ""
        repo = world.repo_by_name(full_name)
        if repo is None and full_name.lower() in world.redirects:
            repo = world.repos.get(world.redirects[full_name.lower()])  # a moved repository answers at its old path
        if repo is None or not repo.hosted_on(self.name):
            return _error(404, "Not Found Project", self.flavour)
        return self._repo_route(world, repo, rest, request)

    def _owner_repos(self, world: World, kind: str, owner: str, request: Request) -> Reply:
        account = world.account(owner)
        if account is None or (kind == "orgs" and account.type != "Organization"):
            return _error(404, "Not Found", self.flavour)
        repos = sorted((r for r in world.repos.values() if r.owner.lower() == owner.lower() and r.hosted_on(self.name)),
                       key=lambda r: r.id)
        return self._paginate(request, [self.repo_json(world, r, request) for r in repos])

    def _repo_route(self, world: World, repo: Repo, rest: str, request: Request) -> Reply:
        if rest == "":
            return Reply(body=self.repo_json(world, repo, request))
        if rest == "/commits":
            return self._commits(world, repo, request)
        if rest == "/contributors":
            return self._contributors(repo, request)
        if rest == "/releases":
            published = [r for r in repo.releases if not r.draft]  # no drafts on Gitee-style platforms
            return self._paginate(request, [self.release_json(world, repo, r, request) for r in published])
        if rest == "/issues":
            return self._issues(world, repo, request)
        if rest == "/pulls":
            return self._pulls(world, repo, request)
        match = re.fullmatch(r"/(issues|pulls)/([^/]+)/comments", rest)
        if match:
            item = self._find(repo, match.group(1) == "pulls", match.group(2))
            if item is None:
                return _error(404, "Not Found", self.flavour)
            comments = sorted(item.comments, key=lambda c: (c.created_at, c.id))
            return self._paginate(request, [self.comment_json(world, c, request) for c in comments])
        return _error(404, "Not Found", self.flavour)

    def _find(self, repo: Repo, pull: bool, number: str) -> Issue | None:
        for item in repo.issues:
            if item.is_pull == pull and self.number(item) == number:
                return item
        return None

    def number(self, item: Issue) -> str:
        return gitee_number(item) if self.flavour.letter_numbers and not item.is_pull else str(item.number)

    # -- lists ----------------------------------------------------------------------------------------
    def _commits(self, world: World, repo: Repo, request: Request) -> Reply:
        commits = repo.commits
        since, until = request.arg("since"), request.arg("until")
        if since:
            commits = [c for c in commits if c.committed_at >= parse_any(since)]
        if until:
            commits = [c for c in commits if c.committed_at <= parse_any(until)]
        return self._paginate(request, [self.commit_json(world, repo, c, request) for c in commits])

    def _contributors(self, repo: Repo, request: Request) -> Reply:
        committers = (request.arg("type") or "").lower() == "committers"
        counts: dict[str, int] = {}
        names: dict[str, str] = {}
        for commit in repo.commits:
            person = commit.committer if committers else commit.author
            email = person.email.lower()
            counts[email] = counts.get(email, 0) + 1
            names.setdefault(email, person.name)
        rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        entries = [{"name": names[email], "email": email,
                    "contributions": str(n) if self.flavour.string_counts else n} for email, n in rows]
        return self._paginate(request, entries)

    def _issues(self, world: World, repo: Repo, request: Request) -> Reply:
        items = [i for i in repo.issues if not i.is_pull]
        state = request.arg("state", "open")
        if state != "all":
            items = [i for i in items if self.issue_state(i) == state
                     or (state in ("open", "opened") and i.state == "open")]
        after = request.arg("updated_after") if self.flavour.updated_after else request.arg("since")
        if after:
            items = [i for i in items if i.updated_at >= parse_any(after)]
        items = _sort(items, request.arg("sort", "created"), request.arg("direction", "desc"))
        return self._paginate(request, [self.issue_json(world, repo, i, request) for i in items])

    def _pulls(self, world: World, repo: Repo, request: Request) -> Reply:
        items = [i for i in repo.issues if i.is_pull]
        state = request.arg("state", "open")
        if state != "all":
            items = [i for i in items if self.pull_state(i) == state or (state == "closed" and i.state == "closed"
                                                                         and not i.merged_at)]
        after = request.arg("updated_after") if self.flavour.updated_after else None
        if after:
            items = [i for i in items if i.updated_at >= parse_any(after)]
        items = _sort(items, request.arg("sort", "created"), request.arg("direction", "desc"))
        return self._paginate(request, [self.pull_json(world, repo, i, request) for i in items])

    def _paginate(self, request: Request, items: list[Any]) -> Reply:
        """One page with ``total_count``/``total_page`` (and Link on Gitee, echoing every query parameter)."""
        try:
            per_page = min(max(int(request.arg("per_page") or 20), 1), 100)
            page = max(int(request.arg("page") or 1), 1)
        except ValueError:
            return _error(400, "page and per_page must be integers", self.flavour)
        last = max(math.ceil(len(items) / per_page), 1)
        reply = Reply(body=items[(page - 1) * per_page: page * per_page])
        reply.headers["total_count"] = str(len(items))
        reply.headers["total_page"] = str(last)
        if self.flavour.link_header:
            def link(number: int) -> str:
                query = [(k, v) for k, vs in request.query.items() if k != "page" for v in vs]
                return f"{request.api_base}{request.path}?{urllib.parse.urlencode(query + [('page', str(number))])}"
            links = []
            if page < last:
                links.append(f'<{link(page + 1)}>; rel="next"')
            if page > 1:
                links.append(f'<{link(page - 1)}>; rel="prev"')
            links.append(f'<{link(last)}>; rel="last"')
            reply.headers["link"] = ", ".join(links)
        return reply

    # -- states and times -----------------------------------------------------------------------------
    def issue_state(self, item: Issue) -> str:
        states = self.flavour.open_states if item.state == "open" else self.flavour.closed_states
        return states[item.number % len(states)]

    def pull_state(self, item: Issue) -> str:
        if item.merged_at:
            return "merged"
        return self.flavour.pull_open_state if item.state == "open" else "closed"

    def time(self, moment: datetime | None, kind: str = "default") -> str | None:
        """Gitee: always ``+08:00``. GitCode: ``.000Z`` for commits, zone-less Beijing time for releases and
        comments, ``.000+08:00`` elsewhere."""
        if moment is None:
            return None
        if self.flavour.name == "gitee":
            return moment.astimezone(CHINA).isoformat(timespec="seconds")
        if kind == "commit":
            return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if kind in ("release", "comment"):
            return moment.astimezone(CHINA).replace(tzinfo=None).isoformat(timespec="seconds")
        return moment.astimezone(CHINA).isoformat(timespec="milliseconds")

    # -- payloads -------------------------------------------------------------------------------------
    def user_json(self, account: Account | None, request: Request) -> dict[str, Any] | None:
        if account is None:
            return None
        web = f"{request.web_base}/{account.login}"
        api = f"{request.api_base}/users/{account.login}"
        data = {"id": str(account.id) if self.flavour.string_ids else account.id, "login": account.login,
                "name": account.name or account.login, "avatar_url": f"{request.web_base}/assets/no_portrait.png",
                "url": api, "html_url": web, "remark": "", "followers_url": f"{api}/followers",
                "following_url": f"{api}/following_url{{/other_user}}", "gists_url": f"{api}/gists{{/gist_id}}",
                "starred_url": f"{api}/starred{{/owner}}{{/repo}}", "subscriptions_url": f"{api}/subscriptions",
                "organizations_url": f"{api}/orgs", "repos_url": f"{api}/repos",
                "events_url": f"{api}/events{{/privacy}}", "received_events_url": f"{api}/received_events",
                "type": None if self.flavour.string_ids else ("Bot" if account.type == "Bot" else "User")}
        return data

    def repo_json(self, world: World, repo: Repo, request: Request) -> dict[str, Any]:
        web = f"{request.web_base}/{repo.full_name}"
        owner = world.account(repo.owner)
        namespace = {"id": owner.id if owner else 0, "type": "group" if owner and owner.type == "Organization"
                     else "personal", "name": repo.owner, "path": repo.owner, "html_url": f"{request.web_base}/{repo.owner}"}
        return {
            "id": repo.id, "full_name": repo.full_name, "human_name": f"{repo.owner}/{repo.name}",
            "url": f"{request.api_base}/repos/{repo.full_name}", "namespace": namespace, "path": repo.name,
            "name": repo.name, "owner": self.user_json(owner, request), "assigner": self.user_json(owner, request),
            "description": repo.description or "", "private": False, "public": True, "internal": False,
            "fork": repo.fork, "html_url": f"{web}.git", "ssh_url": f"git@{request.host}:{repo.full_name}.git",
            "forks_url": f"{request.api_base}/repos/{repo.full_name}/forks", "homepage": None, "language": "Python",
            "forks_count": repo.forks, "stargazers_count": repo.stars, "watchers_count": repo.subscribers,
            "default_branch": repo.default_branch, "open_issues_count": repo.open_issues, "has_issues": True,
            "has_wiki": True, "issue_comment": False, "can_comment": True, "pull_requests_enabled": True,
            "has_page": False, "license": repo.licence, "outsourced": False, "project_creator": repo.owner,
            "members": [repo.owner], "pushed_at": self.time(repo.pushed_at if repo.commits else None),
            "created_at": self.time(repo.created_at), "updated_at": self.time(repo.updated_at), "parent": None,
            "paas": None, "stared": False, "watched": False, "permission": {"pull": True, "push": False,
                                                                           "admin": False},
            "relation": "", "assignees_number": 1, "testers_number": 1, "assignee": [], "testers": [],
            "status": "关闭" if repo.archived else "开始", "programs": [], "enterprise": None,
            "project_labels": [], "issue_template_source": "project",
        }

    def commit_json(self, world: World, repo: Repo, commit: GitCommit, request: Request) -> dict[str, Any]:
        api = f"{request.api_base}/repos/{repo.full_name}"
        return {
            "url": f"{api}/commits/{commit.sha}", "sha": commit.sha,
            "html_url": f"{request.web_base}/{repo.full_name}/commit/{commit.sha}",
            "comments_url": f"{api}/commits/{commit.sha}/comments",
            "commit": {"author": self._git_person(commit.author, commit.authored_at),
                       "committer": self._git_person(commit.committer, commit.committed_at),
                       "message": commit.message,
                       "tree": {"sha": fake_sha("tree", commit.sha), "url": f"{api}/git/trees/{fake_sha('tree', commit.sha)}"}},
            "author": self._commit_account(world.account_for_email(commit.author.email), request),
            "committer": self._commit_account(world.account_for_email(commit.committer.email), request),
            "parents": [{"sha": p, "url": f"{api}/commits/{p}"} for p in commit.parents],
        }

    def _git_person(self, person: Person, moment: datetime) -> dict[str, Any]:
        data: dict[str, Any] = {"name": person.name, "email": person.email, "date": self.time(moment, "commit")}
        if self.flavour.name == "gitcode" and not person.name:
            del data["name"]  # GitCode omits an empty author name
        return data

    def _commit_account(self, account: Account | None, request: Request) -> dict[str, Any] | None:
        data = self.user_json(account, request)
        if data is not None and self.flavour.nickname_logins and account and account.name:
            data["login"] = f"{account.login}({account.name})"
        return data

    def release_json(self, world: World, repo: Repo, release: Release, request: Request) -> dict[str, Any]:
        return {"id": str(release.id) if self.flavour.string_ids else release.id, "tag_name": release.tag_name,
                "target_commitish": repo.default_branch, "prerelease": release.prerelease, "name": release.name,
                "body": release.body, "author": self.user_json(world.account(release.author_login), request),
                "created_at": self.time(release.created_at, "release"),
                "assets": [{"browser_download_url": f"{request.web_base}/{repo.full_name}/repository/archive/"
                                                    f"{release.tag_name}.zip", "name": f"{release.tag_name}.zip"}]}

    def issue_json(self, world: World, repo: Repo, item: Issue, request: Request) -> dict[str, Any]:
        number = self.number(item)
        api = f"{request.api_base}/repos/{repo.full_name}/issues/{number}"
        data = {
            "id": item.id, "url": api, "repository_url": f"{request.api_base}/repos/{repo.full_name}",
            "labels_url": f"{api}/labels", "comments_url": f"{api}/comments",
            "html_url": f"{request.web_base}/{repo.full_name}/issues/{number}", "parent_url": None,
            "number": number if self.flavour.letter_numbers else item.number, "parent_id": 0, "depth": 0,
            "state": self.issue_state(item), "title": item.title, "body": f"Body of {item.title}",
            "user": self.user_json(world.account(item.author_login), request), "labels": [], "assignee": None,
            "collaborators": [], "repository": {"id": repo.id, "full_name": repo.full_name, "path": repo.name,
                                                "name": repo.name},
            "milestone": None, "created_at": self.time(item.created_at), "updated_at": self.time(item.updated_at),
            "plan_started_at": None, "deadline": None, "finished_at": self.time(item.closed_at),
            "scheduled_time": 0, "priority": 0, "issue_type": "任务", "security_hole": False,
            "issue_state": self.issue_state(item),
        }
        if not self.flavour.string_ids:
            data["comments"] = len(item.comments)  # GitCode's list carries no comment count
        return data

    def pull_json(self, world: World, repo: Repo, item: Issue, request: Request) -> dict[str, Any]:
        api = f"{request.api_base}/repos/{repo.full_name}/pulls/{item.number}"
        user = self.user_json(world.account(item.author_login), request)
        head_sha = fake_sha("head", repo.full_name, item.number)
        return {
            "id": item.id, "url": api, "html_url": f"{request.web_base}/{repo.full_name}/pulls/{item.number}",
            "diff_url": f"{request.web_base}/{repo.full_name}/pulls/{item.number}.diff",
            "patch_url": f"{request.web_base}/{repo.full_name}/pulls/{item.number}.patch",
            "issue_url": f"{api}/issues", "commits_url": f"{api}/commits", "comments_url": f"{api}/comments",
            "number": item.number, "state": self.pull_state(item), "assignees_number": 1, "testers_number": 1,
            "assignees": [], "testers": [], "milestone": None, "labels": [], "locked": False,
            "created_at": self.time(item.created_at), "updated_at": self.time(item.updated_at),
            "closed_at": self.time(item.closed_at), "merged_at": self.time(item.merged_at), "mergeable": True,
            "can_merge_check": False, "title": item.title, "body": f"Body of {item.title}", "user": user,
            "head": {"label": f"feature-{item.number}", "ref": f"feature-{item.number}", "sha": head_sha,
                     "user": user, "repo": {"full_name": repo.full_name}},
            "base": {"label": repo.default_branch, "ref": repo.default_branch,
                     "sha": repo.commits[0].sha if repo.commits else fake_sha("base", repo.full_name),
                     "user": self.user_json(world.account(repo.owner), request), "repo": {"full_name": repo.full_name}},
        }

    def comment_json(self, world: World, comment: Comment, request: Request) -> dict[str, Any]:
        return {"id": str(comment.id) if self.flavour.string_ids else comment.id, "body": comment.body,
                "user": self.user_json(world.account(comment.author_login), request), "source": None,
                "created_at": self.time(comment.created_at, "comment"),
                "updated_at": self.time(comment.created_at, "comment")}


def _sort(items: list[Issue], sort: str | None, direction: str | None) -> list[Issue]:
    by_updated = (sort or "").startswith("updated")
    key = (lambda i: (i.updated_at, i.number)) if by_updated else (lambda i: (i.created_at, i.number))
    return sorted(items, key=key, reverse=(direction or "desc") == "desc")


def parse_any(text: str) -> datetime:
    """Parse a query time: ISO 8601 with ``Z``/offset, or zone-less (read as Beijing time, as these servers do)."""
    value = datetime.fromisoformat(text.strip().replace(" ", "T", 1).replace("Z", "+00:00"))
    return (value if value.tzinfo else value.replace(tzinfo=CHINA)).astimezone(UTC)
