"""`mtx collect --enqueue` + `mtx worker` on PostgreSQL against the emulator: each repository collected once, the
data equal to a single-process `mtx collect`, even when a worker is SIGKILLed mid-repository."""
from __future__ import annotations

import signal
from collections import Counter

from sqlalchemy import text

from tests.workers.conftest import BIG, REPOS, SMALL, canonical_data, jobs, run_mtx, start_mtx, wait_for, write_config
from tracker import db as dbm


def repo_requests(emulator) -> Counter:
    """GET /repos/OWNER/NAME per repository: the repo stream asks it exactly once per collection."""
    return Counter(r.path.removeprefix("/repos/") for r in emulator.log
                   if r.path.count("/") == 3 and r.path.startswith("/repos/"))


def test_four_workers_collect_each_repository_once_equal_to_one_process(queue_db, reference_db, config_dir,
                                                                       emulator):
    single = run_mtx(reference_db, config_dir, "collect")
    assert single.returncode == 0, single.stderr
    expected = canonical_data(reference_db)
    assert len(expected["repositories"]) == len(REPOS) and len(expected["commits"]) > 900

    emulator.clear_log()
    queued = run_mtx(queue_db, config_dir, "collect", "--enqueue")
    assert queued.returncode == 0, queued.stderr
    assert f"{len(REPOS)} repositories queued" in queued.stdout
    again = run_mtx(queue_db, config_dir, "collect", "--enqueue")  # queued ones are not queued twice
    assert again.returncode == 0 and f"0 repositories queued, {len(REPOS)} already queued" in again.stdout
    assert Counter(status for task, status, _, _ in jobs(queue_db) if task == "mtx:collect_repository") == \
        {"todo": len(REPOS)}

    workers = [start_mtx(queue_db, config_dir, "worker", "--once", "--concurrency", "2") for _ in range(4)]
    outputs = [w.communicate(timeout=90) for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0, 0], [err[-2000:] for _, err in outputs]
    assert repo_requests(emulator) == Counter({path: 1 for path in REPOS})  # each repository collected once
    lines = [line for out, _ in outputs for line in out.splitlines() if line.startswith("github fleet/")]
    assert sorted(line.split()[1].rstrip(":") for line in lines) == sorted(REPOS)
    assert sum(1 for out, _ in outputs if any(line.startswith("github fleet/") for line in out.splitlines())) >= 2

    assert canonical_data(queue_db) == expected
    with dbm.get_engine(queue_db).connect() as conn:
        results = conn.execute(text("SELECT run_id, status FROM collection_results")).all()
        assert len(results) == len(REPOS) and {s for _, s in results} == {"ok"}
        run = conn.execute(text("SELECT status, finished_at, options->>'queued' FROM collection_runs "
                                "WHERE id = :r"), {"r": results[0][0]}).one()
        assert run.status == "ok" and run.finished_at is not None
        people = conn.execute(text("SELECT COUNT(*) FROM people")).scalar()
    with dbm.get_engine(reference_db).connect() as conn:
        assert people == conn.execute(text("SELECT COUNT(*) FROM people")).scalar() > 0
    assert jobs(queue_db) == []  # succeeded jobs are deleted; nothing failed, nothing left


