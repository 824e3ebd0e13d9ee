"""The 数据采集 page's reads: repositories with their last collection and communities with their freshness, one page
at a time, ordered, filtered, counted and cut in SQL, so a page costs about the same at any scale. Administrators
and evaluators only. (`mtx status`, tracker.collect.status, lists every repository with its stored counts.)

A repository's last result is its collection_results row with the largest id (as `mtx status` reads it); its last
complete collection is the latest finish of a result with status ok. Staleness is the age of that complete
collection: a run that was skipped or stopped at the deadline collected little, so its finish time says nothing.
"""
from __future__ import annotations

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, aliased

from tracker.access import Actor, require_role
from tracker.models import CollectionResult, CollectionRun, Community, CommunityRepository, Repository
from tracker.sqlutil import Page
from tracker.vocab import NEVER_COLLECTED, RESULT_STATUSES, STREAMS

PAGE_ROLES = ("admin", "evaluator")
STATUS_FILTERS = (*RESULT_STATUSES.values, NEVER_COLLECTED)  # what the status filter offers
MAX_PAGE = 500


def _last_results():
    """Subqueries per repository: the id of its last result, and the finish of its last complete (ok) result."""
    latest = (select(CollectionResult.repository_id, func.max(CollectionResult.id).label("id"))
              .group_by(CollectionResult.repository_id).subquery("latest"))
    complete = (select(CollectionResult.repository_id, func.max(CollectionResult.finished_at).label("at"))
                .where(CollectionResult.status == "ok").group_by(CollectionResult.repository_id).subquery("complete"))
    return latest, complete, aliased(CollectionResult, name="last")


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ValueError(f"a page holds 1 to {MAX_PAGE} rows from offset 0 on, not limit={limit} offset={offset}")


def _community_id(session: Session, slug: str) -> int:
    found = session.scalar(select(Community.id).where(Community.slug == slug))
    if found is None:
        raise LookupError(f"没有社区 {slug} / no community with slug {slug!r}")
    return found


def items_text(items: dict | None) -> str:
    """A result's records written, by stream, in stream order with Chinese labels: 提交 12 · Issue 3."""
    if not items:
        return ""
    order = {v: n for n, v in enumerate(STREAMS.values)}
    return " · ".join(f"{STREAMS.zh(k)} {v:,}" for k, v in sorted(items.items(), key=lambda kv: order.get(kv[0], 99))
                      if v)


def repository_page(session: Session, actor: Actor, *, community: str | None = None, platform: str | None = None,
                    status: str | None = None, limit: int = 50, offset: int = 0) -> Page:
    """One page of repositories with their last collection: failed last results first, then the stalest (never
    collected completely first), then by platform and path. Filters: a community (slug), a platform, the last result's
    status (or `never`: no result at all). Administrators and evaluators only."""
    require_role(actor, *PAGE_ROLES, action="the collection status page")
    _check_page(limit, offset)
    if status is not None and status not in STATUS_FILTERS:
        raise ValueError(f"unknown status {status!r}; expected one of {', '.join(STATUS_FILTERS)}")
    latest, complete, last = _last_results()
    stmt = (select(Repository.id, Repository.platform, Repository.path, Repository.state, last.status, last.run_id,
                   last.started_at, last.finished_at, last.items, last.requests, last.not_modified,
                   last.rate_limit_waits, last.wait_seconds, last.error, complete.c.at.label("complete_at"))
            .outerjoin(latest, latest.c.repository_id == Repository.id)
            .outerjoin(last, last.id == latest.c.id)
            .outerjoin(complete, complete.c.repository_id == Repository.id))
    counted = select(func.count()).select_from(Repository)  # without a status filter the joins change nothing
    if community:
        members = select(CommunityRepository.repository_id).where(
            CommunityRepository.community_id == _community_id(session, community))
        stmt, counted = stmt.where(Repository.id.in_(members)), counted.where(Repository.id.in_(members))
    if platform:
        stmt, counted = stmt.where(Repository.platform == platform), counted.where(Repository.platform == platform)
    if status == NEVER_COLLECTED:
        stmt = stmt.where(latest.c.id.is_(None))
    elif status:
        stmt = stmt.where(last.status == status)
    if status:
        counted = select(func.count()).select_from(stmt.subquery())
    total = session.scalar(counted) or 0
    found = session.execute(stmt.order_by(case((last.status == "failed", 0), else_=1),
                                          case((complete.c.at.is_(None), 0), else_=1), complete.c.at,
                                          Repository.platform, Repository.path, Repository.id)
                            .limit(limit).offset(offset)).all()
    names: dict[int, list[str]] = {}
    for repository_id, name in session.execute(
            select(CommunityRepository.repository_id, Community.name_zh)
            .join(Community, Community.id == CommunityRepository.community_id)
            .where(CommunityRepository.repository_id.in_([r.id for r in found])).order_by(Community.slug)):
        names.setdefault(repository_id, []).append(name)
    rows = [{
        "platform": r.platform, "path": r.path, "state": r.state, "communities": names.get(r.id, []),
        "status": r.status or NEVER_COLLECTED, "run_id": r.run_id, "started_at": r.started_at,
        "finished_at": r.finished_at, "complete_at": r.complete_at,
        # a repository no run reached has no figures: None (unavailable), not 0
        "items": None if r.status is None else sum((r.items or {}).values()),
        "items_text": items_text(r.items), "requests": r.requests, "not_modified": r.not_modified,
        "rate_limit_waits": r.rate_limit_waits, "wait_seconds": r.wait_seconds, "error": r.error,
    } for r in found]
    return Page(rows, total, limit, offset)


