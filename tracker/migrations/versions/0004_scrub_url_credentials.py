"""scrub credentials from stored URLs

Before `config check` refused them, a URL such as https://user:token@github.com/x/y in communities.yaml was stored in
repositories, communities and the append-only audit log. This removes the user name and password from every stored
URL: in repositories and communities (and the links and bookmarks derived from them) the credential is dropped; in
audit_log it is replaced by *** under a trigger lifted for this migration only, and one audit entry records what was
redacted (ids and counts, never the credential). The only sanctioned change to the audit log.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tracker.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# scheme://userinfo@ -- the userinfo runs to the last @ before the path, whitespace or a quote
CREDENTIALS = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s'\"]+@")
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
SQLITE_UPDATE_GUARD = ("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                       "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")  # as 0001 created it


def _strip(text: Any) -> Any:
    return CREDENTIALS.sub(r"\g<scheme>", text) if isinstance(text, str) else text


def _redact(text: Any) -> Any:
    return CREDENTIALS.sub(r"\g<scheme>***@", text) if isinstance(text, str) else text


def _deep(value: Any, change) -> Any:
    """A JSON value with `change` applied to every string in it, keys included."""
    if isinstance(value, dict):
        return {change(k): _deep(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep(v, change) for v in value]
    return change(value)


def _scrub_columns(bind, table: str, key: tuple[str, ...], columns: tuple[str, ...], change,
                   column_type: sa.types.TypeEngine | None = None) -> list:
    """Apply `change` to `columns` of every row, writing only the values it changed; returns those rows' keys."""
    t = sa.table(table, *(sa.column(c) for c in key), *(sa.column(c, column_type) for c in columns))
    changed = []
    for row in bind.execute(sa.select(t)).mappings().all():
        values = {c: change(row[c]) for c in columns}
        values = {c: v for c, v in values.items() if v != row[c]}
        if values:
            bind.execute(t.update().where(*(t.c[k] == row[k] for k in key)).values(**values))
            changed.append(row[key[0]] if len(key) == 1 else tuple(row[k] for k in key))
    return changed


def _scrub_repositories(bind) -> list[int]:
    """Credentials dropped from repositories; an api_url that would then collide keeps '***@' to stay unique."""
    t = sa.table("repositories", sa.column("id"), sa.column("platform"), sa.column("api_url"), sa.column("path"),
                 sa.column("web_url"), sa.column("moved_to"))
    rows = bind.execute(sa.select(t)).mappings().all()
    taken = {(r["platform"], r["api_url"], r["path"]) for r in rows}
    changed = []
    for r in rows:
        api_url = _strip(r["api_url"])
        if api_url != r["api_url"]:
            if (r["platform"], api_url, r["path"]) in taken:
                api_url = _redact(r["api_url"])
            taken.add((r["platform"], api_url, r["path"]))
        values = {"api_url": api_url, "web_url": _strip(r["web_url"]), "moved_to": _strip(r["moved_to"])}
        values = {c: v for c, v in values.items() if v != r[c]}
        if values:
            bind.execute(t.update().where(t.c.id == r["id"]).values(**values))
            changed.append(r["id"])
    return changed


def _audit_entries_redacted(bind) -> list[int]:
    t = sa.table("audit_log", sa.column("id"), sa.column("entity_key"), sa.column("before", JSON),
                 sa.column("after", JSON))
    changed = []
    for row in bind.execute(sa.select(t).order_by(t.c.id)).mappings().all():
        values = {"entity_key": _redact(row["entity_key"]), "before": _deep(row["before"], _redact),
                  "after": _deep(row["after"], _redact)}
        values = {c: v for c, v in values.items() if v != row[c]}
        if values:
            bind.execute(t.update().where(t.c.id == row["id"]).values(**values))
            changed.append(row["id"])
    return changed


def upgrade() -> None:
    bind = op.get_bind()
    counts = {
        "repositories": len(_scrub_repositories(bind)),
        "communities": len(_scrub_columns(bind, "communities", ("id",), ("homepage",), _strip)),
        "community_repositories": len(_scrub_columns(bind, "community_repositories", ("community_id", "repository_id"),
                                                     ("source",), _strip)),
        "collection_bookmarks": len(_scrub_columns(bind, "collection_bookmarks", ("id",), ("validators",),
                                                   lambda v: _deep(v, _strip), JSON)),
    }
    # the audit log: its append-only guard is lifted inside this transaction only, and restored before it ends
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
        redacted = _audit_entries_redacted(bind)
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        redacted = _audit_entries_redacted(bind)
        op.execute(SQLITE_UPDATE_GUARD)
    if redacted or any(counts.values()):
        audit = sa.table("audit_log", sa.column("at", tracker.models.UTCDateTime(timezone=True)), sa.column("actor"),
                         sa.column("actor_role"), sa.column("action"), sa.column("entity"), sa.column("entity_key"),
                         sa.column("before", JSON), sa.column("after", JSON))
        bind.execute(audit.insert().values(
            at=dt.datetime.now(dt.timezone.utc), actor="mtx init (migration 0004)", actor_role="system",
            action="audit.redact_credentials", entity="audit_log", entity_key="0004", before=None,
            after={"reason": "user names and passwords removed from stored URLs (issue 14)",
                   "audit_entries_redacted": redacted, "rows_scrubbed": counts}))


def downgrade() -> None:
    """Nothing to undo: the credentials are gone on purpose."""
