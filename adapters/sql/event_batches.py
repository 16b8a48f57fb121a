"""A batch of events as a transaction of its own, on PostgreSQL in one round trip.

Inside a unit of work a batch costs four round trips (BEGIN, the tenant binding, the
ingest statement, COMMIT), and the rollup rows it locked stay locked while the collector
gets round to sending COMMIT: under load, concurrent batches sharing a rollup row queue
behind that. Here the ingest statement binds its own tenant and runs in autocommit, so it
commits as it ends and holds its locks only as long as it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.postgres_ingest import INGEST_ALONE, ingest_parameters
from application.event_batches import UnitOfWorkBatchWriter, refuse_other_tenants
from application.ports import EventBatchWriter, UnitOfWorkFactory
from domain.events import SpendEvent


class PostgresEventBatches(EventBatchWriter):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add_new(self, tenant_id: str, events: Sequence[SpendEvent]) -> list[SpendEvent]:
        refuse_other_tenants(tenant_id, events)
        if not events:
            return []
        parameters = ingest_parameters(tenant_id, events)
        try:
            new_ids = await self._run(parameters)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            # A pooled connection the server had dropped (a restart): SQLAlchemy has
            # invalidated it and its pool-mates. The statement is idempotent, so running
            # it again on a fresh connection can only store what is not stored yet.
            new_ids = await self._run(parameters)
        return fresh_in_order(events, ((tenant_id, event_id) for event_id in new_ids))

    async def _run(self, parameters: dict[str, str]) -> set[str]:
        async with self._engine.connect() as connection:
            alone = await connection.execution_options(isolation_level="AUTOCOMMIT")
            result = await alone.execute(INGEST_ALONE, parameters)
            return {row[0] for row in result}


def fresh_in_order(
    events: Sequence[SpendEvent], new_keys: Iterable[tuple[str, str]]
) -> list[SpendEvent]:
    """The first event of each new (tenant, event_id), in the caller's order: a repeat
    inside the batch is a duplicate like any other."""
    new = set(new_keys)
    fresh = []
    for event in events:
        key = (event.tenant_id, event.event_id)
        if key in new:
            new.discard(key)
            fresh.append(event)
    return fresh


def event_batch_writer(engine: AsyncEngine, uow_factory: UnitOfWorkFactory) -> EventBatchWriter:
    if engine.dialect.name == "postgresql":
        return PostgresEventBatches(engine)
    # SQLite has one connection and nothing to gain: the batch takes a unit of work.
    return UnitOfWorkBatchWriter(uow_factory)
