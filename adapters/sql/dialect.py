"""The few places where SQLite and PostgreSQL need different SQL for the same meaning."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Table, bindparam, cast, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from adapters.sql.types import UtcDateTime


def upsertable_insert(dialect: str, table: Table) -> Any:
    """INSERT with ON CONFLICT support (both dialects spell the builder the same way)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement: Insert = insert(table)
    return statement


def binary_order(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """Order text by code point, as Python's sort does, whatever the database collation."""
    return column.collate("C") if dialect == "postgresql" else column  # SQLite: BINARY


def instant(name: str, dialect: str) -> ColumnElement[datetime]:
    """A UTC instant bound as parameter `name`, typed so that PostgreSQL can use it in a
    UNION."""
    parameter = bindparam(name, type_=UtcDateTime)
    # SQLite must not CAST: its DATETIME affinity is NUMERIC and would keep only the year.
    return cast(parameter, UtcDateTime) if dialect == "postgresql" else parameter


def exact_sum(value: ColumnElement[Any], dialect: str) -> ColumnElement[int]:
    """The sum of integers as a BIGINT, never rounded: an overflow is an error.

    PostgreSQL's sum(bigint) returns numeric through a 128-bit state per group; the
    `sum_exact` aggregate (migration 0007) adds bigints by value, several times faster
    over a report's tens of thousands of rollup rows. SQLite's sum() of integers is an
    exact 64-bit sum already."""
    if dialect == "postgresql":
        return func.sum_exact(value, type_=BigInteger)
    return func.sum(value, type_=BigInteger)


def has_substring(
    haystack: ColumnElement[str], needle: ColumnElement[str], dialect: str
) -> ColumnElement[bool]:
    """Case-sensitive substring test with no LIKE wildcards to escape."""
    position = func.strpos if dialect == "postgresql" else func.instr
    return position(haystack, needle) > 0


def lowered(column: ColumnElement[str], dialect: str) -> ColumnElement[str]:
    # SQLite gets Python's str.lower (registered by the engine): its lower() is ASCII-only.
    return func.lower(column) if dialect == "postgresql" else func.py_lower(column)


def insert_or_replace(dialect: str, table: Table, row: dict[str, Any]) -> Any:
    """INSERT, or overwrite every other column of the row with the same primary key."""
    keys = [column.name for column in table.primary_key.columns]
    statement = upsertable_insert(dialect, table).values(row)
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={name: statement.excluded[name] for name in row if name not in keys},
    )


def insert_if_absent(dialect: str, table: Table, row: dict[str, Any]) -> Any:
    """INSERT unless any unique key of the table is taken already (then nothing happens)."""
    return upsertable_insert(dialect, table).values(row).on_conflict_do_nothing()
