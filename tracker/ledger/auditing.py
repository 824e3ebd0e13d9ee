"""Audit entries for many created rows at once: the same entries `tracker.audit.record` writes, in one INSERT."""
from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tracker import audit
from tracker.access import Actor
from tracker.models import AuditEntry, utcnow


def record_created(session: Session, actor: Actor, action: str, entity: str, rows: list[tuple[str, Any]]) -> None:
    """One entry per (key, created row): who, when, and the row after (before is empty for a creation)."""
    if not rows:
        return
    at = utcnow()
    session.execute(insert(AuditEntry), [
        {"at": at, "actor": actor.name, "actor_role": actor.role, "action": action, "entity": entity,
         "entity_key": key, "before": None, "after": audit._plain(audit.row_dict(obj))} for key, obj in rows])


def record_created_values(session: Session, actor: Actor, action: str, entity: str,
                          rows: list[tuple[str, dict[str, Any]]]) -> None:
    """As `record_created`, for rows inserted without ORM objects: (key, the row's columns as inserted, id included)."""
    if not rows:
        return
    at = utcnow()
    session.execute(insert(AuditEntry), [
        {"at": at, "actor": actor.name, "actor_role": actor.role, "action": action, "entity": entity,
         "entity_key": key, "before": None, "after": audit._plain(values)} for key, values in rows])
