"""Platform declarations: everything the tracker needs to know about a code-hosting platform, said once.

Each module of this package declares one or more :class:`Platform` values (``PLATFORM = Platform(...)`` or
``PLATFORMS = (...)``): its name, Chinese and English labels, default API URL, token variables, the origins its
credentials may reach, its web hosts, how a web URL becomes a repository path, its path rules and the streams its
collector serves. Configuration checks, the database, the collection job, the CLI, the app and the sample read these
declarations through :mod:`collector.registry`; nothing else lists platforms.

Declarations are plain data and import no client library (PyGithub, python-gitlab, httpx), so reading them costs
nothing at start-up: ``collector`` names the collector class as ``"module:Class"`` (imported when a run first opens
the platform) or is the class itself (a one-module platform, such as the test-only one in tests/).
"""
from __future__ import annotations

import importlib
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable

from collector.addresses import origin
from collector.records import STREAMS

__all__ = ["Platform", "WebPath", "owner_name_path", "STREAMS"]

#: ``web_path(url, path, organisation)``: the repository (or organisation) path of a web URL's path part; raises
#: ValueError saying what the URL should look like.
WebPath = Callable[[str, str, bool], str]


def owner_name_path(url: str, path: str, organisation: bool) -> str:
    """``owner/name`` from ``/owner/name[.git][/tree/...]``; an organisation is ``/owner`` (GitHub, Gitee style)."""
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    segments = [s for s in path.split("/") if s]
    if organisation:
        if len(segments) != 1:
            host = urllib.parse.urlsplit(url).hostname
            raise ValueError(f"{url!r} is not an organisation URL (expected https://{host}/ORG)")
        return segments[0]
    if len(segments) < 2:
        raise ValueError(f"{url!r} names an organisation, not a repository")
    return "/".join(segments[:2])  # https://github.com/o/r/tree/main -> o/r


@dataclass(frozen=True)
class Platform:
    """One platform, as declared by its module. Only ``name`` and the labels are required."""

    name: str                                   # as written in communities.yaml and stored in rows
    label_zh: str                               # shown in the app and CLI, Chinese first
    label_en: str
    default_api_url: str | None = None          # None: every repository names its api_url (or nothing to call)
    token_env: tuple[str, ...] = ()             # default environment variables holding tokens
    credential_hosts: tuple[str, ...] = ()      # origins (scheme://host:port) tokens may reach for the default API
    web_hosts: tuple[str, ...] = ()             # hosts whose web URLs name this platform's repositories
    streams: tuple[str, ...] = STREAMS          # what its collector serves; the job asks for nothing else
    collector: type | str | None = None         # the PlatformCollector class, or "module:Class"; None: none yet
    web_path: WebPath = owner_name_path         # URL -> path parser
    nested_paths: bool = False                  # group/subgroup/.../project (GitLab) instead of owner/name
    checks_paths: bool = True                   # paths go into request URLs: refuse '..', '%', odd characters
    api_suffix: str = ""                        # appended to a server URL to make the API root (GitLab: /api/v4)
    logins: bool = True                         # accounts have logins (PLATFORM:LOGIN references name them)
    aliases: tuple[str, ...] = ()               # other names accepted in PLATFORM:LOGIN references (atomgit)
    noreply_forms: tuple[str, ...] = ()         # regular expressions of private commit addresses, group 'login'
    noreply_domains: tuple[str, ...] = ()       # domains of those addresses (never an organisation)
    anonymous_addresses: tuple[str, ...] = ()   # web-commit addresses that identify nobody
    repo_figures: bool = True                   # its "repo" stream has stars, forks and a creation date (git: no)
    clone_host: str | None = None               # https://HOST where the public service's repositories clone from
    clone_user: str = "git"                     # the user name git sends with a token (commits_via: git)
    _class: list = field(default_factory=list, repr=False, compare=False)  # the imported collector class, once

    def __post_init__(self) -> None:
        unknown = [s for s in self.streams if s not in STREAMS]
        if unknown:
            raise ValueError(f"platform {self.name!r} declares unknown stream(s) {', '.join(unknown)}; "
                             f"streams are {', '.join(STREAMS)}")

    @property
    def figure_streams(self) -> tuple[str, ...]:
        """The streams whose figures the metrics count: ``streams``, without "repo" where that stream is state only
        (a clone has no stars, forks or creation date)."""
        return self.streams if self.repo_figures else tuple(s for s in self.streams if s != "repo")

    @property
    def label(self) -> str:
        """``中文 / English`` (one of them when they are the same)."""
        return self.label_zh if self.label_zh == self.label_en else f"{self.label_zh} / {self.label_en}"

    @property
    def has_collector(self) -> bool:
        return self.collector is not None

    def collector_class(self) -> type:
        """The collector class, importing its module the first time (client libraries load only when needed)."""
        if self.collector is None:
            raise LookupError(f"平台 {self.name} 尚无采集器 / platform {self.name!r} has no collector yet")
        if not self._class:
            target = self.collector
            if isinstance(target, str):
                module, _, attribute = target.partition(":")
                target = getattr(importlib.import_module(module), attribute)
            self._class.append(target)
        return self._class[0]

    def api_root(self, url: str) -> str:
        """The API root a collector talks to: the URL without a final '/', with ``api_suffix`` added to a server
        URL (GitLab takes ``http://host:port`` as python-gitlab does, or ``.../api/v4``)."""
        url = url.rstrip("/")
        if self.api_suffix and url and not url.endswith(self.api_suffix):
            return url + self.api_suffix
        return url

    def clone_url(self, api_url: str, path: str) -> str | None:
        """The https clone URL of ``path`` for a collector on ``api_url`` (commits_via: git): the declared
        ``clone_host`` for the public service, the API's own host for a self-hosted one; None for neither."""
        own = origin(api_url)
        if own is None:
            return None
        if self.clone_host and own in {origin(h) for h in self.credential_hosts}:
            return f"{self.clone_host.rstrip('/')}/{path}.git"
        scheme, host, port = own
        default = {"https": 443, "http": 80}[scheme]
        return f"{scheme}://{host}{'' if port == default else f':{port}'}/{path}.git"

    def clone_credential_origin(self, api_url: str, clone_url: str) -> str | None:
        """Where this platform's token may go for ``clone_url`` (scheme://host:port), or None: the declared clone
        host of the public service, or the host of a self-hosted API (a token for it is a token for its git)."""
        target = origin(clone_url)
        own = origin(api_url)
        if target is None or own is None:
            return None
        public = own in {origin(h) for h in self.credential_hosts}
        if public:
            allowed = origin(self.clone_host) if self.clone_host else None
            return "%s://%s:%d" % target if target == allowed else None
        return "%s://%s:%d" % target if target[:2] == own[:2] else None

    def credential_origins(self, api_url: str) -> tuple[str, ...]:
        """Where this platform's tokens may go for a collector opened on ``api_url``: that URL's origin, and the
        declared ``credential_hosts`` when it is the platform's own service (a self-hosted server gets its own
        origin only: a token for it never reaches the public service, nor the reverse)."""
        own = origin(api_url)
        if own is not None and own in {origin(h) for h in self.credential_hosts}:
            return tuple(dict.fromkeys([api_url, *self.credential_hosts]))
        return (api_url,)

