"""A batch stored as a transaction of its own: the same contract on every store.

On PostgreSQL the writer is the one-statement ingest (autocommit, the statement binding
its own tenant); elsewhere it is a unit of work. Both store each new event once, keep the
caller's order, maintain the rollups the reports read, and refuse another tenant's event.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import text

from adapters.sql.database import APP_ROLE, event_batch_writer, migrate
from adapters.sql.event_batches import PostgresEventBatches
from application.event_batches import UnitOfWorkBatchWriter
from application.ports import EventBatchWriter
from domain.reports import SpendFilter, SpendTotals
from tests.contract.builders import T0, event, minutes, new_tenant
from tests.contract.conftest import Backend, PostgresDatabase
from tests.contract.test_postgres_reconnect import (
    POOLED,
    bare_engine,
    terminate_pooled_backends,
)
from tests.support.services import (
    create_database,
    drop_database,
    require_postgres,
    scratch_database_name,
)

EVERYTHING = SpendFilter(datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))


def writer_for(backend: Backend) -> EventBatchWriter:
    if backend.engine is None:
        return UnitOfWorkBatchWriter(backend.uow)
    return event_batch_writer(backend.engine, backend.uow)


async def totals(backend: Backend, tenant: str) -> SpendTotals:
    async with backend.uow(tenant) as uow:
        return await uow.reports.totals(tenant, EVERYTHING)


async def test_the_writer_is_the_one_statement_ingest_on_postgres_only(backend: Backend) -> None:
    expected = (
        PostgresEventBatches if backend.name.startswith("postgres") else UnitOfWorkBatchWriter
    )
    assert type(writer_for(backend)) is expected


async def test_new_events_come_back_in_the_callers_order_and_reach_the_reports(
    backend: Backend,
) -> None:
    tenant = new_tenant()
    batch = [event(tenant, f"e{i}", T0 + minutes(i), cost=1_000 + i) for i in (3, 1, 2)]
    stored = await writer_for(backend).add_new(tenant, batch)
    assert [e.event_id for e in stored] == ["e3", "e1", "e2"]
    spent = await totals(backend, tenant)
    assert (spent.calls, spent.cost.nanos) == (3, 3_006)


async def test_a_retried_batch_counts_once_and_a_repeat_inside_it_too(backend: Backend) -> None:
    tenant = new_tenant()
    writer = writer_for(backend)
    batch = [
        event(tenant, "dup", T0, cost=100),
        event(tenant, "other", T0, cost=1),
        event(tenant, "dup", T0 + minutes(5), cost=999),
    ]
    assert [e.event_id for e in await writer.add_new(tenant, batch)] == ["dup", "other"]
    assert await writer.add_new(tenant, batch) == []
    grown = [*batch, event(tenant, "new", T0, cost=7)]
    assert [e.event_id for e in await writer.add_new(tenant, grown)] == ["new"]
    spent = await totals(backend, tenant)
    assert (spent.calls, spent.cost.nanos) == (3, 108)


async def test_an_event_of_another_tenant_refuses_the_whole_batch(backend: Backend) -> None:
    tenant, other = new_tenant(), new_tenant()
    batch = [event(tenant, "mine", T0), event(other, "theirs", T0)]
    with pytest.raises(ValueError, match="caller's tenant"):
        await writer_for(backend).add_new(tenant, batch)
    assert (await totals(backend, tenant)).calls == 0
    assert (await totals(backend, other)).calls == 0


async def test_an_empty_batch_stores_nothing(backend: Backend) -> None:
    assert await writer_for(backend).add_new(new_tenant(), []) == []


async def test_concurrent_batches_sharing_rollup_rows_all_count(backend: Backend) -> None:
    tenant = new_tenant()
    writer = writer_for(backend)
    # Every batch hits the same hourly rollup row, in autocommit on PostgreSQL.
    batches = [[event(tenant, f"b{b}-e{i}", T0, cost=10) for i in range(20)] for b in range(8)]
    stored = await asyncio.gather(*(writer.add_new(tenant, batch) for batch in batches))
    assert [len(s) for s in stored] == [20] * 8
    spent = await totals(backend, tenant)
    assert (spent.calls, spent.cost.nanos) == (160, 1_600)


async def test_each_tenant_sees_only_its_own_batch(backend: Backend) -> None:
    first, second = new_tenant(), new_tenant()
    writer = writer_for(backend)
    await writer.add_new(first, [event(first, "same-id", T0, cost=5)])
    await writer.add_new(second, [event(second, "same-id", T0, cost=70)])
    assert (await totals(backend, first)).cost.nanos == 5
    assert (await totals(backend, second)).cost.nanos == 70


@pytest.mark.postgres
@pytest.mark.parametrize("backend_name", ["postgres"], indirect=True)
async def test_the_statement_binds_its_tenant_for_itself_only(
    backend: Backend, postgres_database: PostgresDatabase
) -> None:
    """The tenant is transaction-local: the pooled connection it ran on carries none over,
    and under the service role the rows are that tenant's alone."""
    assert backend.engine is not None
    tenant = new_tenant()
    await writer_for(backend).add_new(tenant, [event(tenant, "e1", T0)])
    async with backend.engine.connect() as connection:
        bound = await connection.scalar(text("SELECT current_setting('app.current_tenant', true)"))
        visible = await connection.scalar(text("SELECT count(*) FROM spend_events"))
    assert bound in ("", None)
    assert visible == 0
    app = await asyncpg.connect(postgres_database.asyncpg_dsn(APP_ROLE))
    try:
        async with app.transaction():
            await app.execute("SELECT set_config('app.current_tenant', $1, true)", tenant)
            mine = await app.fetchval("SELECT count(*) FROM spend_events")
            rollups = await app.fetchval("SELECT sum(calls) FROM spend_rollups_hourly")
        assert (mine, rollups) == (1, 1)
        async with app.transaction():
            await app.execute("SELECT set_config('app.current_tenant', $1, true)", new_tenant())
            assert await app.fetchval("SELECT count(*) FROM spend_events") == 0
    finally:
        await app.close()


@pytest.fixture
async def migrated_database() -> AsyncIterator[tuple[str, str]]:
    admin_url = require_postgres()
    name = scratch_database_name("batches")
    url = await create_database(admin_url, name)
    try:
        await asyncio.to_thread(migrate, url)
        yield url, name
    finally:
        await drop_database(admin_url, name)


@pytest.mark.postgres
async def test_a_terminated_pool_costs_the_batch_nothing(
    migrated_database: tuple[str, str],
) -> None:
    """Without make_engine's checkout check, the dead connection fails the statement
    itself: the writer runs it again on a fresh one, and nothing counts twice."""
    url, name = migrated_database
    engine = bare_engine(url)
    try:
        writer = PostgresEventBatches(engine)
        tenant = new_tenant()
        await asyncio.gather(
            *(writer.add_new(tenant, [event(tenant, f"warm{i}", T0)]) for i in range(POOLED))
        )
        assert await terminate_pooled_backends(url, name) >= 1
        stored = await writer.add_new(tenant, [event(tenant, "e1", T0), event(tenant, "e2", T0)])
        assert [e.event_id for e in stored] == ["e1", "e2"]
        assert await writer.add_new(tenant, [event(tenant, "e1", T0)]) == []
    finally:
        await engine.dispose()
