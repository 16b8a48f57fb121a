"""Ingest on PostgreSQL: one statement per batch, whatever its size.

The batch travels as one JSON document (msgspec encodes it in microseconds, where binding
an array per column costs milliseconds) and is expanded server-side; in the same
statement the event ids are claimed (ON CONFLICT DO NOTHING), only the events whose id
was new are inserted, and the hourly rollups and the hourly and daily model rollups are
upserted. The block, daily, weekly and monthly rollups are folded from the hours later
(rollup_folds.py); only a late event of an hour already folded is added to them here.
One round trip, one prepared statement reused for every batch, and rows locked in key
order so that concurrent batches cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sql.mapping import event_row
from adapters.sql.rollup_folds import COARSE_ROLLUPS, FOLD_GATE, LATE_AFTER
from adapters.sql.tables import (
    DIMENSION_COLUMNS,
    MEASURE_COLUMNS,
    MODEL_DIMENSIONS,
    MODEL_ROLLUP_SLOTS,
    MODEL_ROLLUPS,
    ROLLUPS,
    unit_start_sql,
)
from domain.events import SpendEvent

# The key columns compare bytewise, as their tables' do (0005): the batch's DISTINCT ON and
# the rollups' GROUP BY / ORDER BY would otherwise sort through the locale's strcoll.
_KEY = 'TEXT COLLATE "C"'
# (column, SQL type) of each event in the JSON document.
_COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_id", _KEY),
    ("occurred_at", "TIMESTAMPTZ"),
    ("provider", _KEY),
    ("model", _KEY),
    ("operation", "TEXT"),
    ("status", "TEXT"),
    ("agent", _KEY),
    ("customer_id", _KEY),
    ("tags", "JSONB"),
    ("latency_ms", "INTEGER"),
    ("reservation_id", "TEXT"),
    ("estimated", "BOOLEAN"),
    ("cost_nanos", "BIGINT"),
    ("priced_model", "TEXT"),
    ("input_tokens", "INTEGER"),
    ("output_tokens", "INTEGER"),
    ("cache_read_tokens", "INTEGER"),
    ("cache_write_tokens", "INTEGER"),
    ("reasoning_tokens", "INTEGER"),
)
_NAMES = [name for name, _ in _COLUMNS]

# The one-statement ingest binds its own tenant, transaction-locally, before its first
# row: every row it reads or writes comes after the gate, and the policies read the
# setting on first use (0008).
_BIND_TENANT = (
    ", set_config('app.current_tenant', {tenant}, true),"
    " set_config('app.system_access', 'off', true)"
)

_MEASURE_SQL = {
    "cost_nanos": "sum_exact(coalesce(cost_nanos, 0))",
    "unpriced_calls": "count(*) FILTER (WHERE cost_nanos IS NULL)",
    "calls": "count(*)",
    "error_calls": "count(*) FILTER (WHERE status = 'error')",
}


def _rollup_sql(
    table: str, tenant: str, time_column: str, dimensions: tuple[str, ...], source: str
) -> str:
    measures = ", ".join(_MEASURE_SQL.get(m, f"sum({m})") for m in MEASURE_COLUMNS)
    updates = ", ".join(f"{m} = r.{m} + EXCLUDED.{m}" for m in MEASURE_COLUMNS)
    # Rollups hold '' for no agent or customer.
    selected = ", ".join(
        name if name in ("provider", "model") else f"coalesce({name}, '')" for name in dimensions
    )
    groups = ", ".join(str(position) for position in range(2, len(dimensions) + 3))
    slotted = dimensions == MODEL_DIMENSIONS
    if slotted:
        # Each pooled connection writes its own slot: concurrent batches rarely share it.
        dimensions = (*dimensions, "slot")
        selected += f", pg_backend_pid() % {MODEL_ROLLUP_SLOTS}"
    keys = ", ".join(("tenant_id", time_column, *dimensions))
    # Built from this module's constants only, never from input: S608 does not apply.
    return f"""
    INSERT INTO {table} AS r
        ({keys}, {", ".join(MEASURE_COLUMNS)})
    SELECT {tenant}, {unit_start_sql(time_column, "occurred_at")}, {selected},
           {measures}
    FROM {source}
    GROUP BY {groups}
    ORDER BY {groups}
    ON CONFLICT ({keys})
    DO UPDATE SET {updates}"""  # noqa: S608


def _ingest_sql(tenant_id: str, events: str, bind_tenant: bool = False) -> str:
    """The statement, with `tenant_id` and `events` as its two placeholders."""
    tenant = f"CAST({tenant_id} AS TEXT)"
    typed = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS)
    event_columns = ", ".join(_NAMES)
    # (table, its time column, its dimensions, which events it sums)
    levels: list[tuple[Table, str, tuple[str, ...], str]] = [
        (table, time_column, DIMENSION_COLUMNS, "fresh")
        for table, time_column in ROLLUPS
        if (table, time_column) not in COARSE_ROLLUPS
    ]
    levels += [
        (table, time_column, DIMENSION_COLUMNS, "folded") for table, time_column in COARSE_ROLLUPS
    ]
    levels += [
        (table, time_column, MODEL_DIMENSIONS, "fresh") for table, time_column in MODEL_ROLLUPS
    ]
    rollups = ",".join(
        f"\n    {table.name} AS ({_rollup_sql(table.name, tenant, time_column, dimensions, source)}\n    )"
        for table, time_column, dimensions, source in levels
    )
    late = f"date_trunc('hour', now(), 'UTC') - interval '{int(LATE_AFTER.total_seconds())} s'"
    return f"""
    WITH gate AS MATERIALIZED (
        -- Held to COMMIT: the fold waits for this batch before it takes any hour.
        SELECT pg_advisory_xact_lock_shared({FOLD_GATE}){_BIND_TENANT.format(tenant=tenant) if bind_tenant else ""}
    ),
    batch AS (
        SELECT DISTINCT ON (event_id) b.*
        FROM gate, ROWS FROM (json_to_recordset(CAST({events} AS JSON)) AS ({typed}))
            WITH ORDINALITY AS b({event_columns}, ord)
        ORDER BY event_id, ord
    ),
    new_ids AS (
        INSERT INTO spend_event_ids (tenant_id, event_id)
        SELECT {tenant}, event_id FROM batch ORDER BY event_id
        ON CONFLICT DO NOTHING
        RETURNING event_id
    ),
    fresh AS (
        SELECT batch.* FROM batch JOIN new_ids USING (event_id)
    ),
    stored AS (
        INSERT INTO spend_events (tenant_id, {event_columns})
        SELECT {tenant}, {event_columns} FROM fresh
    ),
    mark AS (
        -- Late events only: lock the tenant's watermark, as the fold does, and read it.
        INSERT INTO rollup_folds AS f (tenant_id)
        SELECT {tenant}
        WHERE EXISTS (SELECT 1 FROM fresh WHERE occurred_at < {late})
        ON CONFLICT (tenant_id) DO UPDATE SET folded_until = f.folded_until
        RETURNING folded_until
    ),
    folded AS (
        SELECT fresh.* FROM fresh JOIN mark ON fresh.occurred_at < mark.folded_until
    ),
    {rollups}
    SELECT event_id FROM new_ids"""  # noqa: S608


INGEST = text(_ingest_sql(":tenant_id", ":events"))
# For a batch that is its own transaction, run on asyncpg's connection outside any
# transaction block: one round trip, committed at its end.
INGEST_ALONE_SQL = _ingest_sql("$1", "$2", bind_tenant=True)


_encoder = msgspec.json.Encoder()


def ingest_document(events: Sequence[SpendEvent]) -> str:
    # Datetimes encode as RFC 3339 with their offset, which TIMESTAMPTZ reads exactly.
    return _encoder.encode([event_row(event) for event in events]).decode()


def ingest_parameters(tenant_id: str, events: Sequence[SpendEvent]) -> dict[str, Any]:
    return {"tenant_id": tenant_id, "events": ingest_document(events)}


async def insert_new_events(
    connection: AsyncConnection, tenant_id: str, events: Sequence[SpendEvent]
) -> set[str]:
    """Store the events whose id is new for the tenant, with their rollups; return those ids."""
    result = await connection.execute(INGEST, ingest_parameters(tenant_id, events))
    return {row[0] for row in result}
