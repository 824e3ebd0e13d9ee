"""Exceptions the collectors raise. Messages name environment variables, never token values."""

from __future__ import annotations


class CollectorError(Exception):
    """Base class: anything a collector raises on purpose."""


class TokenRejected(CollectorError):
    """HTTP 401: the token in ``env_var`` is wrong, expired or revoked."""

    def __init__(self, platform: str, env_var: str | None, status: int = 401) -> None:
        self.platform, self.env_var, self.status = platform, env_var, status
        where = f"the token in ${env_var}" if env_var else "the anonymous request (no token configured)"
        super().__init__(f"{platform}: HTTP {status} for {where}; check, renew or remove that variable")


class QuotaExhausted(CollectorError):
    """Every token is spent (or the platform asks us to wait) longer than ``max_wait`` allows."""

    def __init__(self, platform: str, wait: float, max_wait: float, env_vars: list[str | None]) -> None:
        self.platform, self.wait, self.max_wait = platform, wait, max_wait
        names = ", ".join(f"${v}" if v else "anonymous" for v in env_vars) or "no tokens"
        super().__init__(f"{platform}: rate limit reached on {names}; the next reset is in {wait:.0f} s, "
                         f"more than max_wait {max_wait:.0f} s — stopping (add tokens or raise --max-wait)")


class TransientError(CollectorError):
    """A failure worth retrying: timeout, refused or reset connection, truncated or garbled body."""


class RetriesExhausted(CollectorError):
    """A request kept failing after every retry."""


class ApiError(CollectorError):
    """An answer the collector cannot use (unexpected status, off-host link, malformed payload)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class OffHostRedirect(ApiError):
    """The server redirected to an origin the platform's credentials may not reach: refused, never followed with
    a token and never taken as data."""

    def __init__(self, platform: str, status: int, target: str, allowed: str) -> None:
        self.platform, self.target = platform, target
        what = f"HTTP {status} redirect" if status else "link"
        super().__init__(f"{platform}: {what} to {target} refused: credentials for {platform} go "
                         f"only to {allowed} (check api_url; nothing from that answer was kept)", status or None)


class PaginationLoop(ApiError):
    """A list whose next page was already fetched in this pass, or is not a valid page: it would never end."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(f"pagination loop at {url}: {reason}")


class StreamPartial(CollectorError):
    """A stream reached ``collection.max_pages_per_stream``: the pages so far are stored with a bookmark that
    resumes the list on the next run."""

    def __init__(self, stream: str, pages: int) -> None:
        self.stream, self.pages = stream, pages
        super().__init__(f"stream {stream} stopped after {pages} pages (collection.max_pages_per_stream); "
                         "stored so far, its bookmark resumes it on the next run")


class RateLimitDidNotReset(CollectorError):
    """A rate limit still held after every bounded back-off (the server gave no usable reset time)."""

    def __init__(self, platform: str, what: str, waits: int, seconds: float) -> None:
        super().__init__(f"{platform}: rate limit did not reset on {what} after {waits} waits ({seconds:.0f} s in "
                         "all; the server sent no usable reset time) — stopping this repository")


class InvalidRepositoryPath(CollectorError):
    """A repository path the platform cannot have (``..``, ``%2e``, empty segments, other characters)."""

    def __init__(self, platform: str, path: str, reason: str) -> None:
        self.platform, self.path = platform, path
        super().__init__(f"{platform}: refusing repository path {path!r}: {reason}; no request was sent")
