"""The shared HTTP layer every platform collector goes through: one policy for retries, rate limits and tokens.

A platform supplies a ``send(credential) -> Response`` function built on its own client (PyGithub's requester,
python-gitlab, httpx) and raises :class:`TransientError` for timeouts, connection errors and truncated bodies.
:class:`Transport` then chooses the token, retries 5xx and transient failures with exponential backoff and jitter,
waits out rate limits (the platform's :mod:`collector.ratelimit` adapter reads the signals), stops with
:class:`QuotaExhausted` when a wait would exceed ``max_wait``, and counts what it did in :class:`RequestStats`.
Sleep and clock are injectable so tests never wait an hour.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Iterable, Mapping, Sequence

from collector.errors import QuotaExhausted, RetriesExhausted, TokenRejected, TransientError
from collector.ratelimit import RateLimitRules, Verdict

log = logging.getLogger("collector.http")


# -- responses and statistics -------------------------------------------------------------------------
@dataclass
class Response:
    """A finished HTTP exchange. ``headers`` have lower-case names; ``redirects`` lists (status, location) hops."""

    status: int
    headers: Mapping[str, str]
    text: str
    url: str
    redirects: tuple[tuple[int, str], ...] = ()
    _data: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    def json(self) -> Any:
        if not self._parsed:
            self._data = json.loads(self.text) if self.text else None
            self._parsed = True
        return self._data


@dataclass
class RequestStats:
    """What one fetch cost: HTTP requests sent, 304s among them, retries, rate-limit waits and their seconds."""

    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    waited_seconds: float = 0.0

    def add(self, other: "RequestStats") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class HttpSettings:
    """Knobs of the shared policy. ``max_wait`` bounds any single rate-limit wait (seconds)."""

    timeout: float = 30.0
    max_retries: int = 6
    backoff_base: float = 1.0
    backoff_cap: float = 120.0
    max_wait: float = 3600.0
    secondary_min_wait: float = 60.0
    max_slowdowns: int = 10
    reset_margin: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    jitter: Callable[[], float] = random.random


# -- tokens ---------------------------------------------------------------------------------------------
class Credential:
    """One token of a pool with what we last learnt of its quota. ``repr`` never shows the value."""

    __slots__ = ("env_var", "_value", "remaining", "limit", "reset_at")

    def __init__(self, env_var: str | None, value: str | None) -> None:
        self.env_var = env_var
        self._value = value
        self.remaining: int | None = None  # None: not known yet
        self.limit: int | None = None
        self.reset_at: float | None = None

    @property
    def value(self) -> str | None:
        return self._value

    def __repr__(self) -> str:
        return f"Credential(${self.env_var or 'anonymous'}, remaining={self.remaining})"

    __str__ = __repr__


class TokenPool:
    """The tokens of one platform. ``pick`` returns the one with the most quota left (unknown counts as full)."""

    def __init__(self, platform: str, tokens: Iterable[tuple[str, str]] = (), *,
                 clock: Callable[[], float] = time.time) -> None:
        self.platform = platform
        self._clock = clock
        self._lock = threading.Lock()
        self.credentials = [Credential(name, value) for name, value in tokens if value]
        if not self.credentials:
            self.credentials = [Credential(None, None)]

    @classmethod
    def from_env(cls, platform: str, names: Sequence[str], environ: Mapping[str, str] = os.environ,
                 **kwargs: Any) -> "TokenPool":
        """Tokens from the named environment variables (missing or empty ones are skipped)."""
        return cls(platform, [(n, environ[n]) for n in names if environ.get(n)], **kwargs)

    @property
    def secrets(self) -> list[str]:
        return [c.value for c in self.credentials if c.value]

    def _usable(self, credential: Credential, now: float) -> bool:
        if credential.remaining is None or credential.remaining > 0:
            return True
        if credential.reset_at is not None and now >= credential.reset_at:
            credential.remaining = None  # a new window has begun
            return True
        return False

    def pick(self) -> Credential | float:
        """The best usable credential, or (all spent) the epoch time of the earliest reset."""
        with self._lock:
            now = self._clock()
            usable = [c for c in self.credentials if self._usable(c, now)]
            if usable:
                best = max(usable, key=lambda c: float("inf") if c.remaining is None else c.remaining)
                if best.remaining is not None:
                    best.remaining -= 1  # reserve, so concurrent callers spread over tokens
                return best
            resets = [c.reset_at for c in self.credentials if c.reset_at is not None]
            return min(resets) if resets else now + 60.0

    def observe(self, credential: Credential, remaining: int | None, limit: int | None,
                reset_at: float | None) -> None:
        with self._lock:
            if remaining is not None:
                credential.remaining = remaining
            if limit is not None:
                credential.limit = limit
            if reset_at is not None:
                credential.reset_at = reset_at

    def mark_spent(self, credential: Credential, reset_at: float | None) -> None:
        with self._lock:
            credential.remaining = 0
            credential.reset_at = reset_at if reset_at is not None else self._clock() + 60.0

    def needs_probe(self) -> list[Credential]:
        """Credentials whose quota we have not learnt yet (a free ``/rate_limit`` call tells it on GitHub)."""
        with self._lock:
            return [c for c in self.credentials if c.value and c.remaining is None and c.reset_at is None]

    def scrub(self, text: str) -> str:
        """Replace any token value in ``text`` (exception texts of client libraries can quote URLs)."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