def community_freshness(session: Session, actor: Actor, *, limit: int = 50, offset: int = 0) -> Page:
    """One page of communities with how fresh their collected data is. `complete_as_of` is the instant up to which
    every repository of the community was collected completely (its stalest repository's last ok result); None when
    a repository never was, or the community has none. Communities with a failed or never complete repository come
    first; then those whose freshness is unavailable, then the stalest. Administrators and evaluators only."""
    require_role(actor, *PAGE_ROLES, action="the collection status page")
    _check_page(limit, offset)
    latest, complete, last = _last_results()
    link = CommunityRepository

    def how_many(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    per = (select(link.community_id, func.count().label("repositories"),
                  how_many(last.status == "failed").label("failed"),
                  how_many(last.status.in_(RESULT_STATUSES.with_flag("stopped_early"))).label("stopped_early"),
                  how_many(complete.c.at.is_(None)).label("never_complete"),
                  func.min(complete.c.at).label("oldest_complete"), func.max(last.finished_at).label("last_finished"))
           .outerjoin(latest, latest.c.repository_id == link.repository_id)
           .outerjoin(last, last.id == latest.c.id)
           .outerjoin(complete, complete.c.repository_id == link.repository_id)
           .group_by(link.community_id).subquery("per"))
    stmt = (select(Community.slug, Community.name_zh, Community.focus, per.c.repositories, per.c.failed,
                   per.c.stopped_early, per.c.never_complete, per.c.oldest_complete, per.c.last_finished)
            .outerjoin(per, per.c.community_id == Community.id))
    total = session.scalar(select(func.count()).select_from(Community)) or 0
    incomplete = func.coalesce(per.c.never_complete, 0) > 0
    unavailable = or_(incomplete, per.c.repositories.is_(None))
    found = session.execute(stmt.order_by(case((or_(func.coalesce(per.c.failed, 0) > 0, incomplete), 0), else_=1),
                                          case((unavailable, 0), else_=1), per.c.oldest_complete, Community.slug)
                            .limit(limit).offset(offset)).all()
    rows = [{
        "slug": c.slug, "name": c.name_zh, "focus": c.focus, "repositories": c.repositories or 0,
        "failed": c.failed or 0, "stopped_early": c.stopped_early or 0, "never_complete": c.never_complete or 0,
        "last_finished": c.last_finished,
        "complete_as_of": c.oldest_complete if c.repositories and not c.never_complete else None,
    } for c in found]
    return Page(rows, total, limit, offset)


def collection_summary(session: Session, actor: Actor) -> dict:
    """The page's head: repositories by their last result's status (`never` for none), and the last run."""
    require_role(actor, *PAGE_ROLES, action="the collection status page")
    latest, _, last = _last_results()
    by_status = {status or NEVER_COLLECTED: n for status, n in session.execute(
        select(last.status, func.count()).select_from(Repository)
        .outerjoin(latest, latest.c.repository_id == Repository.id).outerjoin(last, last.id == latest.c.id)
        .group_by(last.status))}
    run = session.execute(select(CollectionRun.id, CollectionRun.status, CollectionRun.started_at,
                                 CollectionRun.finished_at, CollectionRun.error)
                          .order_by(CollectionRun.id.desc()).limit(1)).first()
    return {"repositories": sum(by_status.values()), "by_status": by_status,
            "last_run": None if run is None else dict(run._mapping)}


def collection_filters(session: Session, actor: Actor) -> dict:
    """What the page's filters offer: communities (slug, Chinese name) and the platforms repositories are on."""
    require_role(actor, *PAGE_ROLES, action="the collection status page")
    return {"communities": [tuple(r) for r in session.execute(
                select(Community.slug, Community.name_zh).order_by(Community.slug))],
            "platforms": list(session.scalars(select(Repository.platform).distinct().order_by(Repository.platform)))}
