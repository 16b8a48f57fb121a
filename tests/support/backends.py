"""The adapter sets every scenario runs against: in-memory, embedded SQLite with
in-process counters, and PostgreSQL (as the row-level-security app role) with Redis."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

from adapters.memory.counters import InProcessCounters
from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from adapters.redis.connection import close_redis, make_redis
from adapters.redis.counters import RedisCounters
from adapters.redis.keys import KeySpace
from adapters.sql.database import APP_ROLE, SqlUnitOfWorkFactory, make_engine, migrate
from adapters.sql.tables import TENANT_TABLES
from adapters.sql.urls import with_user
from application.ports import SpendCounters, UnitOfWorkFactory
from tests.support.clock import MutableClock
from tests.support.services import require_redis

BACKENDS = [
    "memory",
    "sqlite",
    pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.redis]),
]


async def _nothing() -> None:
    return None


@dataclass
class Backend:
    uow_factory: UnitOfWorkFactory
    counters: SpendCounters
    close: Callable[[], Awaitable[None]] = field(default=_nothing)


async def open_backend(
    name: str, clock: MutableClock, workdir: Path, postgres_owner_url: str | None = None
) -> Backend:
    """A fresh, empty adapter set. PostgreSQL needs a migrated scratch database's owner URL."""
    if name == "memory":
        return Backend(MemoryUnitOfWorkFactory(), InProcessCounters(clock))
    if name == "sqlite":
        url = f"sqlite:///{workdir / 'llmobserve.db'}"
        migrate(url)
        engine = make_engine(url)
        return Backend(SqlUnitOfWorkFactory(engine), InProcessCounters(clock), engine.dispose)
    if name == "postgres":
        assert postgres_owner_url is not None
        await _truncate(postgres_owner_url)
        engine = make_engine(with_user(postgres_owner_url, APP_ROLE))
        redis = make_redis(require_redis())
        space = KeySpace(f"llmo-bdd-{uuid.uuid4().hex[:10]}")

        async def close() -> None:
            stale = [key async for key in redis.scan_iter(match=f"{space.prefix}:*", count=500)]
            if stale:
                await redis.delete(*stale)
            await close_redis(redis)
            await engine.dispose()

        return Backend(SqlUnitOfWorkFactory(engine), RedisCounters(redis, clock, space), close)
    raise ValueError(f"unknown backend {name!r}")


async def _truncate(owner_url: str) -> None:
    connection = await asyncpg.connect(
        owner_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    )
    try:
        await connection.execute(f"TRUNCATE {', '.join(t.name for t in TENANT_TABLES)}")
    finally:
        await connection.close()
