"""Raw asyncpg COPY of spend events: the ceiling an ingest path is measured against.

`copy_rate(owner_dsn, events, batch_size)` COPYs the events into spend_events, one COPY
(one transaction) per batch, and returns events/s. It runs as the table owner: COPY FROM
is refused on a table under row-level security for any other role. The rows go in under
their own tenant id (default "raw-copy"), so they never collide with the same events
ingested through the service.

Run alone, it compares the ceiling with the SQL adapter's own ingest (ids claimed,
events inserted, the hourly and model rollups upserted, one statement per batch, as the
application role under row-level security), two ways: inside a unit of work (BEGIN, the
tenant binding, the statement, COMMIT) and as the one-statement writer the collector
uses when it knows the tenant's prices and caps (autocommit, one round trip):

    .venv/bin/python benchmarks/ingest_raw_copy.py [--events 50000] [--batch 100]
        [--concurrency 4] [--database-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.sql.database import APP_ROLE, SqlUnitOfWorkFactory, make_engine, migrate
from adapters.sql.event_batches import PostgresEventBatches
from adapters.sql.mapping import event_row
from adapters.sql.tables import spend_events
from adapters.sql.urls import with_user
from domain.events import SpendEvent
from domain.money import Money
from domain.usage import Usage
from tests.support.services import (
    create_database,
    drop_database,
    scratch_database_name,
    test_database_url,
)

# The events table's own columns, in its order: what COPY writes.
COPY_COLUMNS = tuple(column.name for column in spend_events.columns)


def copy_record(event: SpendEvent, tenant_id: str) -> tuple[Any, ...]:
    row = event_row(event) | {"tenant_id": tenant_id, "tags": json.dumps(dict(event.tags))}
    return tuple(row[column] for column in COPY_COLUMNS)


async def copy_rate(
    owner_dsn: str,
    events: Sequence[SpendEvent],
    batch_size: int = 100,
    tenant_id: str = "raw-copy",
) -> float:
    """Events per second COPYing `events` in batches (records prepared before timing)."""
    records = [copy_record(event, tenant_id) for event in events]
    return await copy_records_rate(owner_dsn, records, batch_size)


async def copy_records_rate(
    owner_dsn: str, records: Sequence[tuple[Any, ...]], batch_size: int
) -> float:
    """Records per second COPYed into spend_events (in COPY_COLUMNS order), one COPY per batch."""
    connection = await asyncpg.connect(owner_dsn)
    try:
        started = time.perf_counter()
        for offset in range(0, len(records), batch_size):
            await connection.copy_records_to_table(
                "spend_events", records=records[offset : offset + batch_size], columns=COPY_COLUMNS
            )
        return len(records) / (time.perf_counter() - started)
    finally:
        await connection.close()


def synthetic_events(count: int, tenant_id: str, seed: int = 3) -> list[SpendEvent]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    events = []
    for index in range(count):
        customer = int(rng.paretovariate(1.1)) % 2_000
        output = rng.randrange(10, 1_500)
        events.append(
            SpendEvent(
                tenant_id=tenant_id,
                event_id=f"evt_{index:010d}",
                occurred_at=now - timedelta(seconds=rng.randrange(3_600)),
                provider="openai",
                model=f"gpt-model-{customer % 40}",
                usage=Usage(input_tokens=rng.randrange(50, 8_000), output_tokens=output),
                agent="support/triage",
                customer_id=f"cus_{customer:05d}",
                latency_ms=rng.randrange(80, 4_000),
                cost=Money(rng.randrange(10**4, 10**7)),
                priced_model=f"gpt-model-{customer % 40}",
            )
        )
    return events


async def adapter_rate(
    app_url: str,
    events: list[SpendEvent],
    batch_size: int,
    concurrency: int,
    one_statement: bool = False,
) -> tuple[float, float]:
    engine = make_engine(app_url)
    factory = SqlUnitOfWorkFactory(engine)
    writer = PostgresEventBatches(engine)
    queue: asyncio.Queue[list[SpendEvent]] = asyncio.Queue()
    for offset in range(0, len(events), batch_size):
        queue.put_nowait(events[offset : offset + batch_size])

    async def worker() -> None:
        while not queue.empty():
            batch = queue.get_nowait()
            tenant_id = batch[0].tenant_id
            if one_statement:
                await writer.add_new(tenant_id, batch)
                continue
            async with factory(tenant_id) as uow:
                await uow.events.add_new(batch)
                await uow.commit()

    try:
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        batches = -(-len(events) // batch_size)
        # This process's CPU per batch: what the collector spends on the database path.
        return (
            len(events) / (time.perf_counter() - started),
            (time.process_time() - cpu) / batches * 1000,
        )
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--database-url", default=test_database_url())
    args = parser.parse_args()

    name = scratch_database_name("bench_ingest")
    owner_url = await create_database(args.database_url, name)
    try:
        await asyncio.to_thread(migrate, owner_url)
        app_url = with_user(owner_url, APP_ROLE)
        events = synthetic_events(args.events, "bench")
        adapter, adapter_cpu = await adapter_rate(app_url, events, args.batch, args.concurrency)
        # The same events under another tenant: new ids, the same rollup cardinality.
        alone, alone_cpu = await adapter_rate(
            app_url,
            synthetic_events(args.events, "bench-one"),
            args.batch,
            args.concurrency,
            one_statement=True,
        )
        ceiling = await copy_rate(
            owner_url.replace("postgresql+asyncpg://", "postgresql://", 1), events, args.batch
        )
        print(f"{args.events:,} events in batches of {args.batch}:")
        print(
            f"  SQL adapter, {args.concurrency} concurrent units of work"
            f" (add_new + hourly and model rollups): {adapter:10,.0f} events/s,"
            f" {adapter_cpu:.2f} ms of this process's CPU per batch"
        )
        print(
            f"  one-statement writer, {args.concurrency} concurrent batches (autocommit):"
            f"      {alone:10,.0f} events/s, {alone_cpu:.2f} ms of this process's CPU per batch"
        )
        print(f"  raw asyncpg COPY (one connection, one COPY per batch): {ceiling:10,.0f} events/s")
        print(f"  adapter / COPY: {adapter / ceiling:.0%}; writer / COPY: {alone / ceiling:.0%}")
    finally:
        await drop_database(args.database_url, name)


if __name__ == "__main__":
    asyncio.run(main())
