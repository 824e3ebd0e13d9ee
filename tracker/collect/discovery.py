"""Whole-organisation entries: list what an organisation or group holds now, add new repositories, mark vanished ones.

A repository that leaves the organisation keeps its link and history (its past activity still belongs to the
community) but gets `missing_since` and is no longer collected; if it comes back, the mark is cleared.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import audit
from tracker.access import Actor
from tracker.collect.sync import get_or_add_repository
from tracker.config import OrgTarget
from tracker.models import Community, CommunityRepository, Repository


@dataclass
class DiscoveryResult:
    added: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)


def organisation_source(target: OrgTarget) -> str:
    return f"org:{target.platform}:{target.api_url}:{target.path}"


def apply_listing(session: Session, actor: Actor, community_slug: str, target: OrgTarget, listings,
                  now: dt.datetime | None = None) -> DiscoveryResult:
    """Bring the community's links for one organisation entry in line with the listing."""
    now = now or dt.datetime.now(dt.timezone.utc)
    result = DiscoveryResult()
    community = session.scalar(select(Community).where(Community.slug == community_slug))
    source = organisation_source(target)
    listed: set[int] = set()
    for listing in listings:
        known = session.scalar(select(Repository.id).where(Repository.platform == target.platform,
                                                           Repository.api_url == target.api_url,
                                                           Repository.path == listing.path))
        repo = get_or_add_repository(session, target.platform, target.api_url, listing.path, listing.web_url, actor)
        if known is None:
            result.added.append(listing.path)
        if repo.missing_since is not None:
            repo.missing_since = None
            audit.record(session, actor, "repository.returned", "repository", f"{target.platform}:{listing.path}",
                         None, {"organisation": target.path})
            result.returned.append(listing.path)
        listed.add(repo.id)
        if session.get(CommunityRepository, (community.id, repo.id)) is None:
            session.add(CommunityRepository(community_id=community.id, repository_id=repo.id, source=source))
    linked = session.scalars(select(Repository).join(CommunityRepository,
                                                     CommunityRepository.repository_id == Repository.id)
                             .where(CommunityRepository.community_id == community.id,
                                    CommunityRepository.source == source)).all()
    for repo in linked:
        if repo.id not in listed and repo.missing_since is None:
            repo.missing_since = now
            audit.record(session, actor, "repository.vanished", "repository", f"{repo.platform}:{repo.path}",
                         None, {"organisation": target.path, "missing_since": now})
            result.vanished.append(repo.path)
    session.flush()
    from tracker.metrics import activity

    activity.follow_links(session)  # new links: the community's aggregates again, in this transaction
    return result
