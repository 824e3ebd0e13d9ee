"""Gitee (``https://gitee.com/api/v5``) and GitCode/AtomGit (``https://api.gitcode.com/api/v5``) through httpx.

Both speak the Gitee v5 dialect; what differs is data (:class:`GiteeStyle`), not code:
- auth: Gitee takes ``access_token`` in the query; GitCode an ``Authorization: Bearer`` header. The query token is
  added by a transport wrapper at the last moment, so no URL we build, log, raise, keep in a bookmark or hand to
  httpx's own request log ever holds it; Link URLs the server echoes it into are cleaned before use.
- paging: Link ``rel="next"`` when sent (Gitee), else ``total_page`` with our own ``page=N+1`` (GitCode).
- times: ``+08:00``, ``.000Z`` and zone-less text; **zone-less times are Beijing time (UTC+8)**, the servers' zone.
- ids and counts may be text (``"26593"``, ``contributions: "12"``); logins may read ``"name(昵称)"``; issue
  numbers may be letters (``"I1DACG"``) and are kept as text; states are normalised (:mod:`collector.normalise`).
- releases have no ``published_at``: ``created_at`` stands in for it (documented in ``Release``); no drafts.
- contributors: ``{name, email, contributions}`` without login (GitCode: ``type=authors``, git authors, like
  GitHub's list); issues/pulls: Gitee filters issues by ``since`` and has no filter on pulls (newest first, stop
  at the bookmark), GitCode filters both by ``updated_after``.
- ETags are unverified on both: used when sent, never needed. Without 304s an unchanged re-run still has to ask,
  so the repository's ``pushed_at`` (fetched first, by the ``repo`` stream of the same RepositoryCollector) gates
  commits and contributors, and ``recent`` in the bookmark drops issues/pulls the overlap returns unchanged:
  4 requests per unchanged repository (repo, releases, issues, pulls).
Rate limits are undocumented: 403 with limit wording or 429 (+ ``x-ratelimit-*`` on GitCode) wait and retry.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping, Sequence

import httpx

from collector.base import CollectorSettings, PlatformCollector, RepositoryCollector, RepositoryGone, Step
from collector.bookmarks import Bookmark, Validators
from collector.discovery import RepoListing, select
from collector.errors import ApiError, TransientError
from collector.http import (Credential, CredentialScope, HttpSettings, RequestStats, Response, SocketWatch, TokenPool,
                            Transport, parse_link_header, watched_httpx_transport)
from collector.normalise import first_response, issue_state, plain_login, pull_state
from collector.platforms.gitee import GITCODE, GITEE
from collector.paging import ListSpec, follow_pages, walk_list
from collector.ratelimit import GiteeRules
from collector.records import Commit, Contributor, Issue, PullRequest, Record, Release, RepoSnapshot
from collector.registry import credential_origins, register
from collector.timeutil import CHINA, from_epoch, iso_z, parse_time
from common.redaction import RedactingLogFilter

_SECRET_QUERY = {"access_token", "private_token"}
_TOKEN_EXTENSION = "mtx_access_token"
_ARCHIVED_STATUSES = {"关闭", "已关闭", "archived", "closed"}


@dataclass(frozen=True)
class GiteeStyle:
    """How one Gitee-dialect platform differs from the other."""

    platform: str
    default_base_url: str
    token_in_query: bool  # Gitee: ?access_token=; GitCode: Authorization: Bearer
    contributors_query: str  # extra query for /contributors
    updated_after: bool  # issues and pulls filter by updated_after (GitCode) instead of since / stop-early
    naive_zone: timezone = CHINA


GITEE_STYLE = GiteeStyle("gitee", GITEE.default_api_url, True, "", False)
GITCODE_STYLE = GiteeStyle("gitcode", GITCODE.default_api_url, False, "&type=authors", True)


def _guard_client_logs() -> None:
    for name in ("httpx", "httpcore", "httpcore.http11", "httpcore.http2", "httpcore.connection", "httpcore.proxy"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingLogFilter) for f in logger.filters):
            logger.addFilter(RedactingLogFilter())


_guard_client_logs()


class _QueryTokenTransport(httpx.BaseTransport):
    """Adds ``access_token`` to the URL of the wire copy of a request only; the request httpx logs stays clean."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        token = request.extensions.get(_TOKEN_EXTENSION)
        if not token:
            return self._inner.handle_request(request)
        extensions = {k: v for k, v in request.extensions.items() if k != _TOKEN_EXTENSION}
        wire = httpx.Request(request.method, request.url.copy_merge_params({"access_token": token}),
                             headers=request.headers, stream=request.stream, extensions=extensions)
        return self._inner.handle_request(wire)

    def close(self) -> None:
        self._inner.close()


