"""The procrastinate app and its two tasks: collect one repository, resolve people (a coalesced singleton).

Jobs:
- ``mtx:collect_repository(run_id, repository_id, full)`` in the queue named after the repository's platform, with
  ``lock`` and ``queueing_lock`` ``repo:<id>``: one job per repository waits in the queue, one runs at a time.
- ``mtx:resolve_people()`` in the queue ``people``, lock and queueing lock ``people``: every collection job that
  ends queues it (a second one is not queued while one waits); when it starts while collection jobs are still
  queued or running it puts itself back a few seconds later, so it runs once after the last of them. It then
  closes the queued runs whose jobs are all done (their status from the results, as `mtx collect` does).
"""
from __future__ import annotations

import logging
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.engine import make_url

from tracker import db as dbm

log = logging.getLogger("mtx.workers")

tasks = procrastinate.Blueprint()
COLLECT = "mtx:collect_repository"
PEOPLE = "mtx:resolve_people"
ENQUEUE = "mtx:enqueue_collection"
PEOPLE_QUEUE = "people"
PEOPLE_LOCK = "people"
PEOPLE_RECHECK_SECONDS = 2


def repository_lock(repository_id: int) -> str:
    return f"repo:{repository_id}"


def conninfo(url: str) -> str:
    """The libpq URL of a database URL (procrastinate talks to psycopg directly)."""
    return make_url(dbm.normalise_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(url: str, application_name: str = "mtx queue", *, pool_size: int = 4) -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(conninfo=conninfo(url), min_size=1, max_size=pool_size,
                                               kwargs={"application_name": application_name[:63]})
    app = procrastinate.App(connector=connector)
    app.add_tasks_from(tasks, namespace="mtx")
    return app


def runner_of(context) -> Any:
    return context.additional_context["runner"]


@tasks.task(name="collect_repository", pass_context=True)
def collect_repository(context, run_id: int, repository_id: int, full: bool = False) -> str:
    return runner_of(context).collect(context, run_id, repository_id, full)


@tasks.task(name="resolve_people", pass_context=True)
def resolve_people(context) -> str:
    return runner_of(context).resolve(context)


@tasks.task(name="enqueue_collection", pass_context=True)
def enqueue_collection(context, timestamp: int | None = None) -> str:
    """The periodic task (`mtx worker --schedule CRON`): what `mtx collect --enqueue` does, every repository."""
    return runner_of(context).enqueue_all(context)


def queue_people(app: procrastinate.App, delay_seconds: float = 0) -> bool:
    """Queue the people resolution unless one is already waiting; True when this call queued it."""
    try:
        app.configure_task(PEOPLE, queue=PEOPLE_QUEUE, lock=PEOPLE_LOCK, queueing_lock=PEOPLE_LOCK,
                           schedule_in={"seconds": delay_seconds} if delay_seconds else None).defer()
    except AlreadyEnqueued:
        return False
    return True
