"""Spend events: stored once per (tenant, event_id), with their rollups; the spend truth."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sql.conditions import cap_condition
from adapters.sql.dialect import upsertable_insert
from adapters.sql.event_batches import fresh_in_order
from adapters.sql.mapping import event_row
from adapters.sql.postgres_ingest import insert_new_events
from adapters.sql.rollup_folds import coarse_until
from adapters.sql.rollups import upsert_rollups
from adapters.sql.session import SqlSession
from adapters.sql.spend_query import spend_totals_query
from adapters.sql.tables import spend_event_ids, spend_events
from application.ports import SpendEventRepository
from domain.attribution import Attribution
from domain.caps import Cap, CapScope
from domain.events import SpendEvent
from domain.money import Money
from domain.periods import Window

# Claim ids, returning those that were new (SQLAlchemy runs an executemany with RETURNING
# as multi-row INSERTs, within SQLite's limit of bound variables).
_CLAIM_IDS = (
    upsertable_insert("sqlite", spend_event_ids)
    .on_conflict_do_nothing()
    .returning(spend_event_ids.c.event_id)
)


class SqlSpendEvents(SpendEventRepository):
    def __init__(self, session: SqlSession) -> None:
        self._session = session

    async def add_new(self, events: Sequence[SpendEvent]) -> list[SpendEvent]:
        if not events:
            return []
        connection = await self._session.connection()
        by_tenant: dict[str, list[SpendEvent]] = {}
        for event in events:
            by_tenant.setdefault(event.tenant_id, []).append(event)
        new: set[tuple[str, str]] = set()
        for tenant_id, batch in by_tenant.items():
            if self._session.postgres:
                ids = await insert_new_events(connection, tenant_id, batch)
            else:
                ids = await _sqlite_insert_new(connection, tenant_id, batch)
            new.update((tenant_id, event_id) for event_id in ids)
        return fresh_in_order(events, new)

    async def spent_in(self, tenant_id: str, cap: Cap, window: Window) -> Money:
        if not cap.enabled:  # a disabled cap matches nothing (Cap.matches)
            return Money.zero()
        dialect = self._session.dialect
        if cap.scope is CapScope.MODEL:
            # A model cap covers dated snapshots and prefixed names ("gpt-4o" covers
            # "openai/gpt-4o-2024-08-06"): the domain decides per (provider, model) group,
            # of which a window holds few.
            groups = spend_totals_query(
                dialect,
                tenant_id,
                window.start,
                window.end,
                keys=("provider", "model"),
                measures=("cost_nanos", "calls"),
                by_model=True,
            )
            rows = await self._session.execute(*groups)
            return Money(
                sum(
                    int(row.cost_nanos)
                    for row in rows
                    if cap.matches(Attribution(row.provider, row.model))
                )
            )
        by_model = cap.scope in (CapScope.GLOBAL, CapScope.PROVIDER)
        query = spend_totals_query(
            dialect,
            tenant_id,
            window.start,
            window.end,
            where=cap_condition(cap, dialect),
            measures=("cost_nanos",),
            by_model=by_model,
            coarse_until=None if by_model else await coarse_until(self._session, tenant_id),
        )
        return Money(int((await self._session.execute(*query)).scalar_one()))


async def _sqlite_insert_new(
    connection: AsyncConnection, tenant_id: str, events: list[SpendEvent]
) -> set[str]:
    """SQLite holds the write lock for the whole transaction (BEGIN IMMEDIATE), so claiming
    ids, then inserting events and rollups in three statements cannot race."""
    first_of: dict[str, SpendEvent] = {}
    for event in events:
        first_of.setdefault(event.event_id, event)
    ids = sorted(first_of)
    claimed = await connection.execute(
        _CLAIM_IDS, [{"tenant_id": tenant_id, "event_id": event_id} for event_id in ids]
    )
    new = set(claimed.scalars())
    fresh = [first_of[event_id] for event_id in ids if event_id in new]
    if fresh:
        await connection.execute(insert(spend_events), [event_row(event) for event in fresh])
        await upsert_rollups(connection, fresh)
    return new
