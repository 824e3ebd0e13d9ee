"""GitLab REST v4 dialect of the emulator (``/api/v4``), for gitlab.com and self-hosted instances.

Shapes follow GitLab's REST docs, with the quirks a collector must survive: projects addressed by number or by
URL-encoded path (``group%2Fsub%2Fproject``), groups with subgroups, offset pagination with ``x-next-page``/Link
and ``x-total``/``x-total-pages`` (never on commits, and omitted above 10,000 items), commit dates in the author's
own offset with ``authored_date`` apart from ``committed_date``, ``released_at`` on releases, issue states
opened/closed and merge-request states opened/closed/locked/merged, system notes among the comments, a renamed
project answering at its old path, ``empty_repo`` with a null default branch, ``RateLimit-*`` headers on every
answer and 429 "Retry later" with ``Retry-After`` only sometimes. ETags come on most GET answers (not on
contributors), and a 304 still counts against the rate limit, as GitLab's request throttle counts every request.
"""

from __future__ import annotations

import hashlib
import math
import re
import urllib.parse
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

from tests.emulator.model import Account, Comment, GitCommit, Issue, Person, Release, Repo, World, fake_sha
from tests.emulator.server import Emulator, Quota, Reply, Request

UTC = timezone.utc
LICENCE_KEYS = {"MIT": ("mit", "MIT License"), "Apache-2.0": ("apache-2.0", "Apache License 2.0"),
                "GPL-3.0": ("gpl-3.0", "GNU General Public License v3.0"),
                "MulanPSL-2.0": ("mulanpsl-2.0", "Mulan Permissive Software License, Version 2")}


def utc_ms(moment: datetime | None) -> str | None:
    """GitLab's usual spelling: ``2024-01-04T15:31:51.000Z``."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def person_offset(person: Person) -> timezone:
    """A stable per-person UTC offset (-07:00 .. +08:00), as git records the author's own zone."""
    hours = int(hashlib.sha1(person.email.lower().encode()).hexdigest(), 16) % 16 - 7
    return timezone(timedelta(hours=hours))


def local_ms(moment: datetime, person: Person) -> str:
    return moment.astimezone(person_offset(person)).isoformat(timespec="milliseconds")


def _error(status: int, message: str) -> Reply:
    return Reply(status=status, body={"message": message}, conditional=False)