_SECRET_PARAMS = re.compile(r"(?i)^(access_token|private_token|token|client_secret)$")


def redact_url(url: str) -> str:
    """The URL with token-bearing query parameters masked (Gitee and GitCode take ``access_token`` in the query)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.query:
        return url
    query = [(k, "***" if _SECRET_PARAMS.match(k) else v)
             for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, safe="*")))


# -- links ----------------------------------------------------------------------------------------------
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^",;]+)"?')


def parse_link_header(value: str | None) -> dict[str, str]:
    """``{rel: url}`` from an RFC 8288 Link header (GitHub joins entries with ``", "``)."""
    return {rel.strip(): url for url, rel in _LINK.findall(value or "")}


# -- the transport ----------------------------------------------------------------------------------------
Send = Callable[[Credential], Response]


class Transport:
    """Runs requests for one platform under the shared policy. Thread-safe; share one per platform and run."""

    def __init__(self, rules: RateLimitRules, pool: TokenPool, settings: HttpSettings = HttpSettings()) -> None:
        self.rules = rules
        self.pool = pool
        self.settings = settings
        self.platform = rules.platform

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: base * 2^(attempt-1), capped, scaled by a random 0.5..1.0."""
        s = self.settings
        return min(s.backoff_cap, s.backoff_base * 2 ** max(attempt - 1, 0)) * (0.5 + s.jitter() / 2)

    def _wait(self, seconds: float, stats: "RequestStats", reason: str, *, rate_limit: bool) -> None:
        if seconds > self.settings.max_wait:
            raise QuotaExhausted(self.platform, seconds, self.settings.max_wait,
                                 [c.env_var for c in self.pool.credentials])
        if rate_limit:
            stats.rate_limit_waits += 1
            stats.waited_seconds += seconds
            log.info("%s: %s; waiting %.1f s", self.platform, reason, seconds)
        self.settings.sleep(seconds)

    def request(self, send: Send, stats: RequestStats, *, what: str = "request",
                credential: Credential | None = None) -> Response:
        """Send until a usable answer: 2xx/3xx/4xx (except limits and 401) or 304 are returned to the caller.

        ``credential`` pins the token (quota probes). ``what`` names the request in logs (no secrets in it).
        """
        failures = 0
        slowdowns = 0
        while True:
            chosen = credential or self.pool.pick()
            if not isinstance(chosen, Credential):
                wait = max(chosen - self.settings.clock(), 0.0) + self.settings.reset_margin
                self._wait(wait, stats, "every token has used its quota", rate_limit=True)
                continue
            stats.requests += 1
            try:
                response = send(chosen)
            except TransientError as exc:
                failures += 1
                if failures > self.settings.max_retries:
                    raise RetriesExhausted(f"{self.platform}: {what} failed {failures} times; last: "
                                           f"{self.pool.scrub(str(exc))}") from None
                stats.retries += 1
                delay = self.backoff(failures)
                log.info("%s: %s: %s; retry %d in %.1f s", self.platform, what, self.pool.scrub(str(exc)),
                         failures, delay)
                self.settings.sleep(delay)
                continue
            now = self.settings.clock()
            quota = self.rules.quota(response, now)
            if quota is not None:
                self.pool.observe(chosen, quota.remaining, quota.limit, quota.reset_at)
            decision = self.rules.decide(response, now)
            if decision.verdict is Verdict.NOT_MODIFIED:
                stats.not_modified += 1
                return response
            if decision.verdict is Verdict.OK:
                return response
            if decision.verdict is Verdict.UNAUTHORISED:
                raise TokenRejected(self.platform, chosen.env_var, response.status)
            if decision.verdict is Verdict.TOKEN_SPENT:
                self.pool.mark_spent(chosen, decision.reset_at)
                log.info("%s: token $%s has used its quota", self.platform, chosen.env_var or "anonymous")
                if credential is not None:  # pinned: wait for this very token
                    self._wait(max((decision.reset_at or now + 60) - now, 0) + self.settings.reset_margin,
                               stats, "the pinned token has used its quota", rate_limit=True)
                continue
            if decision.verdict is Verdict.SLOW_DOWN:
                slowdowns += 1
                if slowdowns > self.settings.max_slowdowns:
                    raise RetriesExhausted(f"{self.platform}: {what} still rate limited after {slowdowns - 1} waits")
                wait = decision.wait
                if wait is None:
                    wait = max(self.settings.secondary_min_wait, self.backoff(slowdowns))
                self._wait(wait, stats, f"{decision.reason} on {what}", rate_limit=True)
                continue
            # SERVER_ERROR
            failures += 1
            if failures > self.settings.max_retries:
                raise RetriesExhausted(f"{self.platform}: {what} answered {decision.reason} {failures} times")
            stats.retries += 1
            delay = self.backoff(failures)
            log.info("%s: %s answered %s; retry %d in %.1f s", self.platform, what, decision.reason, failures, delay)
            self.settings.sleep(delay)
