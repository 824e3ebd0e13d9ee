"""Fixtures for the collection job: an emulator in this process, a configuration pointing at it, `mtx` runs."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from tests.emulator import World, generate_repo, running_emulator
from tracker import db as dbm

TOKEN_VAR = "MTX_TEST_COLLECT_TOKEN"
TOKEN = "ghp_JOBSECRETjobsecretjobsecretjobsecret01"
MTX = str(Path(sys.executable).parent / "mtx")
REPOS = ("acme/big", "acme/small", "acme/empty", "acme/unlinked")


def build_world() -> World:
    world = World()
    generate_repo(world, "acme/big", commits=450, seed=11, unlinked_every=9, merge_every=8, bot_every=15,
                  issues=30, pulls=20, releases=4)
    generate_repo(world, "acme/small", commits=40, seed=12, issues=3, pulls=2, releases=1)
    world.add_repo("acme/empty", created_at=dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc), licence="MIT")
    generate_repo(world, "acme/unlinked", commits=70, seed=13, unlinked_every=2, issues=2, pulls=1)
    return world


def write_config(directory: Path, api_url: str, repos=REPOS, collection: dict | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "communities.yaml").write_text(yaml.safe_dump({
        "platforms": {"github": {"api_url": api_url, "token_env": [TOKEN_VAR]}},
        "collection": collection or {"concurrency": 2},
        "communities": [{"slug": "acme", "name": "示例社区", "focus": "automotive",
                         "repositories": [{"platform": "github", "path": p} for p in repos]}],
    }, allow_unicode=True), encoding="utf-8")
    return directory


@pytest.fixture
def emulator():
    with running_emulator(build_world()) as emu:
        emu.add_token(TOKEN)
        yield emu


@pytest.fixture
def config_dir(tmp_path, emulator) -> Path:
    return write_config(tmp_path / "config", emulator.url)


def mtx_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MTX_")}
    env[TOKEN_VAR] = TOKEN
    env.update(extra or {})
    return env


def run_mtx(db_url: str, config_dir: Path, *args: str, extra_env: dict | None = None, timeout: float = 120,
            user: str = "cron") -> subprocess.CompletedProcess:
    return subprocess.run([MTX, "--db", db_url, "--config", str(config_dir), "--as", user, *args],
                          env=mtx_env(extra_env), capture_output=True, text=True, timeout=timeout)


def start_mtx(db_url: str, config_dir: Path, *args: str, extra_env: dict | None = None,
              user: str = "cron") -> subprocess.Popen:
    return subprocess.Popen([MTX, "--db", db_url, "--config", str(config_dir), "--as", user, *args],
                            env=mtx_env(extra_env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


CANONICAL = {
    "repositories": "SELECT platform, path, state, default_branch, licence, moved_to, is_fork, description "
                    "FROM repositories ORDER BY platform, path",
    # not the day it was taken: a module's reference run may be on the day before a test's run (midnight between)
    "repository_snapshots": "SELECT r.path, s.stars, s.forks, s.subscribers, s.open_issues, s.created_at, "
                            "s.pushed_at FROM repository_snapshots s JOIN repositories r ON r.id = s.repository_id "
                            "ORDER BY r.path, s.taken_on",
    "accounts": "SELECT platform, key, login, name, email, is_bot FROM accounts ORDER BY platform, key",
    "commits": "SELECT r.path, c.sha, c.author_name, c.author_email, c.author_time, c.committer_name, "
               "c.committer_email, c.committer_time, a1.key, a2.key, c.is_merge, c.is_bot, c.message_title, "
               "c.missing_since FROM commits c JOIN repositories r ON r.id = c.repository_id "
               "LEFT JOIN accounts a1 ON a1.id = c.author_account_id LEFT JOIN accounts a2 "
               "ON a2.id = c.committer_account_id ORDER BY r.path, c.sha",
    "releases": "SELECT r.path, x.tag, x.name, x.published_at, x.prerelease, x.missing_since FROM releases x "
                "JOIN repositories r ON r.id = x.repository_id ORDER BY r.path, x.tag",
    "issues": "SELECT r.path, x.number, x.title, x.state, x.author_login, x.created_at, x.updated_at, x.closed_at, "
              "x.comments, x.first_response_at FROM issues x JOIN repositories r ON r.id = x.repository_id "
              "ORDER BY r.path, x.number",
    "pull_requests": "SELECT r.path, x.number, x.title, x.state, x.author_login, x.created_at, x.updated_at, "
                     "x.closed_at, x.merged_at, x.comments, x.first_response_at FROM pull_requests x "
                     "JOIN repositories r ON r.id = x.repository_id ORDER BY r.path, x.number",
    "repository_contributors": "SELECT r.path, x.key, x.login, x.name, x.email, x.contributions "
                               "FROM repository_contributors x JOIN repositories r ON r.id = x.repository_id "
                               "ORDER BY r.path, x.key",
    "communities": "SELECT slug, name_zh, focus FROM communities ORDER BY slug",
    "community_repositories": "SELECT c.slug, r.path FROM community_repositories x JOIN communities c "
                              "ON c.id = x.community_id JOIN repositories r ON r.id = x.repository_id ORDER BY 1, 2",
}


def aggregates(url: str) -> dict[str, list[tuple]]:
    """The activity aggregates as stored, every row as text, sorted (to compare with a rebuild's)."""
    with dbm.get_engine(url).connect() as conn:
        return {table: sorted(tuple(str(v) for v in row) for row in conn.execute(text(f"SELECT * FROM {table}")))
                for table in ("activity_days", "activity_people", "activity_months")}


def canonical_data(url: str) -> dict[str, list[tuple]]:
    """The data tables by natural keys (surrogate ids, run records and observation times left out)."""
    with dbm.get_engine(url).connect() as conn:
        return {name: [tuple(row) for row in conn.execute(text(query))] for name, query in CANONICAL.items()}
