"""Monthly spend_events partitions on PostgreSQL, made ahead of time by the worker.

The application role owns no table, so it calls a SECURITY DEFINER function that the
migration made (llmobserve_ensure_spend_partitions): the owner creates each partition,
moving any rows the DEFAULT partition already holds for that month. SQLite has no
partitions; there this is a no-op.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

_ENSURE = text("SELECT * FROM llmobserve_ensure_spend_partitions(:first_month, :months)")


def month_start(instant: datetime) -> date:
    return instant.astimezone(UTC).date().replace(day=1)


def partition_name(month: date) -> str:
    return f"spend_events_p{month:%Y%m}"


async def ensure_partitions(engine: AsyncEngine, now: datetime, months_ahead: int = 3) -> list[str]:
    """Create the partitions of `now`'s month and the `months_ahead` after it; return the
    names of those created now (none when they all exist). Safe to run concurrently."""
    if engine.dialect.name != "postgresql":
        return []
    async with engine.begin() as connection:
        return await ensure_partitions_on(connection, month_start(now), months_ahead)


async def ensure_partitions_on(
    connection: AsyncConnection, first_month: date, months_ahead: int
) -> list[str]:
    result = await connection.execute(_ENSURE, {"first_month": first_month, "months": months_ahead})
    return [row[0] for row in result]