def test_a_worker_killed_mid_repository_is_finished_by_another_equal_to_one_process(queue_db, reference_db,
                                                                                   emulator, tmp_path):
    config_dir = write_config(tmp_path / "config", emulator.url, repos=BIG + SMALL[:6], collection={"concurrency": 4})
    assert run_mtx(reference_db, config_dir, "collect").returncode == 0
    expected = canonical_data(reference_db)
    assert run_mtx(queue_db, config_dir, "collect", "--enqueue", "--repo", "fleet/big-a").returncode == 0
    # the third page of commits is committed, then the process SIGKILLs itself: the repository is half collected
    killed = run_mtx(queue_db, config_dir, "worker", "--once", "--stall-timeout", "1",
                     extra_env={"MTX_FAULT_KILL_AT": "commits:after_commit:3"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert [(t, s) for t, s, _, _ in jobs(queue_db)] == [("mtx:collect_repository", "doing")]
    with dbm.get_engine(queue_db).connect() as conn:
        stored = conn.execute(text("SELECT COUNT(*) FROM commits")).scalar()
    assert stored == 300  # three pages of 100

    assert run_mtx(queue_db, config_dir, "collect", "--enqueue").returncode == 0  # the rest; big-a stays one job
    rescuer = run_mtx(queue_db, config_dir, "worker", "--once", "--stall-timeout", "1", "--concurrency", "4")
    assert rescuer.returncode == 0, rescuer.stderr[-2000:]
    assert "of a stalled worker queued again" in rescuer.stdout
    assert canonical_data(queue_db) == expected
    assert jobs(queue_db) == []


def test_plain_collect_refuses_while_workers_run_and_points_to_enqueue(queue_db, config_dir, emulator):
    worker = start_mtx(queue_db, config_dir, "worker")
    try:
        def holding() -> bool:
            with dbm.get_engine(queue_db).connect() as conn:
                return bool(conn.execute(text(
                    "SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                    "AND l.granted AND a.application_name LIKE 'mtx worker%' "
                    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")).first())
        wait_for(holding, what="the worker's shared lock")
        refused = run_mtx(queue_db, config_dir, "collect")
        assert worker.poll() is None, worker.communicate()[1][-3000:]
        assert refused.returncode == 1, refused.stdout[-2000:]
        assert "queue worker(s) are running" in refused.stderr and "mtx collect --enqueue" in refused.stderr
        with dbm.get_engine(queue_db).connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM collection_runs")).scalar() == 0  # nothing half-done
        queued = run_mtx(queue_db, config_dir, "collect", "--enqueue")
        assert queued.returncode == 0
        wait_for(lambda: jobs(queue_db) == [], timeout=60, what="the running worker to collect everything")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
    assert worker.returncode == 0
    assert run_mtx(queue_db, config_dir, "collect").returncode == 0  # no worker left: the plain run may go


def test_workers_need_postgresql(db_url, config_dir, tmp_path):
    if not db_url.startswith("sqlite"):
        return
    for args in (("worker", "--once"), ("collect", "--enqueue")):
        result = run_mtx(db_url, config_dir, *args)
        assert result.returncode == 1 and "PostgreSQL" in result.stderr


def test_status_shows_queued_running_and_failed_jobs_with_the_worker_holding_each(queue_db, config_dir, emulator):
    import json

    assert run_mtx(queue_db, config_dir, "collect", "--enqueue", "--repo", "fleet/big-b").returncode == 0
    assert run_mtx(queue_db, config_dir, "collect", "--enqueue", "--repo", "fleet/repo01").returncode == 0
    emulator.inject("delay", path="/repos/fleet/big-b", times=1000, seconds=1.0)  # keeps it running a while
    worker = start_mtx(queue_db, config_dir, "worker", "--concurrency", "1", "--queues", "github")
    try:
        def running():
            data = json.loads(run_mtx(queue_db, config_dir, "status", "--jobs", "--json").stdout)
            # procrastinate marks the job running a moment before the task notes its host and pid: wait for both
            return data if data["running"] and (data["running"][0].get("worker") or {}).get("pid") else None
        data = wait_for(running, what="a running job with its worker")
        job = data["running"][0]
        assert job["worker"]["pid"] == worker.pid and job["worker"]["host"]
        assert job["repository"] in ("github:fleet/big-b", "github:fleet/repo01")
        assert [j["repository"] for j in data["queued"]] == \
            [r for r in ("github:fleet/big-b", "github:fleet/repo01") if r != job["repository"]]
        assert data["quota"] and data["quota"][0]["platform"] == "github"
        assert TOKEN_VALUE not in json.dumps(data)
        text_out = run_mtx(queue_db, config_dir, "status", "--jobs").stdout
        assert f"pid {worker.pid}" in text_out and "1 queued, 1 running, 0 failed" in text_out
    finally:
        worker.kill()  # a graceful stop would wait for the slow repository
        worker.communicate(timeout=60)


from tests.collect.conftest import TOKEN as TOKEN_VALUE  # noqa: E402
