"""`mtx worker`: run queued collection jobs, on any number of machines sharing one PostgreSQL database.

A worker holds the collection lock *shared* (tracker.collect.lock) for as long as it runs, so a plain `mtx collect`
refuses meanwhile and a worker waits while one runs. procrastinate runs up to ``concurrency`` jobs at once in threads
of one process; they share one platform object per platform (connection pools, token pool) and the quota in
PostgreSQL (tracker.quota). A worker killed mid-repository stops sending heartbeats; after ``stall_timeout`` seconds
any other worker puts its job back in the queue (the bookmarks committed so far make the retry resume where the
killed one stopped). With ``once`` the worker stops when no job is queued or running any more (waiting for other
workers' running jobs, and retrying stalled ones): for tests and Kubernetes CronJobs.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable

from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import text

from tracker import db as dbm
from tracker.access import Actor
from tracker.collect.job import CollectionJob, CollectOptions, RepoOutcome, http_settings
from tracker.collect.lock import CollectionLock, LockHeld
from tracker.config import Config
from tracker.quota import ConfiguredQuota, SharedQuota
from tracker.workers import queue as q
from tracker.workers.schema import has_queue_schema, is_postgres

log = logging.getLogger("mtx.workers")


class WorkerError(RuntimeError):
    """The worker cannot start (SQLite, no queue schema); the message says what to do."""


@dataclass
class WorkerOptions:
    concurrency: int = 4
    queues: list[str] | None = None
    once: bool = False
    max_wait: float = 60.0  # a longer rate-limit wait puts the job back in the queue for the reset; the slot is free
    stall_timeout: float = 30.0
    poll_seconds: float = 1.0
    schedule: str | None = None  # cron: queue every repository (as `mtx collect --enqueue`) at these times


def configured_quotas(config: Config) -> dict[str, ConfiguredQuota]:
    out = {}
    for name, settings in config.communities.platforms.items():
        quota = getattr(settings, "quota", None)
        if quota is not None:
            out[str(name)] = ConfiguredQuota(quota.requests, quota.window_seconds)
    return out


class WorkerRunner:
    """What the tasks call, one per worker process (tracker.workers.queue passes it in the job context)."""

    def __init__(self, url: str, config: Config, actor: Actor, options: WorkerOptions, *,
                 environ: dict[str, str] | None = None, echo: Callable[[str], None] = print,
                 http_overrides: dict | None = None) -> None:
        self.url, self.config, self.actor, self.options = url, config, actor, options
        self.environ = environ
        self.echo = echo
        self.quota = SharedQuota(url, configured_quotas(config))
        self.http_overrides = dict(http_overrides or {})
        self._jobs: dict[bool, CollectionJob] = {}
        self._lock = threading.Lock()
        self._noted: set[int] = set()
        self.host, self.pid = socket.gethostname(), os.getpid()

    def job(self, full: bool) -> CollectionJob:
        with self._lock:
            if full not in self._jobs:
                options = CollectOptions(full=full, max_wait=self.options.max_wait)
                http = http_settings(self.config, options, reservations=self.quota, **self.http_overrides)
                self._jobs[full] = CollectionJob(self.url, self.config, self.actor, options, environ=self.environ,
                                                 http=http, on_result=lambda o: self.echo(o.line()))
            return self._jobs[full]

    def close(self) -> None:
        for job in self._jobs.values():
            job.close_platforms()

    def note_worker(self, worker_id: int | None) -> None:
        """Which host and process a procrastinate worker id is (`mtx status --jobs` shows it)."""
        if worker_id is None or worker_id in self._noted:
            return
        with dbm.get_engine(self.url).begin() as conn:
            conn.execute(text("DELETE FROM mtx_queue_workers WHERE worker_id NOT IN "
                              "(SELECT id FROM procrastinate_workers)"))
            conn.execute(text("INSERT INTO mtx_queue_workers (worker_id, host, pid) VALUES (:w, :h, :p) "
                              "ON CONFLICT (worker_id) DO UPDATE SET host = :h, pid = :p, seen_at = now()"),
                         {"w": worker_id, "h": self.host, "p": self.pid})
        self._noted.add(worker_id)

    # -- tasks -------------------------------------------------------------------------------------------------------
    def collect(self, context, run_id: int, repository_id: int, full: bool) -> str:
        self.note_worker(context.job.worker_id)
        outcome: RepoOutcome = self.job(full).collect_one(run_id, repository_id)
        if outcome.quota_wait is not None:  # every token spent for longer than max_wait: back in the queue for then
            lock = q.repository_lock(repository_id)
            try:
                context.app.configure_task(q.COLLECT, queue=context.job.queue, lock=lock, queueing_lock=lock,
                                           schedule_in={"seconds": max(outcome.quota_wait, 1.0)}).defer(
                    run_id=run_id, repository_id=repository_id, full=full)
            except AlreadyEnqueued:
                pass
            return f"quota spent: queued again in {outcome.quota_wait:.0f} s"
        q.queue_people(context.app)
        return outcome.status

    def resolve(self, context) -> str:
        self.note_worker(context.job.worker_id)
        pending, later = collection_pending(self.url)
        if pending or later:  # collection still going on: look again (one waiting resolution at most)
            q.queue_people(context.app, q.PEOPLE_RECHECK_SECONDS if pending else later)
            return f"{pending} collection jobs queued or running, others due in {later or 0:.0f} s"
        from tracker.people.resolve import resolve_people

        with dbm.session_factory(self.url).begin() as session:
            report = resolve_people(session, self.actor, self.config.identities, self.config.organisations)
        self.echo(report.line())
        for run_id, status in close_finished_runs(self.url):
            self.echo(f"采集结束 / run {run_id} {status} (queued)")
        return "resolved"

    def enqueue_all(self, context) -> str:
        from tracker.workers.enqueue import enqueue

        summary = enqueue(self.url, self.config, self.actor, CollectOptions(), app=context.app)
        return f"run {summary.run_id}: {summary.queued} queued, {len(summary.already)} already queued"


def pending_jobs(url: str, task: str | None = None, queues: list[str] | None = None) -> int:
    """Jobs waiting (now or later) or running, of one task or every task, in some queues or all."""
    sql = "SELECT COUNT(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
    params: dict = {}
    if task:
        sql += " AND task_name = :task"
        params["task"] = task
    if queues:
        sql += " AND queue_name = ANY(:queues)"
        params["queues"] = list(queues)
    with dbm.get_engine(url).connect() as conn:
        return int(conn.execute(text(sql), params).scalar() or 0)


def collection_pending(url: str) -> tuple[int, float | None]:
    """(collection jobs running or due now, seconds until the next one queued for later: a quota reset)."""
    with dbm.get_engine(url).connect() as conn:
        now, later = conn.execute(text(
            "SELECT COUNT(*) FILTER (WHERE status = 'doing' OR scheduled_at IS NULL OR scheduled_at <= now()), "
            "EXTRACT(EPOCH FROM MIN(scheduled_at) FILTER (WHERE status = 'todo' AND scheduled_at > now()) - now()) "
            "FROM procrastinate_jobs WHERE task_name = :task AND status IN ('todo', 'doing')"),
            {"task": q.COLLECT}).one()
    return int(now or 0), (max(float(later), 1.0) if later is not None else None)


def close_finished_runs(url: str) -> list[tuple[int, str]]:
    """Queued runs none of whose collection jobs is waiting or running any more: status from the results (as
    `mtx collect` decides it); a job that failed without writing a result makes the run partial."""
    closed = []
    with dbm.get_engine(url).begin() as conn:
        runs = [r for (r,) in conn.execute(text(
            "SELECT id FROM collection_runs WHERE status = 'running' AND options->>'queued' = 'true' FOR UPDATE"))]
        for run_id in runs:
            left = conn.execute(text(
                "SELECT COUNT(*) FROM procrastinate_jobs WHERE task_name = :task AND status IN ('todo', 'doing') "
                "AND (args->>'run_id')::bigint = :run"), {"task": q.COLLECT, "run": run_id}).scalar()
            if left:
                continue
            statuses = [s for (s,) in conn.execute(text(
                "SELECT status FROM collection_results WHERE run_id = :run"), {"run": run_id})]
            lost = conn.execute(text(
                "SELECT COUNT(*) FROM procrastinate_jobs j WHERE task_name = :task AND status = 'failed' "
                "AND (args->>'run_id')::bigint = :run AND NOT EXISTS (SELECT 1 FROM collection_results x "
                "WHERE x.run_id = :run AND x.repository_id = (j.args->>'repository_id')::bigint)"),
                {"task": q.COLLECT, "run": run_id}).scalar()
            status = "ok"
            if "failed" in statuses or lost:
                status = "failed" if statuses and all(s == "failed" for s in statuses) and not lost else "partial"
            elif any(s in ("deadline", "skipped", "partial") for s in statuses):
                status = "partial"
            errors = [f"{lost} job(s) failed without a result (mtx status --jobs)"] if lost else []
            errors += [f"repository {rid}: {e or s}" for rid, s, e in conn.execute(text(
                "SELECT repository_id, status, error FROM collection_results WHERE run_id = :run AND status <> 'ok'"),
                {"run": run_id})]
            conn.execute(text("UPDATE collection_runs SET status = :s, finished_at = :t, error = :e WHERE id = :run"),
                         {"s": status, "t": dt.datetime.now(dt.timezone.utc), "run": run_id,
                          "e": "; ".join(errors)[:4000] or None})
            closed.append((run_id, status))
    return closed


def _hold_lock(url: str, actor: Actor, echo: Callable[[str], None]) -> CollectionLock:
    lock = CollectionLock(url, actor.name, shared=True)
    told = False
    while True:
        try:
            lock.acquire()
            return lock
        except LockHeld as exc:
            if not told:
                echo(f"等待 / waiting: {exc}")
                told = True
            time.sleep(5)


def run_worker(url: str, config: Config, actor: Actor, options: WorkerOptions, *,
               environ: dict[str, str] | None = None, echo: Callable[[str], None] = print,
               http_overrides: dict | None = None) -> None:
    if not is_postgres(url):
        raise WorkerError("mtx worker 需要 PostgreSQL / workers need a PostgreSQL database (SQLite stays "
                          "single-process: run `mtx collect`)")
    if not has_queue_schema(url):
        raise WorkerError(f"数据库没有任务队列 / the database has no job queue yet: run `mtx --db "
                          f"'{dbm.safe_url(url)}' init` (with the `workers` extra installed)")
    lock = _hold_lock(url, actor, echo)
    runner = WorkerRunner(url, config, actor, options, environ=environ, echo=echo, http_overrides=http_overrides)
    name = f"mtx worker {runner.host} pid {runner.pid}"
    app = q.make_app(url, name, pool_size=options.concurrency + 4)
    if options.schedule:
        app.periodic_registry.periodic_decorator(cron=options.schedule, periodic_id="collect")(app.tasks[q.ENQUEUE])
    heartbeat = max(min(options.stall_timeout / 4, 10.0), 0.2)
    kwargs = dict(concurrency=options.concurrency, queues=options.queues or None, name=f"{runner.host}:{runner.pid}",
                  additional_context={"runner": runner}, update_heartbeat_interval=heartbeat,
                  stalled_worker_timeout=options.stall_timeout, fetch_job_polling_interval=options.poll_seconds,
                  abort_job_polling_interval=max(options.poll_seconds, 1.0), delete_jobs="successful")

    async def rescue() -> None:
        for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=options.stall_timeout):
            try:
                await app.job_manager.retry_job(job)
                echo(f"重试 / job {job.id} ({job.task_name} {job.task_kwargs}) of a stalled worker queued again")
            except Exception as exc:  # e.g. the same repository was queued again meanwhile: that one will do
                log.warning("could not retry stalled job %s: %s", job.id, exc)
        await app.job_manager.prune_stalled_workers(options.stall_timeout)

    async def rescue_loop() -> None:
        while True:
            await asyncio.sleep(max(options.stall_timeout / 2, 0.5))
            try:
                await rescue()
            except Exception as exc:  # keep working; the next round tries again
                log.warning("stalled-job check failed: %s", exc)

    async def main() -> None:
        async with app.open_async():
            if options.once:
                while True:
                    await rescue()
                    await app.run_worker_async(wait=False, **kwargs)
                    if not await asyncio.to_thread(pending_jobs, url, None, options.queues):
                        return
                    await asyncio.sleep(options.poll_seconds)
            rescuer = asyncio.create_task(rescue_loop())
            try:
                await app.run_worker_async(wait=True, **kwargs)
            finally:
                rescuer.cancel()

    try:
        asyncio.run(main())
    finally:
        runner.close()
        lock.release()
