"""GitHub (github.com and Enterprise ``https://HOST/api/v3``) through PyGithub, under the shared HTTP policy.

PyGithub stays the client: a ``Github(auth=Auth.Token(...), per_page=100)`` per token, with its own retries and its
0.25 s throttle turned off so :class:`collector.http.Transport` alone decides when to retry or wait. List calls go
through its requester (``requestJson``) so we can send If-None-Match and read status and headers; we hand it a
connection object of ours that wraps PyGithub's own requests-based connection and records redirect hops (PyGithub
follows a 301 itself but drops the query string, so we re-ask the new location with the query).

Streams and their requests (``{root}`` is ``/repos/{owner}/{name}``, or ``/repositories/{id}`` once a move is seen):
- repo: ``GET {root}`` (+ ``{root}/commits?per_page=1`` only when ``size`` is 0, to tell an empty repository);
- commits: ``{root}/commits?per_page=100&since=`` (default branch, ``since`` = newest committer time - overlap);
- releases: ``{root}/releases``; contributors: ``{root}/contributors?anon=1`` (204 = empty);
- issues: ``{root}/issues?state=all&sort=updated&direction=asc&since=`` without pull requests;
- pulls: ``{root}/pulls?state=all&sort=updated&direction=desc``, stopping at the bookmark;
- first response: ``{root}/issues/{n}/comments`` for items updated inside the response window.
``/stats/*`` is never called (it answers 202 and PyGithub would re-poll forever).
"""

from __future__ import annotations

import http.client
import re
import threading
import urllib.parse
from datetime import datetime
from typing import Any, Iterator, Sequence

import requests
import urllib3
from github import Auth, Github
from github.Requester import HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass

from collector.base import CollectorSettings, PlatformCollector, RepositoryCollector, RepositoryGone, Step
from collector.bookmarks import Bookmark, Validators
from collector.discovery import RepoListing, select
from collector.errors import ApiError, TransientError
from collector.http import (Credential, CredentialScope, HttpSettings, RequestStats, Response, SocketWatch,
                            TokenPool, Transport, parse_link_header, watched_requests_adapter)
from collector.platforms.github import PLATFORM as DECLARED
from collector.paging import ListSpec, follow_pages, walk_list
from collector.ratelimit import GitHubRules
from collector.records import (Commit, Contributor, Issue, PullRequest, Record, Release,
                               RepoSnapshot)
from collector.registry import credential_origins, register
from collector.timeutil import from_epoch, iso_z, parse_time

PUBLIC_API = DECLARED.default_api_url
ACCEPT = {"Accept": "application/vnd.github+json"}


def enterprise_base_url(host: str, *, scheme: str = "https") -> str:
    """The API root of a GitHub Enterprise Server: ``https://HOST/api/v3``."""
    return f"{scheme}://{host}/api/v3"


class _Empty(Exception):
    """409 on commits or 204 on contributors: the repository has no commits."""


class _RecordingConnection:
    """PyGithub's own connection class, with our timeout and no urllib3 retries, noting every hop's status and
    refusing a hop outside the credential scope before PyGithub could follow it; its sockets are watched so the
    request deadline can cut a trickling answer."""

    def __init__(self, scheme: str, host: str, port: int | None, timeout: float, scope: CredentialScope) -> None:
        cls = HTTPSRequestsConnectionClass if scheme == "https" else HTTPRequestsConnectionClass
        self._inner = cls(host, port, timeout=timeout, retry=0)  # type: ignore[arg-type]
        self.watch = SocketWatch()
        self._inner.session.mount(f"{scheme}://", watched_requests_adapter(self.watch, max_retries=0))
        self._origin = f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"
        self._scope = scope
        self._url = ""
        self.hops: list[tuple[int, str]] = []

    def request(self, verb: str, url: str, input: Any, headers: dict[str, str], stream: bool = False) -> None:
        self._url = url
        self._inner.request(verb, url, input, headers, stream)

    def getresponse(self) -> Any:
        response = self._inner.getresponse()
        if response.status in (301, 302, 303, 307, 308):
            location = response.headers.get("location", "")
            self._scope.check_redirect(response.status, self._origin + self._url, location)
            self.hops.append((response.status, location))
        return response

    def take_hops(self) -> tuple[tuple[int, str], ...]:
        hops, self.hops = tuple(self.hops), []
        return hops

    def close(self) -> None:
        self._inner.close()


