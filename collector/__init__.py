"""Collectors: fetch repository activity from code-hosting platforms as plain records, from a bookmark.

Public API (see ``collector.base`` for the contract)::

    from collector import open_platform, HttpSettings, CollectorSettings
    with open_platform("github", tokens=[("MTX_GITHUB_TOKEN", os.environ["MTX_GITHUB_TOKEN"])]) as github:
        repo = github.repository("owner/name")
        run = repo.fetch("commits", stored_bookmark_json)
        for page in run:                       # one DB transaction per page:
            store(page.records); save(page.bookmark.to_json())
        run.stats                              # requests, not_modified, retries, rate_limit_waits, waited_seconds
        github.list_repositories("EasyXMen", include=["*"], exclude=["*-archive"])   # -> [RepoListing, ...]

Platforms are declared in ``collector.platforms`` (one module each) and read through ``collector.registry``:
``github`` (PyGithub), ``gitee`` and ``gitcode`` (httpx, one Gitee-style module), ``gitlab`` (python-gitlab), and
``git`` (no collector yet). Fetch ``repo`` first on a RepositoryCollector: Gitee/GitCode use its ``pushed_at`` to skip
unchanged commits and contributors (see docs/collectors.md).
"""

from collector.base import CollectorSettings, Fetch, Page, PlatformCollector, RepositoryCollector
from collector.bookmarks import Bookmark, Validators
from collector.bots import BotRules, is_bot
from collector.discovery import RepoListing
from collector.errors import (ApiError, CollectorError, QuotaExhausted, RetriesExhausted, TokenRejected,
                              TransientError)
from collector.http import HttpSettings, RequestStats, TokenPool, Transport
from collector.records import (RECORD_TYPES, STREAMS, Commit, Contributor, Issue, PullRequest, Record, Release,
                               RepoSnapshot)
from collector.registry import open_platform, platform_class, register
from collector.registry import platforms as platform_names  # `collector.platforms` is the declarations package

__all__ = ["ApiError", "Bookmark", "BotRules", "CollectorError", "CollectorSettings", "Commit", "Contributor", "Fetch",
           "HttpSettings", "Issue", "Page", "PlatformCollector", "PullRequest", "QuotaExhausted", "RECORD_TYPES",
           "Record", "Release", "RepoListing", "RepoSnapshot", "RepositoryCollector", "RequestStats", "RetriesExhausted", "STREAMS",
           "TokenPool", "TokenRejected", "TransientError", "Transport", "Validators", "is_bot", "open_platform",
           "platform_class", "platform_names", "register"]
