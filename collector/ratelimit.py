"""Per-platform readings of rate-limit signals, behind one small interface the shared HTTP layer uses.

Each platform says "slow down" differently (GitHub 403/429 with ``x-ratelimit-remaining: 0`` or the words
"secondary rate limit"; GitLab 429 with ``RateLimit-*``/``Retry-After``; Gitee and GitCode bare 403/429).
An adapter turns a response into one :class:`Decision`; the policy (waiting, token choice) lives in ``http``.

Headers are read defensively: ``nan``, ``inf``, negative numbers, an HTTP date in the past or garbage are "no
value", and a reset time already past is "no reset"; the policy then backs off (bounded) instead of crashing or
retrying at once. A :class:`Decision` never carries a wait that is not a positive finite number of seconds.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Mapping, Protocol


class Verdict(enum.Enum):
    OK = "ok"  # hand the response to the caller (2xx, 3xx, most 4xx)
    NOT_MODIFIED = "not_modified"  # 304: the cached copy is current
    TOKEN_SPENT = "token_spent"  # primary quota of this token is used up until reset_at
    SLOW_DOWN = "slow_down"  # secondary/abuse limit: wait (``wait`` seconds if the server said)
    SERVER_ERROR = "server_error"  # 5xx: retry with backoff
    UNAUTHORISED = "unauthorised"  # 401: the token is bad


@dataclass(frozen=True)
class Quota:
    remaining: int | None
    limit: int | None
    reset_at: float | None  # epoch seconds


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    wait: float | None = None
    reset_at: float | None = None
    reason: str = ""


class ResponseLike(Protocol):
    status: int
    headers: Mapping[str, str]
    text: str


class RateLimitRules(Protocol):
    platform: str
    # optional ``free_not_modified: bool``: a 304 costs no quota (GitHub); absent means it may (GitLab counts them)

    def quota(self, response: ResponseLike, now: float) -> Quota | None: ...
    def decide(self, response: ResponseLike, now: float) -> Decision: ...


def _number(headers: Mapping[str, str], name: str) -> float | None:
    """A finite, non-negative number from a header, else None (``nan``, ``inf``, ``-5``, garbage, absent)."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _future(seconds: float | None) -> float | None:
    return seconds if seconds is not None and seconds > 0 else None


def _retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None unless in the future."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    seconds = _number(headers, "retry-after")
    if seconds is None:
        try:
            seconds = parsedate_to_datetime(str(raw).strip()).timestamp() - now
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return _future(seconds if math.isfinite(seconds) else None)


def _until(reset: float | None, now: float) -> float | None:
    """Seconds until an epoch reset time; None when absent or already past."""
    return _future(reset - now) if reset is not None else None


def _common(response: ResponseLike) -> Decision | None:
    if response.status == 304:
        return Decision(Verdict.NOT_MODIFIED)
    if response.status == 401:
        return Decision(Verdict.UNAUTHORISED)
    if response.status >= 500:
        return Decision(Verdict.SERVER_ERROR, reason=f"HTTP {response.status}")
    return None


class GitHubRules:
    """GitHub: primary limit 403/429 with remaining 0 until ``x-ratelimit-reset``; secondary limit by text or
    ``retry-after`` (wait that, else at least a minute)."""

    platform = "github"
    free_not_modified = True  # a 304 answer to a conditional request costs no quota

    def quota(self, response: ResponseLike, now: float) -> Quota | None:
        remaining = _number(response.headers, "x-ratelimit-remaining")
        if remaining is None:
            return None
        limit = _number(response.headers, "x-ratelimit-limit")
        reset = _number(response.headers, "x-ratelimit-reset")
        return Quota(int(remaining), int(limit) if limit is not None else None, reset)

    def decide(self, response: ResponseLike, now: float) -> Decision:
        common = _common(response)
        if common:
            return common
        if response.status in (403, 429):
            text = (response.text or "").lower()
            retry_after = _retry_after(response.headers, now)
            if "secondary rate limit" in text or "abuse" in text:
                return Decision(Verdict.SLOW_DOWN, wait=retry_after, reason="secondary rate limit")
            if _number(response.headers, "x-ratelimit-remaining") == 0:
                reset = _number(response.headers, "x-ratelimit-reset")
                return Decision(Verdict.TOKEN_SPENT, reset_at=reset if _until(reset, now) else None,
                                reason="primary rate limit")
            if retry_after is not None or response.status == 429:
                return Decision(Verdict.SLOW_DOWN, wait=retry_after, reason=f"HTTP {response.status}")
        return Decision(Verdict.OK)


class GitLabRules:
    """GitLab: 429 with ``RateLimit-Remaining/Reset`` and usually ``Retry-After`` (sometimes missing)."""

    platform = "gitlab"

    def quota(self, response: ResponseLike, now: float) -> Quota | None:
        remaining = _number(response.headers, "ratelimit-remaining")
        if remaining is None:
            return None
        limit = _number(response.headers, "ratelimit-limit")
        return Quota(int(remaining), int(limit) if limit is not None else None,
                     _number(response.headers, "ratelimit-reset"))

    def decide(self, response: ResponseLike, now: float) -> Decision:
        common = _common(response)
        if common:
            return common
        if response.status == 429:
            wait = _retry_after(response.headers, now)
            if wait is None:
                wait = _until(_number(response.headers, "ratelimit-reset"), now)
            return Decision(Verdict.SLOW_DOWN, wait=wait, reason="HTTP 429")
        return Decision(Verdict.OK)


class GiteeRules:
    """Gitee and GitCode: limits undocumented; 429, or 403 whose text speaks of limits/frequency, means wait
    (``retry-after`` if sent, else until ``x-ratelimit-reset`` when the window is spent, else backoff).
    ``x-ratelimit-*`` is read when present (GitCode sends it; Gitee sends nothing)."""

    platform = "gitee"
    _WORDS = ("rate limit", "too many", "frequency", "频繁", "限流", "超出")

    def __init__(self, platform: str = "gitee") -> None:
        self.platform = platform

    def quota(self, response: ResponseLike, now: float) -> Quota | None:
        return GitHubRules().quota(response, now)

    def decide(self, response: ResponseLike, now: float) -> Decision:
        common = _common(response)
        if common:
            return common
        text = (response.text or "").lower()
        if response.status == 429 or (response.status == 403 and any(w in text for w in self._WORDS)):
            wait = _retry_after(response.headers, now)
            if wait is None and _number(response.headers, "x-ratelimit-remaining") == 0:
                # GitCode says when its window ends: wait exactly that
                wait = _until(_number(response.headers, "x-ratelimit-reset"), now)
            return Decision(Verdict.SLOW_DOWN, wait=wait, reason=f"HTTP {response.status}")
        return Decision(Verdict.OK)


RULES: dict[str, RateLimitRules] = {"github": GitHubRules(), "gitlab": GitLabRules(), "gitee": GiteeRules("gitee"),
                                    "gitcode": GiteeRules("gitcode")}
