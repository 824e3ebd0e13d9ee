"""The shared HTTP layer every platform collector goes through: one policy for retries, rate limits and tokens.

A platform supplies a ``send(credential) -> Response`` function built on its own client (PyGithub's requester,
python-gitlab, httpx) and raises :class:`TransientError` for timeouts, connection errors and truncated bodies.
:class:`Transport` then chooses the token, retries 5xx and transient failures with exponential backoff and jitter,
waits out rate limits (the platform's :mod:`collector.ratelimit` adapter reads the signals), stops with
:class:`QuotaExhausted` when a wait would exceed ``max_wait``, and counts what it did in :class:`RequestStats`.
Sleep and clock are injectable so tests never wait an hour.

Hardening (docs/security.md): a :class:`CredentialScope` names the origins a platform's tokens may reach and
refuses any redirect elsewhere; a rate limit without a usable reset time is backed off 60 s, doubling, at most
``max_unreset_waits`` times; every send runs under a whole-request deadline (:meth:`Transport.deadline`) that shuts
the client's sockets down, because a per-read timeout never fires on a body trickling one byte at a time.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import re
import socket
import threading
import time
import urllib.parse
import weakref
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

from collector.addresses import origin
from collector.errors import (OffHostRedirect, QuotaExhausted, RateLimitDidNotReset, RetriesExhausted, TokenRejected,
                              TransientError)
from collector.ratelimit import Quota, RateLimitRules, Verdict
from common.redaction import SecretScrubber, redact_url  # noqa: F401  (redact_url: collector.paging imports it here)

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
    """Knobs of the shared policy. ``max_wait`` bounds any single rate-limit wait (seconds); ``timeout`` is per
    connect/read, ``request_deadline`` covers one whole request, connect to last byte (real seconds)."""

    timeout: float = 30.0
    request_deadline: float = 120.0
    unreset_backoff: float = 60.0  # first wait when a limit names no usable wait or reset time; doubles each time
    max_unreset_waits: int = 5
    max_retries: int = 6
    backoff_base: float = 1.0
    backoff_cap: float = 120.0
    max_wait: float = 3600.0
    max_slowdowns: int = 10
    reset_margin: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    jitter: Callable[[], float] = random.random
    reservations: "QuotaReservations | None" = None  # a quota shared between processes (workers); None: this one only


class QuotaReservations(Protocol):
    """A token quota shared by several processes (``tracker.quota.SharedQuota`` keeps it in PostgreSQL).

    ``reserve`` is called before every send: None means one request is reserved, a number is the epoch time before
    which this token has nothing left (the transport then takes another token or waits). ``settle`` is called once
    per reservation after the send: ``refund`` for an answer that cost nothing (a free 304), ``quota`` what the
    answer's rate-limit headers said (None: no headers, or no answer at all)."""

    def reserve(self, platform: str, credential: "Credential", now: float) -> float | None: ...
    def settle(self, platform: str, credential: "Credential", now: float, *, refund: bool,
               quota: "Quota | None") -> None: ...


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
        return SecretScrubber(self.secrets)(text)


# -- links ----------------------------------------------------------------------------------------------
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^",;]+)"?')


def parse_link_header(value: str | None) -> dict[str, str]:
    """``{rel: url}`` from an RFC 8288 Link header (GitHub joins entries with ``", "``)."""
    return {rel.strip(): url for url, rel in _LINK.findall(value or "")}


# -- where credentials may go ---------------------------------------------------------------------------------


