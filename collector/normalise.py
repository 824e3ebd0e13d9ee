"""Vocabulary shared by the platforms' payload readers: issue and pull-request states, logins, first responses.

Every platform spells states differently (GitHub open/closed; Gitee open/progressing/closed/rejected and a pull
state ``merged``; GitCode opened/closed; GitLab opened/closed and locked/merged for merge requests). Records carry
one vocabulary: open/closed for issues, open/closed/merged for pulls.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable, Iterable

from collector.bots import BotRules

OPEN_STATES = frozenset({"open", "opened", "reopened", "progressing", "locked"})
"""Gitee's ``progressing`` is an open issue being worked on; GitLab's ``locked`` is a merge request being merged
right now (it ends merged or open again), so both count as open."""


def issue_state(raw: str | None) -> str:
    return "open" if (raw or "").lower() in OPEN_STATES else "closed"  # closed, rejected, ...


def pull_state(raw: str | None, merged_at: datetime | None) -> str:
    if merged_at is not None or (raw or "").lower() == "merged":
        return "merged"
    return issue_state(raw)


_NICKNAME = re.compile(r"\s*\(.*\)\s*$")


def plain_login(login: str | None) -> str | None:
    """GitCode writes some logins as ``"name(昵称)"``; the account is the part before the parenthesis."""
    if not login:
        return None
    return _NICKNAME.sub("", login) or None


def first_response(comments: Iterable[dict[str, Any]], author: str | None, bots: BotRules, *,
                   login: Callable[[dict[str, Any]], str | None], created: Callable[[dict[str, Any]], datetime | None],
                   account_type: Callable[[dict[str, Any]], str | None] = lambda c: None,
                   skip: Callable[[dict[str, Any]], bool] = lambda c: False) -> tuple[datetime | None, int]:
    """The earliest comment by someone other than ``author`` and not a bot, and how many comments counted
    (``skip`` drops entries that are not comments, e.g. GitLab's system notes)."""
    first: datetime | None = None
    count = 0
    for comment in comments:
        if skip(comment):
            continue
        count += 1
        who = login(comment)
        if who != author and not bots.is_bot(who, account_type=account_type(comment)):
            moment = created(comment)
            if moment is not None and (first is None or moment < first):
                first = moment
    return first, count
