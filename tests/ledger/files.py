"""Writing certificate spreadsheets for tests: CSV in any encoding, XLSX with typed cells."""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from tracker.ledger.uscc import fictional_uscc

HEADERS = ["企业名称", "统一社会信用代码", "所在区县", "产品名称", "产品类型", "证书编号", "证书类型", "颁发机构",
           "系统版本", "通过日期", "状态", "首版次", "继承自", "注册地在重庆"]


def good_row(i: int, enterprise: int | None = None, **changes) -> dict:
    """A valid row for a fictional enterprise (one per row unless `enterprise` is given)."""
    n = i if enterprise is None else enterprise
    row = {"企业名称": f"示例{n:04d}科技有限公司（虚构）", "统一社会信用代码": fictional_uscc(n), "所在区县": "渝北区",
           "产品名称": f"示例产品 {i:04d}", "产品类型": "开发板", "证书编号": f"OH-TEST-{i:05d}",
           "证书类型": "OpenHarmony生态产品兼容性证书", "颁发机构": "", "系统版本": "OpenHarmony 5.0.2 Release",
           "通过日期": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}", "状态": "有效", "首版次": "是", "继承自": "",
           "注册地在重庆": ""}
    row.update(changes)
    return row


def write_csv(path: Path, rows: list[dict], headers: list[str] = HEADERS, encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[dict], headers: list[str] = HEADERS, excel_dates: bool = True) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "证书"
    ws.append(headers)
    for row in rows:
        values = []
        for h in headers:
            value = row.get(h, "")
            if excel_dates and h == "通过日期" and isinstance(value, str) and len(value) == 10 and value[4] == "-":
                try:
                    value = dt.datetime.fromisoformat(value)  # a real Excel date cell
                except ValueError:
                    pass  # not a calendar date: left as the text the user typed
            values.append(None if value == "" else value)
        ws.append(values)
        if excel_dates:
            ws.cell(row=ws.max_row, column=headers.index("通过日期") + 1).number_format = "yyyy/m/d"
    wb.save(path)
    return path
