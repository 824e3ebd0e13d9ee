"""The job survives SIGKILL anywhere, never overlaps with itself, and resumes after a --deadline."""
from __future__ import annotations

import os
import signal
import time

import pytest
from sqlalchemy import func, select, text

from tests.collect.conftest import canonical_data, run_mtx, start_mtx, write_config
from tracker import db as dbm
from tracker.models import CollectionRun

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# (stream, point, n): pages of the 450-commit repository are 100 commits each; per_page 100
KILL_POINTS = [
    ("commits", "before_store", 2),   # page 2 fetched, nothing of it written
    ("commits", "after_store", 3),    # page 3 written, transaction not committed
    ("commits", "after_commit", 1),   # page 1 and its bookmark committed, the rest not fetched
    ("issues", "after_store", 1),     # inside the issues stream's first transaction
    ("repo", "after_commit", 2),      # between repositories: one snapshot stored, the next not started
    ("pulls", "before_store", 1),     # late in a repository, before its pull requests
]


@pytest.fixture
def reference(backend, tmp_path_factory, pg_databases, config_dir, emulator):
    """The data tables after one uninterrupted run on the same backend (compared by natural keys)."""
    if backend == "postgresql":
        url = pg_databases.create(migrated=True)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'ref.db'}"
        dbm.upgrade(url)
    result = run_mtx(url, config_dir, "collect", "--concurrency", "1")
    assert result.returncode == 0, result.stderr
    data = canonical_data(url)
    if backend == "postgresql":
        pg_databases.drop(url)
    else:
        dbm.dispose_engine(url)
    return data


@pytest.mark.parametrize("point", KILL_POINTS, ids=lambda p: ":".join(map(str, p)))
def test_a_run_killed_anywhere_then_rerun_equals_an_uninterrupted_run(db_url, config_dir, emulator, reference, point):
    spec = ":".join(map(str, point))
    killed = run_mtx(db_url, config_dir, "collect", "--concurrency", "1", extra_env={"MTX_FAULT_KILL_AT": spec})
    assert killed.returncode == -signal.SIGKILL, (spec, killed.returncode, killed.stderr)
    partial = canonical_data(db_url)
    assert partial != reference  # the kill really cut the run short
    rerun = run_mtx(db_url, config_dir, "collect", "--concurrency", "1")
    assert rerun.returncode == 0, rerun.stderr
    assert canonical_data(db_url) == reference
    with dbm.session_scope(db_url) as s:
        statuses = [r for (r,) in s.execute(text("SELECT status FROM collection_runs ORDER BY id"))]
    assert statuses == ["interrupted", "ok"]


def wait_for_lock_holder(proc, db_url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        with dbm.session_scope(db_url) as s:
            if s.scalar(select(func.count()).select_from(CollectionRun).where(CollectionRun.status == "running")):
                return
        time.sleep(0.1)
    raise AssertionError("the first run never started")


def test_two_runs_never_overlap_and_a_killed_holder_leaves_no_stale_lock(db_url, config_dir, emulator):
    emulator.latency = 0.2  # keep the first run busy
    first = start_mtx(db_url, config_dir, "collect", "--concurrency", "1", user="alice")
    try:
        wait_for_lock_holder(first, db_url)
        second = run_mtx(db_url, config_dir, "collect", user="bob")
        assert second.returncode == 1
        assert "another collection is running" in second.stderr
        assert "alice" in second.stderr and f"pid {first.pid}" in second.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    emulator.latency = 0.0
    third = run_mtx(db_url, config_dir, "collect", user="carol")
    assert third.returncode == 0, third.stderr
    with dbm.session_scope(db_url) as s:
        runs = s.execute(text("SELECT actor, status FROM collection_runs ORDER BY id")).all()
    assert [tuple(r) for r in runs] == [("alice", "interrupted"), ("carol", "ok")]


def test_deadline_then_second_run_equals_one_long_run(db_url, config_dir, emulator, reference):
    emulator.latency = 0.05
    first = run_mtx(db_url, config_dir, "collect", "--concurrency", "1", "--deadline", "1.0")
    assert first.returncode == 0, first.stderr
    assert "deadline" in first.stdout
    with dbm.session_scope(db_url) as s:
        assert s.scalar(select(CollectionRun.status)) == "partial"
    assert canonical_data(db_url) != reference
    emulator.latency = 0.0
    second = run_mtx(db_url, config_dir, "collect", "--concurrency", "1")
    assert second.returncode == 0, second.stderr
    assert canonical_data(db_url) == reference
