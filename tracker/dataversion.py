"""A cheap fingerprint of what the figures are computed from, so the app can keep a computed ranking or explanation
until the data under it changes (instead of recomputing it on every click, or showing stale numbers for a fixed time).

The database part reads only maxima of primary keys and a handful of one-row tables (index lookups, whatever the
size of the database): a collection run started or a repository's result written, a people resolution, a rebuild of
the activity aggregates, and any audited change (people corrections, expert scores, ledger steps, round steps all
write the append-only audit log; user administration and revealing addresses change no figure and are left out). The configuration part is the size and modification time of every file in the
configuration directory (communities, organisations, scoring models): an edited model or community list is new data.
"""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.models import ActivityScope, AuditEntry, CollectionResult, CollectionRun, PeopleResolutionState


# audited actions that change no figure: user administration and an administrator's look at full addresses
NOT_DATA = (AuditEntry.action.not_like("user.%"), AuditEntry.action != "people.reveal_emails")


def data_version(session: Session) -> tuple:
    """Changes whenever collection, people resolution, aggregation or an audited change has touched the database."""
    runs = session.execute(select(func.max(CollectionRun.id), func.max(CollectionRun.finished_at))).one()
    resolution = session.execute(select(PeopleResolutionState.digest, PeopleResolutionState.resolved_at)).first()
    return (tuple(runs), session.scalar(select(func.max(CollectionResult.id))),
            tuple(resolution) if resolution else None, session.scalar(select(func.max(ActivityScope.built_at))),
            session.scalar(select(AuditEntry.id).where(*NOT_DATA).order_by(AuditEntry.id.desc()).limit(1)))


def config_version(directory: str | Path) -> tuple:
    """(name, size, mtime in ns) of every file under the configuration directory, sorted; () when it is missing."""
    directory = Path(directory)
    if not directory.is_dir():
        return ()
    found = []
    for root, _, files in os.walk(directory):
        for name in files:
            path = Path(root) / name
            try:
                stat = path.stat()
            except OSError:  # removed while we looked: the next run sees the new state
                continue
            found.append((str(path.relative_to(directory)), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))
