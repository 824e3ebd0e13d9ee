"""The loopback HTTP server shared by every emulated platform.

The server does the platform-neutral mechanics once: routing by API prefix, per-token quota windows, fault
injection (5xx bursts, slow answers, truncated bodies, secondary limits, and the hostile server of the hardening
tests: redirects to another host, canned replies with any headers, headers overridden on real pages, bodies
trickling a byte at a time), ETag/Last-Modified with 304s that spend no quota, and a log of every request. The route
modules (``tests.emulator.github``, ``tests.emulator.gitee`` for Gitee and GitCode, ``tests.emulator.gitlab``) only
turn the model into payloads and say how a request authenticates.

Answers go out without Nagle's algorithm and with headers and body in one buffered write: a small header segment
followed by the body would otherwise wait for the client's delayed ACK (~40 ms per answer on Linux), and every
benchmark against the emulator would measure that wait instead of the collector.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Protocol

from tests.emulator.model import World


@dataclass
class Request:
    """What a route handler sees: the request with the platform prefix split off."""

    method: str
    path: str  # without the mount prefix, e.g. /repos/o/r/commits
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    prefix: str  # the mount prefix actually used, '' or '/api/v3'
    host: str  # host:port as the client addressed us

    @property
    def api_base(self) -> str:
        return f"http://{self.host}{self.prefix}"

    @property
    def web_base(self) -> str:
        return f"http://{self.host}"

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-able, or str for a raw body
    headers: dict[str, str] = field(default_factory=dict)
    spend: bool = True  # counts against the primary quota
    last_modified: Any = None  # datetime: enables Last-Modified / If-Modified-Since
    conditional: bool = True  # ETag + 304 support


class Platform(Protocol):
    """A route module mounted on the server (one per platform dialect)."""

    name: str
    prefixes: tuple[str, ...]

    def credential(self, request: Request) -> str | None: ...
    def handle(self, emulator: "Emulator", request: Request) -> Reply: ...
    def rate_headers(self, emulator: "Emulator", quota: "Quota | None") -> dict[str, str]: ...
    def rate_limited(self, emulator: "Emulator", request: Request, quota: "Quota") -> Reply: ...
    def secondary_limited(self, emulator: "Emulator", request: Request, retry_after: int | None) -> Reply: ...
    def unauthorised(self, emulator: "Emulator", request: Request) -> Reply: ...
    def is_free(self, request: Request) -> bool: ...


@dataclass
class Quota:
    """One token's primary rate-limit window."""

    limit: int
    window: float
    used: int = 0
    reset_at: float = 0.0

    def roll(self, now: float) -> None:
        if now >= self.reset_at:
            self.used = 0
            self.reset_at = float(int(now + self.window))

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


@dataclass
class Fault:
    """One injected misbehaviour, applied to the next ``times`` matching requests after ``skip`` of them.

    ``redirect``: answer ``status`` with ``Location: {location}{path?query}``; ``reply``: answer ``status`` with
    ``body`` and ``headers`` (spends no quota); ``headers``: serve the real page, then override ``headers`` (a None
    value removes one); ``trickle``: serve the real page one byte every ``seconds``."""

    kind: str  # status | delay | truncate | secondary | primary | redirect | reply | headers | trickle
    path: str = ""  # regex searched in the request path
    times: int = 1
    skip: int = 0
    status: int = 502
    seconds: float = 0.0
    retry_after: int | str | None = None
    headers: dict[str, str | None] = field(default_factory=dict)
    body: Any = None
    location: str = ""
    seen: int = 0


@dataclass
class LoggedRequest:
    method: str
    path: str  # full path as received, including the mount prefix
    query: dict[str, list[str]]
    status: int
    token_index: int | None  # index of the token in registration order; None when anonymous or unknown
    spent: bool  # whether this request used primary quota
    fault: str | None = None
    if_none_match: bool = False


