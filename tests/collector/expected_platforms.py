"""Expected records for Gitee, GitCode and GitLab, computed from the emulator's model (never from payloads).

Where the platforms differ the rule is spelled out here once: Gitee-style commits link logins like GitHub's,
GitLab commits have none; empty git names become None; Gitee-style releases use ``created_at`` and list no
drafts; GitLab uses ``released_at``; Gitee issue numbers are letters; comment counts are known from the list on
Gitee issues and GitLab, and only inside the response window elsewhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from collector.records import Commit, Contributor, Issue, PullRequest, Release
from tests.collector.expected import BOTS, _first_response
from tests.emulator import Repo, World
from tests.emulator.gitee import gitee_number

WINDOW = timedelta(days=180)


def commits(world: World, repo: Repo, platform: str) -> list[Commit]:
    out = []
    for c in repo.commits:
        author = world.account_for_email(c.author.email) if platform != "gitlab" else None
        committer = world.account_for_email(c.committer.email) if platform != "gitlab" else None
        linked = world.account_for_email(c.author.email)
        out.append(Commit(sha=c.sha, author_name=c.author.name or None, author_email=c.author.email,
                          author_login=author.login if author else None, author_time=c.authored_at.replace(microsecond=0),
                          committer_name=c.committer.name or None, committer_email=c.committer.email,
                          committer_login=committer.login if committer else None,
                          committer_time=c.committed_at.replace(microsecond=0), is_merge=len(c.parents) > 1,
                          is_bot=bool(linked and linked.login in BOTS), message_title=c.message.splitlines()[0]))
    return out


def contributors(world: World, repo: Repo, platform: str) -> list[Contributor]:
    """As a set (sorted by e-mail): git authors keyed by e-mail (Gitee-style) or name + e-mail (GitLab)."""
    counts: dict[tuple[str | None, str], int] = {}
    names: dict[str, str] = {}
    for c in repo.commits:
        email = c.author.email if platform == "gitlab" else c.author.email.lower()
        key = (c.author.name, email) if platform == "gitlab" else (None, email)
        counts[key] = counts.get(key, 0) + 1
        names.setdefault(email, c.author.name)
    rows = [Contributor(login=None, name=(name if platform == "gitlab" else names[email]) or None, email=email,
                        contributions=n) for (name, email), n in counts.items()]
    return sorted(rows, key=lambda r: (r.email, r.name or ""))


def releases(repo: Repo, platform: str) -> list[Release]:
    published = [r for r in repo.releases if not r.draft]
    if platform == "gitlab":
        return [Release(tag=r.tag_name, name=r.name or r.tag_name, published_at=r.published_at, prerelease=False,
                        draft=False) for r in sorted(published, key=lambda r: r.published_at, reverse=True)]
    return [Release(tag=r.tag_name, name=r.name, published_at=r.created_at, prerelease=r.prerelease, draft=False)
            for r in published]


def issues(repo: Repo, platform: str, now: datetime, window: timedelta = WINDOW) -> dict[str, Issue]:
    out = {}
    for i in repo.issues:
        if i.is_pull:
            continue
        number = gitee_number(i) if platform == "gitee" else str(i.number)
        recent = i.updated_at >= now - window
        counted = platform in ("gitee", "gitlab") or recent
        out[number] = Issue(number=number, title=i.title, state=i.state, author_login=i.author_login,
                            created_at=i.created_at, updated_at=i.updated_at, closed_at=i.closed_at,
                            comments=len(i.comments) if counted else None,
                            first_response_at=_first_response(i, now, window))
    return out


def pulls(repo: Repo, platform: str, now: datetime, window: timedelta = WINDOW) -> dict[str, PullRequest]:
    out = {}
    for i in repo.issues:
        if not i.is_pull:
            continue
        recent = i.updated_at >= now - window
        counted = platform == "gitlab" or recent
        out[str(i.number)] = PullRequest(
            number=str(i.number), title=i.title, state="merged" if i.merged_at else i.state,
            author_login=i.author_login, created_at=i.created_at, updated_at=i.updated_at, closed_at=i.closed_at,
            merged_at=i.merged_at, comments=len(i.comments) if counted else None,
            first_response_at=_first_response(i, now, window))
    return out
