"""The 公示 list the office publishes, and the statement an enterprise downloads, as XLSX.

Codes and certificate numbers are written as text (Excel would round an 18-digit number); amounts as integers in yuan.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from sqlalchemy.orm import Session

from tracker.access import Actor
from tracker.ledger.schema import AwardRuleSet
from tracker.formatting import time_text, yuan
from tracker.ledger.awards import award_rows, enterprise_balance
from tracker.ledger.rules import ceiling_text, last_award_text
from tracker.models import utcnow
from tracker.vocab import AWARD_STATUSES, CERT_STATUSES, COUNTING_AWARD_LABEL, DECIDED_AWARD_STATUSES
from tracker.spreadsheet import append_row, atomic_output, check_output_path

EXPORT_SUFFIXES = (".xlsx",)

PUBLISHED = DECIDED_AWARD_STATUSES  # approved and paid
LIST_HEADERS = ("序号", "企业名称", "统一社会信用代码", "产品名称", "产品类型", "证书编号", "通过日期", "奖励金额（元）",
                "状态")


def _workbook():
    from openpyxl import Workbook

    wb = Workbook()
    return wb, wb.active


def _style_header(ws, widths) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _save(wb, path: str | Path) -> None:
    with atomic_output(path) as temporary:
        wb.save(temporary)


def check_export_path(path: str | Path) -> Path:
    """Refuse a path the export cannot be written to, before reading anything."""
    return check_output_path(path, EXPORT_SUFFIXES, "导出文件 / export file")


def _rules_sheet(wb, rules: AwardRuleSet, generated_by: str) -> None:
    ws = wb.create_sheet("规则说明")
    for line in (("规则集", f"{rules.name}（版本 {rules.version}）"),
                 ("每个产品", ("最高 " if rules.amount_mode == "up_to" else "") + yuan(rules.amount_per_product)),
                 ("企业上限", ceiling_text(rules)),
                 ("末笔", last_award_text(rules)),
                 ("首次认证", "每个产品只奖励首次适配认证一次；复评、系列/继承证书、非首版次产品不奖励"),
                 ("生成时间", time_text(utcnow())),
                 ("生成人", generated_by)):
        append_row(ws, line)
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = 90


def export_public_list(session: Session, actor: Actor, rules: AwardRuleSet, path: str | Path,
                       statuses: tuple[str, ...] = PUBLISHED) -> dict:
    """公示名单: awards with a positive amount in `statuses` (approved and paid by default), plus totals per enterprise."""
    check_export_path(path)
    rows = [r for r in award_rows(session, actor, statuses=statuses) if r["amount"] > 0]
    wb, ws = _workbook()
    ws.title = "公示名单"
    append_row(ws, LIST_HEADERS)
    _style_header(ws, (6, 34, 22, 28, 8, 24, 12, 14, 8))
    for i, r in enumerate(rows, start=1):
        append_row(ws, [i, r["enterprise"], r["uscc"], r["product_name"], r["product_type"], r["cert_no"], r["pass_date"],
                   r["amount"], AWARD_STATUSES.zh(r["award_status"])])
        ws.cell(row=ws.max_row, column=7).number_format = "yyyy-mm-dd"
        ws.cell(row=ws.max_row, column=8).number_format = "#,##0"
    append_row(ws, [None, "合计", None, None, None, None, None, sum(r["amount"] for r in rows), f"{len(rows)} 项"])
    ws.cell(row=ws.max_row, column=8).number_format = "#,##0"
    ws.freeze_panes = "A2"

    totals: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        t = totals[(r["enterprise"], r["uscc"])]
        t["products"] += 1
        t[r["award_status"]] += r["amount"]
    summary = wb.create_sheet("企业汇总")
    statuses = tuple(s for s in AWARD_STATUSES.values if s in statuses)  # one amount column each, in vocabulary order
    append_row(summary, ("企业名称", "统一社会信用代码", "产品数", *(f"{AWARD_STATUSES.zh(s)}（元）" for s in statuses),
                         "合计（元）"))
    _style_header(summary, (34, 22, 8, *(14 for _ in statuses), 14))
    for (name, code), t in totals.items():
        append_row(summary, (name, code, t["products"], *(t[s] for s in statuses), sum(t[s] for s in statuses)))
    _rules_sheet(wb, rules, actor.name)
    _save(wb, path)
    return {"file": str(path), "rows": len(rows), "enterprises": len(totals), "total": sum(r["amount"] for r in rows)}


def export_statement(session: Session, actor: Actor, rules: AwardRuleSet, uscc: str, path: str | Path,
                     as_of: dt.date | None = None) -> dict:
    """对账单 for one enterprise: its balance and every certificate with amount, status and the reason in Chinese."""
    check_export_path(path)
    balance = enterprise_balance(session, actor, uscc, rules, as_of=as_of)
    in_yuan = balance["ceiling_unit"] == "yuan"
    unit = "元" if in_yuan else "个产品"
    ceiling = yuan(balance["ceiling"]) if in_yuan else f"{balance['ceiling']:,} {unit}"
    wb, ws = _workbook()
    ws.title = "对账单"
    for label, value in (("企业名称", balance["enterprise"]), ("统一社会信用代码", balance["uscc"]),
                         ("企业上限", f"{ceiling}（{ceiling_text(rules)}）"),
                         ("末笔规则", last_award_text(rules)),
                         (f"计入上限（{COUNTING_AWARD_LABEL}）", balance["awarded"]),
                         (f"其中{AWARD_STATUSES.zh('approved')}", balance["approved"]),
                         (f"其中{AWARD_STATUSES.zh('paid')}", balance["paid"]),
                         (AWARD_STATUSES.zh("to_recover"), balance["to_recover"]),
                         (f"剩余额度（{unit}）", balance["remaining"]),
                         ("再有一个首次认证产品可得", balance["next_product_amount"]),
                         ("规则集版本", rules.version)):
        append_row(ws, (label, value))
        if isinstance(value, int):
            ws.cell(row=ws.max_row, column=2).number_format = "#,##0"
    ws.append(())
    append_row(ws, ("产品名称", "证书编号", "奖励金额（元）", "奖励状态", "证书状态", "原因代码", "原因"))
    _style_header(ws, (30, 26, 14, 10, 10, 24, 80))
    for p in balance["products"]:
        append_row(ws, (p["product_name"], p["cert_no"], p["amount"],
                   AWARD_STATUSES.zh(p["award_status"]), CERT_STATUSES.zh(p["cert_status"]), p["reason_code"],
                   p["reason"]))
        ws.cell(row=ws.max_row, column=3).number_format = "#,##0"
    _rules_sheet(wb, rules, actor.name)
    _save(wb, path)
    return {"file": str(path), "uscc": balance["uscc"], "rows": len(balance["products"])}


CERTIFICATE_SUFFIXES = (".xlsx", ".csv")


def export_certificates(session: Session, actor: Actor, path: str | Path, uscc: str | None = None) -> dict:
    """The certificates the actor may see, in the import layout (the template's columns), as .xlsx or .csv.

    Importing the file again changes nothing: every text value is written as text (CSV: formula-like values get the
    leading ' that the importer strips).
    """
    from sqlalchemy import select

    from tracker.access import scope_enterprise
    from tracker.enterprises import get_enterprise
    from tracker.ledger.columns import COLUMNS
    from tracker.models import Certificate, Enterprise, Product
    from tracker.spreadsheet import write_csv_rows

    path = check_output_path(path, CERTIFICATE_SUFFIXES, "导出文件 / export file")
    stmt = (select(Certificate, Product, Enterprise).join(Product, Certificate.product_id == Product.id)
            .join(Enterprise, Product.enterprise_id == Enterprise.id)
            .order_by(Enterprise.name, Enterprise.uscc, Certificate.pass_date, Certificate.cert_no))
    if uscc is not None:
        stmt = stmt.where(Enterprise.id == get_enterprise(session, actor, uscc).id)
    stmt = scope_enterprise(stmt, actor, Enterprise.id)

    def yes_no(value: bool | None) -> str:
        return "" if value is None else ("是" if value else "否")

    rows = []
    for c, p, e in session.execute(stmt):
        rows.append([e.name, e.uscc, e.district or "", p.name, p.product_type, c.cert_no, c.programme, c.issuer,
                     c.os_version or "", c.pass_date, CERT_STATUSES.zh(c.status), yes_no(p.first_version),
                     c.derived_from_no or "", yes_no(e.registered_in_chongqing)])
    headers = [column.zh for column in COLUMNS]
    with atomic_output(path) as temporary:
        if path.suffix.lower() == ".csv":
            with temporary.open("w", encoding="utf-8-sig", newline="") as fh:
                write_csv_rows(fh, [headers, *([v.isoformat() if isinstance(v, dt.date) else v for v in r]
                                               for r in rows)])
        else:
            wb, ws = _workbook()
            ws.title = "证书"
            append_row(ws, headers)
            _style_header(ws, [max(12, len(h) * 2 + 4) for h in headers])
            date_column = headers.index("通过日期") + 1
            for r in rows:
                append_row(ws, r)
                ws.cell(row=ws.max_row, column=date_column).number_format = "yyyy-mm-dd"
            ws.freeze_panes = "A2"
            wb.save(temporary)
    return {"file": str(path), "rows": len(rows)}