class Emulator:
    """A threaded loopback server speaking the mounted platforms' REST dialects."""

    def __init__(self, world: World | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.world = world or World()
        self.clock = clock
        self.platforms: list[Platform] = []
        self.tokens: list[str] = []
        self.quotas: dict[str | None, Quota] = {}
        self.anonymous_limit = 60
        self.window_seconds = 3600.0
        self.faults: list[Fault] = []
        self.log: list[LoggedRequest] = []
        self.latency = 0.0  # seconds added to every response (benchmarks)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- set-up -------------------------------------------------------------------------------------
    def mount(self, platform: Platform) -> None:
        self.platforms.append(platform)
        self.platforms.sort(key=lambda p: -max(len(x) for x in p.prefixes))

    def platform(self, name: str) -> Platform:
        """The mounted route module called ``name`` (e.g. to read GitLab's count of 429s sent)."""
        return next(p for p in self.platforms if p.name == name)

    def add_token(self, value: str, *, limit: int = 5000, window: float | None = None) -> int:
        with self._lock:
            self.tokens.append(value)
            self.quotas[value] = Quota(limit=limit, window=window or self.window_seconds)
            return len(self.tokens) - 1

    def quota(self, token: str | None) -> Quota:
        with self._lock:
            if token not in self.quotas:
                self.quotas[token] = Quota(limit=self.anonymous_limit, window=self.window_seconds)
            quota = self.quotas[token]
            quota.roll(self.clock())
            return quota

    def set_remaining(self, token: str, remaining: int, *, reset_in: float | None = None) -> None:
        with self._lock:
            quota = self.quota(token)
            quota.used = quota.limit - remaining
            if reset_in is not None:
                quota.reset_at = float(int(self.clock() + reset_in))

    def inject(self, kind: str, *, path: str = "", times: int = 1, skip: int = 0, status: int = 502,
               seconds: float = 0.0, retry_after: int | str | None = None,
               headers: dict[str, str | None] | None = None, body: Any = None, location: str = "") -> Fault:
        fault = Fault(kind=kind, path=path, times=times, skip=skip, status=status, seconds=seconds,
                      retry_after=retry_after, headers=dict(headers or {}), body=body, location=location)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> "Emulator":
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None, "emulator not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request pipeline ---------------------------------------------------------------------------
    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times <= 0 or not re.search(fault.path, path):
                    continue
                fault.seen += 1
                if fault.seen <= fault.skip:
                    continue
                fault.times -= 1
                return fault
        return None

    def _token_index(self, token: str | None) -> int | None:
        if token is None:
            return None
        try:
            return self.tokens.index(token)
        except ValueError:
            return None

    def process(self, method: str, raw_path: str, headers: dict[str, str], host: str) -> tuple[Reply, Fault | None]:
        """Run one request through quota, faults, routing and conditional logic; log it; return the reply."""
        parts = urllib.parse.urlsplit(raw_path)
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        platform, prefix = self._platform_for(parts.path)
        request = Request(method=method, path=parts.path[len(prefix):] or "/", query=query, headers=headers,
                          prefix=prefix, host=host)
        token = platform.credential(request)
        token_index = self._token_index(token)
        fault = self._take_fault(parts.path)
        spent = False
        if token is not None and token not in self.quotas:
            reply = platform.unauthorised(self, request)
        elif fault is not None and fault.kind == "status":
            reply = Reply(status=fault.status, body=f"<html><body><h1>{fault.status} Bad Gateway</h1></body></html>",
                          headers={"content-type": "text/html"}, conditional=False)
        elif fault is not None and fault.kind == "secondary":
            reply = platform.secondary_limited(self, request, fault.retry_after)
        elif fault is not None and fault.kind == "redirect":
            reply = Reply(status=fault.status, body={"message": "Moved"}, conditional=False, spend=False,
                          headers={"location": fault.location + raw_path})
        elif fault is not None and fault.kind == "reply":
            reply = Reply(status=fault.status, body=fault.body, conditional=False, spend=False)
        else:
            quota = None if platform.is_free(request) else self.quota(token)
            if quota is not None and (quota.remaining == 0 or (fault is not None and fault.kind == "primary")):
                if fault is not None and fault.kind == "primary":
                    quota.used = quota.limit
                reply = platform.rate_limited(self, request, quota)
            else:
                reply = platform.handle(self, request)
                reply = self._conditional(request, reply)
                free_304 = getattr(platform, "free_not_modified", True)  # GitLab counts 304s too
                if quota is not None and reply.spend and (reply.status != 304 or not free_304):
                    with self._lock:
                        quota.used += 1
                        spent = True
        reply.headers.update(platform.rate_headers(self, None if token is not None and token not in self.quotas
                                                   else self.quota(token)))
        if fault is not None and fault.kind in ("reply", "headers"):  # the hostile server has the last word
            for name, value in fault.headers.items():
                if value is None:
                    reply.headers.pop(name, None)
                else:
                    reply.headers[name] = value
        with self._lock:
            logged_query = {k: (["***"] if k == "access_token" else v) for k, v in query.items()}
            self.log.append(LoggedRequest(method=method, path=parts.path, query=logged_query, status=reply.status,
                                          token_index=token_index, spent=spent,
                                          fault=fault.kind if fault else None,
                                          if_none_match="if-none-match" in headers))
        return reply, fault

    def _platform_for(self, path: str) -> tuple[Platform, str]:
        mounts = sorted(((p, x) for p in self.platforms for x in p.prefixes), key=lambda m: len(m[1]), reverse=True)
        for platform, prefix in mounts:  # the longest prefix wins, whichever platform owns it
            if prefix == "" or path == prefix or path.startswith(prefix + "/"):
                return platform, prefix
        raise LookupError(f"no platform mounted for {path}")

    @staticmethod
    def _conditional(request: Request, reply: Reply) -> Reply:
        if reply.status != 200 or not reply.conditional or reply.body is None:
            return reply
        text = reply.body if isinstance(reply.body, str) else json.dumps(reply.body, separators=(",", ":"))
        etag = 'W/"' + hashlib.sha1(text.encode()).hexdigest() + '"'
        reply.headers["etag"] = etag
        if reply.last_modified is not None:
            reply.headers["last-modified"] = format_datetime(reply.last_modified, usegmt=True)
        sent_etag = request.headers.get("if-none-match")
        since = request.headers.get("if-modified-since")
        not_modified = False
        if sent_etag is not None:
            not_modified = etag in [t.strip() for t in sent_etag.split(",")] or sent_etag.strip() == "*"
        elif since is not None and reply.last_modified is not None:
            try:
                not_modified = reply.last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
            except (TypeError, ValueError):
                not_modified = False
        if not_modified:
            headers = {k: v for k, v in reply.headers.items() if k in ("etag", "last-modified")}
            return Reply(status=304, body=None, headers=headers, spend=reply.spend)
        return reply


def _make_handler(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "mtx-emulator"
        disable_nagle_algorithm = True  # TCP_NODELAY on each connection
        wbufsize = -1  # buffered: headers and body leave together at the flush after each answer

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

        def do_GET(self) -> None:
            self._serve("GET")

        def do_HEAD(self) -> None:
            self._serve("HEAD")

        def _serve(self, method: str) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            host = headers.get("host") or f"127.0.0.1:{emulator.port}"
            try:
                reply, fault = emulator.process(method, self.path, headers, host)
            except Exception as exc:  # a bug in a route: answer 500 so the test sees it, and say why
                reply, fault = Reply(status=599, body={"message": f"emulator error: {exc!r}"}), None
            if emulator.latency:
                time.sleep(emulator.latency)
            if fault is not None and fault.kind == "delay":
                time.sleep(fault.seconds)
            if reply.body is None:
                payload = b""
            elif isinstance(reply.body, str):
                payload = reply.body.encode()
            else:
                payload = json.dumps(reply.body, separators=(",", ":")).encode()
                reply.headers.setdefault("content-type", "application/json; charset=utf-8")
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.status not in (204, 304):
                    self.send_header("content-length", str(len(payload)))
                self.end_headers()
                if method == "HEAD" or reply.status in (204, 304):
                    return
                if fault is not None and fault.kind == "trickle":
                    for i in range(len(payload)):
                        self.wfile.write(payload[i:i + 1])
                        self.wfile.flush()
                        time.sleep(fault.seconds)
                    return
                if fault is not None and fault.kind == "truncate":
                    self.wfile.write(payload[: max(len(payload) // 2, 1)])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True  # the client gave up (timeout): nothing to do

    return Handler
