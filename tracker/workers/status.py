"""`mtx status --jobs`: the queue's waiting, running and failed jobs, each running one with the worker holding it."""
from __future__ import annotations

from sqlalchemy import text

from tracker import db as dbm
from tracker.workers.schema import has_queue_schema

STATES = {"todo": "queued", "doing": "running", "failed": "failed"}


def job_status(url: str) -> dict:
    """``{"queued": [...], "running": [...], "failed": [...], "quota": [...]}``; each job: id, task, repository
    (platform:path), queue, attempts, scheduled_at, and for a running one the worker's host and pid."""
    out: dict = {name: [] for name in STATES.values()} | {"quota": []}
    if not has_queue_schema(url):
        return out
    with dbm.get_engine(url).connect() as conn:
        rows = conn.execute(text(
            "SELECT j.id, j.task_name, j.status, j.queue_name, j.attempts, j.scheduled_at, "
            "r.platform, r.path, w.host, w.pid, pw.last_heartbeat FROM procrastinate_jobs j "
            "LEFT JOIN repositories r ON r.id = (j.args->>'repository_id')::bigint "
            "LEFT JOIN mtx_queue_workers w ON w.worker_id = j.worker_id "
            "LEFT JOIN procrastinate_workers pw ON pw.id = j.worker_id "
            "WHERE j.status IN ('todo', 'doing', 'failed') ORDER BY j.id"))
        for row in rows:
            job = {"id": row.id, "task": row.task_name.removeprefix("mtx:"), "queue": row.queue_name,
                   "repository": f"{row.platform}:{row.path}" if row.path else None, "attempts": row.attempts,
                   "scheduled_at": row.scheduled_at.isoformat() if row.scheduled_at else None}
            if row.status == "doing":
                job["worker"] = {"host": row.host, "pid": row.pid,
                                 "heartbeat": row.last_heartbeat.isoformat() if row.last_heartbeat else None}
            out[STATES[row.status]].append(job)
    from tracker.quota import quota_rows

    out["quota"] = [{k: v for k, v in r.items()} for r in quota_rows(url)]
    return out
