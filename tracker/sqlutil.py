"""Small SQL helpers that differ between SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement


def month_of(column, dialect_name: str) -> ColumnElement:
    """'YYYY-MM' of a UTC timestamp column."""
    if dialect_name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)
