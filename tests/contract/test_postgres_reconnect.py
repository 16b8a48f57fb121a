"""PostgreSQL terminating the pool's connections costs no unit of work, without pre-ping.

The engine no longer pings on checkout; a dead pooled connection is caught by the first
statement of each transaction, the tenant binding, and the transaction starts again on a
fresh connection. Runs on a scratch database of the test server, and terminates only the
backends of that database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.sql.engine import make_engine
from adapters.sql.session import SqlSession, SqlTransaction
from tests.support.services import (
    create_database,
    drop_database,
    require_postgres,
    scratch_database_name,
)

pytestmark = pytest.mark.postgres

POOLED = 3
_TENANT = text("SELECT current_setting('app.current_tenant', true) AS tenant")


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture
async def database() -> AsyncIterator[tuple[str, str]]:
    admin_url = require_postgres()
    name = scratch_database_name("reconnect")
    url = await create_database(admin_url, name)
    try:
        yield url, name
    finally:
        await drop_database(admin_url, name)


async def fill_pool(engine: AsyncEngine) -> None:
    """Leave POOLED live connections in the pool, each having run a transaction."""
    sessions = [SqlSession(engine, "acme") for _ in range(POOLED)]
    await asyncio.gather(*(session.first(text("SELECT 1")) for session in sessions))
    for session in sessions:
        await session.close()
    assert engine.pool.checkedin() == POOLED  # type: ignore[attr-defined]


async def terminate_pooled_backends(url: str, database: str) -> int:
    """What a server restart or a failover does to the pool, as the superuser."""
    connection = await asyncpg.connect(_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'llmobserve' AND datname = $1"
            " AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await connection.close()
    return len(rows)


@asynccontextmanager
async def terminated_pool(
    database: tuple[str, str], engine: AsyncEngine
) -> AsyncIterator[AsyncEngine]:
    """`engine` with POOLED pooled connections whose backends were just terminated."""
    url, name = database
    try:
        await fill_pool(engine)
        assert await terminate_pooled_backends(url, name) == POOLED
        yield engine
    finally:
        await engine.dispose()


def bare_engine(url: str) -> AsyncEngine:
    """A pool with neither pre-ping nor make_engine's checkout check: the session alone."""
    return create_async_engine(
        url,
        pool_size=POOLED,
        connect_args={"server_settings": {"application_name": "llmobserve"}},
    )


async def tenant_bound(engine: AsyncEngine, tenant_id: str) -> str | None:
    async with SqlTransaction(engine, tenant_id) as uow:
        row = await uow._session.first(_TENANT)
        await uow.commit()
    return None if row is None else row["tenant"]


def test_the_engine_does_not_pre_ping() -> None:
    engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    assert engine.pool._pre_ping is False  # type: ignore[attr-defined]


async def test_without_the_retry_a_terminated_pool_fails_the_next_statement(
    database: tuple[str, str],
) -> None:
    """The failure the session guards against: a statement on a dead pooled connection."""
    async with terminated_pool(database, bare_engine(database[0])) as engine:
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as caught:
                await connection.execute(text("SELECT 1"))
        assert caught.value.connection_invalidated


@pytest.mark.parametrize("pause", [None, 0.2], ids=["at-once", "after-a-pause"])
async def test_the_session_starts_again_on_a_fresh_connection(
    database: tuple[str, str], pause: float | None
) -> None:
    async with terminated_pool(database, bare_engine(database[0])) as engine:
        if pause is not None:
            await asyncio.sleep(pause)
        assert await tenant_bound(engine, "acme") == "acme"


async def test_concurrent_units_of_work_all_outlive_a_terminated_pool(
    database: tuple[str, str],
) -> None:
    async with terminated_pool(database, bare_engine(database[0])) as engine:
        tenants = [f"tenant-{i}" for i in range(POOLED)]
        bound = await asyncio.gather(*(tenant_bound(engine, tenant) for tenant in tenants))
        assert bound == tenants


@pytest.mark.parametrize("pause", [None, 0.2], ids=["at-once", "after-a-pause"])
async def test_make_engine_outlives_a_terminated_pool(
    database: tuple[str, str], pause: float | None
) -> None:
    async with terminated_pool(database, make_engine(database[0], pool_size=POOLED)) as engine:
        if pause is not None:
            await asyncio.sleep(pause)
        for attempt in range(POOLED + 1):
            assert await tenant_bound(engine, f"tenant-{attempt}") == f"tenant-{attempt}"


async def test_a_connection_seen_closed_is_replaced_at_checkout(
    database: tuple[str, str],
) -> None:
    """Also for the engine's users that hold no session (the readiness probe, the jobs)."""
    async with terminated_pool(database, make_engine(database[0], pool_size=POOLED)) as engine:
        for _ in range(50):  # until the driver has read the end of every socket
            if await backends_left(*database) == 0:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)
        connections = [await engine.connect() for _ in range(POOLED)]
        for connection in connections:
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
            await connection.close()


async def backends_left(url: str, database: str) -> int:
    """How many of the pool's backends the server still lists."""
    connection = await asyncpg.connect(_dsn(url))
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = 'llmobserve' AND datname = $1",
            database,
        )
    finally:
        await connection.close()
    return count
