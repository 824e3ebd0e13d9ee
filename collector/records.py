"""Plain records the collectors yield; the job stores them. No database or HTTP knowledge here.

Every datetime is timezone-aware UTC. Numbers and ids stay as the platform gives them (issue numbers are text
because Gitee's are like ``"I1DACG"``). Records are frozen so a page handed to the job cannot change under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Union

from common.vocabulary import ISSUE_STATES, PULL_STATES, REPO_STATES
from common.vocabulary import STREAMS as STREAM_VOCABULARY

# the values and labels are defined once, in common.vocabulary (the collector must not import tracker)
RepoState = Literal[REPO_STATES.values]  # type: ignore[valid-type]
IssueState = Literal[ISSUE_STATES.values]  # type: ignore[valid-type]
PullState = Literal[PULL_STATES.values]  # type: ignore[valid-type]


@dataclass(frozen=True)
class RepoSnapshot:
    """The repository as seen now. For ``gone`` only platform, path and state are set.

    ``subscribers`` is the watcher figure (GitHub ``subscribers_count``; its ``watchers_count`` equals stars).
    ``open_issues`` is the platform's own figure (GitHub's includes open pull requests).
    ``moved_to`` is the new path when ``state == "moved"``; ``archived`` is kept even when moved.
    """

    platform: str
    path: str
    state: RepoState
    moved_to: str | None = None
    default_branch: str | None = None
    licence: str | None = None  # SPDX id, e.g. "Apache-2.0"; None when the platform detects none
    stars: int | None = None
    forks: int | None = None
    subscribers: int | None = None
    open_issues: int | None = None
    created_at: datetime | None = None
    pushed_at: datetime | None = None
    web_url: str | None = None
    is_fork: bool | None = None
    description: str | None = None
    archived: bool = False


@dataclass(frozen=True, slots=True)  # slots: a first collection holds a few pages of thousands of them
class Commit:
    """A commit on the default branch. ``*_login`` is None when the e-mail links to no platform account."""

    sha: str
    author_name: str | None
    author_email: str | None
    author_login: str | None
    author_time: datetime | None
    committer_name: str | None
    committer_email: str | None
    committer_login: str | None
    committer_time: datetime | None
    is_merge: bool  # more than one parent
    is_bot: bool  # the author looks like a bot (see collector.bots)
    message_title: str


@dataclass(frozen=True)
class Release:
    """``published_at`` falls back to ``created_at`` when the platform has no publication time
    (Gitee; GitHub drafts have none either, and ``draft`` says so)."""

    tag: str
    name: str | None
    published_at: datetime | None
    prerelease: bool
    draft: bool


@dataclass(frozen=True)
class Contributor:
    """A contributor as the platform's contributor list gives it (a cross-check; metrics derive people from commits).

    ``login`` is None for anonymous entries (e-mail only); ``name``/``email`` are None when the platform omits them.
    """

    login: str | None
    name: str | None
    email: str | None
    contributions: int


@dataclass(frozen=True)
class Issue:
    """An issue (never a pull request). ``first_response_at`` is the first comment by someone other than the author
    and not a bot; it is None when there is none or when the issue is outside the response window."""

    number: str
    title: str
    state: IssueState
    author_login: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    comments: int | None
    first_response_at: datetime | None


@dataclass(frozen=True)
class PullRequest:
    """A pull/merge request. ``comments`` is None when the list payload lacks it and it was not fetched
    (GitHub's pull list has no count; we count comments only inside the response window)."""

    number: str
    title: str
    state: PullState
    author_login: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    merged_at: datetime | None
    comments: int | None
    first_response_at: datetime | None


Record = Union[RepoSnapshot, Commit, Release, Contributor, Issue, PullRequest]

STREAMS: tuple[str, ...] = STREAM_VOCABULARY.values
"""Every collector offers these streams; ``repo`` first, since it is cheap and says whether the rest make sense."""

RECORD_TYPES: dict[str, type] = {"repo": RepoSnapshot, "commits": Commit, "releases": Release,
                                 "contributors": Contributor, "issues": Issue, "pulls": PullRequest}