def without_secrets(url: str) -> str:
    """The URL with token-bearing query parameters removed (servers echo them into Link headers)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.query:
        return url
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in _SECRET_QUERY]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


@register
class GiteeCollector(PlatformCollector):
    """Gitee for one base URL and token pool; ``repository("owner/repo")`` gives a per-repository collector."""

    name = "gitee"
    style = GITEE_STYLE

    def __init__(self, *, tokens: list[tuple[str, str]] | tuple = (), base_url: str | None = None,
                 http: HttpSettings = HttpSettings(), settings: CollectorSettings = CollectorSettings(),
                 pool: TokenPool | None = None) -> None:
        self.base_url = (base_url or self.style.default_base_url).rstrip("/")
        self.http = http
        self.settings = settings
        self.pool = pool or TokenPool(self.name, tokens, clock=http.clock)
        self.scope = CredentialScope(self.name, *credential_origins(self.name, self.base_url))
        self.transport = Transport(GiteeRules(self.name), self.pool, http, self.scope)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._clients: list[httpx.Client] = []

    def _client(self) -> tuple[httpx.Client, SocketWatch]:
        """One httpx client per thread, so the request deadline of one thread cuts only that thread's sockets."""
        pair = getattr(self._local, "client", None)
        if pair is None:
            watch = SocketWatch()
            client = httpx.Client(transport=_QueryTokenTransport(watched_httpx_transport(watch, retries=0)),
                                  timeout=self.http.timeout, follow_redirects=False,
                                  headers={"Accept": "application/json", "User-Agent": "mtx-collector"})
            pair = self._local.client = (client, watch)
            with self._lock:
                self._clients.append(client)
        return pair

    def time(self, value: Any) -> datetime | None:
        return parse_time(value, naive_zone=self.style.naive_zone)

    def get(self, url: str, stats: RequestStats, *, validators: Validators | None = None) -> Response:
        """One GET under the shared policy; ``url`` never holds a token (it is added on the wire)."""
        self.scope.check_url(without_secrets(url))
        headers: dict[str, str] = {}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        elif validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        path = urllib.parse.urlsplit(url).path

        def send(chosen: Credential) -> Response:
            extensions: dict[str, Any] = {}
            sent = dict(headers)
            if chosen.value and self.style.token_in_query:
                extensions[_TOKEN_EXTENSION] = chosen.value
            elif chosen.value:
                sent["Authorization"] = f"Bearer {chosen.value}"
            client, watch = self._client()
            with self.transport.deadline(watch, f"GET {path}"):
                try:
                    answer = client.request("GET", url, headers=sent, extensions=extensions)
                except httpx.TransportError as exc:
                    raise TransientError(f"{type(exc).__name__} on GET {path}") from None
            response = Response(answer.status_code, {k.lower(): v for k, v in answer.headers.items()},
                                answer.text, url)
            if 200 <= answer.status_code < 300 and response.text:
                try:
                    response.json()
                except ValueError:
                    raise TransientError(f"truncated or malformed JSON from GET {path}") from None
            return response

        return self.transport.request(send, stats, what=f"GET {path}")

    def next_url(self, response: Response) -> str | None:
        """Link ``rel="next"`` (cleaned of tokens) when sent, else the next page number below ``total_page``."""
        following = parse_link_header(response.headers.get("link")).get("next")
        if following:
            return without_secrets(following)
        try:
            total_pages = int(response.headers.get("total_page") or 0)
        except ValueError:
            return None
        parts = urllib.parse.urlsplit(response.url)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        page = int(dict(query).get("page") or 1)
        if page >= total_pages:
            return None
        query = [(k, v) for k, v in query if k != "page"] + [("page", str(page + 1))]
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))

    def walk(self, url: str, stats: RequestStats) -> Iterator[Response]:
        """Every page of a list, following :meth:`next_url` under the shared page guard."""
        yield from follow_pages(lambda u: self.get(u, stats), url, self.next_url)

    def repository(self, path: str) -> "GiteeRepository":
        return GiteeRepository(self, path)

    def list_repositories(self, org_path: str, include: Sequence[str] = (), exclude: Sequence[str] = (),
                          archived: bool = False, forks: bool = False) -> list[RepoListing]:
        """``/orgs/{org}/repos``, or ``/users/{user}/repos`` when the name is a personal namespace."""
        stats = RequestStats()
        owner = urllib.parse.quote(org_path.strip("/"), safe="")
        items: list[dict[str, Any]] = []
        for kind in ("orgs", "users"):
            responses = list(self.walk(f"{self.base_url}/{kind}/{owner}/repos?type=all&per_page="
                                       f"{self.settings.per_page}", stats))
            if responses[0].status == 200:
                items = [item for r in responses for item in (r.json() or [])]
                break
        else:
            raise ApiError(f"{self.name}: no organisation or user {org_path!r} (HTTP 404)", 404)
        listings = [RepoListing(path=i.get("full_name") or f"{org_path}/{i.get('path')}",
                                web_url=_web_url(i.get("html_url")), archived=_archived(i),
                                is_fork=bool(i.get("fork")), default_branch=i.get("default_branch"))
                    for i in items]
        return select(listings, include=include, exclude=exclude, archived=archived, forks=forks)

    def close(self) -> None:
        with self._lock:
            for client in self._clients:
                client.close()
            self._clients.clear()