class CredentialScope:
    """The origins a platform's credentials may reach: its configured API host (later, for the git collector, the
    clone host too). Every request URL and every redirect hop is checked; anything else is an error, never data."""

    def __init__(self, platform: str, *urls: str) -> None:
        self.platform = platform
        self.origins = frozenset(o for o in map(origin, urls) if o is not None)

    def allows(self, url: str) -> bool:
        return origin(url) in self.origins

    def describe(self) -> str:
        return ", ".join(f"{s}://{h}:{p}" for s, h, p in sorted(self.origins)) or "nowhere"

    def check_url(self, url: str) -> None:
        """Refuse to send a request (and so a token) outside the scope (Link headers are followed, never built)."""
        if not self.allows(url):
            raise OffHostRedirect(self.platform, 0, redact_url(url), self.describe()) from None

    def check_redirect(self, status: int, from_url: str, location: str | None) -> None:
        """Called by a client before it would follow ``location``: raise unless it stays inside the scope."""
        if not location:
            return
        target = urllib.parse.urljoin(from_url, location)
        if not self.allows(target):
            raise OffHostRedirect(self.platform, status, redact_url(target), self.describe())

    def check_response(self, response: Response) -> None:
        """Every hop the client followed, and a 3xx it hands back, must point inside the scope."""
        for status, location in response.redirects:
            self.check_redirect(status, response.url, location)
        if 300 <= response.status < 400:
            self.check_redirect(response.status, response.url, response.headers.get("location"))


