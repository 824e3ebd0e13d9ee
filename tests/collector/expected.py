"""What the collector should produce, computed straight from the emulator's model (not from any payload), so a
collector bug cannot agree with itself."""

from __future__ import annotations

from datetime import datetime, timedelta

from collector.records import Commit, Contributor, Issue, PullRequest, Release
from tests.emulator import Repo, World

BOTS = {"dependabot[bot]"}


def commits(world: World, repo: Repo) -> list[Commit]:
    out = []
    for c in repo.commits:
        author = world.account_for_email(c.author.email)
        committer = world.account_for_email(c.committer.email)
        out.append(Commit(sha=c.sha, author_name=c.author.name, author_email=c.author.email,
                          author_login=author.login if author else None, author_time=c.authored_at.replace(microsecond=0),
                          committer_name=c.committer.name, committer_email=c.committer.email,
                          committer_login=committer.login if committer else None,
                          committer_time=c.committed_at.replace(microsecond=0), is_merge=len(c.parents) > 1,
                          is_bot=bool(author and author.login in BOTS), message_title=c.message.splitlines()[0]))
    return out


def releases(repo: Repo) -> list[Release]:
    return [Release(tag=r.tag_name, name=r.name, published_at=r.published_at or r.created_at,
                    prerelease=r.prerelease, draft=r.draft) for r in repo.releases]


def contributors(world: World, repo: Repo) -> list[Contributor]:
    counts: dict[tuple, int] = {}
    for c in repo.commits:
        account = world.account_for_email(c.author.email)
        key = (account.login, None, None) if account else (None, c.author.name, c.author.email.lower())
        counts[key] = counts.get(key, 0) + 1
    rows = [Contributor(login=k[0], name=k[1], email=k[2], contributions=n) for k, n in counts.items()]
    return sorted(rows, key=lambda r: (-r.contributions, r.login or r.email))


def _first_response(item, now: datetime, window: timedelta):
    if item.updated_at < now - window:
        return None
    for comment in sorted(item.comments, key=lambda c: (c.created_at, c.id)):
        if comment.author_login != item.author_login and comment.author_login not in BOTS:
            return comment.created_at
    return None


def issues(repo: Repo, now: datetime, window: timedelta = timedelta(days=180)) -> dict[str, Issue]:
    return {str(i.number): Issue(number=str(i.number), title=i.title, state=i.state, author_login=i.author_login,
                                 created_at=i.created_at, updated_at=i.updated_at, closed_at=i.closed_at,
                                 comments=len(i.comments), first_response_at=_first_response(i, now, window))
            for i in repo.issues if not i.is_pull}


def pulls(repo: Repo, now: datetime, window: timedelta = timedelta(days=180)) -> dict[str, PullRequest]:
    out = {}
    for i in repo.issues:
        if not i.is_pull:
            continue
        recent = i.updated_at >= now - window
        out[str(i.number)] = PullRequest(
            number=str(i.number), title=i.title, state="merged" if i.merged_at else i.state,
            author_login=i.author_login, created_at=i.created_at, updated_at=i.updated_at, closed_at=i.closed_at,
            merged_at=i.merged_at, comments=len(i.comments) if recent else None,
            first_response_at=_first_response(i, now, window))
    return out
