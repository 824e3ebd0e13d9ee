"""`mtx collect` (the scheduled job) and `mtx status`."""
from __future__ import annotations

import logging
import sys
from typing import Optional

import typer

from tracker.access import resolve_actor
from tracker.cli import app, emit_json, fail, open_session, state


@app.command()
def collect(
    ctx: typer.Context,
    community: Optional[str] = typer.Option(None, "--community", help="only this community (slug)"),
    repo: Optional[str] = typer.Option(None, "--repo", help="only this repository (URL or owner/name)"),
    platform: Optional[str] = typer.Option(None, "--platform",
                                           help="only this platform (a name declared in collector/platforms/)"),
    full: bool = typer.Option(False, "--full", help="re-read everything (marks what is gone, deletes nothing)"),
    concurrency: Optional[int] = typer.Option(None, "--concurrency", min=1, max=64,
                                              help="repositories at once (default from config, 4)"),
    max_wait: float = typer.Option(3600, "--max-wait", min=0, help="longest rate-limit wait in seconds, else stop"),
    deadline: Optional[float] = typer.Option(None, "--deadline", min=0,
                                             help="stop starting new work after this many seconds"),
    git_cache: Optional[str] = typer.Option(None, "--git-cache", metavar="DIR",
                                            help="directory of the git mirrors (default: collection.git_cache, "
                                                 "else beside the database)"),
    enqueue: bool = typer.Option(False, "--enqueue",
                                 help="queue one job per repository for `mtx worker` instead (PostgreSQL)"),
) -> None:
    """采集社区仓库数据（增量）/ collect commits, releases, contributors, issues, PRs and snapshots, incrementally."""
    from tracker.collect.job import CollectionJob, CollectOptions
    from tracker.collect.lock import LockHeld
    from tracker.config import load_config
    from tracker.progress import progress_reporter

    st = state(ctx)
    logging.getLogger("github").setLevel(logging.WARNING)  # PyGithub's INFO lines on redirects
    config = load_config(st.config_dir)
    with open_session(ctx) as session:
        actor = resolve_actor(session, st.user)
    options = CollectOptions(community=community, repo=repo, platform=platform, full=full, concurrency=concurrency,
                             max_wait=max_wait, deadline=deadline, git_cache=git_cache)
    if enqueue:
        _enqueue(st.db_url, config, actor, options)
        return
    tty = sys.stderr.isatty()
    with progress_reporter("collect") as report:
        total = {"n": 0, "done": 0}

        def on_start(n: int) -> None:
            total["n"] = n
            report("repositories", 0, n)

        def on_result(outcome) -> None:
            total["done"] += 1
            if tty:
                report("repositories", total["done"], total["n"])
            typer.echo(outcome.line(), err=tty)

        job = CollectionJob(st.db_url, config, actor, options, on_result=on_result, on_start=on_start)
        try:
            summary = job.run()
        except LockHeld as exc:
            fail(str(exc))
        except ValueError as exc:
            fail(str(exc))
    if summary.people is not None:
        typer.echo(summary.people.line(), err=tty)
    for error in summary.discovery_errors:
        typer.echo(f"organisation discovery failed: {error}", err=True)
    failed = len(summary.failed)
    typer.echo(f"采集结束 / run {summary.run_id} {summary.status}: {len(summary.outcomes)} repositories, "
               f"{failed} failed, {summary.seconds:.1f} s", err=failed > 0)
    if summary.exit_code:
        raise typer.Exit(summary.exit_code)


def _enqueue(url: str, config, actor, options) -> None:
    from tracker.workers.schema import has_queue_schema, is_postgres, queue_installed

    if not is_postgres(url):
        fail("--enqueue 需要 PostgreSQL / the job queue needs a PostgreSQL database; on SQLite run `mtx collect`")
    if not queue_installed():
        fail("任务队列未安装 / the job queue is not installed: pip install 'mantianxing-tracker[workers]'")
    if not has_queue_schema(url):
        fail("数据库没有任务队列 / the database has no job queue yet: run `mtx init` first")
    from tracker.workers.enqueue import enqueue

    try:
        summary = enqueue(url, config, actor, options)
    except ValueError as exc:
        fail(str(exc))
    for error in summary.discovery_errors:
        typer.echo(f"organisation discovery failed: {error}", err=True)
    for name in summary.already:
        typer.echo(f"已在队列中 / already queued or running: {name}")
    typer.echo(f"已入队 / run {summary.run_id}: {summary.queued} repositories queued, {len(summary.already)} "
               "already queued or running; `mtx worker` collects them")
    if summary.exit_code:
        raise typer.Exit(summary.exit_code)