# -- whole-request deadlines ---------------------------------------------------------------------------------
class SocketWatch:
    """The sockets one client (one thread's connection pool) has opened. ``abort`` shuts them all down, which ends
    a read blocked on a trickling server at once; a socket opened after the abort is shut down as it arrives."""

    def __init__(self) -> None:
        self._sockets: "weakref.WeakSet[socket.socket]" = weakref.WeakSet()
        self._lock = threading.Lock()
        self.expired = False

    def add(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.add(sock)
            expired = self.expired
        if expired:
            _shutdown(sock)

    def abort(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def arm(self) -> None:
        with self._lock:
            self.expired = False


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def watched_requests_adapter(watch: SocketWatch, **kwargs: Any) -> Any:
    """A ``requests`` HTTPAdapter whose connections register their sockets with ``watch`` (PyGithub, python-gitlab)."""
    import requests.adapters
    import urllib3
    from urllib3.connection import HTTPConnection, HTTPSConnection

    def watched(base: type) -> type:
        class Watched(base):  # type: ignore[misc, valid-type]
            def connect(self) -> None:
                super().connect()
                watch.add(self.sock)
        return Watched

    pools = {"http": type("WatchedHTTPPool", (urllib3.HTTPConnectionPool,), {"ConnectionCls": watched(HTTPConnection)}),
             "https": type("WatchedHTTPSPool", (urllib3.HTTPSConnectionPool,),
                           {"ConnectionCls": watched(HTTPSConnection)})}

    class WatchedAdapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args: Any, **pool_kwargs: Any) -> None:
            super().init_poolmanager(*args, **pool_kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

    return WatchedAdapter(**kwargs)


def watched_httpx_transport(watch: SocketWatch, **kwargs: Any) -> Any:
    """An ``httpx.HTTPTransport`` whose connections register their sockets with ``watch`` (Gitee, GitCode)."""
    import httpcore
    import httpx

    class WatchedBackend(httpcore.SyncBackend):
        def connect_tcp(self, *args: Any, **kw: Any) -> Any:
            stream = super().connect_tcp(*args, **kw)
            watch.add(stream.get_extra_info("socket"))
            return stream

    transport = httpx.HTTPTransport(**kwargs)
    pool = transport._pool  # httpx takes no network backend; its pool does (checked by the hardening tests)
    if not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpx/httpcore changed: cannot enforce request deadlines")
    pool._network_backend = WatchedBackend()
    return transport


class _Deadline:
    """Arms a timer that aborts ``watch`` after ``seconds``; any outcome of a request cut short becomes one clear
    :class:`TransientError` (retried like a timeout)."""

    def __init__(self, watch: SocketWatch, seconds: float, what: str) -> None:
        self.watch, self.seconds, self.what = watch, seconds, what

    def __enter__(self) -> "_Deadline":
        self.watch.arm()
        self.timer = threading.Timer(self.seconds, self.watch.abort)
        self.timer.daemon = True
        self.timer.start()
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        self.timer.cancel()
        expired = self.watch.expired
        self.watch.arm()
        if expired:
            raise TransientError(f"{self.what}: no complete answer within the request deadline of "
                                 f"{self.seconds:g} s") from None
        return False


# -- the transport ----------------------------------------------------------------------------------------
Send = Callable[[Credential], Response]


class Transport:
    """Runs requests for one platform under the shared policy. Thread-safe; share one per platform and run."""

    def __init__(self, rules: RateLimitRules, pool: TokenPool, settings: HttpSettings = HttpSettings(),
                 scope: CredentialScope | None = None) -> None:
        self.rules = rules
        self.pool = pool
        self.settings = settings
        self.platform = rules.platform
        self.scope = scope

    def deadline(self, watch: SocketWatch, what: str) -> _Deadline:
        """``with transport.deadline(watch, "GET /x"): client.get(...)`` — the whole request within
        ``request_deadline`` seconds, connect to last byte, whatever the client library."""
        return _Deadline(watch, self.settings.request_deadline, what)

    def _unreset_wait(self, count: int) -> float:
        """60 s, 120 s, 240 s ... for a limit without a usable reset time, never more than ``max_wait``."""
        s = self.settings
        return min(s.unreset_backoff * 2 ** (count - 1), s.max_wait)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: base * 2^(attempt-1), capped, scaled by a random 0.5..1.0."""
        s = self.settings
        return min(s.backoff_cap, s.backoff_base * 2 ** max(attempt - 1, 0)) * (0.5 + s.jitter() / 2)

    def _wait(self, seconds: float, stats: "RequestStats", reason: str, *, rate_limit: bool) -> None:
        if not math.isfinite(seconds) or seconds < 0:  # never reached with parsed headers; never NaN in stats
            seconds = self.settings.unreset_backoff
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
        unreset = 0  # limits that named no usable reset time, for this request
        unreset_seconds = 0.0
        while True:
            chosen = credential or self.pool.pick()
            if not isinstance(chosen, Credential):
                wait = max(chosen - self.settings.clock(), 0.0) + self.settings.reset_margin
                self._wait(wait, stats, "every token has used its quota", rate_limit=True)
                continue
            ledger = self.settings.reservations
            if ledger is not None:
                spent_until = ledger.reserve(self.platform, chosen, self.settings.clock())
                if spent_until is not None:  # the token's shared quota is used up: another token, or wait
                    self.pool.mark_spent(chosen, spent_until)
                    if credential is not None:
                        self._wait(max(spent_until - self.settings.clock(), 0.0) + self.settings.reset_margin, stats,
                                   "the pinned token's shared quota is used up", rate_limit=True)
                    continue
            stats.requests += 1
            try:
                response = send(chosen)
            except TransientError as exc:
                if ledger is not None:  # it may have reached the server: the reservation stays spent
                    ledger.settle(self.platform, chosen, self.settings.clock(), refund=False, quota=None)
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
            if ledger is not None:
                ledger.settle(self.platform, chosen, now, quota=quota, refund=response.status == 304
                              and getattr(self.rules, "free_not_modified", False))
            if self.scope is not None:
                self.scope.check_response(response)
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
                reset_at = decision.reset_at
                if reset_at is None or reset_at <= now:  # missing or already past: back off, bounded
                    unreset += 1
                    if unreset > self.settings.max_unreset_waits:
                        raise RateLimitDidNotReset(self.platform, what, unreset - 1, unreset_seconds)
                    wait = self._unreset_wait(unreset)
                    unreset_seconds += wait
                    reset_at = now + wait - self.settings.reset_margin  # the wait for it adds the margin back
                self.pool.mark_spent(chosen, reset_at)
                log.info("%s: token $%s has used its quota", self.platform, chosen.env_var or "anonymous")
                if credential is not None:  # pinned: wait for this very token
                    self._wait(max(reset_at - now, 0) + self.settings.reset_margin,
                               stats, "the pinned token has used its quota", rate_limit=True)
                continue
            if decision.verdict is Verdict.SLOW_DOWN:
                slowdowns += 1
                if slowdowns > self.settings.max_slowdowns:
                    raise RetriesExhausted(f"{self.platform}: {what} still rate limited after {slowdowns - 1} waits")
                wait = decision.wait
                if wait is None:  # no usable Retry-After / reset: back off 60 s doubling, a bounded number of times
                    unreset += 1
                    if unreset > self.settings.max_unreset_waits:
                        raise RateLimitDidNotReset(self.platform, what, unreset - 1, unreset_seconds)
                    wait = self._unreset_wait(unreset)
                    unreset_seconds += wait
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
