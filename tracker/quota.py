"""A token quota shared by every worker, kept in PostgreSQL (`mtx worker`; single-process `mtx collect` never uses it).

One row per token in ``mtx_token_quota``, keyed by the SHA-256 of the token's value (the value itself is never
stored). Before a request a worker *reserves* one unit (an atomic ``UPDATE … WHERE remaining > 0``); after it, it
*settles*: a free 304 gives the unit back, and the answer's rate-limit headers correct the count. Within a window the
count only goes down: the headers are lowered further by the reservations other workers hold (in flight, perhaps
not yet counted by the server), so N workers together never send more than the server allows. A new window (a later
reset time in the headers, or the stored reset passed) starts again from the limit minus what is in flight.

Platforms that send no rate-limit headers (Gitee) get a configured quota per token and window
(``platforms.<name>.quota`` in communities.yaml): the window starts with the token's first request.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import text

from tracker import db as dbm

log = logging.getLogger("mtx.quota")

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS mtx_token_quota (
    token_hash text PRIMARY KEY,            -- sha256 of the token value (anonymous:<platform> without a token)
    platform text NOT NULL,
    env_var text,                           -- the variable it came from, for people reading the table
    remaining integer,                      -- NULL: not known yet
    quota_limit integer,
    reset_at double precision,              -- epoch seconds; NULL: unknown
    window_seconds double precision,        -- set for a configured quota (platforms without headers)
    in_flight integer NOT NULL DEFAULT 0,   -- reservations not yet settled
    updated_at timestamptz NOT NULL DEFAULT now()
)
"""
ROLL_MARGIN = 1.0  # seconds after a reset before a new window is assumed (clock skew)
UNKNOWN_RESET = 5.0  # seconds to wait when a spent token names no reset time


@dataclass(frozen=True)
class ConfiguredQuota:
    requests: int
    window_seconds: float


def token_key(platform: str, value: str | None) -> str:
    if not value:
        return f"anonymous:{platform}"
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class SharedQuota:
    """``collector.http.QuotaReservations`` on PostgreSQL. Thread-safe (one short transaction per call)."""

    def __init__(self, url: str, configured: dict[str, ConfiguredQuota] | None = None) -> None:
        self.url = url
        self.configured = dict(configured or {})
        self.engine = dbm.get_engine(url)
        self._known: set[str] = set()  # rows this process has made sure exist

    def reserve(self, platform: str, credential, now: float) -> float | None:
        key = token_key(platform, credential.value)
        fixed = self.configured.get(platform)
        rolled = "(quota_limit IS NOT NULL AND reset_at IS NOT NULL AND reset_at + :margin <= :now)"
        with self.engine.begin() as conn:
            if key not in self._known:
                conn.execute(text(
                    "INSERT INTO mtx_token_quota (token_hash, platform, env_var, remaining, quota_limit, reset_at, "
                    "window_seconds) VALUES (:k, :p, :v, :limit, :limit, :reset, :window) "
                    "ON CONFLICT (token_hash) DO NOTHING"),
                    {"k": key, "p": platform, "v": credential.env_var, "limit": fixed.requests if fixed else None,
                     "reset": now + fixed.window_seconds if fixed else None,
                     "window": fixed.window_seconds if fixed else None})
                self._known.add(key)
            # one statement: a window that is over starts again from the limit; then one unit is taken, if any
            got = conn.execute(text(
                f"UPDATE mtx_token_quota SET "
                f"remaining = CASE WHEN {rolled} THEN quota_limit - in_flight ELSE remaining END - 1, "
                f"reset_at = CASE WHEN {rolled} THEN (CASE WHEN window_seconds IS NULL THEN NULL "
                f"  ELSE :now + window_seconds END) ELSE reset_at END, "
                f"in_flight = in_flight + 1, updated_at = now() "
                f"WHERE token_hash = :k AND CASE WHEN {rolled} THEN quota_limit - in_flight "
                f"  ELSE COALESCE(remaining, 1) END > 0 RETURNING remaining"),
                {"k": key, "now": now, "margin": ROLL_MARGIN}).first()
            if got is not None:
                return None
            reset_at = conn.execute(text("SELECT reset_at FROM mtx_token_quota WHERE token_hash = :k"),
                                    {"k": key}).scalar()
        return (reset_at + ROLL_MARGIN) if reset_at is not None and reset_at > now else now + UNKNOWN_RESET

    def settle(self, platform: str, credential, now: float, *, refund: bool, quota) -> None:
        key = token_key(platform, credential.value)
        seen = quota is not None and quota.remaining is not None
        new_window = ("(:headers AND window_seconds IS NULL AND CAST(:h_reset AS double precision) IS NOT NULL "
                      "AND (reset_at IS NULL OR CAST(:h_reset AS double precision) > reset_at + 0.5))")
        others = "GREATEST(in_flight - 1, 0)"
        with self.engine.begin() as conn:
            conn.execute(text(
                "UPDATE mtx_token_quota SET in_flight = GREATEST(in_flight - 1, 0), remaining = CASE "
                f"WHEN {new_window} THEN CAST(:h_remaining AS integer) - {others} "
                "WHEN NOT :headers OR window_seconds IS NOT NULL THEN "
                "  LEAST(remaining + :refund, COALESCE(quota_limit, remaining + :refund)) "
                f"ELSE LEAST(COALESCE(remaining + :refund, CAST(:h_remaining AS integer)), "
                f"  CAST(:h_remaining AS integer) - {others}) END, "
                f"reset_at = CASE WHEN {new_window} THEN CAST(:h_reset AS double precision) ELSE reset_at END, "
                "quota_limit = CASE WHEN window_seconds IS NULL THEN COALESCE(CAST(:h_limit AS integer), quota_limit) "
                "ELSE quota_limit END, updated_at = now() WHERE token_hash = :k"),
                {"k": key, "headers": seen, "refund": 1 if refund else 0,
                 "h_remaining": quota.remaining if seen else None, "h_limit": quota.limit if seen else None,
                 "h_reset": quota.reset_at if seen else None})


def ensure_table(conn) -> None:
    conn.execute(text(TABLE_SQL))


def quota_rows(url: str) -> list[dict]:
    """What `mtx status --jobs` shows per token: platform, variable, remaining, limit, reset (never the token)."""
    with dbm.get_engine(url).connect() as conn:
        return [dict(row._mapping) for row in conn.execute(text(
            "SELECT platform, env_var, remaining, quota_limit, reset_at, in_flight FROM mtx_token_quota "
            "ORDER BY platform, env_var"))]
