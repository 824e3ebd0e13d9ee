"""Which repositories of a run are read from a git clone, and with what: the job's side of ``collector.git``.

``platform: git`` repositories are cloned from their configured URL; API repositories with ``commits_via: git``
(on the entry, or ``platforms.<name>.commits_via``) take their commits from a clone of ``clone_url:`` or of the URL
the platform's declaration derives (``Platform.clone_url``), every other stream from the API. Tokens: a git entry's
own ``token_env`` for its URL's origin; an API platform's ``token_env`` for its clone host only
(``Platform.clone_credential_origin``). Mirrors live in ``--git-cache``, else ``collection.git_cache`` (relative
to the configuration directory), else beside the database (``collector.gitclone.default_cache_directory``).
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from collector import registry
from tracker.config import Config, RepoTarget


class GitRoutes:
    def __init__(self, db_url: str, config: Config, git_cache: str | None, environ: dict[str, str]) -> None:
        self.config = config
        self.environ = environ
        self.db_url = db_url
        self.git_cache = git_cache
        self._collector = None
        self._lock = threading.Lock()
        self.targets: dict[tuple[str, str, str], RepoTarget] = {}
        for community in config.communities.communities:
            for entry in community.repositories:
                try:
                    target = config.resolve_repository(entry)
                except ValueError:
                    continue
                self.targets.setdefault((target.platform, target.api_url, target.path), target)

    def cache_directory(self) -> Path:
        from collector.gitclone import default_cache_directory

        chosen = self.git_cache or self.config.communities.collection.git_cache
        if chosen:
            path = Path(chosen).expanduser()
            return path if path.is_absolute() or self.git_cache else self.config.directory / path
        return default_cache_directory(self.db_url)

    def collector(self):
        from collector.git import GitCollector, GitSettings
        from collector.gitclone import CLONE_TIMEOUT, FETCH_TIMEOUT

        with self._lock:
            if self._collector is None:
                timeout = self.config.communities.collection.git_timeout_seconds
                self._collector = GitCollector(git=GitSettings(
                    cache_dir=self.cache_directory(), clone_timeout=timeout or CLONE_TIMEOUT,
                    fetch_timeout=timeout or FETCH_TIMEOUT, environ=self.environ,
                    secret_variables=tuple(sorted(self.config.token_variables()))))
            return self._collector

    def uses_git(self, platform: str, api_url: str, path: str) -> bool:
        target = self.targets.get((platform, api_url, path))
        return platform == "git" or (target.commits_via if target else self.config.commits_via(platform)) == "git"

    def repository(self, platform: str, api_url: str, path: str, api: Callable[[], object]):
        """The collector the job runs for this repository: the API one, a git one, or both (:class:`ViaGit`)."""
        if not self.uses_git(platform, api_url, path):
            return api()
        from collector.git import ViaGit
        from collector.gitclone import Credential, normalise_clone_url, url_origin

        target = self.targets.get((platform, api_url, path))
        git = self.collector()
        if platform == "git":
            if target is None or not target.clone_url:
                raise ValueError(f"git repository {path!r} has no configured clone URL; write it as "
                                 "{platform: git, url: CLONE_URL} in communities.yaml")
            credential = None
            origin = url_origin(target.clone_url)
            token = self._token(target.token_env)
            if token and origin:
                credential = Credential(origin, "git", token[1], token[0])
            return git.repository(path, url=target.clone_url, credential=credential)
        declared = registry.get(platform)
        url = (target.clone_url if target and target.clone_url else None) or declared.clone_url(api_url, path)
        if not url:
            raise ValueError(f"{platform}:{path}: commits_via: git needs a clone URL; give clone_url: on the entry")
        credential = None
        origin = declared.clone_credential_origin(api_url, url)
        token = self._token(self.config.token_env(platform))
        if token and origin:
            credential = Credential(origin, declared.clone_user, token[1], token[0])
        return ViaGit(api(), git.repository(normalise_clone_url(url), url=url, credential=credential,
                                            platform=platform))

    def _token(self, names) -> tuple[str, str] | None:
        for name in names:
            if self.environ.get(name):
                return name, self.environ[name]
        return None
