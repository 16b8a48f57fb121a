"""PostgreSQL folds the hourly rollups into the block, daily, weekly and monthly ones behind a
watermark: the coarse rollups always hold exactly the hours before it, whatever arrives
late and whatever runs at the same time, and reports stay exact throughout."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from adapters.sql import rollup_folds
from adapters.sql.rollup_folds import fold_rollups
from adapters.sql.tables import ROLLUPS, unit_start_sql
from adapters.sql.time_plan import Grain, floor_to
from domain.events import SpendEvent
from domain.reports import Bucket, Dimension, SpendFilter
from tests.contract.builders import event, new_tenant
from tests.contract.conftest import Backend, PostgresDatabase

BACKENDS = [pytest.param("postgres", marks=pytest.mark.postgres)]
# Each coarse rollup: its time column and the start of its unit holding an hour.
COARSE = {
    "spend_rollups_blocks": ("block", "date_bin('4 hours', hour, '2000-01-01 00:00:00+00')"),
    "spend_rollups_daily": ("day", "date_trunc('day', hour, 'UTC')"),
    "spend_rollups_weekly": ("week", "date_trunc('week', hour, 'UTC')"),
    "spend_rollups_monthly": ("month", "date_trunc('month', hour, 'UTC')"),
}
SUMS = "sum(cost_nanos), sum(calls), sum(input_tokens), sum(unpriced_calls)"


async def owner(database: PostgresDatabase) -> asyncpg.Connection:
    return await asyncpg.connect(database.asyncpg_dsn())


async def mark_of(database: PostgresDatabase, tenant: str) -> datetime | None:
    connection = await owner(database)
    try:
        mark: datetime | None = await connection.fetchval(
            "SELECT folded_until FROM rollup_folds WHERE tenant_id = $1", tenant
        )
        return mark
    finally:
        await connection.close()


async def assert_coarse_hold_the_hours_before_the_mark(
    database: PostgresDatabase, tenant: str
) -> None:
    """Every coarse row equals the sum of its hours before the watermark; no other row."""
    connection = await owner(database)
    try:
        mark = await connection.fetchval(
            "SELECT coalesce(folded_until, '-infinity') FROM rollup_folds WHERE tenant_id = $1",
            tenant,
        )
        for table, (column, unit) in COARSE.items():
            expected = await connection.fetch(
                f"SELECT {unit} AS unit, provider, model, agent,"
                f" customer_id, {SUMS} FROM spend_rollups_hourly"
                " WHERE tenant_id = $1 AND hour < $2 GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
                tenant,
                mark if mark is not None else datetime(1970, 1, 1, tzinfo=UTC),
            )
            actual = await connection.fetch(
                f"SELECT {column} AS unit, provider, model, agent, customer_id, {SUMS}"
                f" FROM {table} WHERE tenant_id = $1"
                " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
                tenant,
            )
            assert [tuple(row) for row in actual] == [tuple(row) for row in expected], table
    finally:
        await connection.close()


async def store(backend: Backend, tenant: str, events: list[SpendEvent]) -> None:
    async with backend.uow(tenant) as uow:
        await uow.events.add_new(events)
        await uow.commit()


async def report(backend: Backend, tenant: str, start: datetime, end: datetime) -> tuple:
    spend_filter = SpendFilter(start=start, end=end)
    async with backend.uow(tenant) as uow:
        totals = await uow.reports.totals(tenant, spend_filter)
        customers = await uow.reports.breakdown(tenant, spend_filter, Dimension.CUSTOMER, 100)
        days = await uow.reports.timeseries(tenant, spend_filter, Bucket.DAY, Dimension.CUSTOMER)
    return totals, customers, days


def hours_ago(now: datetime, hours: float) -> datetime:
    return now - timedelta(hours=hours)


@pytest.mark.postgres
async def test_postgres_units_start_where_the_planner_floors(
    postgres_database: PostgresDatabase,
) -> None:
    """The fold and the late-event path bin hours with `unit_start_sql`; the planner reads
    whole units by `floor_to`. They must agree, or a unit would hold another's hours."""
    instants = [
        datetime(2026, 11, 20, 14, 37, 12, 345678, tzinfo=UTC),
        datetime(2026, 11, 20, 3, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 11, 23, 0, 0, tzinfo=UTC),  # a Monday midnight
        datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
        datetime(2024, 2, 29, 20, 0, tzinfo=UTC),
    ]
    connection = await owner(postgres_database)
    try:
        for _, column in ROLLUPS:
            sql = f"SELECT {unit_start_sql(column, '$1::timestamptz')}"
            for instant in instants:
                started = await connection.fetchval(sql, instant)
                assert started == floor_to(instant, Grain(column)), (column, instant)
    finally:
        await connection.close()


