"""The overview figures: what is in the database and how fresh it is, scoped to the acting user."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.access import Actor
from tracker.models import (
    ActivityMonth,
    ActivityPerson,
    Award,
    Certificate,
    CollectionRun,
    Community,
    Enterprise,
    Issue,
    Product,
    PullRequest,
    Release,
    Repository,
    RepositorySnapshot,
)
from tracker.formatting import beijing_today, to_beijing
from tracker.metrics import activity
from tracker.vocab import COUNTING_AWARD_STATUSES

COUNTED_AWARD_STATUSES = COUNTING_AWARD_STATUSES


def overview(session: Session, actor: Actor, months: int = 24) -> dict[str, Any]:
    """Counts for the overview page, read from the activity aggregates (tracker.metrics.activity), never the commits:
    commits are those metrics count (bots and merge commits left out, a sha on several mirrors once), contributors
    are people as resolved. Brings the aggregates up to date first, in the caller's transaction."""
    activity.ensure_current(session)
    out: dict[str, Any] = {}
    out["communities"] = session.scalar(select(func.count()).select_from(Community)) or 0
    out["communities_by_focus"] = dict(session.execute(
        select(Community.focus, func.count()).group_by(Community.focus)).all())
    out["repositories"] = session.scalar(select(func.count()).select_from(Repository)) or 0
    out["repositories_by_platform"] = dict(session.execute(
        select(Repository.platform, func.count()).group_by(Repository.platform).order_by(Repository.platform)).all())
    out["repositories_by_state"] = dict(session.execute(
        select(Repository.state, func.count()).group_by(Repository.state)).all())
    everyone = select(func.coalesce(func.sum(ActivityPerson.commits), 0), func.count(),
                      func.max(ActivityPerson.last_at)).where(ActivityPerson.kind == "a", ActivityPerson.scope_id == 0)
    commits, contributors, latest = session.execute(everyone).one()
    out["commits"], out["contributors"] = int(commits), int(contributors)
    out["releases"] = session.scalar(select(func.count()).select_from(Release)) or 0
    out["issues"] = session.scalar(select(func.count()).select_from(Issue)) or 0
    out["pull_requests"] = session.scalar(select(func.count()).select_from(PullRequest)) or 0
    out.update(_ledger(session, actor))
    out["freshness"] = _freshness(session, latest)
    latest = out["freshness"]["latest_commit"]
    last_month = to_beijing(latest).date().replace(day=1) if latest else beijing_today().replace(day=1)
    first_month = _months_before(last_month, months - 1)
    out["commits_by_month"] = {f"{m:%Y-%m}": int(n) for m, n in session.execute(
        select(ActivityMonth.month, func.sum(ActivityMonth.commits)).where(ActivityMonth.month >= first_month)
        .group_by(ActivityMonth.month).order_by(ActivityMonth.month)).all()}
    return out


def _months_before(month: dt.date, n: int) -> dt.date:
    """The first day of the month n months before ``month`` (a first of the month)."""
    index = month.year * 12 + month.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


def _ledger(session: Session, actor: Actor) -> dict[str, Any]:
    def scoped(stmt, enterprise_column):
        return stmt.where(enterprise_column == actor.enterprise_id) if actor.role == "enterprise" else stmt

    enterprises = session.scalar(scoped(select(func.count()).select_from(Enterprise), Enterprise.id)) or 0
    products = session.scalar(scoped(select(func.count()).select_from(Product), Product.enterprise_id)) or 0
    certs = dict(session.execute(scoped(
        select(Certificate.status, func.count()).join(Product, Product.id == Certificate.product_id)
        .group_by(Certificate.status), Product.enterprise_id)).all())
    awards = dict(session.execute(scoped(
        select(Award.status, func.coalesce(func.sum(Award.amount), 0)).group_by(Award.status), Award.enterprise_id)).all())
    return {
        "enterprises": enterprises,
        "products": products,
        "certificates": sum(certs.values()),
        "certificates_by_status": certs,
        "awards_by_status": {k: int(v) for k, v in awards.items()},
        "awarded_total": int(sum(v for k, v in awards.items() if k in COUNTED_AWARD_STATUSES)),
        "scope": "enterprise" if actor.role == "enterprise" else "all",
    }


def _freshness(session: Session, latest_commit) -> dict[str, Any]:
    last_run = session.execute(select(CollectionRun.finished_at, CollectionRun.status)
                               .where(CollectionRun.finished_at.is_not(None))
                               .order_by(CollectionRun.finished_at.desc()).limit(1)).first()
    return {
        "last_run_finished_at": last_run[0] if last_run else None,
        "last_run_status": last_run[1] if last_run else None,
        "latest_commit": latest_commit,
        "latest_snapshot": session.scalar(select(func.max(RepositorySnapshot.taken_on))),
    }
