"""GitLab (``https://gitlab.com/api/v4`` or a self-hosted ``https://HOST/api/v4``) through python-gitlab.

python-gitlab stays the client: one ``gitlab.Gitlab(server, private_token=..., per_page=100,
retry_transient_errors=False)`` per token and thread, and every call is its ``http_request("get", ...)`` with
``obey_rate_limit=False, max_retries=0`` so that :class:`collector.http.Transport` alone retries and waits. Its
objects (``projects.get``, ``list(iterator=True)``) cannot send If-None-Match nor show headers; ``http_request``
can send ours (``extra_headers``), and a response hook on the requests session it is given keeps the last raw
answer, so status and headers of a 304, 404 or 429 (which python-gitlab turns into exceptions) stay visible.

Streams and requests (``{p}`` = ``/projects/{URL-encoded path}``, e.g. ``group%2Fsub%2Fproject``):
- repo: ``{p}?license=true`` (``empty_repo``, ``archived``, ``forked_from_project``; a renamed project answers at
  its old path with its new ``path_with_namespace``: recorded as moved, collected on by its numeric id);
- commits: ``{p}/repository/commits?since=`` (default branch; no totals: follow Link/``x-next-page``); author time
  is ``authored_date``, committer time ``committed_date``, both from the author's own offset to UTC; no logins;
- contributors: ``{p}/repository/contributors?order_by=commits&sort=desc`` (name/e-mail/commits);
- releases: ``{p}/releases`` (``released_at``); issues and merge requests: ``?state=all&order_by=updated_at
  &sort=asc&updated_after=`` with states opened/closed and opened/closed/locked/merged, normalised; comment counts
  are ``user_notes_count``; first responses read ``/notes?sort=asc`` skipping system notes.
GitLab sends ETags on most lists and 304s them, but its throttle counts every request, 304s included; an unchanged
repository costs 5 requests (repo, commits, releases, issues, merge requests); contributors are skipped when the
commits list answered with the same ETag it had when contributors were last read.
"""

from __future__ import annotations

import threading
import urllib.parse
from datetime import datetime
from typing import Any, Iterator, Sequence

import gitlab
import requests
from gitlab.utils import EncodedId

from collector.base import CollectorSettings, PlatformCollector, RepositoryCollector, RepositoryGone, Step
from collector.bookmarks import Bookmark, Validators
from collector.discovery import RepoListing, select
from collector.errors import ApiError, TransientError
from collector.addresses import api_root
from collector.http import (Credential, CredentialScope, HttpSettings, RequestStats, Response, SocketWatch, TokenPool,
                            Transport, parse_link_header, watched_requests_adapter)
from collector.normalise import first_response, issue_state, pull_state
from collector.platforms.gitlab import PLATFORM as DECLARED
from collector.paging import ListSpec, follow_pages, walk_list
from collector.ratelimit import GitLabRules
from collector.records import Commit, Contributor, Issue, PullRequest, Record, Release, RepoSnapshot
from collector.registry import credential_origins, register
from collector.timeutil import from_epoch, iso_z, parse_time

PUBLIC_API = DECLARED.default_api_url
SPDX = {"mit": "MIT", "apache-2.0": "Apache-2.0", "gpl-2.0": "GPL-2.0", "gpl-3.0": "GPL-3.0",
        "lgpl-2.1": "LGPL-2.1", "lgpl-3.0": "LGPL-3.0", "agpl-3.0": "AGPL-3.0", "bsd-2-clause": "BSD-2-Clause",
        "bsd-3-clause": "BSD-3-Clause", "mpl-2.0": "MPL-2.0", "epl-2.0": "EPL-2.0", "unlicense": "Unlicense",
        "isc": "ISC", "mulanpsl-2.0": "MulanPSL-2.0", "cc0-1.0": "CC0-1.0"}
"""GitLab reports licences by licensee key (``apache-2.0``); records carry SPDX ids (``Apache-2.0``)."""


class _RecordingSession(requests.Session):
    """The requests session handed to python-gitlab: remembers the last raw answer for the error paths, follows a
    redirect only inside the credential scope (requests would carry ``PRIVATE-TOKEN`` anywhere: it strips only
    ``Authorization``), and lets the request deadline cut its sockets."""

    def __init__(self, scope: CredentialScope) -> None:
        super().__init__()
        self.last: requests.Response | None = None
        self.scope = scope
        self.watch = SocketWatch()
        adapter = watched_requests_adapter(self.watch, max_retries=0)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.hooks["response"].append(self._keep)

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last = response

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target and not self.scope.allows(urllib.parse.urljoin(resp.url, target)):
            return None  # not followed: the 3xx comes back and the transport refuses it, naming the target
        return target