_TRANSIENT = (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, http.client.HTTPException,
              ConnectionError, TimeoutError)


@register
class GitHubCollector(PlatformCollector):
    """GitHub for one base URL and token pool; ``repository(path)`` gives a per-repository collector."""

    name = "github"

    def __init__(self, *, tokens: list[tuple[str, str]] | tuple = (), base_url: str = PUBLIC_API,
                 http: HttpSettings = HttpSettings(), settings: CollectorSettings = CollectorSettings(),
                 pool: TokenPool | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        parts = urllib.parse.urlsplit(self.base_url)
        self._scheme, self._host, self._port = parts.scheme, parts.hostname or "", parts.port
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self.http = http
        self.settings = settings
        self.pool = pool or TokenPool(self.name, tokens, clock=http.clock)
        self.scope = CredentialScope(self.name, *credential_origins(self.name, self.base_url))
        self.transport = Transport(GitHubRules(), self.pool, http, self.scope)
        self._clients: dict[int, Github] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[_RecordingConnection] = []

    # -- plumbing ----------------------------------------------------------------------------------------
    def _client(self, credential: Credential) -> Github:
        with self._lock:
            client = self._clients.get(id(credential))
            if client is None:
                auth = Auth.Token(credential.value) if credential.value else None
                client = Github(auth=auth, base_url=self.base_url, per_page=self.settings.per_page,
                                timeout=max(int(self.http.timeout), 1), retry=None,
                                seconds_between_requests=None, seconds_between_writes=None)
                self._clients[id(credential)] = client
            return client

    def _connection(self, credential: Credential) -> _RecordingConnection:
        connections = getattr(self._local, "connections", None)
        if connections is None:
            connections = self._local.connections = {}
        cnx = connections.get(id(credential))
        if cnx is None:
            cnx = _RecordingConnection(self._scheme, self._host, self._port, self.http.timeout, self.scope)
            connections[id(credential)] = cnx
            with self._lock:
                self._connections.append(cnx)
        return cnx

    def get(self, url: str, stats: RequestStats, *, validators: Validators | None = None,
            credential: Credential | None = None) -> Response:
        """One GET under the shared policy; returns 2xx/3xx/4xx/304 answers, raises for the rest."""
        self.scope.check_url(url)
        headers = dict(ACCEPT)
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        elif validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        path = urllib.parse.urlsplit(url).path

        def send(chosen: Credential) -> Response:
            client, cnx = self._client(chosen), self._connection(chosen)
            with self.transport.deadline(cnx.watch, f"GET {path}"):
                try:
                    status, response_headers, body = client.requester.requestJson("GET", url, headers=dict(headers),
                                                                                  cnx=cnx)
                except _TRANSIENT as exc:
                    cnx.take_hops()
                    raise TransientError(f"{type(exc).__name__} on GET {path}") from None
                except BaseException:
                    cnx.take_hops()
                    raise
            response = Response(status, response_headers, body or "", url, redirects=cnx.take_hops())
            if 200 <= status < 300 and body:
                try:
                    response.json()
                except ValueError:
                    raise TransientError(f"truncated or malformed JSON from GET {path}") from None
            return response

        response = self.transport.request(send, stats, what=f"GET {path}", credential=credential)
        stats.requests += len(response.redirects)  # PyGithub followed these hops inside one send
        return response

    def ensure_quota_known(self, stats: RequestStats) -> None:
        """Ask the free ``/rate_limit`` once per token, so the pool can pick the token with most quota left."""
        for credential in self.pool.needs_probe():
            response = self.get(f"{self.base_url}/rate_limit", stats, credential=credential)
            core = ((response.json() or {}).get("resources") or {}).get("core") if response.status == 200 else None
            if core:
                self.pool.observe(credential, core.get("remaining"), core.get("limit"), core.get("reset"))

    def repository(self, path: str) -> "GitHubRepository":
        return GitHubRepository(self, path)

    def list_repositories(self, org_path: str, include: Sequence[str] = (), exclude: Sequence[str] = (),
                          archived: bool = False, forks: bool = False) -> list[RepoListing]:
        """``/orgs/{org}/repos?type=all``, or ``/users/{user}/repos?type=owner`` when the name is a user."""
        stats = RequestStats()
        self.ensure_quota_known(stats)
        owner = urllib.parse.quote(org_path.strip("/"), safe="")
        per_page = self.settings.per_page
        for url in (f"{self.base_url}/orgs/{owner}/repos?type=all&per_page={per_page}",
                    f"{self.base_url}/users/{owner}/repos?type=owner&per_page={per_page}"):
            items: list[dict[str, Any]] = []
            for response in follow_pages(lambda u: self.get(u, stats), url,
                                         lambda r: parse_link_header(r.headers.get("link")).get("next")):
                if response.status == 200:
                    items += response.json() or []
            if response.status == 200:
                break
        else:
            raise ApiError(f"github: no organisation or user {org_path!r} (HTTP 404)", 404)
        listings = [RepoListing(path=i["full_name"], web_url=i.get("html_url"), archived=bool(i.get("archived")),
                                is_fork=bool(i.get("fork")), default_branch=i.get("default_branch")) for i in items]
        return select(listings, include=include, exclude=exclude, archived=archived, forks=forks)

    def close(self) -> None:
        with self._lock:
            for cnx in self._connections:
                cnx.close()
            self._connections.clear()
            for client in self._clients.values():
                client.close()
            self._clients.clear()


class GitHubRepository(RepositoryCollector):
    platform = "github"

    def __init__(self, github: GitHubCollector, path: str) -> None:
        self.github = github
        self.path = path.strip("/")
        self.location: str | None = None
        self.settings = github.settings

    # -- helpers -----------------------------------------------------------------------------------------
    def _root(self) -> str:
        return f"{self.github.base_url}/{self.location or 'repos/' + self.path}"

    def _now(self) -> datetime:
        return from_epoch(self.github.http.clock())

    def _get(self, url: str, stats: RequestStats, validators: Validators | None = None) -> Response:
        response = self.github.get(url, stats, validators=validators)
        moved = [loc for status, loc in response.redirects if status == 301 and loc]
        if moved:
            target = urllib.parse.urlsplit(moved[-1])
            match = re.search(r"/repositories/(\d+)", target.path)
            if match:
                self.location = f"repositories/{match.group(1)}"
            if urllib.parse.urlsplit(url).query:  # PyGithub followed without the query: ask again properly
                response = self.github.get(moved[-1], stats, validators=validators)
        if response.status in (404, 410, 451):
            raise RepositoryGone()
        if response.status in (409, 204):
            raise _Empty()
        if response.status >= 400 or (response.status >= 300 and response.status != 304):
            message = ""
            try:
                message = (response.json() or {}).get("message", "")
            except (ValueError, AttributeError):
                pass
            raise ApiError(f"github: GET {urllib.parse.urlsplit(url).path} answered {response.status} {message}",
                           response.status)
        return response

    def _next_url(self, response: Response) -> str | None:
        return parse_link_header(response.headers.get("link")).get("next")

    def _source(self, stats: RequestStats) -> Any:
        repo = self

        class Source:
            def get(self, url: str, validators: Validators | None) -> Response:
                return repo._get(url, stats, validators)

            def next_url(self, response: Response) -> str | None:
                return repo._next_url(response)

        return Source()

    def _finish(self, bookmark: Bookmark) -> Bookmark:
        return bookmark.evolve(location=self.location)

    # -- the contract --------------------------------------------------------------------------------------
    def _resume(self, start: Bookmark) -> None:
        self.location = start.location or self.location

    def _prepare(self, stats: RequestStats) -> None:
        self.github.ensure_quota_known(stats)

    # -- repo ----------------------------------------------------------------------------------------------
    def _repo_steps(self, start: Bookmark, stats: RequestStats) -> Iterator[Step]:
        url = self._root()
        response = self._get(url, stats, start.validators.get(url))
        if response.status == 304:
            yield [], start.evolve(state=None, checked_at=None), True
            return
        data = response.json()
        full_name = data.get("full_name") or self.path
        moved = full_name.lower() != self.path.lower()
        if moved and self.location is None and data.get("id"):
            self.location = f"repositories/{data['id']}"
        state = "moved" if moved else "archived" if data.get("archived") else "active"
        if state == "active" and not data.get("size"):
            try:
                self._get(f"{self._root()}/commits?per_page=1", stats)
            except _Empty:
                state = "empty"
        licence = (data.get("license") or {}).get("spdx_id")
        snapshot = RepoSnapshot(
            platform="github", path=self.path, state=state, moved_to=full_name if moved else None,
            default_branch=data.get("default_branch"), licence=licence, stars=data.get("stargazers_count"),
            forks=data.get("forks_count"), subscribers=data.get("subscribers_count"),
            open_issues=data.get("open_issues_count"), created_at=parse_time(data.get("created_at")),
            pushed_at=parse_time(data.get("pushed_at")), web_url=data.get("html_url"), is_fork=data.get("fork"),
            description=data.get("description"), archived=bool(data.get("archived")))
        validators = Validators.from_headers(response.headers)
        mark = start.evolve(validators={self._root(): validators} if validators else {}, state=None, checked_at=None)
        yield [snapshot], mark, True

    # -- lists ---------------------------------------------------------------------------------------------
    def _list_steps(self, stream: str, start: Bookmark, stats: RequestStats) -> Iterator[Step]:
        bookmark = start
        if stream in ("commits", "contributors") and start.state == "empty":
            gate = start.validators.get(self._root())
            response = self._get(self._root(), stats, gate)
            if response.status == 304:
                yield [], start, True
                return
            bookmark = start.evolve(validators={self._root(): Validators.from_headers(response.headers)})
        spec = self._spec(stream, bookmark, stats)
        try:
            yield from walk_list(spec, bookmark, self._source(stats), max_settles=self.settings.max_settle_passes)
        except _Empty:
            root_validators = bookmark.validators.get(self._root()) if bookmark.state == "empty" else None
            if root_validators is None:  # remember the repository's ETag: it tells when the first push lands
                response = self._get(self._root(), stats)
                root_validators = Validators.from_headers(response.headers)
            yield [], bookmark.evolve(state="empty", pending=None, cursor=None,
                                      validators={self._root(): root_validators} if root_validators else {}), True

    def _spec(self, stream: str, bookmark: Bookmark, stats: RequestStats) -> ListSpec:
        per_page = self.settings.per_page
        cursor = parse_time(bookmark.cursor)
        if stream == "commits":
            def commits_url(at: datetime | None) -> str:
                since = f"&since={iso_z(at - self.settings.commit_overlap)}" if at else ""
                return f"{self._root()}/commits?per_page={per_page}{since}"
            return ListSpec(stream, commits_url, lambda items: [self._commit(i) for i in items],
                            item_time=lambda i: parse_time(((i.get("commit") or {}).get("committer") or {}).get("date")),
                            key=lambda r: r.sha)
        if stream == "issues":
            def issues_url(at: datetime | None) -> str:
                since = f"&since={iso_z(at - self.settings.update_overlap)}" if at else ""
                return f"{self._root()}/issues?state=all&sort=updated&direction=asc&per_page={per_page}{since}"
            return ListSpec(stream, issues_url, lambda items: self._issues(items, stats),
                            item_time=lambda i: parse_time(i.get("updated_at")), trust_304_when_paged=False,
                            key=lambda r: (r.number, r.updated_at))
        if stream == "pulls":
            return ListSpec(
                stream, lambda at: f"{self._root()}/pulls?state=all&sort=updated&direction=desc&per_page={per_page}",
                lambda items: self._pulls(items, stats), item_time=lambda i: parse_time(i.get("updated_at")),
                stop_before=cursor - self.settings.update_overlap if cursor else None,
                key=lambda r: (r.number, r.updated_at))
        if stream == "releases":
            return ListSpec(stream, lambda at: f"{self._root()}/releases?per_page={per_page}",
                            lambda items: [self._release(i) for i in items], trust_304_when_paged=False)
        if stream == "contributors":
            return ListSpec(stream, lambda at: f"{self._root()}/contributors?anon=1&per_page={per_page}",
                            lambda items: [self._contributor(i) for i in items], trust_304_when_paged=False)
        raise ValueError(stream)

    # -- payload -> record -----------------------------------------------------------------------------
    def _commit(self, item: dict[str, Any]) -> Commit:
        git = item.get("commit") or {}
        author, committer = git.get("author") or {}, git.get("committer") or {}
        author_account, committer_account = item.get("author") or {}, item.get("committer") or {}
        message = (git.get("message") or "").strip()
        return Commit(
            sha=item["sha"], author_name=author.get("name"), author_email=author.get("email"),
            author_login=author_account.get("login"), author_time=parse_time(author.get("date")),
            committer_name=committer.get("name"), committer_email=committer.get("email"),
            committer_login=committer_account.get("login"), committer_time=parse_time(committer.get("date")),
            is_merge=len(item.get("parents") or []) > 1,
            is_bot=self.settings.bots.is_bot(author_account.get("login"), author.get("email"), author.get("name"),
                                             author_account.get("type")),
            message_title=message.splitlines()[0] if message else "")

    @staticmethod
    def _release(item: dict[str, Any]) -> Release:
        published = parse_time(item.get("published_at")) or parse_time(item.get("created_at"))
        return Release(tag=item["tag_name"], name=item.get("name"), published_at=published,
                       prerelease=bool(item.get("prerelease")), draft=bool(item.get("draft")))

    @staticmethod
    def _contributor(item: dict[str, Any]) -> Contributor:
        return Contributor(login=item.get("login"), name=item.get("name"), email=item.get("email"),
                           contributions=int(item.get("contributions") or 0))

    def _in_window(self, updated: datetime | None) -> bool:
        return updated is not None and updated >= self._now() - self.settings.response_window

    def _first_response(self, number: Any, author: str | None, stats: RequestStats,
                        count_all: bool) -> tuple[datetime | None, int]:
        """First comment by someone other than the author and not a bot; and how many comments were read."""
        url = f"{self._root()}/issues/{number}/comments?per_page={self.settings.per_page}"
        first: datetime | None = None
        count = 0
        for response in follow_pages(lambda u: self._get(u, stats), url, self._next_url):
            for comment in response.json() or []:
                count += 1
                user = comment.get("user") or {}
                if first is None and user.get("login") != author and not self.settings.bots.is_bot(
                        user.get("login"), account_type=user.get("type")):
                    first = parse_time(comment.get("created_at"))
            if first is not None and not count_all:
                break
        return first, count

    def _issues(self, items: list[dict[str, Any]], stats: RequestStats) -> list[Record]:
        records: list[Record] = []
        for item in items:
            if "pull_request" in item:
                continue
            author = (item.get("user") or {}).get("login")
            updated = parse_time(item.get("updated_at"))
            first = None
            if item.get("comments") and self._in_window(updated):
                first, _ = self._first_response(item["number"], author, stats, count_all=False)
            records.append(Issue(
                number=str(item["number"]), title=item.get("title") or "",
                state="open" if item.get("state") == "open" else "closed", author_login=author,
                created_at=parse_time(item["created_at"]), updated_at=updated,
                closed_at=parse_time(item.get("closed_at")), comments=item.get("comments"),
                first_response_at=first))
        return records

    def _pulls(self, items: list[dict[str, Any]], stats: RequestStats) -> list[Record]:
        records: list[Record] = []
        for item in items:
            author = (item.get("user") or {}).get("login")
            updated = parse_time(item.get("updated_at"))
            first, comments = None, None
            if self._in_window(updated):
                first, comments = self._first_response(item["number"], author, stats, count_all=True)
            merged = parse_time(item.get("merged_at"))
            state = "merged" if merged else ("open" if item.get("state") == "open" else "closed")
            records.append(PullRequest(
                number=str(item["number"]), title=item.get("title") or "", state=state, author_login=author,
                created_at=parse_time(item["created_at"]), updated_at=updated,
                closed_at=parse_time(item.get("closed_at")), merged_at=merged, comments=comments,
                first_response_at=first))
        return records
