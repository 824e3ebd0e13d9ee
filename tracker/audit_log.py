"""Reading the audit log (the 审计日志 page): entries filtered by who, action, entity and Beijing date range, newest
first, one page at a time (filtered, counted and cut in SQL, on the indexes of migration 0012), and the same
selection as an XLSX or CSV file (every cell through tracker.spreadsheet). Administrators only.

The log is append-only (database triggers refuse UPDATE and DELETE): nothing here changes an entry. E-mail addresses
in an entry (a people correction is keyed by one) are masked wherever an entry is shown or exported.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from tracker.access import Actor, require_role
from tracker.formatting import beijing_day_end, time_text
from tracker.models import AuditEntry
from tracker.sqlutil import Page
from tracker.vocab import LEDGER_ACTIONS, ROLES, USER_ACTIONS

MAX_PAGE = 500
EXPORT_BATCH = 1_000
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
REASON_KEYS = ("reason", "revoked_reason", "resolution")  # where an entry's own explanation is kept
COLUMNS = ("编号", "时间（北京时间）", "操作人", "角色", "操作", "操作代码", "对象", "对象编号", "原因", "变更前", "变更后")


class AuditFilterError(ValueError):
    """A filter that cannot select anything as given (e.g. a range that ends before it starts)."""


@dataclass(frozen=True)
class AuditFilter:
    """Which entries: each field narrows the selection; None (or empty) leaves it open. Dates are Beijing days,
    both ends included."""

    actor: str | None = None
    action: str | None = None
    entity: str | None = None
    entity_key: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None

    def where(self, stmt):
        if self.start and self.end and self.end < self.start:
            raise AuditFilterError(f"结束日期 {self.end} 早于开始日期 {self.start}：请调换或改正日期")
        for column, value in ((AuditEntry.actor, self.actor), (AuditEntry.action, self.action),
                              (AuditEntry.entity, self.entity), (AuditEntry.entity_key, self.entity_key)):
            if value:
                stmt = stmt.where(column == value)
        if self.start:
            stmt = stmt.where(AuditEntry.at >= beijing_day_end(self.start - dt.timedelta(days=1)))
        if self.end:
            stmt = stmt.where(AuditEntry.at < beijing_day_end(self.end))
        return stmt


def _admin(actor: Actor) -> None:
    require_role(actor, "admin", action="read the audit log")


def action_label(action: str) -> str:
    """The Chinese name of an action where the vocabulary has one, else the code itself."""
    for vocabulary in (USER_ACTIONS, LEDGER_ACTIONS):
        if action in vocabulary:
            return vocabulary.zh(action)
    return action


def mask_text(text: str | None) -> str:
    """`text` with every e-mail address masked (zh***@huawei.com), as everywhere else in the app."""
    from tracker.people.rules import mask_email

    return EMAIL.sub(lambda m: mask_email(m.group()), text or "")


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask_text(str(k)): _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _json(value: dict | None) -> str:
    return json.dumps(_masked(value), ensure_ascii=False, sort_keys=True) if value else ""


def _reason(entry: AuditEntry) -> str:
    for side in (entry.after, entry.before):
        if isinstance(side, dict):
            for key in REASON_KEYS:
                if isinstance(side.get(key), str) and side[key]:
                    return mask_text(side[key])
    return ""


def _row(entry: AuditEntry) -> dict:
    return {"id": entry.id, "at": entry.at, "actor": mask_text(entry.actor), "role": entry.actor_role,
            "action": entry.action, "label": action_label(entry.action), "entity": entry.entity,
            "entity_key": mask_text(entry.entity_key) if entry.entity_key else None, "reason": _reason(entry),
            "before": _json(entry.before), "after": _json(entry.after)}


def _ordered(stmt):
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def audit_page(session: Session, actor: Actor, filters: AuditFilter = AuditFilter(), *, limit: int = 50,
               offset: int = 0) -> Page:
    """One page of entries matching `filters`, newest first (ties by id), with the count of all that match."""
    _admin(actor)
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ValueError(f"a page holds 1 to {MAX_PAGE} rows from offset 0 on, not limit={limit} offset={offset}")
    total = session.scalar(filters.where(select(func.count()).select_from(AuditEntry))) or 0
    entries = session.scalars(_ordered(filters.where(select(AuditEntry))).limit(limit).offset(offset)).all()
    return Page([_row(e) for e in entries], total, limit, offset)


def audit_choices(session: Session, actor: Actor) -> dict[str, list[str]]:
    """What the filters offer: every actor, action and entity that occurs in the log (each from its index)."""
    _admin(actor)
    return {name: list(session.scalars(select(column).distinct().order_by(column)))
            for name, column in (("actors", AuditEntry.actor), ("actions", AuditEntry.action),
                                 ("entities", AuditEntry.entity))}


def _all_rows(session: Session, filters: AuditFilter) -> Iterator[list]:
    """Every matching entry as a file row, newest first, read in batches (keyset on (at, id), never all at once)."""
    stmt = _ordered(filters.where(select(AuditEntry)))
    last: tuple[dt.datetime, int] | None = None
    while True:
        page = stmt
        if last is not None:
            page = page.where(or_(AuditEntry.at < last[0], and_(AuditEntry.at == last[0], AuditEntry.id < last[1])))
        entries = session.scalars(page.limit(EXPORT_BATCH)).all()
        if not entries:
            return
        for entry in entries:
            r = _row(entry)
            yield [r["id"], time_text(r["at"], seconds=True), r["actor"], ROLES.zh(r["role"]) if r["role"] else "",
                   r["label"], r["action"], r["entity"], r["entity_key"] or "", r["reason"], r["before"], r["after"]]
        last = (entries[-1].at, entries[-1].id)


def export_bytes(session: Session, actor: Actor, filters: AuditFilter, suffix: str) -> bytes:
    """The entries `filters` selects (all of them, newest first) as `.xlsx` or `.csv` bytes; every text cell written
    by tracker.spreadsheet, so none can run as a formula."""
    from tracker.spreadsheet import append_row, write_csv_rows

    _admin(actor)
    if suffix == ".csv":
        text = io.StringIO(newline="")
        write_csv_rows(text, [COLUMNS, *_all_rows(session, filters)])
        return ("\ufeff" + text.getvalue()).encode("utf-8")  # the BOM lets Excel read UTF-8
    if suffix != ".xlsx":
        raise ValueError(f"an audit export is .xlsx or .csv, not {suffix!r}")
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("审计日志")
    append_row(sheet, COLUMNS)
    for row in _all_rows(session, filters):
        append_row(sheet, row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


__all__ = ["AuditFilter", "AuditFilterError", "COLUMNS", "action_label", "audit_choices", "audit_page",
           "export_bytes", "mask_text"]