class GitLabPlatform:
    """Routes for the GitLab v4 subset the collectors use."""

    name = "gitlab"
    free_not_modified = False  # GitLab's throttle counts every request, 304s included

    def __init__(self, prefixes: tuple[str, ...] = ("/api/v4",), *, max_totals: int = 10_000) -> None:
        self.prefixes = prefixes
        self.max_totals = max_totals
        self.throttled = 0  # 429s sent: every second one lacks Retry-After, as GitLab sometimes does

    # -- authentication and limits ------------------------------------------------------------------
    def credential(self, request: Request) -> str | None:
        match = re.match(r"(?i)bearer\s+(\S+)", request.headers.get("authorization", ""))
        if match:
            return match.group(1)
        return request.headers.get("private-token") or request.arg("private_token") or None

    def is_free(self, request: Request) -> bool:
        return False

    def rate_headers(self, emulator: Emulator, quota: Quota | None) -> dict[str, str]:
        if quota is None:
            return {}
        return {"ratelimit-name": "throttle_authenticated_api", "ratelimit-limit": str(quota.limit),
                "ratelimit-observed": str(quota.used), "ratelimit-remaining": str(quota.remaining),
                "ratelimit-reset": str(int(quota.reset_at)),
                "ratelimit-resettime": format_datetime(datetime.fromtimestamp(quota.reset_at, UTC), usegmt=True)}

    def rate_limited(self, emulator: Emulator, request: Request, quota: Quota) -> Reply:
        return self._throttled(max(int(quota.reset_at - emulator.clock()), 0))

    def secondary_limited(self, emulator: Emulator, request: Request, retry_after: int | None) -> Reply:
        reply = self._throttled(retry_after)
        reply.spend = False
        return reply

    def _throttled(self, retry_after: int | None) -> Reply:
        self.throttled += 1
        reply = Reply(status=429, body="Retry later\n", headers={"content-type": "text/plain"}, conditional=False)
        if retry_after is not None and self.throttled % 2 == 1:
            reply.headers["retry-after"] = str(retry_after)
        return reply

    def unauthorised(self, emulator: Emulator, request: Request) -> Reply:
        return _error(401, "401 Unauthorized")

    # -- routing ------------------------------------------------------------------------------------
    def handle(self, emulator: Emulator, request: Request) -> Reply:
        world = emulator.world
        path = request.path.rstrip("/")
        if request.method not in ("GET", "HEAD"):
            return _error(405, "405 Method Not Allowed")
        match = re.fullmatch(r"/groups/([^/]+)/projects", path)
        if match:
            return self._group_projects(world, urllib.parse.unquote(match.group(1)), request)
        match = re.fullmatch(r"/users/([^/]+)/projects", path)
        if match:
            return self._user_projects(world, urllib.parse.unquote(match.group(1)), request)
        match = re.fullmatch(r"/projects/([^/]+)(/.*)?", path)
        if not match:
            return _error(404, "404 Not Found")
        repo = self._project(world, urllib.parse.unquote(match.group(1)))
        if repo is None:
            return _error(404, "404 Project Not Found")
        return self._project_route(world, repo, match.group(2) or "", request)

    def _project(self, world: World, ident: str) -> Repo | None:
        if ident.isdigit():
            repo = world.repos.get(int(ident))
        else:
            repo = world.repo_by_name(ident)
            if repo is None and ident.lower() in world.redirects:  # renamed: the old path still answers
                repo = world.repos.get(world.redirects[ident.lower()])
        return repo if repo is not None and repo.hosted_on(self.name) else None

    def _group_projects(self, world: World, group: str, request: Request) -> Reply:
        subgroups = (request.arg("include_subgroups") or "").lower() == "true"
        known = {r.owner.lower() for r in world.repos.values()}
        wanted = group.lower()
        if not any(o == wanted or o.startswith(wanted + "/") for o in known):
            return _error(404, "404 Group Not Found")
        repos = [r for r in world.repos.values() if r.hosted_on(self.name) and (
            r.owner.lower() == wanted or (subgroups and r.owner.lower().startswith(wanted + "/")))]
        return self._projects_page(world, repos, request)

    def _user_projects(self, world: World, user: str, request: Request) -> Reply:
        account = world.account(user)
        if account is None or account.type == "Organization":
            return _error(404, "404 User Not Found")
        repos = [r for r in world.repos.values() if r.hosted_on(self.name) and r.owner.lower() == user.lower()]
        return self._projects_page(world, repos, request)

    def _projects_page(self, world: World, repos: list[Repo], request: Request) -> Reply:
        archived = request.arg("archived")
        if archived is not None:
            repos = [r for r in repos if r.archived == (archived.lower() == "true")]
        repos.sort(key=lambda r: r.created_at, reverse=True)  # GitLab's default: order_by=created_at desc
        return self.paginate(request, [self.project_json(world, r, request) for r in repos])

    def _project_route(self, world: World, repo: Repo, rest: str, request: Request) -> Reply:
        if rest == "":
            return Reply(body=self.project_json(world, repo, request,
                                                licence=(request.arg("license") or "").lower() == "true"))
        if rest == "/repository/commits":
            return self._commits(repo, request)
        if rest == "/repository/contributors":
            return self._contributors(repo, request)
        if rest == "/releases":
            releases = sorted((r for r in repo.releases if not r.draft), key=lambda r: r.published_at, reverse=True)
            return self.paginate(request, [self.release_json(world, repo, r, request) for r in releases])
        if rest == "/issues":
            return self._items(world, repo, request, pulls=False)
        if rest == "/merge_requests":
            return self._items(world, repo, request, pulls=True)
        match = re.fullmatch(r"/(issues|merge_requests)/(\d+)/notes", rest)
        if match:
            pulls = match.group(1) == "merge_requests"
            item = next((i for i in repo.issues if i.is_pull == pulls and i.number == int(match.group(2))), None)
            if item is None:
                return _error(404, "404 Not found")
            notes = self.notes(world, item, request)
            if (request.arg("sort") or "desc") == "desc":
                notes.reverse()
            return self.paginate(request, notes)
        return _error(404, "404 Not Found")

    # -- lists ----------------------------------------------------------------------------------------
    def _commits(self, repo: Repo, request: Request) -> Reply:
        commits = repo.commits
        since, until = request.arg("since"), request.arg("until")
        if since:
            commits = [c for c in commits if c.committed_at >= parse_iso(since)]
        if until:
            commits = [c for c in commits if c.committed_at <= parse_iso(until)]
        return self.paginate(request, [self.commit_json(repo, c, request) for c in commits], totals=False)

    def _contributors(self, repo: Repo, request: Request) -> Reply:
        counts: dict[tuple[str, str], int] = {}
        for commit in repo.commits:
            key = (commit.author.name, commit.author.email)
            counts[key] = counts.get(key, 0) + 1
        rows = [{"name": name, "email": email, "commits": n, "additions": 0, "deletions": 0}
                for (name, email), n in counts.items()]
        if (request.arg("order_by") or "commits") == "commits":
            rows.sort(key=lambda r: (r["commits"], r["email"]), reverse=(request.arg("sort") or "asc") == "desc")
        else:
            rows.sort(key=lambda r: (r["name"], r["email"]))
        reply = self.paginate(request, rows)
        reply.conditional = False  # no ETag on this endpoint
        return reply

    def _items(self, world: World, repo: Repo, request: Request, *, pulls: bool) -> Reply:
        items = [i for i in repo.issues if i.is_pull == pulls]
        state = request.arg("state", "all")
        if state != "all":
            items = [i for i in items if self.state(i) == state]
        after = request.arg("updated_after")
        if after:
            items = [i for i in items if i.updated_at >= parse_iso(after)]
        by_updated = (request.arg("order_by") or "created_at") == "updated_at"
        items.sort(key=(lambda i: (i.updated_at, i.id)) if by_updated else (lambda i: (i.created_at, i.id)),
                   reverse=(request.arg("sort") or "desc") == "desc")
        render = self.merge_request_json if pulls else self.issue_json
        return self.paginate(request, [render(world, repo, i, request) for i in items])

    def paginate(self, request: Request, items: list[Any], *, totals: bool = True) -> Reply:
        """Offset pagination: ``x-page``/``x-next-page``/... and Link, totals unless ``totals`` is False or the
        list is longer than ``max_totals`` (GitLab then omits ``x-total``, ``x-total-pages`` and rel=last)."""
        try:
            per_page = min(max(int(request.arg("per_page") or 20), 1), 100)
            page = max(int(request.arg("page") or 1), 1)
        except ValueError:
            return _error(400, "400 Bad request - page is invalid")
        last = max(math.ceil(len(items) / per_page), 1)
        show_totals = totals and len(items) <= self.max_totals
        reply = Reply(body=items[(page - 1) * per_page: page * per_page])

        def link(number: int) -> str:
            query = [(k, v) for k, vs in request.query.items() if k != "page" for v in vs]
            return f"{request.api_base}{request.path}?{urllib.parse.urlencode(query + [('page', str(number))])}"

        links = []
        if page > 1:
            links.append(f'<{link(page - 1)}>; rel="prev"')
        if page < last:
            links.append(f'<{link(page + 1)}>; rel="next"')
        links.append(f'<{link(1)}>; rel="first"')
        if show_totals:
            links.append(f'<{link(last)}>; rel="last"')
        reply.headers.update({"link": ", ".join(links), "x-page": str(page), "x-per-page": str(per_page),
                              "x-next-page": str(page + 1) if page < last else "",
                              "x-prev-page": str(page - 1) if page > 1 else ""})
        if show_totals:
            reply.headers.update({"x-total": str(len(items)), "x-total-pages": str(last)})
        return reply

    def state(self, item: Issue) -> str:
        if not item.is_pull:
            return "opened" if item.state == "open" else "closed"
        if item.merged_at:
            return "merged"
        if item.state == "open":
            return "locked" if item.number % 5 == 0 else "opened"  # "locked": being merged right now
        return "closed"

    # -- payloads -------------------------------------------------------------------------------------
    def user_json(self, account: Account | None, request: Request) -> dict[str, Any] | None:
        if account is None:
            return None
        return {"id": account.id, "username": account.login, "name": account.name or account.login,
                "state": "active", "locked": False, "avatar_url": f"{request.web_base}/uploads/-/avatar/{account.id}",
                "web_url": f"{request.web_base}/{account.login}"}

    def project_json(self, world: World, repo: Repo, request: Request, *, licence: bool = False) -> dict[str, Any]:
        api = f"{request.api_base}/projects/{repo.id}"
        web = f"{request.web_base}/{repo.full_name}"
        empty = not repo.commits
        group = world.account(repo.owner)
        data: dict[str, Any] = {
            "id": repo.id, "description": repo.description, "name": repo.name,
            "name_with_namespace": " / ".join(repo.full_name.split("/")), "path": repo.name,
            "path_with_namespace": repo.full_name, "created_at": utc_ms(repo.created_at),
            "default_branch": None if empty else repo.default_branch, "tag_list": [], "topics": [],
            "ssh_url_to_repo": f"git@{request.host}:{repo.full_name}.git", "http_url_to_repo": f"{web}.git",
            "web_url": web, "readme_url": None if empty else f"{web}/-/blob/{repo.default_branch}/README.md",
            "forks_count": repo.forks, "avatar_url": None, "star_count": repo.stars,
            "last_activity_at": utc_ms(max(repo.updated_at, repo.pushed_at or repo.updated_at)),
            "namespace": {"id": group.id if group else 0, "name": repo.owner.rsplit("/", 1)[-1],
                          "path": repo.owner.rsplit("/", 1)[-1], "kind": "group", "full_path": repo.owner,
                          "parent_id": None, "avatar_url": None, "web_url": f"{request.web_base}/groups/{repo.owner}"},
            "_links": {"self": api, "issues": f"{api}/issues", "merge_requests": f"{api}/merge_requests",
                       "repo_branches": f"{api}/repository/branches", "labels": f"{api}/labels",
                       "events": f"{api}/events", "members": f"{api}/members"},
            "packages_enabled": True, "empty_repo": empty, "archived": repo.archived, "visibility": "public",
            "issues_enabled": True, "merge_requests_enabled": True, "open_issues_count": sum(
                1 for i in repo.issues if not i.is_pull and i.state == "open"),
            "license_url": f"{web}/-/blob/{repo.default_branch}/LICENSE" if repo.licence else None,
        }
        if repo.fork:
            data["forked_from_project"] = {"id": repo.id + 100000, "path_with_namespace": f"upstream/{repo.name}"}
        if licence:
            key, name = LICENCE_KEYS.get(repo.licence or "", ((repo.licence or "").lower(), repo.licence))
            data["license"] = None if not repo.licence else {
                "key": key, "name": name, "nickname": None, "html_url": f"https://opensource.org/licenses/{key}",
                "source_url": None}
        return data

    def commit_json(self, repo: Repo, commit: GitCommit, request: Request) -> dict[str, Any]:
        title = commit.message.splitlines()[0]
        return {"id": commit.sha, "short_id": commit.sha[:8], "created_at": local_ms(commit.committed_at,
                                                                                        commit.committer),
                "parent_ids": list(commit.parents), "title": title, "message": commit.message,
                "author_name": commit.author.name, "author_email": commit.author.email,
                "authored_date": local_ms(commit.authored_at, commit.author),
                "committer_name": commit.committer.name, "committer_email": commit.committer.email,
                "committed_date": local_ms(commit.committed_at, commit.committer), "trailers": {},
                "extended_trailers": {}, "web_url": f"{request.web_base}/{repo.full_name}/-/commit/{commit.sha}"}

    def release_json(self, world: World, repo: Repo, release: Release, request: Request) -> dict[str, Any]:
        web = f"{request.web_base}/{repo.full_name}"
        return {"name": release.name or release.tag_name, "tag_name": release.tag_name,
                "description": release.body, "created_at": utc_ms(release.created_at),
                "released_at": utc_ms(release.published_at), "upcoming_release": False,
                "author": self.user_json(world.account(release.author_login), request),
                "commit": {"id": fake_sha("tag", repo.full_name, release.tag_name)}, "commit_path": None,
                "tag_path": f"/{repo.full_name}/-/tags/{release.tag_name}",
                "assets": {"count": 0, "sources": [], "links": []}, "evidences": [],
                "_links": {"self": f"{web}/-/releases/{release.tag_name}"}}

    def _item_common(self, world: World, repo: Repo, item: Issue, request: Request, kind: str) -> dict[str, Any]:
        return {"id": item.id, "iid": item.number, "project_id": repo.id, "title": item.title,
                "description": f"Body of {item.title}", "state": self.state(item),
                "created_at": utc_ms(item.created_at), "updated_at": utc_ms(item.updated_at),
                "closed_at": None if item.merged_at else utc_ms(item.closed_at), "closed_by": None, "labels": [],
                "milestone": None, "assignees": [], "author": self.user_json(world.account(item.author_login), request),
                "user_notes_count": len(item.comments), "upvotes": 0, "downvotes": 0, "discussion_locked": None,
                "web_url": f"{request.web_base}/{repo.full_name}/-/{kind}/{item.number}",
                "references": {"short": f"#{item.number}", "relative": f"#{item.number}",
                               "full": f"{repo.full_name}#{item.number}"}}

    def issue_json(self, world: World, repo: Repo, item: Issue, request: Request) -> dict[str, Any]:
        data = self._item_common(world, repo, item, request, "issues")
        data.update({"type": "ISSUE", "issue_type": "issue", "confidential": False, "due_date": None,
                     "merge_requests_count": 0})
        return data

    def merge_request_json(self, world: World, repo: Repo, item: Issue, request: Request) -> dict[str, Any]:
        data = self._item_common(world, repo, item, request, "merge_requests")
        merger = self.user_json(world.account(item.author_login), request) if item.merged_at else None
        data.update({"merged_by": merger, "merge_user": merger, "merged_at": utc_ms(item.merged_at),
                     "target_branch": repo.default_branch, "source_branch": f"feature-{item.number}",
                     "draft": item.draft, "work_in_progress": item.draft, "merge_status": "can_be_merged",
                     "detailed_merge_status": "mergeable", "sha": fake_sha("head", repo.full_name, item.number),
                     "merge_commit_sha": fake_sha("merge", repo.full_name, item.number) if item.merged_at else None,
                     "squash_commit_sha": None, "source_project_id": repo.id, "target_project_id": repo.id,
                     "reviewers": [], "reference": f"!{item.number}"})
        return data

    def notes(self, world: World, item: Issue, request: Request) -> list[dict[str, Any]]:
        """User notes plus GitLab's system notes ("closed", "merged"), oldest first."""
        notes = [self._note(world, item, c, request, system=False) for c in item.comments]
        if item.closed_at:
            event = Comment(id=item.id * 7 + 1, author_login=item.author_login, created_at=item.closed_at,
                            body="merged" if item.merged_at else "closed")
            notes.append(self._note(world, item, event, request, system=True))
        return sorted(notes, key=lambda n: (n["created_at"], n["id"]))

    def _note(self, world: World, item: Issue, comment: Comment, request: Request, *, system: bool) -> dict[str, Any]:
        return {"id": comment.id, "type": None, "body": comment.body, "attachment": None,
                "author": self.user_json(world.account(comment.author_login), request),
                "created_at": utc_ms(comment.created_at), "updated_at": utc_ms(comment.created_at),
                "system": system, "noteable_id": item.id,
                "noteable_type": "MergeRequest" if item.is_pull else "Issue", "noteable_iid": item.number,
                "resolvable": False, "confidential": False, "internal": False}


def parse_iso(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
