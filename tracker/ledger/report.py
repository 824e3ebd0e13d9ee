"""Problems found in an imported file, as the sender can act on them: row (Excel numbering), column, value, fix."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class ImportIssue:
    row: int  # as Excel numbers it: the header is row 1, the first data row is row 2
    column: str  # the header as written in the file (the expected Chinese header when the column is missing)
    value: str
    code: str  # stable, e.g. uscc.wrong_check_character
    message: str  # 中文 / English
    fix: str  # 中文 / English
    severity: Literal["error", "warning"] = "error"

    def render(self) -> str:
        label = "错误" if self.severity == "error" else "警告"
        value = f"，值 {self.value!r}" if self.value != "" else "，值为空"
        where = f"第 {self.row} 行，列「{self.column}」{value}"
        where_en = f"row {self.row}, column {self.column}" + (f", value {self.value!r}" if self.value != "" else ", empty")
        return f"{label} {where} / {where_en}: {self.message}\n    改正 / fix: {self.fix}"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ImportReport:
    """What an import found and did. `written` is True only when rows were stored (no errors, not a dry run)."""

    file: str
    encoding: str | None = None
    sheet: str | None = None
    rows: int = 0
    issues: list[ImportIssue] = field(default_factory=list)
    enterprises_created: int = 0
    enterprises_updated: int = 0
    products_created: int = 0
    certificates_created: int = 0
    certificates_unchanged: int = 0
    recertifications: int = 0
    dry_run: bool = False
    written: bool = False

    @property
    def errors(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> dict:
        return {"file": self.file, "encoding": self.encoding, "sheet": self.sheet, "rows": self.rows,
                "errors": len(self.errors), "warnings": len(self.warnings),
                "enterprises_created": self.enterprises_created, "enterprises_updated": self.enterprises_updated,
                "products_created": self.products_created, "certificates_created": self.certificates_created,
                "certificates_unchanged": self.certificates_unchanged, "recertifications": self.recertifications,
                "dry_run": self.dry_run, "written": self.written}

    def as_dict(self) -> dict:
        return self.summary() | {"issues": [i.as_dict() for i in self.issues]}

    def headline(self) -> str:
        if self.errors:
            return (f"导入失败，未写入任何数据：{len(self.errors)} 个错误，{len(self.warnings)} 个警告 / import refused, "
                    f"nothing written: {len(self.errors)} error(s), {len(self.warnings)} warning(s) in {self.rows} rows")
        verb = "试导入（未写入）" if self.dry_run else "已导入"
        verb_en = "dry run, nothing written" if self.dry_run else "imported"
        return (f"{verb} / {verb_en}: {self.rows} 行 rows; 新企业 enterprises +{self.enterprises_created} "
                f"(更新 updated {self.enterprises_updated}), 新产品 products +{self.products_created}, "
                f"新证书 certificates +{self.certificates_created} (其中复评 re-certifications "
                f"{self.recertifications}), 未变 unchanged {self.certificates_unchanged}"
                + (f"; {len(self.warnings)} 个警告 warning(s)" if self.warnings else ""))


REPORT_HEADERS = ("行 row", "列 column", "值 value", "级别 severity", "代码 code", "问题 problem", "改正 fix")


def _report_rows(report: ImportReport):
    for i in report.issues:
        yield (i.row, i.column, i.value, "错误 error" if i.severity == "error" else "警告 warning", i.code, i.message,
               i.fix)


REPORT_SUFFIXES = (".xlsx", ".csv")


def write_report(report: ImportReport, path: str | Path) -> Path:
    """The issues as a file for the sender: .xlsx, or .csv (UTF-8 with BOM, so Excel shows the Chinese).

    Values are written as text, never as formulas (an imported name may start with '='); the file appears whole or
    not at all.
    """
    from tracker.spreadsheet import append_row, atomic_output, check_output_path, write_csv_rows

    path = check_output_path(path, REPORT_SUFFIXES, "报告文件 / report file")
    with atomic_output(path) as temporary:
        if path.suffix.lower() == ".xlsx":
            from openpyxl import Workbook
            from openpyxl.styles import Font

            wb = Workbook()
            ws = wb.active
            ws.title = "导入问题"
            append_row(ws, REPORT_HEADERS)
            for cell in ws[1]:
                cell.font = Font(bold=True)
            for row in _report_rows(report):
                append_row(ws, row)
            for letter, width in zip("ABCDEFG", (8, 18, 28, 12, 30, 70, 70)):
                ws.column_dimensions[letter].width = width
            ws.freeze_panes = "A2"
            wb.save(temporary)
        else:
            with temporary.open("w", encoding="utf-8-sig", newline="") as fh:
                write_csv_rows(fh, [REPORT_HEADERS, *_report_rows(report)])
    return path
