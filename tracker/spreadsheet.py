"""Spreadsheet files we write and read back: text never turns into a formula, and an output path is checked first.

Every text cell we write goes through here, for every export now and later. In XLSX a text value is written as a
string cell (never a formula) with its value unchanged; in CSV a value that a spreadsheet would run as a formula
(starting with = + - @, a tab or a carriage return) gets a leading apostrophe, which our own importer strips again,
so an exported file imports back unchanged.
"""
from __future__ import annotations

import contextlib
import csv
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_ESCAPE = "'"
# characters the XLSX format cannot hold at all (openpyxl refuses them): shown as \xNN instead
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class OutputPathError(ValueError):
    """An output file that cannot be written: wrong extension, missing folder, a directory. Nothing was written."""


def looks_like_formula(text: object) -> bool:
    """True when a spreadsheet program would read `text` as a formula (or a sign-prefixed expression)."""
    return isinstance(text, str) and text.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell: formula-like text gets a leading ' (Excel and LibreOffice then show it as text)."""
    if looks_like_formula(value):
        return CSV_ESCAPE + value
    return value


def unescape_cell(value: Any) -> Any:
    """A cell as read by our importer: the ' that `csv_cell` put before a formula-like value is removed."""
    if isinstance(value, str) and value.startswith(CSV_ESCAPE) and looks_like_formula(value[1:]):
        return value[1:]
    return value


def xlsx_cell(ws, value: Any):
    """A cell for `ws.append`: text always as a string cell (openpyxl would store '=…' as a formula)."""
    from openpyxl.cell import Cell, WriteOnlyCell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    if not isinstance(value, str):
        return value
    text = _NOT_IN_XLSX.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    cell = WriteOnlyCell(ws, value=text) if isinstance(ws, WriteOnlyWorksheet) else Cell(ws, value=text)
    cell.data_type = "s"
    return cell


def append_row(ws, values: Iterable[Any]) -> None:
    """Append one row to an openpyxl worksheet, every text value a string cell."""
    ws.append([xlsx_cell(ws, v) for v in values])


def write_csv_rows(fh, rows: Iterable[Iterable[Any]]) -> None:
    """Write rows to an open text file as CSV, every formula-like text value escaped."""
    writer = csv.writer(fh)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])


def check_output_path(path: str | Path, suffixes: tuple[str, ...], what: str = "输出文件 / output file") -> Path:
    """Refuse an output path before anything is written: unsupported extension, missing folder, a directory."""
    path = Path(path)
    allowed = " 或 ".join(suffixes)
    allowed_en = " or ".join(suffixes)
    if path.is_dir():
        raise OutputPathError(f"{what} {path} 是一个文件夹 / is a directory: 请给出文件名，如 {path / ('x' + suffixes[0])} "
                              f"/ give a file name, e.g. {path / ('x' + suffixes[0])}")
    if path.suffix.lower() not in suffixes:
        raise OutputPathError(f"{what} {path} 须以 {allowed} 结尾 / must end in {allowed_en} "
                              f"(不支持 unsupported: {path.suffix or '无扩展名 none'})")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputPathError(f"{what} 所在文件夹 {parent} 不存在 / folder {parent} does not exist: 先创建它或换一个路径 "
                              "/ create it first or choose another path")
    if not os.access(parent, os.W_OK):
        raise OutputPathError(f"文件夹 {parent} 不可写 / folder {parent} is not writable: 换一个路径 / choose another path")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputPathError(f"{what} {path} 不可写 / is not writable (read-only?): 换一个文件名 / choose another name")
    return path


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """A temporary file next to `path`, moved into place only when the block succeeds: never a half-written file."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=".mtx-", suffix=path.suffix, dir=path.parent if str(path.parent) else ".")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # as an ordinary new file would be, not mkstemp's 0600
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
