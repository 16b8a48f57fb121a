"""Hourly, four-hour block, daily, weekly and monthly rollups of new events, and the
hourly and daily model rollups, upserted in the transaction that stores them.

PostgreSQL computes them inside its ingest statement (`postgres_ingest`); this module is
the same arithmetic for SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sql.dialect import upsertable_insert
from adapters.sql.tables import (
    DIMENSION_COLUMNS,
    MEASURE_COLUMNS,
    MODEL_DIMENSIONS,
    MODEL_ROLLUPS,
    NO_VALUE,
    ROLLUPS,
)
from adapters.sql.time_plan import Grain, floor_to
from domain.events import CallStatus, SpendEvent

# (tenant_id, unit start, provider, model, agent, customer_id), or for the model rollups
# (tenant_id, unit start, provider, model, slot)
RollupKey = tuple[Any, ...]


def measures_of(event: SpendEvent) -> list[int]:
    usage = event.usage
    return [
        event.billable_cost.nanos,
        0 if event.priced else 1,
        1,
        1 if event.status is CallStatus.ERROR else 0,
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        usage.reasoning_tokens,
    ]


def hourly_sums(events: Iterable[SpendEvent]) -> dict[RollupKey, list[int]]:
    sums: dict[RollupKey, list[int]] = {}
    for event in events:
        key = (
            event.tenant_id,
            floor_to(event.occurred_at, Grain.HOUR),
            event.provider,
            event.model,
            event.agent or NO_VALUE,
            event.customer_id or NO_VALUE,
        )
        total = sums.get(key)
        if total is None:
            sums[key] = measures_of(event)
        else:
            for index, value in enumerate(measures_of(event)):
                total[index] += value
    return sums


def coarser_sums(
    hourly: dict[RollupKey, list[int]], grain: Grain, by_model: bool = False
) -> dict[RollupKey, list[int]]:
    """`hourly` summed per unit of `grain`; per provider and model only (in slot 0) if
    `by_model`."""
    sums: dict[RollupKey, list[int]] = {}
    for (tenant_id, hour, provider, model, agent, customer_id), measures in hourly.items():
        key: RollupKey = (tenant_id, floor_to(hour, grain), provider, model)
        # SQLite writes one transaction at a time: the model rollups' first slot serves.
        key = (*key, 0) if by_model else (*key, agent, customer_id)
        total = sums.get(key)
        if total is None:
            sums[key] = list(measures)
        else:
            for index, value in enumerate(measures):
                total[index] += value
    return sums


def as_rows(
    sums: dict[RollupKey, list[int]],
    time_column: str,
    dimensions: tuple[str, ...] = DIMENSION_COLUMNS,
) -> list[dict[str, Any]]:
    """Rows sorted by key, so that concurrent writers lock rows in one order."""
    names = ("tenant_id", time_column, *dimensions)
    return [
        dict(zip(names, key, strict=True)) | dict(zip(MEASURE_COLUMNS, total, strict=True))
        for key, total in sorted(sums.items())
    ]


async def upsert_rollups(connection: AsyncConnection, events: list[SpendEvent]) -> None:
    hourly = hourly_sums(events)
    if not hourly:
        return
    model_keys = (*MODEL_DIMENSIONS, "slot")
    for rollups, dimensions in ((ROLLUPS, DIMENSION_COLUMNS), (MODEL_ROLLUPS, model_keys)):
        by_model = dimensions == model_keys
        for table, time_column in rollups:
            grain = Grain(time_column)
            sums = (
                hourly
                if grain is Grain.HOUR and not by_model
                else coarser_sums(hourly, grain, by_model)
            )
            statement = _upsert(connection.dialect.name, table, time_column, dimensions)
            await connection.execute(statement, as_rows(sums, time_column, dimensions))


@cache
def _upsert(dialect: str, table: Table, time_column: str, dimensions: tuple[str, ...]) -> Any:
    """Add to the measures of an existing row (built once per table: compiling is costly)."""
    statement = upsertable_insert(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=["tenant_id", time_column, *dimensions],
        set_={name: table.c[name] + statement.excluded[name] for name in MEASURE_COLUMNS},
    )
