"""Fixtures for the queue workers: PostgreSQL databases with the job queue (through `mtx init`), an emulator holding
40 small repositories (and two bigger ones), a configuration pointing at it, and `mtx` processes."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.collect.conftest import MTX, TOKEN, TOKEN_VAR, canonical_data, mtx_env, run_mtx, start_mtx, write_config  # noqa: F401
from tests.conftest import PG_ADMIN_URL
from tests.emulator import World, generate_repo, running_emulator
from tracker import db as dbm
from tracker.cli import main

SMALL = tuple(f"fleet/repo{i:02d}" for i in range(38))
BIG = ("fleet/big-a", "fleet/big-b")  # several pages of commits: a kill lands mid-repository
REPOS = SMALL + BIG


def build_world() -> World:
    world = World()
    for index, path in enumerate(SMALL):
        generate_repo(world, path, commits=6 + index % 7, seed=100 + index, issues=index % 3, pulls=index % 2,
                      releases=index % 2, unlinked_every=3)
    for index, path in enumerate(BIG):
        generate_repo(world, path, commits=420, seed=200 + index, issues=4, pulls=3, releases=2, unlinked_every=5)
    return world


@pytest.fixture
def pg_admin():
    if not PG_ADMIN_URL:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the worker tests need PostgreSQL: set MTX_TEST_DATABASE_URL", pytrace=False)
        pytest.skip("MTX_TEST_DATABASE_URL is not set (the job queue is PostgreSQL-only)")
    return PG_ADMIN_URL


@pytest.fixture
def queue_db(pg_admin, pg_databases, capsys):
    """A PostgreSQL database at schema head with the job queue, made by `mtx init` as an operator would."""
    url = pg_databases.create(migrated=True)
    assert main(["--db", url, "init"]) == 0
    assert "job queue schema applied" in capsys.readouterr().out
    yield url
    pg_databases.drop(url)


@pytest.fixture
def reference_db(pg_admin, pg_databases):
    url = pg_databases.create(migrated=True)
    yield url
    pg_databases.drop(url)


@pytest.fixture
def emulator():
    with running_emulator(build_world()) as emu:
        emu.add_token(TOKEN)
        yield emu


@pytest.fixture
def config_dir(tmp_path, emulator) -> Path:
    return write_config(tmp_path / "config", emulator.url, repos=REPOS, collection={"concurrency": 4})


def jobs(url: str) -> list[tuple]:
    with dbm.get_engine(url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT task_name, status, args->>'repository_id', queue_name FROM procrastinate_jobs ORDER BY id"))]


def wait_for(condition, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
