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

# Names are resolved on first use (PEP 562), so `from collector import registry` (what `mtx status` needs) does not
# load the HTTP clients, records and pagination machinery.
_EXPORTS = {
    "collector.base": ("CollectorSettings", "Fetch", "Page", "PlatformCollector", "RepositoryCollector"),
    "collector.bookmarks": ("Bookmark", "Validators"),
    "collector.bots": ("BotRules", "is_bot"),
    "collector.discovery": ("RepoListing",),
    "collector.errors": ("ApiError", "CollectorError", "QuotaExhausted", "RetriesExhausted", "TokenRejected",
                         "TransientError"),
    "collector.http": ("HttpSettings", "RequestStats", "TokenPool", "Transport"),
    "collector.records": ("RECORD_TYPES", "STREAMS", "Commit", "Contributor", "Issue", "PullRequest", "Record",
                          "Release", "RepoSnapshot"),
    "collector.registry": ("open_platform", "platform_class", "register"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
_WHERE["platform_names"] = "collector.registry"  # `collector.platforms` is the declarations package


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'collector' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), "platforms" if name == "platform_names" else name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


__all__ = ["ApiError", "Bookmark", "BotRules", "CollectorError", "CollectorSettings", "Commit", "Contributor", "Fetch",
           "HttpSettings", "Issue", "Page", "PlatformCollector", "PullRequest", "QuotaExhausted", "RECORD_TYPES",
           "Record", "Release", "RepoListing", "RepoSnapshot", "RepositoryCollector", "RequestStats", "RetriesExhausted", "STREAMS",
           "TokenPool", "TokenRejected", "TransientError", "Transport", "Validators", "is_bot", "open_platform",
           "platform_class", "platform_names", "register"]
