"""The certificate template the programme office fills in: XLSX (text columns, drop-down lists, a notes sheet) or CSV."""
from __future__ import annotations

from pathlib import Path

from tracker.ledger.columns import COLUMNS
from tracker.models import PRODUCT_TYPES
from tracker.vocab import CERT_STATUSES
from tracker.spreadsheet import append_row, atomic_output, check_output_path, write_csv_rows

TEMPLATE_SUFFIXES = (".xlsx", ".csv")

_TEXT_COLUMNS = {"uscc", "cert_no", "derived_from", "os_version"}  # never let Excel turn these into numbers
_CHOICES = {"product_type": PRODUCT_TYPES, "status": tuple(CERT_STATUSES.labels().values()), "first_version": ("是", "否"),
            "registered_in_chongqing": ("是", "否")}


def write_template(path: str | Path, rows: int = 1000) -> Path:
    """Write an empty template; the header row is row 1, data from row 2. Example values go on the notes sheet."""
    path = check_output_path(path, TEMPLATE_SUFFIXES, "模板文件 / template file")
    with atomic_output(path) as temporary:
        if path.suffix.lower() == ".csv":
            with temporary.open("w", encoding="utf-8-sig", newline="") as fh:
                write_csv_rows(fh, [[c.zh for c in COLUMNS]])
        else:
            _write_xlsx_template(temporary, rows)
    return path


def _write_xlsx_template(path: Path, rows: int) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "证书"
    append_row(ws, [c.zh for c in COLUMNS])
    required_fill = PatternFill("solid", fgColor="FCE4D6")
    for index, column in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=index)
        cell.font = Font(bold=True)
        if column.required:
            cell.fill = required_fill
        cell.comment = Comment(f"{'必填' if column.required else '选填'}：{column.help_zh}\n英文列名 {column.key}",
                               "mtx")
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = max(12, len(column.zh) * 2 + 4, len(column.example) + 2)
        if column.key in _TEXT_COLUMNS:
            for r in range(2, rows + 2):
                ws.cell(row=r, column=index).number_format = "@"
        if column.key == "pass_date":
            for r in range(2, rows + 2):
                ws.cell(row=r, column=index).number_format = "yyyy-mm-dd"
        if column.key in _CHOICES:
            dv = DataValidation(type="list", formula1='"' + ",".join(_CHOICES[column.key]) + '"', allow_blank=True,
                                showErrorMessage=True, errorTitle="无效值",
                                error="请从下拉列表中选择 / pick a value from the list")
            dv.add(f"{letter}2:{letter}{rows + 1}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"

    notes = wb.create_sheet("填写说明")
    append_row(notes, ["列名", "英文列名", "必填", "说明", "示例"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column in COLUMNS:
        append_row(notes, [column.zh, column.key, "是" if column.required else "否", column.help_zh, column.example])
    notes.append([])
    for line in ("每行一张证书；第 1 行为表头，数据从第 2 行开始。列的顺序可以调整，英文列名同样可用。",
                 "统一社会信用代码、证书编号请保持「文本」格式，否则 Excel 会把长数字改掉。",
                 "同一产品在新版本上再次认证，请另起一行填写新证书（记为复评，不重复奖励）。",
                 "系列或继承证书在「继承自」填写被继承证书的编号。",
                 "示例中的企业和代码均为虚构。",
                 "导入：mtx certs import 文件.xlsx --dry-run 先检查，无误后去掉 --dry-run 正式导入。"):
        append_row(notes, [line])
    for letter, width in zip("ABCDE", (18, 26, 6, 60, 34)):
        notes.column_dimensions[letter].width = width
    wb.save(path)
