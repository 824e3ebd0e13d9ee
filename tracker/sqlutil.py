"""Small SQL helpers that differ between SQLite and PostgreSQL, and the page of a list paged in SQL."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Date, Float, Integer, Table, cast, delete, func
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.elements import ColumnElement


def month_of(column, dialect_name: str) -> ColumnElement:
    """'YYYY-MM' of a UTC timestamp column."""
    if dialect_name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def month_of_day(column, dialect_name: str) -> ColumnElement:
    """'YYYY-MM' of a DATE column (a calendar date already: no time zone applies)."""
    if dialect_name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.substr(column, 1, 7)


def beijing_day(column, dialect_name: str) -> ColumnElement:
    """The Beijing calendar date (UTC+8, no daylight saving since 1991) of a stored UTC timestamp, as a DATE."""
    if dialect_name == "postgresql":
        return cast(func.timezone("Asia/Shanghai", column), Date)
    return func.date(column, "+8 hours")


def beijing_month(column, dialect_name: str) -> ColumnElement:
    """The first day of the Beijing calendar month of a stored UTC timestamp, as a DATE."""
    if dialect_name == "postgresql":
        return cast(func.date_trunc("month", func.timezone("Asia/Shanghai", column)), Date)
    return func.date(column, "+8 hours", "start of month")


def greatest(dialect_name: str, a, b) -> ColumnElement:
    return func.greatest(a, b) if dialect_name == "postgresql" else func.max(a, b)


def least(dialect_name: str, a, b) -> ColumnElement:
    return func.least(a, b) if dialect_name == "postgresql" else func.min(a, b)


def seconds_between(start, end, dialect_name: str) -> ColumnElement:
    """``end - start`` in seconds, as a number the database computes (so no timestamps travel to Python).

    SQLite keeps times as text 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's storage format, always with microseconds):
    whole seconds from strftime('%s') plus the difference of the fractions, exact to the microsecond (julianday, a
    double, would be some 50 microseconds off near today).
    """
    if dialect_name == "postgresql":
        return func.extract("epoch", end - start)
    whole = cast(func.strftime("%s", end), Integer) - cast(func.strftime("%s", start), Integer)
    return whole + (cast(func.substr(end, 20), Float) - cast(func.substr(start, 20), Float))


def empty_temporary(connection: Connection, table: Table) -> Table:
    """``table`` (declared with ``prefixes=["TEMPORARY"]``) as this connection's own temporary table, created on
    first use and emptied (PostgreSQL: also emptied at every commit; SQLite: in the connection's temp schema)."""
    if connection.dialect.name == "postgresql":
        ddl = str(CreateTable(table).compile(dialect=connection.dialect)).strip()
        connection.exec_driver_sql(ddl.replace("CREATE TEMPORARY TABLE", "CREATE TEMPORARY TABLE IF NOT EXISTS", 1)
                                   + " ON COMMIT DELETE ROWS")
    else:
        table.create(connection, checkfirst=True)
    connection.execute(delete(table))
    return table


@dataclass(frozen=True)
class Page:
    """One page of a longer list: its rows, how many rows the whole list has, and where this page starts."""

    rows: list[dict]
    total: int
    limit: int
    offset: int
