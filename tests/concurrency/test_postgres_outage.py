"""PostgreSQL dropping every connection mid-ingest: no acknowledged event is lost, and
the retried batches count once.

Every server connection of the collector's database is terminated every quarter second
while four clients post batches and retry each until it is acknowledged (as the SDK does). Batches in
flight then fail or succeed; either way the client's retries and the event ids decide,
so the stored events are exactly the acknowledged ones, each once.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from adapters.sql.urls import with_user
from tests.concurrency.collectors import base_env, run_cli, start_collector
from tests.support.services import (
    create_database,
    drop_database,
    require_postgres,
    scratch_database_name,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

BATCHES = 60
PER_BATCH = 25
SENDERS = 4
OUTAGE_EVERY_SECONDS = 0.25


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _drop_every_connection(owner_url: str, database: str) -> int:
    connection = await asyncpg.connect(_dsn(owner_url))
    try:
        rows = await connection.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await connection.close()
    return len(rows)


def _batch(number: int) -> dict[str, object]:
    now = datetime.now(UTC).isoformat()
    return {
        "events": [
            {
                "event_id": str(uuid.uuid4()),
                "occurred_at": now,
                "provider": "openai",
                "model": "gpt-4o-mini",
                "usage": {"input_tokens": 1000, "output_tokens": 100},
                "customer_id": f"cus_{number % 3}",
            }
            for _ in range(PER_BATCH)
        ]
    }


async def test_no_acknowledged_event_is_lost_and_none_counts_twice() -> None:
    admin_url = require_postgres()
    name = scratch_database_name("outage")
    owner_url = await create_database(admin_url, name)
    env = base_env(
        LLMOBSERVE_DATABASE_URL=with_user(owner_url, "llmobserve_app"),
        LLMOBSERVE_MIGRATION_DATABASE_URL=owner_url,
    )
    collector = None
    try:
        await asyncio.to_thread(run_cli, env, "migrate")
        key = (await asyncio.to_thread(run_cli, env, "create-api-key")).strip().splitlines()[-1]
        collector = await asyncio.to_thread(start_collector, env, Path(tempfile.mkdtemp()))
        headers = {"Authorization": f"Bearer {key}"}
        acknowledged: set[str] = set()
        failures = 0
        stop = asyncio.Event()

        async def outages() -> int:
            dropped = 0
            while not stop.is_set():
                dropped += await _drop_every_connection(owner_url, name)
                await asyncio.sleep(OUTAGE_EVERY_SECONDS)
            return dropped

        async def sender(client: httpx.AsyncClient, first: int) -> None:
            nonlocal failures
            for number in range(first, BATCHES, SENDERS):
                batch = _batch(number)
                for _attempt in range(50):
                    try:
                        response = await client.post("/v1/events", json=batch, timeout=30)
                    except httpx.TransportError:
                        response = None
                    if response is not None and response.status_code == 200:
                        acknowledged.update(e["event_id"] for e in batch["events"])  # type: ignore[index]
                        break
                    failures += 1
                    await asyncio.sleep(0.1)
                else:
                    pytest.fail(f"batch {number} never acknowledged:\n{collector.log_tail()}")

        async with httpx.AsyncClient(base_url=collector.base_url, headers=headers) as client:
            killer = asyncio.create_task(outages())
            await asyncio.gather(*(sender(client, first) for first in range(SENDERS)))
            stop.set()
            assert await killer >= 1
            # A batch sent again, as by a client whose acknowledgement was lost.
            batch = _batch(0)
            assert (await client.post("/v1/events", json=batch, timeout=30)).status_code == 200
            acknowledged.update(e["event_id"] for e in batch["events"])  # type: ignore[index]
            again = await client.post("/v1/events", json=batch, timeout=30)
            assert again.json()["duplicates"] == PER_BATCH
            summary = (await client.get("/v1/spend/summary")).json()
        print(f"requests refused or failed during the outages: {failures}")
        assert len(acknowledged) == (BATCHES + 1) * PER_BATCH
        assert summary["totals"]["calls"] == (BATCHES + 1) * PER_BATCH
        connection = await asyncpg.connect(_dsn(owner_url))
        try:
            stored = {
                row["event_id"]
                for row in await connection.fetch("SELECT event_id FROM spend_events")
            }
        finally:
            await connection.close()
        assert stored == acknowledged
    finally:
        if collector is not None:
            collector.stop()
        await drop_database(admin_url, name)
