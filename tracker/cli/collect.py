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


@app.command()
def status(
    ctx: typer.Context,
    community: Optional[str] = typer.Option(None, "--community", help="only this community (slug)"),
    communities: bool = typer.Option(False, "--communities",
                                     help="one entry per community (mirrors' commits counted once)"),
    as_json: bool = typer.Option(False, "--json", help="JSON output"),
) -> None:
    """仓库采集状态 / per repository: stored counts and the last collection."""
    from tracker.collect.status import community_status, repository_status

    st = state(ctx)
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
