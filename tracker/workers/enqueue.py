"""`mtx collect --enqueue`: plan a run as `mtx collect` does and queue one job per repository."""
from __future__ import annotations

from dataclasses import dataclass, field

from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import text

from tracker import db as dbm
from tracker.access import Actor
from tracker.collect.job import CollectionJob, CollectOptions
from tracker.config import Config
from tracker.workers.queue import COLLECT, make_app, repository_lock

CHUNK = 500


@dataclass
class EnqueueSummary:
    run_id: int
    queued: int
    already: list[str] = field(default_factory=list)  # platform:path of repositories already queued or running
    discovery_errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.discovery_errors else 0


def busy_locks(url: str) -> set[str]:
    """Queueing locks of collection jobs waiting or running (a repository there is not queued again)."""
    with dbm.get_engine(url).connect() as conn:
        return {row[0] for row in conn.execute(text(
            "SELECT queueing_lock FROM procrastinate_jobs WHERE task_name = :task AND status IN ('todo', 'doing') "
            "AND queueing_lock IS NOT NULL"), {"task": COLLECT})}


def enqueue(url: str, config: Config, actor: Actor, options: CollectOptions, app=None) -> EnqueueSummary:
    job = CollectionJob(url, config, actor, options)
    try:
        run_id, targets, discovery_errors = job.plan(queued=True)
    finally:
        job.close_platforms()
    busy = busy_locks(url)
    summary = EnqueueSummary(run_id, 0, discovery_errors=discovery_errors)
    todo = []
    for repository_id, platform, _api_url, path in targets:
        if repository_lock(repository_id) in busy:
            summary.already.append(f"{platform}:{path}")
        else:
            todo.append((repository_id, platform, path))
    own_app = app is None
    app = app or make_app(url, f"mtx collect --enqueue by {actor.name}")
    app.open()
    try:
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start:start + CHUNK]
            by_platform: dict[str, list[tuple[int, str]]] = {}
            for repository_id, platform, path in chunk:
                by_platform.setdefault(platform, []).append((repository_id, path))
            for platform, items in by_platform.items():
                summary.queued += _defer(app, run_id, platform, items, options.full, summary)
    finally:
        if own_app:
            app.close()
    if not summary.queued:
        _close_empty_run(url, run_id, summary)
    return summary


def _defer(app, run_id: int, platform: str, items: list[tuple[int, str]], full: bool,
           summary: EnqueueSummary) -> int:
    def deferrer(repository_id: int):
        lock = repository_lock(repository_id)
        return app.configure_task(COLLECT, queue=platform, lock=lock, queueing_lock=lock)

    try:  # one statement for the chunk; a repository queued meanwhile by someone else: one by one
        app.job_manager.batch_defer_jobs([deferrer(rid).make_new_job(run_id=run_id, repository_id=rid, full=full)
                                          for rid, _ in items])
        return len(items)
    except AlreadyEnqueued:
        queued = 0
        for repository_id, path in items:
            try:
                deferrer(repository_id).defer(run_id=run_id, repository_id=repository_id, full=full)
                queued += 1
            except AlreadyEnqueued:
                summary.already.append(f"{platform}:{path}")
        return queued


def _close_empty_run(url: str, run_id: int, summary: EnqueueSummary) -> None:
    with dbm.get_engine(url).begin() as conn:
        conn.execute(text("UPDATE collection_runs SET status = :s, finished_at = now(), error = :e WHERE id = :id"),
                     {"s": "partial" if summary.discovery_errors else "ok", "id": run_id,
                      "e": "; ".join(summary.discovery_errors + ["nothing queued: every repository was already "
                                                                 "queued or running"])[:4000]})
