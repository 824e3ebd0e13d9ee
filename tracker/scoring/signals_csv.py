"""Read a table of raw signals (``mtx score-signals FILE.csv``) into rows for the engine.

Contract: the first row is the header; it has a ``name`` column and one column per signal,
named as in the model. An empty cell is a missing value. Columns the model does not use are
ignored with a warning (a misspelt column must not pass silently). A value that is not a plain
number is an error naming the row (the header is row 1, as a spreadsheet shows it) and the
column (by name and by spreadsheet letter), with the fix.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from tracker.scoring.model import ScoringModel

NAME_COLUMN = "name"


class SignalsCsvError(ValueError):
    """The CSV cannot be scored as it is; the message says where and how to fix it."""


@dataclass
class SignalsTable:
    rows: list[tuple[str, dict[str, float | None]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (how a spreadsheet names the column)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def parse_value(text: str, row_number: int, column: str, index: int) -> float | None:
    """Empty -> None (missing); a finite number -> float; anything else -> ``SignalsCsvError``."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise SignalsCsvError(
            f"row {row_number}, column '{column}' (column {column_letter(index)}): '{text}' is not a number. "
            "Fix: write a plain number such as 12 or 0.5 (no units, no thousands separators), "
            "or leave the cell empty if the value is missing."
        )
    return value


def _read_rows(path: Path) -> list[list[str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle))
    except FileNotFoundError:
        raise SignalsCsvError(f"{path}: file not found. Fix: check the path to the CSV file.") from None
    except UnicodeDecodeError:
        raise SignalsCsvError(f"{path}: not UTF-8 text. Fix: save the table as 'CSV UTF-8'.") from None
    except csv.Error as exc:
        raise SignalsCsvError(f"{path}: not a readable CSV ({exc}). Fix: export the table again as CSV.") from None


def _check_header(header: list[str], model: ScoringModel, table: SignalsTable) -> None:
    seen: dict[str, int] = {}
    for index, column in enumerate(header):
        if column in seen:
            raise SignalsCsvError(
                f"row 1: column '{column}' appears twice (columns {column_letter(seen[column])} and "
                f"{column_letter(index)}). Fix: keep one column per signal."
            )
        seen[column] = index
    if NAME_COLUMN not in seen:
        raise SignalsCsvError(
            f"row 1: no '{NAME_COLUMN}' column in the header ({', '.join(header) or 'empty'}). "
            f"Fix: add a column named '{NAME_COLUMN}' holding each project's name."
        )
    signals = set(model.signal_names())
    for index, column in enumerate(header):
        if column != NAME_COLUMN and column not in signals:
            table.warnings.append(
                f"column '{column}' (column {column_letter(index)}) is not a signal of model "
                f"'{model.name}'; it is ignored"
            )
    for name in model.signal_names():
        if name not in seen:
            table.warnings.append(f"no column for signal '{name}': it is missing for every row")


def read_signals_csv(path: Path, model: ScoringModel) -> SignalsTable:
    """Parse ``path`` against ``model``; raise ``SignalsCsvError`` on the first unusable cell."""
    lines = _read_rows(Path(path))
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise SignalsCsvError(f"{path}: the file is empty. Fix: the first row must be a header with a '{NAME_COLUMN}' column.")
    header = [cell.strip() for cell in lines[0]]
    table = SignalsTable()
    _check_header(header, model, table)
    wanted = [(index, column) for index, column in enumerate(header) if column in set(model.signal_names())]
    name_index = header.index(NAME_COLUMN)
    names_seen: set[str] = set()
    for row_number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            raise SignalsCsvError(
                f"row {row_number} has {len(cells)} cells but the header has {len(header)}. "
                "Fix: remove the extra cells or quote values that contain commas."
            )
        cells = cells + [""] * (len(header) - len(cells))
        name = cells[name_index].strip()
        if not name:
            raise SignalsCsvError(
                f"row {row_number}, column '{NAME_COLUMN}' (column {column_letter(name_index)}) is empty. "
                "Fix: give every project a name."
            )
        if name in names_seen:
            table.warnings.append(f"row {row_number}: the name '{name}' appears more than once")
        names_seen.add(name)
        values = {column: parse_value(cells[index], row_number, column, index) for index, column in wanted}
        table.rows.append((name, values))
    return table
