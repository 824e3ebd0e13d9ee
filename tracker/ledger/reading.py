"""Reading a certificate spreadsheet: CSV (UTF-8 with or without BOM, or GBK) or XLSX, rows numbered as Excel does."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from tracker.ledger.columns import HEADER_LOOKUP, header_key


class FileUnreadable(ValueError):
    """The file cannot be read at all (format, encoding, no header)."""


@dataclass
class Sheet:
    headers: list[str]  # as written
    rows: list[tuple[int, list[Any]]]  # (Excel row number, cells); blank rows left out
    encoding: str | None = None
    sheet: str | None = None
    numeric_cells: bool = False  # XLSX: cells keep their types (numbers, dates)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError:
        raise FileUnreadable("文件编码无法识别 / the file is neither UTF-8 nor GBK: save it as CSV UTF-8 or as XLSX") \
            from None


def _blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def read_csv(path: Path) -> Sheet:
    text, encoding = _decode(path.read_bytes())
    sample = text[:4096]
    first_line = sample.splitlines()[0] if sample else ""
    delimiter = max((",", "\t", ";"), key=first_line.count) if first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[Any]]] = []
    headers: list[str] | None = None
    for number, record in enumerate(reader, start=1):
        if headers is None:
            headers = [h.strip() for h in record]
            continue
        if not _blank(record):
            rows.append((number, record))
    if headers is None or _blank(headers):
        raise FileUnreadable("文件为空或第 1 行不是表头 / the file is empty or row 1 is not the header row")
    return Sheet(headers, rows, encoding=encoding)


def read_xlsx(path: Path) -> Sheet:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise FileUnreadable(f"无法打开 XLSX 文件 / cannot open {path.name} as XLSX: {type(exc).__name__}") from None
    try:
        chosen = None
        for ws in wb.worksheets:  # the first sheet whose row 1 looks like our header (skips an instructions sheet)
            first = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
            if sum(1 for h in first if header_key(h) in HEADER_LOOKUP) >= 3:
                chosen = ws
                break
        if chosen is None:
            raise FileUnreadable("没有找到表头在第 1 行的工作表 / no sheet has the column headers in row 1: start from "
                                 "`mtx certs template FILE.xlsx`")
        rows: list[tuple[int, list[Any]]] = []
        headers: list[str] = []
        for number, record in enumerate(chosen.iter_rows(values_only=True), start=1):
            cells = list(record)
            if number == 1:
                headers = ["" if h is None else str(h).strip() for h in cells]
                continue
            if not _blank(cells):
                rows.append((number, cells))
        while headers and not headers[-1]:
            headers.pop()
        return Sheet(headers, rows, sheet=chosen.title, numeric_cells=True)
    finally:
        wb.close()


def read_sheet(path: str | Path) -> Sheet:
    path = Path(path)
    if not path.exists():
        raise FileUnreadable(f"文件不存在 / file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    if suffix in (".csv", ".txt", ".tsv"):
        return read_csv(path)
    if suffix == ".xls":
        raise FileUnreadable("不支持旧版 .xls / .xls is not supported: 在 Excel 中另存为 .xlsx / save it as .xlsx")
    raise FileUnreadable(f"不支持的文件类型 {suffix or '(无)'} / unsupported file type: use .xlsx or .csv")


def iter_records(sheet: Sheet) -> Iterator[tuple[int, list[Any]]]:
    yield from sheet.rows
