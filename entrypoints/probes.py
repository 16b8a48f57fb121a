"""Health probes: one small awaitable per dependency, so /healthz can name what is down."""

from __future__ import annotations

from typing import Any, Protocol

from application.ports import UnitOfWorkFactory
from domain.tenants import DEFAULT_TENANT_ID


class Probe(Protocol):
    async def __call__(self) -> None:
        """Return when the dependency answers; raise when it does not."""
        ...


class StoreProbe:
    """A read through a unit of work: proves the store answers, whatever the adapter."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self) -> None:
        async with self._uow_factory(DEFAULT_TENANT_ID) as uow:
            await uow.tenants.get(DEFAULT_TENANT_ID)


class EngineProbe:
    """`SELECT 1` on the SQLAlchemy engine: no table, so no tenant context is needed."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    async def __call__(self) -> None:
        from sqlalchemy import text

        async with self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))


class RedisProbe:
    def __init__(self, redis: Any) -> None:
        self._redis = redis

    async def __call__(self) -> None:
        await self._redis.ping()


class InProcessProbe:
    """In-process counters live in this very process: if it answers, they do."""

    async def __call__(self) -> None:
        return None
