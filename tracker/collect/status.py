"""`mtx status`: one entry per repository with what is stored and how its last collection went."""
from __future__ import annotations

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from collector import registry
from tracker.access import Actor
from tracker.metrics import activity
from tracker.models import (ActivityPerson, CollectionResult, CollectionRun, Commit, Community, CommunityRepository, Issue,
                            PullRequest, Release, Repository)


def _counts(session: Session, stmt) -> dict[int, int]:
    return dict(session.execute(stmt).all())


def repository_status(session: Session, actor: Actor, community: str | None = None) -> list[dict]:
    """Every repository (of one community, if given): stored counts and the last run's figures; any role may read."""
    stmt = select(Repository).order_by(Repository.platform, Repository.path)
    if community:
        stmt = (stmt.join(CommunityRepository, CommunityRepository.repository_id == Repository.id)
                .join(Community, Community.id == CommunityRepository.community_id).where(Community.slug == community))
    repos = list(session.scalars(stmt))
    if community and not repos and session.scalar(select(Community.id).where(Community.slug == community)) is None:
        raise LookupError(f"没有社区 {community} / no community with slug {community!r}")
    ids = [r.id for r in repos]
    if not ids:
        return []
    activity.ensure_current(session)
    commits = _counts(session, select(Commit.repository_id, func.count()).where(Commit.repository_id.in_(ids))
                      .group_by(Commit.repository_id))
    # people as resolved (bots and merge commits left out), from the aggregates
    contributors = _counts(session, select(ActivityPerson.scope_id, func.count())
                           .where(ActivityPerson.kind == "r", ActivityPerson.scope_id.in_(ids))
                           .group_by(ActivityPerson.scope_id))
    releases = _counts(session, select(Release.repository_id, func.count()).where(Release.repository_id.in_(ids))
                       .group_by(Release.repository_id))
    issues = _counts(session, select(Issue.repository_id, func.count()).where(Issue.repository_id.in_(ids))
                     .group_by(Issue.repository_id))
    pulls = _counts(session, select(PullRequest.repository_id, func.count())
                    .where(PullRequest.repository_id.in_(ids)).group_by(PullRequest.repository_id))
    latest = (select(CollectionResult.repository_id, func.max(CollectionResult.id).label("id"))
              .where(CollectionResult.repository_id.in_(ids)).group_by(CollectionResult.repository_id).subquery())
    last_runs = {row.repository_id: row for row in session.execute(
        select(CollectionResult.repository_id, CollectionResult.status, CollectionResult.finished_at,
               CollectionResult.requests, CollectionResult.not_modified, CollectionResult.error,
               CollectionRun.id.label("run_id"))
        .join(latest, latest.c.id == CollectionResult.id)
        .join(CollectionRun, CollectionRun.id == CollectionResult.run_id))}
    out = []
    for r in repos:
        last = last_runs.get(r.id)
        declared = registry.find(r.platform)
        served = declared.streams if declared else ()

        def count(stream: str, counted: dict[int, int]) -> int | None:
            """None (shown as —) for a stream the platform does not serve: not zero, never asked."""
            return counted.get(r.id, 0) if stream in served or counted.get(r.id) else None

        out.append({
            "platform": r.platform, "path": r.path, "state": r.state,
            "commits": commits.get(r.id, 0), "releases": releases.get(r.id, 0),
            "contributors": contributors.get(r.id, 0), "issues": count("issues", issues),
            "pulls": count("pulls", pulls),
            "last_run": None if last is None else {
                "status": last.status, "finished_at": last.finished_at.isoformat() if last.finished_at else None,
                "requests": last.requests, "not_modified": last.not_modified},
        })
    return out


def community_status(session: Session, actor: Actor, community: str | None = None) -> list[dict]:
    """Per community: repositories and activity. Commits and contributors come from the activity aggregates
    (tracker.metrics.activity: bots and merges left out, a sha on several mirrors once, people as resolved)."""
    activity.ensure_current(session)
    stmt = select(Community).order_by(Community.slug)
    if community:
        stmt = stmt.where(Community.slug == community)
    rows = list(session.scalars(stmt))
    if community and not rows:
        raise LookupError(f"没有社区 {community} / no community with slug {community!r}")
    link = CommunityRepository

    def per_community(column, model):
        return _counts(session, select(link.community_id, column).join(model, model.repository_id == link.repository_id)
                       .group_by(link.community_id))

    repositories = _counts(session, select(link.community_id, func.count()).group_by(link.community_id))
    people = {cid: (int(n), int(c)) for cid, n, c in session.execute(
        select(ActivityPerson.scope_id, func.count(), func.sum(ActivityPerson.commits))
        .where(ActivityPerson.kind == "c").group_by(ActivityPerson.scope_id))}
    releases = per_community(func.count(distinct(Release.tag)), Release)
    issues = per_community(func.count(), Issue)
    pulls = per_community(func.count(), PullRequest)
    return [{"slug": c.slug, "name": c.name_zh, "focus": c.focus, "repositories": repositories.get(c.id, 0),
             "commits": people.get(c.id, (0, 0))[1], "contributors": people.get(c.id, (0, 0))[0],
             "releases": releases.get(c.id, 0), "issues": issues.get(c.id, 0), "pulls": pulls.get(c.id, 0)}
            for c in rows]
