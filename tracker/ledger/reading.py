"""Reading a certificate spreadsheet: CSV (UTF-8 with or without BOM, or GBK) or XLSX, rows numbered as Excel does.

Rows are streamed, never the whole file decoded at once, and three limits (file size, uncompressed XLSX size, number
of rows; `limits:` in awards.yaml) refuse a file before it costs minutes and gigabytes. An XLSX is read from its
active visible sheet (or the one named), never silently from a hidden one.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import sys
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from tracker.ledger.schema import ImportLimits
from tracker.ledger.columns import HEADER_LOOKUP, header_key
from tracker.spreadsheet import unescape_cell

_CHUNK = 1 << 20
_MB = 1024 * 1024


class FileUnreadable(ValueError):
    """The file cannot be read at all (format, encoding, no header, over a limit). `code` is the report's code."""

    def __init__(self, message: str, code: str = "file.unreadable", fix: str | None = None):
        super().__init__(message)
        self.code = code
        self.fix = fix or "用 mtx certs template 生成模板后填写 / start from mtx certs template"


@dataclass
class Sheet:
    headers: list[str]  # as written
    rows: Iterator[tuple[int, list[Any]]]  # (Excel row number, cells), streamed; blank rows left out
    encoding: str | None = None
    sheet: str | None = None
    numeric_cells: bool = False  # XLSX: cells keep their types (numbers, dates)


def _over(what: str, limit_name: str, limit: str, fix: str, code: str = "file.too_large") -> FileUnreadable:
    return FileUnreadable(f"{what}，超过上限 {limit}（limits.{limit_name}） / over the limit {limit} "
                          f"(limits.{limit_name} in awards.yaml)", code, fix)


def _check_size(path: Path, limits: ImportLimits) -> None:
    size = path.stat().st_size
    if size > limits.max_file_mb * _MB:
        raise _over(f"文件 {path.name} 有 {size / _MB:.1f} MB / the file is {size / _MB:.1f} MB", "max_file_mb",
                    f"{limits.max_file_mb} MB", "把文件拆成几份分别导入 / split the file and import the parts")