async def test_late_events_land_once_whether_their_hour_was_folded_or_not(
    backend: Backend, postgres_database: PostgresDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = new_tenant()
    now = datetime.now(UTC)
    # Ten days back to now; one fold takes five days, leaving an old hour unfolded.
    monkeypatch.setattr(rollup_folds, "MAX_FOLD", timedelta(days=5))
    first = [
        event(tenant, f"e{i}", hours_ago(now, hours), cost=1_000 + i, customer_id=f"c{i % 3}")
        for i, hours in enumerate((240, 239.5, 200, 100, 50, 26, 3, 0.5))
    ]
    await store(backend, tenant, first)
    start, end = now - timedelta(days=11), now + timedelta(minutes=1)
    before = await report(backend, tenant, start, end)
    assert before[0].calls == len(first)

    [fold] = await fold_rollups(backend.engine, [tenant])
    assert fold.end - fold.start == timedelta(days=5)
    assert await mark_of(postgres_database, tenant) == fold.end
    await assert_coarse_hold_the_hours_before_the_mark(postgres_database, tenant)
    assert await report(backend, tenant, start, end) == before

    # Late: one hour folded already (added to the coarse rollups at once), one not yet.
    late = [
        event(tenant, "late-folded", hours_ago(now, 239), cost=7, customer_id="c0"),
        event(tenant, "late-unfolded", hours_ago(now, 50), cost=11, customer_id="c9"),
        event(tenant, "recent", hours_ago(now, 0.2), cost=13, customer_id="c1"),
    ]
    await store(backend, tenant, late)
    await assert_coarse_hold_the_hours_before_the_mark(postgres_database, tenant)
    after = await report(backend, tenant, start, end)
    assert after[0].calls == len(first) + 3
    assert after[0].cost.nanos == before[0].cost.nanos + 7 + 11 + 13

    # A retried batch changes nothing; the next folds catch up to two hours ago.
    await store(backend, tenant, late)
    while await fold_rollups(backend.engine, [tenant]):
        await assert_coarse_hold_the_hours_before_the_mark(postgres_database, tenant)
        assert await report(backend, tenant, start, end) == after
    mark = await mark_of(postgres_database, tenant)
    assert mark is not None and now - timedelta(hours=3) <= mark <= now - timedelta(hours=2)
    assert await fold_rollups(backend.engine, [tenant]) == []  # twice is harmless


async def test_ingest_and_folds_at_the_same_time_lose_nothing_and_count_nothing_twice(
    backend: Backend, postgres_database: PostgresDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = new_tenant()
    now = datetime.now(UTC)
    # An hour per fold: the watermark moves all through the run.
    monkeypatch.setattr(rollup_folds, "MAX_FOLD", timedelta(hours=1))
    await store(backend, tenant, [event(tenant, "oldest", hours_ago(now, 48), cost=1)])
    rng = random.Random(7)
    batches = [
        [
            event(
                tenant,
                f"w{writer}-b{number}-{i}",
                hours_ago(now, rng.choice((rng.uniform(0, 1.5), rng.uniform(0, 48)))),
                cost=rng.randint(1, 10_000),
                customer_id=rng.choice(("a", "b", None)),
            )
            for i in range(20)
        ]
        for writer in range(4)
        for number in range(12)
    ]
    writing = True

    async def writer(mine: list[list[SpendEvent]]) -> None:
        for batch in mine:
            await store(backend, tenant, batch)

    async def folder() -> int:
        runs = 0
        while writing:
            runs += len(await fold_rollups(backend.engine, [tenant]))
        return runs

    folding = asyncio.create_task(folder())
    await asyncio.gather(*(writer(batches[w::4]) for w in range(4)))
    writing = False
    assert await folding > 0
    await assert_coarse_hold_the_hours_before_the_mark(postgres_database, tenant)
    expected_cost = 1 + sum(e.cost.nanos for batch in batches for e in batch if e.cost)
    totals, _, days = await report(backend, tenant, now - timedelta(days=3), now)
    assert totals.calls == 1 + 20 * len(batches)
    assert totals.cost.nanos == expected_cost
    assert sum(point.totals.cost.nanos for point in days) == expected_cost
