"""审计日志 through the app (AppTest), on the demo database with entries of our own: administrators only; each filter
(who, action, entity, Beijing date range) shows the rows a plain SQL query selects, newest first, paged; the XLSX and
CSV exports hold exactly the filtered rows with every cell neutralised and e-mails masked; nothing offers to change
the log."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from tests.app.test_pages_by_role import actor_for
from tests.app.test_ranking import run
from tracker import db as dbm
from tracker.access import AccessDenied, Actor
from tracker.audit_log import COLUMNS, AuditFilter, audit_page, export_bytes
from tracker.models import AuditEntry
from views.pages import allowed

PAGE = "views/audit.py"
ADMIN = Actor("admin", "admin")
UTC = dt.timezone.utc
FORMULA = '=HYPERLINK("http://example.invalid","点我")'
EMAIL = "wang.wu@example.com"
START = dt.datetime(2026, 10, 25, 4, 0, tzinfo=UTC)


@pytest.fixture
def audited(demo_db_url):
    """The demo database plus 70 entries by 'auditor' over 7 Beijing days (two on either side of the midnight that
    ends 2026-10-31 in Beijing), one with a formula-like reason and an e-mail address."""
    with dbm.session_scope(demo_db_url) as s:
        for n in range(70):
            s.add(AuditEntry(at=START + dt.timedelta(hours=2 * n), actor="auditor", actor_role="admin",
                             action=("award.approve", "award.pay")[n % 2], entity="award", entity_key=f"A-{n:03d}",
                             before={"status": "computed"}, after={"status": "approved"}))
        s.add(AuditEntry(at=dt.datetime(2026, 10, 31, 15, 59, 59, tzinfo=UTC), actor="auditor", actor_role="admin",
                         action="certificate.revoke", entity="certificate", entity_key=EMAIL,
                         before={"status": "valid"}, after={"status": "revoked", "reason": FORMULA,
                                                            "contact": EMAIL}))
        s.add(AuditEntry(at=dt.datetime(2026, 10, 31, 16, 0, 0, tzinfo=UTC), actor="auditor", actor_role="admin",
                         action="certificate.revoke", entity="certificate", entity_key="C-2",
                         after={"status": "revoked", "reason": "next Beijing day"}))
    return demo_db_url


def sql_ids(url: str, where: str = "1 = 1", **params) -> list[int]:
    """The entries a filter must select, newest first: our own SQL, not the code under test."""
    with dbm.get_engine(url).connect() as conn:
        return [i for (i,) in conn.execute(text(f"SELECT id FROM audit_log WHERE {where} ORDER BY at DESC, id DESC"),
                                           params)]


def beijing_midnight(day: dt.date) -> dt.datetime:
    """00:00 of `day` in Beijing, as UTC (computed here: Beijing is UTC+8 all year)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC) - dt.timedelta(hours=8)


def shown_ids(at) -> list[int]:
    return [int(i) for i in at.dataframe[0].value["编号"]] if at.dataframe else []


def total_caption(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("共 "))


@pytest.mark.parametrize("role", ["evaluator", "enterprise"])
def test_evaluators_and_enterprise_users_are_refused(monkeypatch, audited, role):
    actor = actor_for(audited, role)
    assert PAGE not in [p.file for p in allowed(role)]
    at = run(monkeypatch, audited, actor)
    with pytest.raises(ValueError):
        at.switch_page(PAGE)
    at.switch_page("views/refused.py").run()
    assert at.title[0].value == "无权访问" and not at.dataframe
    with dbm.session_scope(audited) as s, pytest.raises(AccessDenied):
        audit_page(s, actor)
    with dbm.session_scope(audited) as s, pytest.raises(AccessDenied):
        export_bytes(s, actor, AuditFilter(), ".csv")


def test_unfiltered_the_newest_50_entries_come_first(monkeypatch, audited):
    at = run(monkeypatch, audited, ADMIN, PAGE)
    assert at.title[0].value == "审计日志"
    everything = sql_ids(audited)
    assert shown_ids(at) == everything[:50]
    assert total_caption(at).startswith(f"共 {len(everything):,} 条")
    with dbm.session_scope(audited) as s:  # the next page, cut in SQL
        assert [r["id"] for r in audit_page(s, ADMIN, limit=50, offset=50).rows] == everything[50:100]


