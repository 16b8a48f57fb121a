"""PostgreSQL: monthly partitions are made ahead, events land in them, none is refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest

from adapters.sql.database import ensure_partitions
from tests.contract.builders import event, new_tenant
from tests.contract.conftest import Backend, PostgresDatabase

BACKENDS = [pytest.param("postgres", marks=pytest.mark.postgres)]


async def partitions(database: PostgresDatabase) -> dict[str, str]:
    """Partition name -> its bounds, as the owner sees them."""
    connection = await asyncpg.connect(database.asyncpg_dsn())
    try:
        rows = await connection.fetch("""
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'spend_events'::regclass
        """)
    finally:
        await connection.close()
    return {row["relname"]: row["bound"] for row in rows}


async def where_events_live(database: PostgresDatabase, tenant: str) -> dict[str, str]:
    connection = await asyncpg.connect(database.asyncpg_dsn())
    try:
        rows = await connection.fetch(
            "SELECT event_id, tableoid::regclass::text AS part FROM spend_events"
            " WHERE tenant_id = $1",
            tenant,
        )
    finally:
        await connection.close()
    return {row["event_id"]: row["part"] for row in rows}


async def test_migration_made_this_month_and_three_ahead(
    postgres_database: PostgresDatabase,
) -> None:
    existing = await partitions(postgres_database)
    now = datetime.now(UTC)
    expected = {"spend_events_default"}
    year, month = now.year, now.month
    for _ in range(4):
        expected.add(f"spend_events_p{year}{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    assert expected <= set(existing)
    assert existing["spend_events_default"] == "DEFAULT"


async def test_the_app_role_makes_partitions_ahead_idempotently(
    backend: Backend, postgres_database: PostgresDatabase
) -> None:
    assert backend.engine is not None
    now = datetime(2031, 11, 20, tzinfo=UTC)
    created = await ensure_partitions(backend.engine, now, months_ahead=2)
    assert created == ["spend_events_p203111", "spend_events_p203112", "spend_events_p203201"]
    assert await ensure_partitions(backend.engine, now, months_ahead=2) == []
    bounds = (await partitions(postgres_database))["spend_events_p203112"]
    assert bounds == ("FOR VALUES FROM ('2031-12-01 00:00:00+00') TO ('2032-01-01 00:00:00+00')")


async def test_events_land_in_their_month_and_strays_in_the_default(
    backend: Backend, postgres_database: PostgresDatabase
) -> None:
    assert backend.engine is not None
    await ensure_partitions(backend.engine, datetime(2032, 5, 1, tzinfo=UTC), months_ahead=0)
    tenant = new_tenant()
    async with backend.uow(tenant) as uow:
        await uow.events.add_new(
            [
                event(tenant, "may", datetime(2032, 5, 31, 23, 59, tzinfo=UTC)),
                event(tenant, "june", datetime(2032, 6, 1, tzinfo=UTC)),
                event(tenant, "old", datetime(2020, 6, 15, tzinfo=UTC)),
            ]
        )
        await uow.commit()
    assert await where_events_live(postgres_database, tenant) == {
        "may": "spend_events_p203205",
        "june": "spend_events_default",
        "old": "spend_events_default",
    }
    # Making June later moves its stray rows out of the default partition.
    assert await ensure_partitions(backend.engine, datetime(2032, 6, 3, tzinfo=UTC), 0) == [
        "spend_events_p203206"
    ]
    placed = await where_events_live(postgres_database, tenant)
    assert placed["june"] == "spend_events_p203206"
    assert placed["old"] == "spend_events_default"


async def test_concurrent_partition_makers_do_not_collide(backend: Backend) -> None:
    assert backend.engine is not None
    now = datetime(2033, 3, 1, tzinfo=UTC)
    results = await asyncio.gather(*(ensure_partitions(backend.engine, now, 3) for _ in range(4)))
    made = sorted(name for result in results for name in result)
    assert made == [f"spend_events_p2033{m:02d}" for m in (3, 4, 5, 6)]
