"""The overview figures: what is in the database and how fresh it is, scoped to the acting user."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from tracker.access import Actor
from tracker.models import (
    Award,
    Certificate,
    CollectionRun,
    Commit,
    Community,
    Enterprise,
    Issue,
    Product,
    PullRequest,
    Release,
    Repository,
    RepositorySnapshot,
)
from tracker.people.attribution import commit_attribution
from tracker.sqlutil import month_of
from tracker.vocab import COUNTING_AWARD_STATUSES

COUNTED_AWARD_STATUSES = COUNTING_AWARD_STATUSES


def overview(session: Session, actor: Actor, months: int = 24) -> dict[str, Any]:
    """Counts for the overview page. Commits are counted once per sha (mirrors), contributors once per person."""
    dialect = session.get_bind().dialect.name
    out: dict[str, Any] = {}
    out["communities"] = session.scalar(select(func.count()).select_from(Community)) or 0
    out["communities_by_focus"] = dict(session.execute(
        select(Community.focus, func.count()).group_by(Community.focus)).all())
    out["repositories"] = session.scalar(select(func.count()).select_from(Repository)) or 0
    out["repositories_by_platform"] = dict(session.execute(
        select(Repository.platform, func.count()).group_by(Repository.platform).order_by(Repository.platform)).all())
    out["repositories_by_state"] = dict(session.execute(
        select(Repository.state, func.count()).group_by(Repository.state)).all())
    out["commits"] = session.scalar(select(func.count(distinct(Commit.sha)))) or 0
    who = commit_attribution(dialect).subquery()  # resolved people (tracker.people), bots excluded
    out["contributors"] = session.scalar(
        select(func.count(distinct(who.c.person_id))).where(who.c.is_bot.is_(False))) or 0
    out["releases"] = session.scalar(select(func.count()).select_from(Release)) or 0
    out["issues"] = session.scalar(select(func.count()).select_from(Issue)) or 0
    out["pull_requests"] = session.scalar(select(func.count()).select_from(PullRequest)) or 0
    out.update(_ledger(session, actor))
    out["freshness"] = _freshness(session)
    month = month_of(Commit.author_time, dialect)
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=31 * (months + 1))
    latest = out["freshness"]["latest_commit"]
    if latest is not None:
        since = latest - dt.timedelta(days=31 * months)
    out["commits_by_month"] = dict(session.execute(
        select(month, func.count(distinct(Commit.sha))).where(Commit.author_time >= since)
        .group_by(month).order_by(month)).all())
    return out


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


def _freshness(session: Session) -> dict[str, Any]:
    last_run = session.execute(select(CollectionRun.finished_at, CollectionRun.status)
                               .where(CollectionRun.finished_at.is_not(None))
                               .order_by(CollectionRun.finished_at.desc()).limit(1)).first()
    return {
        "last_run_finished_at": last_run[0] if last_run else None,
        "last_run_status": last_run[1] if last_run else None,
        "latest_commit": session.scalar(select(func.max(Commit.author_time))),
        "latest_snapshot": session.scalar(select(func.max(RepositorySnapshot.taken_on))),
    }
