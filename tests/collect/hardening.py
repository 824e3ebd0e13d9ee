"""Helpers of the hardening tests: the emulator staged as a hostile server, a configuration naming it, runs of
`mtx collect` (a subprocess) or of the collection job in this process with a fake clock (rate-limit waits)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from sqlalchemy import text

from tests.emulator import FakeClock, World, generate_repo
from tracker import db as dbm
from tracker.access import Actor
from tracker.collect.job import CollectionJob, CollectOptions, http_settings
from tracker.config import load_config

PREFIX = {"github": "", "gitee": "/api/v5", "gitcode": "/gitcode/api/v5", "gitlab": "/api/v4"}
TOKENS = {"github": ("MTX_H_GH", "ghp_HARDENINGsecretHARDENINGsecret00001"),
          "gitee": ("MTX_H_GITEE", "gitee_HARDENINGsecretHARDENING00002"),
          "gitcode": ("MTX_H_GITCODE", "gitcode_HARDENINGsecretHARDENING03"),
          "gitlab": ("MTX_H_GITLAB", "glpat-HARDENINGsecretHARDENING0004")}
START = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)
SMALL, BIG = "acme/small", "acme/big"
BIG_COMMITS = 450


def build_world() -> World:
    world = World()
    generate_repo(world, SMALL, commits=40, seed=12, issues=3, pulls=2, releases=1, start=START)
    generate_repo(world, BIG, commits=BIG_COMMITS, seed=11, issues=5, pulls=3, releases=2, start=START,
                  step=dt.timedelta(hours=2))
    return world


def list_path(platform: str, path: str, rest: str = "") -> str:
    """The request path (as the emulator logs it) of a repository's endpoint on a platform."""
    if platform == "gitlab":
        return f"/api/v4/projects/{path.replace('/', '%2F')}{rest}"
    return f"{PREFIX[platform]}/repos/{path}{rest}"


def commits_path(platform: str, path: str) -> str:
    return list_path(platform, path, "/repository/commits" if platform == "gitlab" else "/commits")


def write_config(directory: Path, api_base: str, repos: list[tuple[str, str]], collection: dict | None = None,
                 platforms: dict | None = None) -> Path:
    """communities.yaml with one community holding ``repos`` ([(platform, path)]) on the emulator at ``api_base``."""
    directory.mkdir(parents=True, exist_ok=True)
    used = sorted({p for p, _ in repos})
    (directory / "communities.yaml").write_text(yaml.safe_dump({
        "platforms": platforms or {p: {"api_url": api_base + PREFIX[p], "token_env": [TOKENS[p][0]]} for p in used},
        "collection": {"concurrency": 1, "max_retries": 1} | (collection or {}),
        "communities": [{"slug": "acme", "name": "示例社区", "repositories": [
            {"platform": p, "path": path} for p, path in repos]}],
    }, allow_unicode=True), encoding="utf-8")
    return directory


def token_env() -> dict[str, str]:
    return dict(TOKENS.values())


def in_process_job(db_url: str, config_dir: Path, clock: FakeClock, **options) -> CollectionJob:
    """The job `mtx collect` runs, with the emulator's fake clock for sleeping (waits cost no real time)."""
    config = load_config(config_dir, env=token_env())
    collect_options = CollectOptions(**options)
    return CollectionJob(db_url, config, Actor("cron", "admin"), collect_options, environ=token_env(),
                         http=http_settings(config, collect_options, sleep=clock.sleep, clock=clock.now,
                                            jitter=lambda: 0.5))


def rows(db_url: str, query: str, **params) -> list[tuple]:
    with dbm.get_engine(db_url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(query), params)]


def commits_of(db_url: str, platform: str, path: str) -> int:
    return rows(db_url, "SELECT COUNT(c.id) FROM repositories r LEFT JOIN commits c ON c.repository_id = r.id "
                        "WHERE r.platform = :p AND r.path = :path", p=platform, path=path)[0][0]


def results(db_url: str) -> list[tuple]:
    """(platform, path, status, error, wait_seconds) of every stored collection result, in order."""
    return rows(db_url, "SELECT r.platform, r.path, x.status, x.error, x.wait_seconds FROM collection_results x "
                        "JOIN repositories r ON r.id = x.repository_id ORDER BY x.id")


def runs(db_url: str) -> list[tuple]:
    return rows(db_url, "SELECT status, finished_at IS NOT NULL, error FROM collection_runs ORDER BY id")
