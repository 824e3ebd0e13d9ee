"""The job's kill test on a git repository: SIGKILL before, inside and after a page's transaction, then a rerun,
equals one uninterrupted run (commits in pages of 5,000 from one streaming git log, the next page read ahead while
one is stored; tags as releases), activity aggregates included (a first collection settles them after resolution)."""
from __future__ import annotations

import signal

import pytest
from sqlalchemy import text

from tests.collect.conftest import aggregates, canonical_data, run_mtx
from tests.collect.test_git_collect import write_git_config
from tests.collector.git_builder import fast_generate
from tracker import db as dbm

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

KILL_POINTS = [
    ("commits", "before_store", 2),   # page 2 read from git log, nothing of it written
    ("commits", "after_store", 2),    # page 2 written, transaction not committed
    ("commits", "after_commit", 1),   # page 1 and its pending bookmark committed
    ("releases", "after_store", 1),   # inside the tags' transaction
    ("repo", "after_commit", 1),      # the snapshot stored, commits not started
]


@pytest.fixture(scope="module")
def big_source(tmp_path_factory):
    path = tmp_path_factory.mktemp("git-kill") / "big"
    fast_generate(path, 11_000)  # pages of 5,000, 5,000 and 1,000
    return path


@pytest.fixture
def git_config(tmp_path, big_source):
    return write_git_config(tmp_path / "config", [f"file://{big_source}"], collection={"concurrency": 1})


@pytest.fixture
def reference(backend, tmp_path_factory, pg_databases, git_config):
    if backend == "postgresql":
        url = pg_databases.create(migrated=True)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('git-reference') / 'ref.db'}"
        dbm.upgrade(url)
    cache = tmp_path_factory.mktemp("git-reference-mirrors")
    result = run_mtx(url, git_config, "collect", "--git-cache", str(cache))
    assert result.returncode == 0, result.stdout + result.stderr
    data = canonical_data(url)
    assert len(data["commits"]) == 11_000 and len(data["releases"]) == 11
    if backend == "postgresql":
        pg_databases.drop(url)
    else:
        dbm.dispose_engine(url)
    return data


@pytest.mark.parametrize("point", KILL_POINTS, ids=lambda p: ":".join(map(str, p)))
def test_a_git_collection_killed_anywhere_then_rerun_equals_an_uninterrupted_run(db_url, tmp_path, git_config,
                                                                                  reference, point):
    spec = ":".join(map(str, point))
    cache = ["--git-cache", str(tmp_path / "mirrors")]
    killed = run_mtx(db_url, git_config, "collect", *cache, extra_env={"MTX_FAULT_KILL_AT": spec})
    assert killed.returncode == -signal.SIGKILL, (spec, killed.returncode, killed.stderr)
    assert canonical_data(db_url) != reference  # the kill really cut the run short
    rerun = run_mtx(db_url, git_config, "collect", *cache)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert canonical_data(db_url) == reference
    kept = aggregates(db_url)  # what the pages, the settling after resolution and the rerun left
    assert kept["activity_days"] and kept["activity_months"]
    rebuilt = run_mtx(db_url, git_config, "metrics", "--rebuild", "--format", "json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert aggregates(db_url) == kept
    with dbm.session_scope(db_url) as s:
        statuses = [r for (r,) in s.execute(text("SELECT status FROM collection_runs ORDER BY id"))]
    assert statuses == ["interrupted", "ok"]
    if point[0] == "commits" and point[2] > 1:  # resumed, not restarted: the rerun stored only what was left
        stored = next(l for l in rerun.stdout.splitlines() if "big" in l)
        assert "commits=5000" not in stored
