"""Configuration -> rows: communities, repositories and their links, added or updated, never deleted.

A repository dropped from a community's list loses its link (its collected data stays); a community dropped from the
file stays in the database with its history. Every change is audited.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tracker import audit
from tracker.access import Actor, require_role
from tracker.collect.store import declared_platform
from tracker.config import Config
from tracker.models import Community, CommunityRepository, Repository


@dataclass
class SyncResult:
    communities_added: list[str] = field(default_factory=list)
    repositories_added: list[str] = field(default_factory=list)
    links_removed: int = 0


def get_or_add_repository(session: Session, platform: str, api_url: str, path: str, web_url: str | None,
                          actor: Actor, result: SyncResult | None = None) -> Repository:
    platform = declared_platform(platform)
    repo = session.scalar(select(Repository).where(Repository.platform == platform, Repository.api_url == api_url,
                                                   Repository.path == path))
    if repo is None:
        repo = Repository(platform=platform, api_url=api_url, path=path, web_url=web_url, state="active")
        session.add(repo)
        session.flush()
        audit.record(session, actor, "repository.add", "repository", f"{platform}:{path}", None,
                     {"api_url": api_url, "web_url": web_url})
        if result is not None:
            result.repositories_added.append(f"{platform}:{path}")
    elif web_url and not repo.web_url:
        repo.web_url = web_url
    return repo


def sync_config(session: Session, actor: Actor, config: Config) -> SyncResult:
    require_role(actor, "admin", action="update communities and repositories from the configuration")
    result = SyncResult()
    for entry in config.communities.communities:
        community = session.scalar(select(Community).where(Community.slug == entry.slug))
        values = {"name_zh": entry.name, "name_en": entry.name_en, "focus": entry.focus, "applicant": entry.applicant,
                  "homepage": entry.homepage, "description": entry.description}
        if community is None:
            community = Community(slug=entry.slug, **values)
            session.add(community)
            session.flush()
            audit.record(session, actor, "community.add", "community", entry.slug, None, values)
            result.communities_added.append(entry.slug)
        else:
            before = {k: getattr(community, k) for k in values}
            if before != values:
                for k, v in values.items():
                    setattr(community, k, v)
                audit.record(session, actor, "community.update", "community", entry.slug, before, values)
        wanted: set[int] = set()
        for repo_entry in entry.repositories:
            target = config.resolve_repository(repo_entry)
            repo = get_or_add_repository(session, target.platform, target.api_url, target.path, target.web_url,
                                         actor, result)
            wanted.add(repo.id)
            link = session.get(CommunityRepository, (community.id, repo.id))
            if link is None:
                session.add(CommunityRepository(community_id=community.id, repository_id=repo.id, source="config"))
        stale = session.scalars(select(CommunityRepository.repository_id).where(
            CommunityRepository.community_id == community.id, CommunityRepository.source == "config",
            CommunityRepository.repository_id.not_in(wanted or {-1}))).all()
        if stale:
            session.execute(delete(CommunityRepository).where(CommunityRepository.community_id == community.id,
                                                              CommunityRepository.repository_id.in_(stale)))
            audit.record(session, actor, "community.unlink", "community", entry.slug, {"repository_ids": stale}, None)
            result.links_removed += len(stale)
    session.flush()
    from tracker.metrics import activity

    activity.follow_links(session)  # a community's repositories changed: its aggregates again, in this transaction
    return result