@register
class GitLabCollector(PlatformCollector):
    """GitLab for one base URL (ending in ``/api/v4``) and token pool."""

    name = "gitlab"

    def __init__(self, *, tokens: list[tuple[str, str]] | tuple = (), base_url: str = PUBLIC_API,
                 http: HttpSettings = HttpSettings(), settings: CollectorSettings = CollectorSettings(),
                 pool: TokenPool | None = None) -> None:
        self.base_url = api_root("gitlab", base_url)  # the server (http://host:port) or its /api/v4 root
        self.server = self.base_url[: -len("/api/v4")]
        self.http = http
        self.settings = settings
        self.pool = pool or TokenPool(self.name, tokens, clock=http.clock)
        self.scope = CredentialScope(self.name, *credential_origins(self.name, self.base_url))
        self.transport = Transport(GitLabRules(), self.pool, http, self.scope)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sessions: list[_RecordingSession] = []

    def _client(self, credential: Credential) -> tuple[gitlab.Gitlab, _RecordingSession]:
        """One python-gitlab client per token and thread (requests sessions are not shared across threads)."""
        clients = getattr(self._local, "clients", None)
        if clients is None:
            clients = self._local.clients = {}
        pair = clients.get(id(credential))
        if pair is None:
            session = _RecordingSession(self.scope)
            client = gitlab.Gitlab(self.server, private_token=credential.value, per_page=self.settings.per_page,
                                   retry_transient_errors=False, timeout=self.http.timeout, session=session,
                                   keep_base_url=True)
            pair = clients[id(credential)] = (client, session)
            with self._lock:
                self._sessions.append(session)
        return pair

    def get(self, url: str, stats: RequestStats, *, validators: Validators | None = None) -> Response:
        """One GET under the shared policy; 2xx/3xx/4xx/304 come back, limits and 5xx are handled."""
        self.scope.check_url(url)
        headers: dict[str, str] = {}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        path = urllib.parse.urlsplit(url).path

        def send(chosen: Credential) -> Response:
            client, session = self._client(chosen)
            session.last = None
            with self.transport.deadline(session.watch, f"GET {path}"):
                try:
                    raw = client.http_request("get", url, obey_rate_limit=False, retry_transient_errors=False,
                                              max_retries=0, extra_headers=headers)
                except gitlab.exceptions.GitlabError:
                    raw = session.last  # non-2xx: python-gitlab raised, the hook kept the answer
                    if raw is None:
                        raise TransientError(f"no answer on GET {path}") from None
                except (requests.RequestException, ConnectionError, TimeoutError) as exc:
                    raise TransientError(f"{type(exc).__name__} on GET {path}") from None
                text = raw.text
            hops = tuple((r.status_code, r.headers.get("location", "")) for r in raw.history)
            response = Response(raw.status_code, {k.lower(): v for k, v in raw.headers.items()}, text, url,
                                redirects=hops)
            if 200 <= raw.status_code < 300 and response.text:
                try:
                    response.json()
                except ValueError:
                    raise TransientError(f"truncated or malformed JSON from GET {path}") from None
            return response

        return self.transport.request(send, stats, what=f"GET {path}")

    def next_url(self, response: Response) -> str | None:
        """Link ``rel="next"``, else ``x-next-page`` (empty on the last page; commits have no totals)."""
        following = parse_link_header(response.headers.get("link")).get("next")
        if following:
            return following
        page = response.headers.get("x-next-page")
        if not page:
            return None
        parts = urllib.parse.urlsplit(response.url)
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "page"] + [("page", page)]
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))

    def walk(self, url: str, stats: RequestStats) -> Iterator[Response]:
        yield from follow_pages(lambda u: self.get(u, stats), url, self.next_url)

    def repository(self, path: str) -> "GitLabRepository":
        return GitLabRepository(self, path)

    def list_repositories(self, org_path: str, include: Sequence[str] = (), exclude: Sequence[str] = (),
                          archived: bool = False, forks: bool = False) -> list[RepoListing]:
        """A group's projects including every subgroup (globs match the whole path), else a user's projects."""
        stats = RequestStats()
        ident = EncodedId(org_path.strip("/"))
        per_page = self.settings.per_page
        for url in (f"{self.base_url}/groups/{ident}/projects?include_subgroups=true&with_shared=false"
                    f"&per_page={per_page}", f"{self.base_url}/users/{ident}/projects?per_page={per_page}"):
            responses = list(self.walk(url, stats))
            if responses[0].status == 200:
                items = [item for r in responses for item in (r.json() or [])]
                break
        else:
            raise ApiError(f"gitlab: no group or user {org_path!r} (HTTP 404)", 404)
        listings = [RepoListing(path=i["path_with_namespace"], web_url=i.get("web_url"),
                                archived=bool(i.get("archived")), is_fork="forked_from_project" in i,
                                default_branch=i.get("default_branch")) for i in items]
        return select(listings, include=include, exclude=exclude, archived=archived, forks=forks, full_path=True)

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()


