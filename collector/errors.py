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