def _detect_encoding(path: Path) -> str:
    """utf-8-sig, utf-8 or gbk, decided by decoding the whole file incrementally (constant memory)."""
    with path.open("rb") as fh:
        head = fh.read(3)
        if head == b"\xef\xbb\xbf":
            return "utf-8-sig"
        fh.seek(0)
        for encoding, name in (("utf-8", "utf-8"), ("gb18030", "gbk")):
            decoder = codecs.getincrementaldecoder(encoding)()
            fh.seek(0)
            try:
                while chunk := fh.read(_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
                return name
            except UnicodeDecodeError:
                continue
    raise FileUnreadable("文件编码无法识别 / the file is neither UTF-8 nor GBK: save it as CSV UTF-8 or as XLSX")


def _blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _shared(value: Any) -> Any:
    """Short text cells interned: a column repeats the same values (types, issuers, districts) on every row."""
    return sys.intern(value) if isinstance(value, str) and len(value) <= 100 else value


def _counted(records: Iterator[tuple[int, list[Any]]], limits: ImportLimits) -> Iterator[tuple[int, list[Any]]]:
    count = 0
    for number, cells in records:
        if _blank(cells):
            continue
        count += 1
        if count > limits.max_rows:
            raise _over(f"数据行超过 {limits.max_rows:,} 行 / more than {limits.max_rows:,} data rows", "max_rows",
                        f"{limits.max_rows:,} 行 rows", "把文件拆成几份分别导入 / split the file and import the parts",
                        "file.too_many_rows")
        yield number, [_shared(unescape_cell(c)) for c in cells]


@contextmanager
def _open_csv(path: Path, limits: ImportLimits) -> Iterator[Sheet]:
    encoding = _detect_encoding(path)
    with path.open(encoding="gb18030" if encoding == "gbk" else encoding, newline="") as fh:
        first_line = fh.readline(65536)
        fh.seek(0)
        delimiter = max((",", "\t", ";"), key=first_line.count) if first_line else ","
        reader = csv.reader(fh, delimiter=delimiter)

        def records() -> Iterator[list[str]]:
            try:
                yield from reader
            except csv.Error as exc:
                raise FileUnreadable(f"第 {reader.line_num} 行无法按 CSV 读取 / line {reader.line_num} is not valid "
                                     f"CSV: {exc}", fix="检查该行的引号，或在 Excel 中另存为 CSV UTF-8 / check the "
                                     "quotes on that line, or save the file again as CSV UTF-8") from None

        stream = records()
        first = next(stream, None)
        headers = [unescape_cell(h).strip() for h in first] if first else None
        if headers is None or _blank(headers):
            raise FileUnreadable("文件为空或第 1 行不是表头 / the file is empty or row 1 is not the header row")
        # records numbered from 2 as Excel numbers rows (a quoted line break does not start a new row)
        yield Sheet(headers, _counted(enumerate(stream, start=2), limits), encoding=encoding)


def _looks_like_ours(ws) -> bool:
    first = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
    return sum(1 for h in first if header_key(h) in HEADER_LOOKUP) >= 3


def _choose_sheet(wb, name: str | None):
    """The sheet named by --sheet, else the active visible sheet (or the first visible one holding our headers)."""
    sheets = [ws for ws in wb.worksheets if hasattr(ws, "iter_rows")]
    if name is not None:
        for ws in sheets:
            if ws.title == name:
                return ws
        raise FileUnreadable(f"没有名为「{name}」的工作表 / no sheet named {name!r}; 工作表有 sheets: "
                             + ", ".join(ws.title for ws in sheets), fix="用 --sheet 给出上面列出的一个名称 / pass one "
                             "of the names above to --sheet")
    visible = [ws for ws in sheets if getattr(ws, "sheet_state", "visible") == "visible"]
    active = wb.active
    ordered = ([active] if active in visible else []) + [ws for ws in visible if ws is not active]
    for ws in ordered:
        if _looks_like_ours(ws):
            return ws
    hidden = [ws.title for ws in sheets if ws not in visible]
    if hidden:
        raise FileUnreadable("没有表头在第 1 行的可见工作表（隐藏的工作表不会被读取：" + ", ".join(hidden) + "） / no visible "
                             "sheet has the column headers in row 1 (hidden sheets are not read)",
                             fix="取消隐藏该工作表，或用 --sheet NAME 明确指定 / unhide the sheet, or name it with "
                                 "--sheet NAME")
    raise FileUnreadable("没有找到表头在第 1 行的工作表 / no sheet has the column headers in row 1: start from "
                         "`mtx certs template FILE.xlsx`")


@contextmanager
def _open_xlsx(path: Path, limits: ImportLimits, sheet_name: str | None) -> Iterator[Sheet]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(info.file_size for info in archive.infolist())  # zipfile enforces these sizes on reading
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileUnreadable(f"无法打开 XLSX 文件 / cannot open {path.name} as XLSX: {type(exc).__name__}") from None
    if expanded > limits.max_xlsx_uncompressed_mb * _MB:
        raise _over(f"XLSX 解压后有 {expanded / _MB:.0f} MB / the XLSX expands to {expanded / _MB:.0f} MB",
                    "max_xlsx_uncompressed_mb", f"{limits.max_xlsx_uncompressed_mb} MB",
                    "删去多余的工作表、图片和格式，或另存为 CSV / remove extra sheets, pictures and formatting, or "
                    "save as CSV")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise FileUnreadable(f"无法打开 XLSX 文件 / cannot open {path.name} as XLSX: {type(exc).__name__}") from None
    try:
        chosen = _choose_sheet(wb, sheet_name)
        records = chosen.iter_rows(values_only=True)
        first = next(records, ())
        headers = ["" if h is None else str(unescape_cell(h)).strip() for h in first]
        while headers and not headers[-1]:
            headers.pop()
        stream = ((number, list(record)) for number, record in enumerate(records, start=2))
        yield Sheet(headers, _counted(stream, limits), sheet=chosen.title, numeric_cells=True)
    finally:
        wb.close()


@contextmanager
def open_sheet(path: str | Path, limits: ImportLimits | None = None, sheet: str | None = None) -> Iterator[Sheet]:
    """The file's header and a stream of its rows; raises FileUnreadable (with the fix) before any row is read."""
    path = Path(path)
    limits = limits or ImportLimits()
    if path.is_dir():
        raise FileUnreadable(f"{path} 是一个文件夹，不是文件 / {path} is a directory, not a file",
                             fix="给出要导入的 .xlsx 或 .csv 文件 / give the .xlsx or .csv file to import")
    if not path.exists():
        raise FileUnreadable(f"文件不存在 / file not found: {path}", fix="检查路径 / check the path")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise FileUnreadable("不支持旧版 .xls / .xls is not supported: 在 Excel 中另存为 .xlsx / save it as .xlsx")
    if suffix not in (".xlsx", ".xlsm", ".csv", ".txt", ".tsv"):
        raise FileUnreadable(f"不支持的文件类型 {suffix or '(无)'} / unsupported file type: use .xlsx or .csv")
    try:
        _check_size(path, limits)
        opened = _open_xlsx(path, limits, sheet) if suffix in (".xlsx", ".xlsm") else _open_csv(path, limits)
        with opened as result:
            yield result
    except (PermissionError, IsADirectoryError) as exc:
        raise FileUnreadable(f"无法读取 / cannot read {path}: {exc.strerror}") from None


def read_sheet(path: str | Path, limits: ImportLimits | None = None, sheet: str | None = None) -> Sheet:
    """The whole sheet at once, rows as a list (for tests and small files)."""
    with open_sheet(path, limits, sheet) as opened:
        opened.rows = iter(list(opened.rows))
        return opened


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