@register
class GitCodeCollector(GiteeCollector):
    """GitCode / AtomGit: the Gitee dialect with header auth, ``type=authors`` and ``updated_after``."""

    name = "gitcode"
    style = GITCODE_STYLE


def _web_url(html_url: str | None) -> str | None:
    return html_url[:-4] if html_url and html_url.endswith(".git") else html_url  # both send ".../repo.git"


def _archived(data: Mapping[str, Any]) -> bool:
    return bool(data.get("archived")) or str(data.get("status") or "").lower() in _ARCHIVED_STATUSES


def _licence(value: Any) -> str | None:
    """Gitee sends the SPDX id as text; tolerate a GitHub-like object too."""
    if isinstance(value, dict):
        return value.get("spdx_id") or value.get("key")
    return value or None


def _count(value: Any) -> int | None:
    """Counts may come as text ("12")."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class GiteeRepository(RepositoryCollector):
    def __init__(self, platform: GiteeCollector, path: str) -> None:
        self.client = platform
        self.platform = platform.name
        self.path = path.strip("/")
        self.settings = platform.settings
        self.root = f"{platform.base_url}/repos/{self.path}"
        self.fingerprint: str | None = None  # "pushed_at=..." learnt by this object's ``repo`` fetch

    # -- plumbing ----------------------------------------------------------------------------------------
    def _get(self, url: str, stats: RequestStats, validators: Validators | None = None) -> Response:
        response = self.client.get(url, stats, validators=validators)
        if response.status in (404, 410, 451):
            raise RepositoryGone()
        if response.status >= 300 and response.status != 304:
            raise ApiError(f"{self.platform}: GET {urllib.parse.urlsplit(url).path} answered {response.status} "
                           f"{_message(response)}", response.status)
        return response

    def _source(self, stats: RequestStats) -> Any:
        repo = self

        class Source:
            def get(self, url: str, validators: Validators | None) -> Response:
                return repo._get(url, stats, validators)

            def next_url(self, response: Response) -> str | None:
                return repo.client.next_url(response)

        return Source()

    def _now(self) -> datetime:
        return from_epoch(self.client.http.clock())

    # -- the contract --------------------------------------------------------------------------------------

    def _repo_steps(self, start: Bookmark, stats: RequestStats) -> Iterator[Step]:
        response = self._get(self.root, stats, start.validators.get(self.root))
        if response.status == 304:  # only if the server sent an ETag: the repository is as last seen
            self.fingerprint = start.fingerprint
            yield [], start.evolve(checked_at=None), True
            return
        data = response.json() or {}
        self.fingerprint = f"pushed_at={data.get('pushed_at')}"
        full_name = data.get("full_name") or self.path
        moved = full_name.lower() != self.path.lower()
        archived = _archived(data)
        state = "moved" if moved else "archived" if archived else "active"
        if state == "active" and not data.get("pushed_at"):  # never pushed to? one cheap look tells, once
            if start.state == "empty" and start.fingerprint == self.fingerprint:
                state = "empty"
            else:
                probe = self.client.get(f"{self.root}/commits?per_page=1", stats)
                if probe.status != 200 or not probe.json():  # [] or an error page: no commits to list
                    state = "empty"
        snapshot = RepoSnapshot(
            platform=self.platform, path=self.path, state=state, moved_to=full_name if moved else None,
            default_branch=data.get("default_branch"), licence=_licence(data.get("license")),
            stars=_count(data.get("stargazers_count")), forks=_count(data.get("forks_count")),
            subscribers=_count(data.get("watchers_count")), open_issues=_count(data.get("open_issues_count")),
            created_at=self.client.time(data.get("created_at")), pushed_at=self.client.time(data.get("pushed_at")),
            web_url=_web_url(data.get("html_url")), is_fork=bool(data.get("fork")),
            description=data.get("description") or None, archived=archived)
        validators = Validators.from_headers(response.headers)
        mark = start.evolve(validators={self.root: validators} if validators else {}, checked_at=None,
                            state="empty" if state == "empty" else None, fingerprint=self.fingerprint)
        yield [snapshot], mark, True

    def _list_steps(self, stream: str, start: Bookmark, stats: RequestStats) -> Iterator[Step]:
        fingerprint = self.fingerprint if stream in ("commits", "contributors") else None
        if fingerprint is not None and start.fingerprint == fingerprint and not start.pending:
            yield [], start, True  # nothing was pushed since this stream was last collected
            return
        spec = self._spec(stream, start, stats)
        for records, mark, final in walk_list(spec, start, self._source(stats),
                                              max_settles=self.settings.max_settle_passes):
            if final and stream in ("commits", "contributors"):
                mark = mark.evolve(fingerprint=fingerprint)
            yield records, mark, final

    # -- list specifications -------------------------------------------------------------------------------
    def _spec(self, stream: str, bookmark: Bookmark, stats: RequestStats) -> ListSpec:
        per_page = self.settings.per_page
        cursor = parse_time(bookmark.cursor)
        style = self.client.style
        time = self.client.time
        if stream == "commits":
            def commits_url(at: datetime | None) -> str:
                since = f"&since={iso_z(at - self.settings.commit_overlap)}" if at else ""
                return f"{self.root}/commits?per_page={per_page}{since}"
            return ListSpec(stream, commits_url, lambda items: [self._commit(i) for i in items],
                            item_time=lambda i: time(((i.get("commit") or {}).get("committer") or {}).get("date")),
                            key=lambda r: r.sha)
        if stream == "contributors":
            return ListSpec(stream, lambda at: f"{self.root}/contributors?per_page={per_page}{style.contributors_query}",
                            lambda items: [self._contributor(i) for i in items], trust_304_when_paged=False)
        if stream == "releases":
            return ListSpec(stream, lambda at: f"{self.root}/releases?per_page={per_page}",
                            lambda items: [self._release(i) for i in items], trust_304_when_paged=False)
        updated = dict(item_time=lambda i: time(i.get("updated_at")), item_key=lambda i: str(i.get("number")),
                       recent_window=self.settings.update_overlap, key=lambda r: (r.number, r.updated_at))
        since_name = "updated_after" if style.updated_after else "since"

        def since(at: datetime | None) -> str:
            return f"&{since_name}={iso_z(at - self.settings.update_overlap)}" if at else ""
        if stream == "issues":
            return ListSpec(stream, lambda at: f"{self.root}/issues?state=all&sort=updated&direction=asc"
                                               f"&per_page={per_page}{since(at)}",
                            lambda items: self._issues(items, stats), trust_304_when_paged=False, **updated)
        if stream == "pulls" and style.updated_after:
            return ListSpec(stream, lambda at: f"{self.root}/pulls?state=all&sort=updated&direction=asc"
                                               f"&per_page={per_page}{since(at)}",
                            lambda items: self._pulls(items, stats), trust_304_when_paged=False, **updated)
        if stream == "pulls":  # Gitee: no filter; newest first and stop at the bookmark
            return ListSpec(stream, lambda at: f"{self.root}/pulls?state=all&sort=updated&direction=desc"
                                               f"&per_page={per_page}",
                            lambda items: self._pulls(items, stats),
                            stop_before=cursor - self.settings.update_overlap if cursor else None, **updated)
        raise ValueError(stream)

    # -- payload -> record -----------------------------------------------------------------------------
    def _commit(self, item: dict[str, Any]) -> Commit:
        git = item.get("commit") or {}
        author, committer = git.get("author") or {}, git.get("committer") or {}
        author_account, committer_account = item.get("author") or {}, item.get("committer") or {}
        login = plain_login(author_account.get("login"))
        message = (git.get("message") or "").strip()
        return Commit(
            sha=item["sha"], author_name=author.get("name") or None, author_email=author.get("email") or None,
            author_login=login, author_time=self.client.time(author.get("date")),
            committer_name=committer.get("name") or None, committer_email=committer.get("email") or None,
            committer_login=plain_login(committer_account.get("login")),
            committer_time=self.client.time(committer.get("date")), is_merge=len(item.get("parents") or []) > 1,
            is_bot=self.settings.bots.is_bot(login, author.get("email"), author.get("name"),
                                             author_account.get("type")),
            message_title=message.splitlines()[0] if message else "")

    def _release(self, item: dict[str, Any]) -> Release:
        return Release(tag=item["tag_name"], name=item.get("name") or None,
                       published_at=self.client.time(item.get("published_at") or item.get("created_at")),
                       prerelease=bool(item.get("prerelease")), draft=bool(item.get("draft")))

    @staticmethod
    def _contributor(item: dict[str, Any]) -> Contributor:
        return Contributor(login=plain_login(item.get("login")), name=item.get("name") or None,
                           email=item.get("email") or None, contributions=_count(item.get("contributions")) or 0)

    def _in_window(self, updated: datetime | None) -> bool:
        return updated is not None and updated >= self._now() - self.settings.response_window

    def _comments(self, kind: str, number: Any, author: str | None, stats: RequestStats,
                  count_all: bool) -> tuple[datetime | None, int]:
        url = f"{self.root}/{kind}/{urllib.parse.quote(str(number), safe='')}/comments?per_page={self.settings.per_page}"
        first: datetime | None = None
        total = 0
        for response in self.client.walk(url, stats):
            if response.status != 200:
                break
            found, count = first_response(
                response.json() or [], author, self.settings.bots,
                login=lambda c: plain_login((c.get("user") or {}).get("login")),
                created=lambda c: self.client.time(c.get("created_at")),
                account_type=lambda c: (c.get("user") or {}).get("type"))
            total += count
            if found is not None and (first is None or found < first):
                first = found
            if first is not None and not count_all:
                break
        return first, total

    def _discussion(self, kind: str, item: dict[str, Any], author: str | None, updated: datetime | None,
                    stats: RequestStats) -> tuple[datetime | None, int | None]:
        """First response and comment count: the list's count when it has one, else counted inside the window."""
        listed = _count(item.get("comments"))
        if not self._in_window(updated):
            return None, listed
        if listed is not None:
            first = self._comments(kind, item["number"], author, stats, count_all=False)[0] if listed else None
            return first, listed
        return self._comments(kind, item["number"], author, stats, count_all=True)

    def _issues(self, items: list[dict[str, Any]], stats: RequestStats) -> list[Record]:
        records: list[Record] = []
        for item in items:
            author = plain_login((item.get("user") or {}).get("login"))
            updated = self.client.time(item.get("updated_at"))
            first, comments = self._discussion("issues", item, author, updated, stats)
            records.append(Issue(
                number=str(item["number"]), title=item.get("title") or "", state=issue_state(item.get("state")),
                author_login=author, created_at=self.client.time(item["created_at"]), updated_at=updated,
                closed_at=self.client.time(item.get("closed_at") or item.get("finished_at")), comments=comments,
                first_response_at=first))
        return records

    def _pulls(self, items: list[dict[str, Any]], stats: RequestStats) -> list[Record]:
        records: list[Record] = []
        for item in items:
            author = plain_login((item.get("user") or {}).get("login"))
            updated = self.client.time(item.get("updated_at"))
            first, comments = self._discussion("pulls", item, author, updated, stats)
            merged = self.client.time(item.get("merged_at"))
            records.append(PullRequest(
                number=str(item["number"]), title=item.get("title") or "", state=pull_state(item.get("state"), merged),
                author_login=author, created_at=self.client.time(item["created_at"]), updated_at=updated,
                closed_at=self.client.time(item.get("closed_at")), merged_at=merged, comments=comments,
                first_response_at=first))
        return records


def _message(response: Response) -> str:
    try:
        data = response.json() or {}
    except ValueError:
        return ""
    return str(data.get("message") or data.get("error_message") or "")[:200] if isinstance(data, dict) else ""
