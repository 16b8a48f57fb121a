"""The block, daily, weekly and monthly rollups on PostgreSQL: folded from the hourly ones.

Each ingest batch upserts its hourly rollups (and the model rollups) in its own
transaction; the coarser levels cost as much again per batch, so they are filled from
the hours by a job instead, behind a watermark per tenant (`rollup_folds.folded_until`):
they hold exactly the hours before it. Readers use a coarse unit only up to the
watermark and hours after it (`time_plan`), so every sum stays exact at every moment,
whichever watermark a reader saw: folding moves hours into units that end after it.

Who writes which hour, without double counting or losing one:
- An event of the current or the previous hour (by the database clock) is *recent*: it
  goes to the hourly rollups only. The fold never takes an hour younger than
  FOLD_LAG, and waits first for every ingest transaction that began before it (each
  holds the FOLD_GATE lock in shared mode; the fold takes it exclusively for an
  instant), so a recent hour is never folded under a batch's feet.
- An older event is *late* (a retry after an outage, an import). Its batch locks its
  tenant's watermark row, as the fold does, so the two take turns: a late hour already
  folded is added to the coarse rollups in the batch's own transaction; one not folded
  yet is left to the fold.

SQLite keeps every level in the batch's transaction (one writer at a time); it has no
watermark and readers use every level freely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.session import SqlSession
from adapters.sql.tables import (
    DIMENSION_COLUMNS,
    MEASURE_COLUMNS,
    ROLLUPS,
    rollup_folds,
    tenants,
    unit_start_sql,
)

# Advisory lock key (any bigint; spells "llmofold") taken shared by every ingest
# transaction and exclusively, for an instant, by the fold.
FOLD_GATE = 0x6C6C6D6F666F6C64
# Events of an hour that ended more than this before the batch began are late.
LATE_AFTER = timedelta(hours=1)
# The fold takes hours that ended at least this long ago: more than LATE_AFTER, so no
# recent event's hour is ever among them.
FOLD_LAG = timedelta(hours=2)
# Hours folded per tenant and run at most: a backlog (a worker down for days) is worked
# off over several runs, none holding its locks for long.
MAX_FOLD = timedelta(days=7)
# Before any fold, nothing coarse is complete: readers use hours only.
NOTHING_FOLDED = datetime(1970, 1, 1, tzinfo=UTC)

COARSE_ROLLUPS = tuple((table, column) for table, column in ROLLUPS if column != "hour")


@dataclass(frozen=True, slots=True)
class Fold:
    tenant_id: str
    start: datetime
    end: datetime


async def coarse_until(session: SqlSession, tenant_id: str) -> datetime | None:
    """The watermark readers plan with; None where every level is always complete."""
    if not session.postgres:
        return None
    row = await session.first(
        select(rollup_folds.c.folded_until).where(rollup_folds.c.tenant_id == tenant_id)
    )
    if row is None or row["folded_until"] is None:
        return NOTHING_FOLDED
    folded: datetime = row["folded_until"]
    return folded


def _fold_sql(table_name: str, time_column: str) -> str:
    keys = ", ".join(("tenant_id", time_column, *DIMENSION_COLUMNS))
    sums = ", ".join(f"sum_exact({measure})" for measure in MEASURE_COLUMNS)
    updates = ", ".join(f"{m} = r.{m} + EXCLUDED.{m}" for m in MEASURE_COLUMNS)
    groups = ", ".join(str(position) for position in range(1, len(DIMENSION_COLUMNS) + 3))
    # Built from this module's constants only, never from input.
    return f"""
    INSERT INTO {table_name} AS r ({keys}, {", ".join(MEASURE_COLUMNS)})
    SELECT tenant_id, {unit_start_sql(time_column, "hour")}, {", ".join(DIMENSION_COLUMNS)},
           {sums}
    FROM spend_rollups_hourly
    WHERE tenant_id = :tenant_id AND hour >= :start AND hour < :end
    GROUP BY {groups}
    ORDER BY {groups}
    ON CONFLICT ({keys}) DO UPDATE SET {updates}"""  # noqa: S608


_FOLDS = tuple(text(_fold_sql(table.name, column)) for table, column in COARSE_ROLLUPS)
# Lock (or make) the tenant's watermark row; the newest committed value comes back.
_LOCK_MARK = text(
    "INSERT INTO rollup_folds AS f (tenant_id) VALUES (:tenant_id)"
    " ON CONFLICT (tenant_id) DO UPDATE SET folded_until = f.folded_until"
    " RETURNING folded_until"
)
_FIRST_HOUR = text("SELECT min(hour) FROM spend_rollups_hourly WHERE tenant_id = :tenant_id")
_SET_MARK = text("UPDATE rollup_folds SET folded_until = :end WHERE tenant_id = :tenant_id")
_BARRIER = text(f"SELECT pg_advisory_xact_lock({FOLD_GATE})")
_FOLD_BEFORE = text(
    f"SELECT date_trunc('hour', clock_timestamp(), 'UTC') - interval '{int(FOLD_LAG.total_seconds())} s'"
)


async def fold_rollups(engine: AsyncEngine, tenant_ids: Sequence[str] | None = None) -> list[Fold]:
    """Fold the hours older than FOLD_LAG into the coarse rollups, for every tenant (or
    those given); return what was folded. Safe to run twice, and concurrently."""
    if engine.dialect.name != "postgresql":
        return []
    async with engine.connect() as connection:
        # Wait for every ingest transaction that began before now, then let them all go.
        async with connection.begin():
            await connection.execute(_BARRIER)
        async with connection.begin():
            fold_before: datetime = (await connection.execute(_FOLD_BEFORE)).scalar_one()
    if tenant_ids is None:
        tenant_ids = await _known_tenants(engine)
    folds = []
    for tenant_id in tenant_ids:
        fold = await _fold_tenant(engine, tenant_id, fold_before)
        if fold is not None:
            folds.append(fold)
    return folds


async def _known_tenants(engine: AsyncEngine) -> list[str]:
    session = SqlSession(engine, None)
    try:
        names = {row["tenant_id"] for row in await session.rows(select(tenants.c.tenant_id))}
        await session.commit()
    finally:
        await session.close()
    return sorted(names)


async def _fold_tenant(engine: AsyncEngine, tenant_id: str, fold_before: datetime) -> Fold | None:
    session = SqlSession(engine, tenant_id)
    try:
        start = (await session.execute(_LOCK_MARK, {"tenant_id": tenant_id})).scalar_one()
        if start is None:  # never folded: its coarse rollups hold nothing yet
            first = (await session.execute(_FIRST_HOUR, {"tenant_id": tenant_id})).scalar_one()
            start = min(first, fold_before) if first is not None else fold_before
        end = min(fold_before, start + MAX_FOLD)
        if end <= start:
            await session.rollback()
            return None
        bounds = {"tenant_id": tenant_id, "start": start, "end": end}
        for fold in _FOLDS:
            await session.execute(fold, bounds)
        await session.execute(_SET_MARK, {"tenant_id": tenant_id, "end": end})
        await session.commit()
        return Fold(tenant_id, start, end)
    finally:
        await session.close()