def _time(value: Any) -> datetime | None:
    return parse_time(value)


class GitLabRepository(RepositoryCollector):
    platform = "gitlab"

    def __init__(self, gitlab_: GitLabCollector, path: str) -> None:
        self.client = gitlab_
        self.path = path.strip("/")
        self.settings = gitlab_.settings
        self.location: str | None = None  # "projects/{id}" once a rename is seen
        self.commits_fingerprint: str | None = None  # the commits list's validators as of this run

    def _root(self) -> str:
        return f"{self.client.base_url}/{self.location or 'projects/' + str(EncodedId(self.path))}"

    def _now(self) -> datetime:
        return from_epoch(self.client.http.clock())

    def _get(self, url: str, stats: RequestStats, validators: Validators | None = None) -> Response:
        response = self.client.get(url, stats, validators=validators)
        if response.status in (404, 410):
            raise RepositoryGone()
        if response.status >= 300 and response.status != 304:
            raise ApiError(f"gitlab: GET {urllib.parse.urlsplit(url).path} answered {response.status}",
                           response.status)
        return response

    def _source(self, stats: RequestStats) -> Any:
        repo = self

        class Source:
            def get(self, url: str, validators: Validators | None) -> Response:
                return repo._get(url, stats, validators)

            def next_url(self, response: Response) -> str | None:
                return repo.client.next_url(response)

        return Source()

    # -- the contract --------------------------------------------------------------------------------------
    def _resume(self, start: Bookmark) -> None:
        self.location = start.location or self.location

    def _finish(self, bookmark: Bookmark) -> Bookmark:
        return bookmark.evolve(location=self.location)

    def _repo_steps(self, start: Bookmark, stats: RequestStats) -> Iterator[Step]:
        url = f"{self._root()}?license=true"
        response = self._get(url, stats, start.validators.get(url))
        if response.status == 304:
            yield [], start.evolve(state=None, checked_at=None), True
            return
        data = response.json() or {}
        full_path = data.get("path_with_namespace") or self.path
        moved = full_path.lower() != self.path.lower()
        if moved and data.get("id"):
            self.location = f"projects/{data['id']}"
        archived = bool(data.get("archived"))
        state = "moved" if moved else "archived" if archived else "empty" if data.get("empty_repo") else "active"
        licence = data.get("license") or {}
        key = (licence.get("key") or "").lower()
        snapshot = RepoSnapshot(
            platform="gitlab", path=self.path, state=state, moved_to=full_path if moved else None,
            default_branch=data.get("default_branch"), licence=SPDX.get(key, licence.get("key")) if key else None,
            stars=data.get("star_count"), forks=data.get("forks_count"), subscribers=None,
            open_issues=data.get("open_issues_count"), created_at=_time(data.get("created_at")), pushed_at=None,
            web_url=data.get("web_url"), is_fork="forked_from_project" in data,
            description=data.get("description") or None, archived=archived)
        validators = Validators.from_headers(response.headers)
        yield [snapshot], start.evolve(validators={f"{self._root()}?license=true": validators} if validators else {},
                                       state=None, checked_at=None), True

    def _list_steps(self, stream: str, start: Bookmark, stats: RequestStats) -> Iterator[Step]:
        if stream == "contributors" and self.commits_fingerprint and not start.pending \
                and start.fingerprint == self.commits_fingerprint:
            yield [], start, True  # the commits list is as it was when contributors were last read
            return
        spec = self._spec(stream, start, stats)
        for records, mark, final in walk_list(spec, start, self._source(stats),
                                              max_settles=self.settings.max_settle_passes):
            if final and stream == "commits":
                validators = mark.validators.get(spec.first_url(parse_time(mark.cursor)))
                self.commits_fingerprint = f"commits={validators.etag}" if validators and validators.etag else None
            if final and stream == "contributors":
                mark = mark.evolve(fingerprint=self.commits_fingerprint)
            yield records, mark, final

    def _spec(self, stream: str, bookmark: Bookmark, stats: RequestStats) -> ListSpec:
        per_page = self.settings.per_page
        root = self._root()
        if stream == "commits":
            def commits_url(at: datetime | None) -> str:
                since = f"&since={iso_z(at - self.settings.commit_overlap)}" if at else ""
                return f"{root}/repository/commits?per_page={per_page}{since}"
            return ListSpec(stream, commits_url, lambda items: [self._commit(i) for i in items],
                            item_time=lambda i: _time(i.get("committed_date")), key=lambda r: r.sha)
        if stream == "contributors":
            return ListSpec(stream, lambda at: f"{root}/repository/contributors?order_by=commits&sort=desc"
                                               f"&per_page={per_page}",
                            lambda items: [Contributor(login=None, name=i.get("name") or None,
                                                       email=i.get("email") or None,
                                                       contributions=int(i.get("commits") or 0)) for i in items],
                            trust_304_when_paged=False)
        if stream == "releases":
            return ListSpec(stream, lambda at: f"{root}/releases?per_page={per_page}",
                            lambda items: [Release(tag=i["tag_name"], name=i.get("name") or None,
                                                   published_at=_time(i.get("released_at") or i.get("created_at")),
                                                   prerelease=False, draft=False) for i in items],
                            trust_304_when_paged=False)
        kind = {"issues": "issues", "pulls": "merge_requests"}[stream]

        def items_url(at: datetime | None) -> str:
            after = f"&updated_after={iso_z(at - self.settings.update_overlap)}" if at else ""
            return f"{root}/{kind}?state=all&order_by=updated_at&sort=asc&per_page={per_page}{after}"
        return ListSpec(stream, items_url, lambda items: self._items(kind, items, stats),
                        item_time=lambda i: _time(i.get("updated_at")), trust_304_when_paged=False,
                        key=lambda r: (r.number, r.updated_at), item_key=lambda i: str(i.get("iid")),
                        recent_window=self.settings.update_overlap)

    # -- payload -> record -----------------------------------------------------------------------------
    def _commit(self, item: dict[str, Any]) -> Commit:
        message = (item.get("message") or item.get("title") or "").strip()
        return Commit(
            sha=item["id"], author_name=item.get("author_name") or None, author_email=item.get("author_email") or None,
            author_login=None, author_time=_time(item.get("authored_date")),
            committer_name=item.get("committer_name") or None, committer_email=item.get("committer_email") or None,
            committer_login=None, committer_time=_time(item.get("committed_date")),
            is_merge=len(item.get("parent_ids") or []) > 1,
            is_bot=self.settings.bots.is_bot(None, item.get("author_email"), item.get("author_name")),
            message_title=message.splitlines()[0] if message else "")

    def _first_response(self, kind: str, iid: Any, author: str | None, stats: RequestStats) -> datetime | None:
        url = f"{self._root()}/{kind}/{iid}/notes?sort=asc&order_by=created_at&per_page={self.settings.per_page}"
        for response in self.client.walk(url, stats):
            if response.status != 200:
                return None
            first, _ = first_response(response.json() or [], author, self.settings.bots,
                                      login=lambda n: (n.get("author") or {}).get("username"),
                                      created=lambda n: _time(n.get("created_at")),
                                      skip=lambda n: bool(n.get("system")))
            if first is not None:
                return first
        return None

    def _items(self, kind: str, items: list[dict[str, Any]], stats: RequestStats) -> list[Record]:
        records: list[Record] = []
        window_start = from_epoch(self.client.http.clock()) - self.settings.response_window
        for item in items:
            author = (item.get("author") or {}).get("username")
            updated = _time(item.get("updated_at"))
            comments = item.get("user_notes_count")
            first = None
            if comments and updated is not None and updated >= window_start:
                first = self._first_response(kind, item["iid"], author, stats)
            merged = _time(item.get("merged_at"))
            common = dict(number=str(item["iid"]), title=item.get("title") or "", author_login=author,
                          created_at=_time(item["created_at"]), updated_at=updated,
                          closed_at=_time(item.get("closed_at")) or merged,  # merged MRs have closed_at null
                          comments=comments, first_response_at=first)
            if kind == "issues":
                records.append(Issue(state=issue_state(item.get("state")), **common))
            else:
                records.append(PullRequest(state=pull_state(item.get("state"), merged), merged_at=merged, **common))
        return records
