"""The queue's own schema (procrastinate's tables and functions) and ours beside it (token quota, worker hosts).

Applied by `mtx init` on PostgreSQL, outside the Alembic migrations (procrastinate versions its schema itself;
tests/foundation/test_schema.py leaves these tables out of the drift check). Applying it twice changes nothing.
"""
from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from tracker import db as dbm

WORKERS_SQL = """
CREATE TABLE IF NOT EXISTS mtx_queue_workers (
    worker_id bigint PRIMARY KEY,           -- procrastinate_workers.id
    host text NOT NULL,
    pid integer NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT now()
)
"""
OUR_TABLES = ("mtx_token_quota", "mtx_queue_workers")


def is_postgres(url: str) -> bool:
    return make_url(dbm.normalise_url(url)).get_backend_name() == "postgresql"


def queue_installed() -> bool:
    try:
        import procrastinate  # noqa: F401
    except ImportError:
        return False
    return True


def has_queue_schema(url: str) -> bool:
    if not is_postgres(url):
        return False
    with dbm.get_engine(url).connect() as conn:
        return inspect(conn).has_table("procrastinate_jobs") and inspect(conn).has_table("mtx_token_quota")


def apply_queue_schema(url: str) -> bool:
    """Create the queue's schema if missing; True when something was created."""
    from procrastinate.schema import SchemaManager

    from tracker.quota import ensure_table

    engine = dbm.get_engine(url)
    with engine.connect() as conn:
        present = inspect(conn).has_table("procrastinate_jobs")
        ours = all(inspect(conn).has_table(t) for t in OUR_TABLES)
    if present and ours:
        return False
    with engine.begin() as conn:
        if not present:
            conn.connection.cursor().execute(SchemaManager.get_schema())  # no parameters: '%' stays literal
        ensure_table(conn)
        conn.execute(text(WORKERS_SQL))
    return True