def test_the_filters_select_what_sql_selects(monkeypatch, audited):
    at = run(monkeypatch, audited, ADMIN, PAGE)
    at.selectbox(key="audit_actor").set_value("auditor").run()
    assert shown_ids(at) == sql_ids(audited, "actor = 'auditor'")[:50]
    at.selectbox(key="audit_action").set_value("award.pay").run()
    expected = sql_ids(audited, "actor = 'auditor' AND action = 'award.pay'")
    assert shown_ids(at) == expected and len(expected) == 35
    assert set(at.dataframe[0].value["操作"]) == {"登记拨付"}

    day = dt.date(2026, 10, 27)
    at.date_input(key="audit_start").set_value(day).run()
    at.date_input(key="audit_end").set_value(day + dt.timedelta(days=1)).run()
    expected = sql_ids(audited, "actor = 'auditor' AND action = 'award.pay' AND at >= :lo AND at < :hi",
                       lo=beijing_midnight(day), hi=beijing_midnight(day + dt.timedelta(days=2)))
    assert shown_ids(at) == expected and 0 < len(expected) < 35
    assert total_caption(at).startswith(f"共 {len(expected)} 条")


def test_a_date_range_is_of_whole_beijing_days(monkeypatch, audited):
    at = run(monkeypatch, audited, ADMIN, PAGE)
    at.selectbox(key="audit_entity").set_value("certificate").run()
    last_day = dt.date(2026, 10, 31)
    at.date_input(key="audit_start").set_value(last_day).run()
    at.date_input(key="audit_end").set_value(last_day).run()
    expected = sql_ids(audited, "entity = 'certificate' AND at >= :lo AND at < :hi", lo=beijing_midnight(last_day),
                       hi=beijing_midnight(last_day + dt.timedelta(days=1)))
    assert shown_ids(at) == expected and len(expected) == 1  # 23:59:59 Beijing in, 00:00 the next day out
    row = at.dataframe[0].value.iloc[0]
    assert row["对象编号"] == "wa***@example.com" and EMAIL not in row["变更后"] and row["原因"] == FORMULA

    at.date_input(key="audit_start").set_value(last_day + dt.timedelta(days=2)).run()
    assert [e.value for e in at.error] == [f"结束日期 {last_day} 早于开始日期 {last_day + dt.timedelta(days=2)}：请调换或改正日期"]


def test_the_exports_hold_the_filtered_rows_with_every_cell_neutralised(audited):
    filters = AuditFilter(actor="auditor", start=dt.date(2026, 10, 30), end=dt.date(2026, 10, 31))
    expected = sql_ids(audited, "actor = 'auditor' AND at >= :lo AND at < :hi", lo=beijing_midnight(filters.start),
                       hi=beijing_midnight(filters.end + dt.timedelta(days=1)))
    assert len(expected) > 1
    with dbm.session_scope(audited) as s:
        xlsx, csv_bytes = export_bytes(s, ADMIN, filters, ".xlsx"), export_bytes(s, ADMIN, filters, ".csv")

    sheet = load_workbook(io.BytesIO(xlsx)).active
    rows = list(sheet.iter_rows())
    assert tuple(c.value for c in rows[0]) == COLUMNS
    assert [r[0].value for r in rows[1:]] == expected
    assert all(c.data_type != "f" for r in rows for c in r)
    reason = COLUMNS.index("原因")
    (formula_row,) = [r for r in rows[1:] if r[reason].value == FORMULA]
    assert formula_row[reason].data_type == "s"  # the text, as a string cell: never a formula
    assert not any(EMAIL in str(c.value) for r in rows for c in r)

    lines = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    assert tuple(lines[0]) == COLUMNS and [int(r[0]) for r in lines[1:]] == expected
    assert [r[reason] for r in lines[1:] if r[reason].endswith("点我\")")] == ["'" + FORMULA]
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in lines for cell in r)
    assert EMAIL not in csv_bytes.decode("utf-8-sig")


def test_the_page_offers_no_way_to_change_the_log(monkeypatch, audited):
    at = run(monkeypatch, audited, ADMIN, PAGE)
    assert {b.label for b in at.button} <= {"退出登录"}
    assert not at.get("data_editor") and not at.text_area
    labels = {d.proto.label for d in at.get("download_button")}
    assert labels == {"下载筛选结果（XLSX）", "下载筛选结果（CSV）"}
    with pytest.raises(Exception, match="append-only"):
        with dbm.get_engine(audited).begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
