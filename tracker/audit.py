"""The append-only audit log: who did what, when, with the row before and after."""
from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from sqlalchemy.orm import Session

from tracker.access import Actor
from tracker.models import AuditEntry, utcnow


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def row_dict(obj: Any, exclude: tuple[str, ...] = ("password_hash",)) -> dict[str, Any]:
    """A model row as plain JSON-able values (secrets excluded), for the before/after columns."""
    return {c.key: _plain(getattr(obj, c.key)) for c in obj.__table__.columns if c.key not in exclude}


def record(session: Session, actor: Actor, action: str, entity: str, key: str | None,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> AuditEntry:
    entry = AuditEntry(at=utcnow(), actor=actor.name, actor_role=actor.role, action=action, entity=entity,
                       entity_key=key, before=_plain(before) if before else None,
                       after=_plain(after) if after else None)
    session.add(entry)
    return entry