@app.command()
def worker(
    ctx: typer.Context,
    concurrency: int = typer.Option(4, "--concurrency", min=1, max=64, help="jobs at once in this process"),
    queues: Optional[str] = typer.Option(None, "--queues", envvar="MTX_WORKER_QUEUES",
                                         help="only these queues, comma-separated (platform names, people)"),
    once: bool = typer.Option(False, "--once", help="stop when no job is queued or running (tests, CronJobs)"),
    max_wait: float = typer.Option(60, "--max-wait", min=0,
                                   help="longest rate-limit wait in seconds; longer: the job is queued for the reset"),
    stall_timeout: float = typer.Option(30, "--stall-timeout", min=0.5,
                                        help="seconds without a heartbeat before a worker's jobs are retried"),
    schedule: Optional[str] = typer.Option(None, "--schedule",
                                           help="cron expression: queue every repository at these times "
                                                "(instead of a cron job running mtx collect --enqueue)"),
) -> None:
    """采集队列的 worker / run queued collection jobs (PostgreSQL; any number of machines)."""
    from tracker.config import load_config
    from tracker.workers.schema import queue_installed

    st = state(ctx)
    if not queue_installed():
        fail("任务队列未安装 / the job queue is not installed: pip install 'mantianxing-tracker[workers]'")
    from tracker.workers.worker import WorkerError, WorkerOptions, run_worker

    logging.getLogger("github").setLevel(logging.WARNING)
    config = load_config(st.config_dir)
    with open_session(ctx) as session:
        actor = resolve_actor(session, st.user)
    options = WorkerOptions(concurrency=concurrency, once=once, max_wait=max_wait, stall_timeout=stall_timeout,
                            queues=[x.strip() for x in queues.split(",") if x.strip()] if queues else None,
                            schedule=schedule)
    try:
        run_worker(st.db_url, config, actor, options, echo=lambda line: typer.echo(line))
    except WorkerError as exc:
        fail(str(exc))


@app.command()
def status(
    ctx: typer.Context,
    community: Optional[str] = typer.Option(None, "--community", help="only this community (slug)"),
    communities: bool = typer.Option(False, "--communities",
                                     help="one entry per community (mirrors' commits counted once)"),
    as_json: bool = typer.Option(False, "--json", help="JSON output"),
    jobs: bool = typer.Option(False, "--jobs", help="the job queue instead: queued, running (with the worker's host "
                                                    "and pid) and failed jobs, and each token's shared quota"),
) -> None:
    """仓库采集状态 / per repository: stored counts and the last collection."""
    from tracker.collect.status import community_status, repository_status

    st = state(ctx)
    if jobs:
        _job_status(ctx, as_json)
        return
    with open_session(ctx) as session:
        actor = resolve_actor(session, st.user)
        try:
            rows = (community_status(session, actor, community) if communities
                    else repository_status(session, actor, community))
        except LookupError as exc:
            fail(str(exc))
    if as_json:
        emit_json(rows)
        return
    if communities:
        typer.echo(f"{'community':<28} {'repos':>5} {'commits':>8} {'people':>6} {'rel':>4} {'issues':>6} {'pulls':>6}")
        for r in rows:
            typer.echo(f"{r['slug']:<28} {r['repositories']:>5} {r['commits']:>8} {r['contributors']:>6} "
                       f"{r['releases']:>4} {r['issues']:>6} {r['pulls']:>6}")
        return
    typer.echo(f"{'platform':<8} {'path':<40} {'state':<9} {'commits':>8} {'rel':>4} {'people':>6} {'issues':>6} "
               f"{'pulls':>6}  last run")
    for r in rows:
        last = r["last_run"]
        last_text = "never" if last is None else f"{last['status']} {last['finished_at'] or ''} " \
                                                 f"req={last['requests']} 304={last['not_modified']}"
        issues, pulls = ("—" if r[k] is None else r[k] for k in ("issues", "pulls"))  # —: the platform has none
        typer.echo(f"{r['platform']:<8} {r['path'][:40]:<40} {r['state']:<9} {r['commits']:>8} {r['releases']:>4} "
                   f"{r['contributors']:>6} {issues:>6} {pulls:>6}  {last_text}")


def _job_status(ctx: typer.Context, as_json: bool) -> None:
    from tracker.workers.status import job_status

    with open_session(ctx) as session:
        resolve_actor(session, state(ctx).user)
    data = job_status(state(ctx).db_url)
    if as_json:
        emit_json(data)
        return
    typer.echo(f"队列 / queue: {len(data['queued'])} queued, {len(data['running'])} running, "
               f"{len(data['failed'])} failed")
    for kind in ("running", "queued", "failed"):
        for job in data[kind]:
            where = job["repository"] or job["task"]
            worker = job.get("worker") or {}
            held = f" on {worker.get('host')} pid {worker.get('pid')}" if kind == "running" else ""
            later = f" at {job['scheduled_at']}" if kind == "queued" and job["scheduled_at"] else ""
            typer.echo(f"{kind:<8} {job['id']:>7} {job['queue']:<8} {where}{held}{later} attempts={job['attempts']}")
    for row in data["quota"]:
        typer.echo(f"quota    {row['platform']:<8} ${row['env_var'] or 'anonymous'}: remaining={row['remaining']} "
                   f"limit={row['quota_limit']} in_flight={row['in_flight']}")
