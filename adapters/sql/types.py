"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC instant: TIMESTAMPTZ on PostgreSQL, a fixed-width UTC text on SQLite.

    SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, so text order is time order and
    range predicates work unchanged; the zone is put back on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every stored instant is UTC-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        instant = datetime.fromisoformat(value) if isinstance(value, str) else value
        if not isinstance(instant, datetime):
            raise TypeError(f"not an instant: {value!r}")
        return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def json_document() -> TypeEngine[Any]:
    """JSON on SQLite, JSONB on PostgreSQL."""
    return JSON().with_variant(JSONB(), "postgresql")


# The text columns of the spend tables' keys compare bytewise: collation "C" on
# PostgreSQL, as SQLite's BINARY does (it has no collation named C). Every ingest batch
# upserts rows keyed by them, and a locale's collation (strcoll, no abbreviated keys)
# makes each index comparison dearer; "C" also orders them as Python and SQLite do.
KeyText: TypeEngine[str] = Text().with_variant(Text(collation="C"), "postgresql")
