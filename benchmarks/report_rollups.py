"""Reports on rollups vs raw events: a 30-day breakdown by provider x model x customer.

Loads N spend events for one tenant over 30 days straight into PostgreSQL with COPY
(bypassing the API), across 5 providers x 40 models x 2,000 customers, builds their
hourly, four-hour block, daily, weekly and monthly rollups (and the hourly and daily
model rollups), then times, as the service's own role under row-level security:

  rollups  SqlSpendReports.breakdown_by(provider, model, customer) over the last 30 days
           (edges not hour-aligned: weekly and daily rollups inside, block and hourly
           rollups and raw events for the partial days and hours at both ends), as the
           dashboard asks;
  raw      the same GROUP BY / ORDER BY / LIMIT straight on spend_events.

and prints p50/p95 of each and the ratio. Targets: rollups p95 <= 100 ms and >= 20x
faster than raw.

Traffic is shaped like a SaaS product's: customer activity follows a Zipf law (a few
customers make most calls) and each customer's calls go to the handful of models its
features use (--models-per-customer) through one agent.

    .venv/bin/python benchmarks/report_rollups.py [--events 10000000] [--runs 40]
        [--raw-runs 5] [--database-url postgresql://postgres@127.0.0.1:5432/test]
        [--keep | --reuse DATABASE]

A scratch database is created on that server and dropped at the end (unless --keep;
--reuse measures a kept one again without loading).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.sql.database import APP_ROLE, make_engine, migrate
from adapters.sql.partitions import ensure_partitions
from adapters.sql.reports import SqlSpendReports
from adapters.sql.session import SqlSession
from adapters.sql.tables import spend_events
from adapters.sql.urls import with_user
from domain.reports import Dimension, SpendFilter
from tests.support.services import (
    create_database,
    drop_database,
    scratch_database_name,
    test_database_url,
    with_database,
)

TENANT = "bench_tenant"
END = datetime(2026, 11, 20, 14, 37, 12, 345678, tzinfo=UTC)  # deliberately not aligned
DAYS = 30
CUSTOMERS = 2_000
PROVIDER_MODELS = {
    "openai": [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "o3",
        "o3-mini",
        "o4-mini",
    ],
    "anthropic": [
        "claude-opus-4",
        "claude-sonnet-4",
        "claude-3-7-sonnet",
        "claude-3-5-haiku",
        "claude-3-5-sonnet",
        "claude-3-opus",
        "claude-3-haiku",
        "claude-haiku-4-5",
    ],
    "google": [
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
        "gemini-2.0-flash",
        "gemini-2.0-flash-lite",
        "gemini-1.5-pro",
        "gemini-1.5-flash",
        "gemma-3-27b",
    ],
    "mistral": [
        "mistral-large",
        "mistral-medium",
        "mistral-small",
        "codestral",
        "ministral-8b",
        "ministral-3b",
        "pixtral-large",
        "magistral-medium",
    ],
    "deepseek": [
        "deepseek-chat",
        "deepseek-reasoner",
        "deepseek-v3",
        "deepseek-r1",
        "deepseek-coder",
        "deepseek-v2.5",
        "deepseek-r1-distill",
        "deepseek-v3.1",
    ],
}
AGENTS = [
    "support/triage",
    "support/answer",
    "search/rerank",
    "planner/research",
    "summarise",
    "extract/invoice",
]
# The events table's own columns, in its order: what COPY writes.
COPY_COLUMNS = tuple(column.name for column in spend_events.columns)
CHUNK = 100_000


def customer_profiles(rng: random.Random, models_per_customer: int) -> list[tuple]:
    """(customer_id, agent, [(provider, model, input price, output price)]) per customer."""
    catalog = [
        (provider, model, rng.randrange(50, 15_000), rng.randrange(200, 60_000))
        for provider, models in PROVIDER_MODELS.items()
        for model in models
    ]
    popularity = [1 / (rank + 1) for rank in range(len(catalog))]
    profiles = []
    for index in range(CUSTOMERS):
        chosen: list[tuple] = []
        while len(chosen) < models_per_customer:
            pick = rng.choices(catalog, popularity)[0]
            if pick not in chosen:
                chosen.append(pick)
        profiles.append((f"cus_{index:05d}", rng.choice(AGENTS), chosen))
    return profiles


def event_records(count: int, seed: int, models_per_customer: int) -> Iterator[list[tuple]]:
    """Events in time order, as the service receives them: each chunk is the next slice of
    the 30 days, so rows (and their rollups) lie on disk in time order as in production."""
    rng = random.Random(seed)
    profiles = customer_profiles(rng, models_per_customer)
    cumulative = list(_cumulative([1 / (rank + 1) ** 1.1 for rank in range(CUSTOMERS)]))
    start_us = int((END - timedelta(days=DAYS)).timestamp() * 1_000_000)
    span_us = DAYS * 86_400 * 1_000_000
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    produced = 0
    while produced < count:
        size = min(CHUNK, count - produced)
        slice_start = start_us + span_us * produced // count
        slice_us = max(1, span_us * (produced + size) // count - (slice_start - start_us))
        moments = sorted(slice_start + rng.randrange(slice_us) for _ in range(size))
        customers = rng.choices(profiles, cum_weights=cumulative, k=size)
        chunk = []
        for offset, (customer_id, agent, models) in enumerate(customers):
            provider, model, input_price, output_price = models[rng.randrange(len(models))]
            input_tokens = rng.randrange(50, 8_000)
            output_tokens = rng.randrange(10, 1_500)
            error = rng.random() < 0.01
            cost = 0 if error else input_tokens * input_price + output_tokens * output_price
            at = epoch + timedelta(microseconds=moments[offset])
            chunk.append(
                (
                    TENANT,
                    at,
                    f"evt_{produced + offset:010d}",
                    provider,
                    model,
                    "chat",
                    "error" if error else "ok",
                    agent,
                    customer_id,
                    "{}",
                    rng.randrange(80, 4_000),
                    None,
                    False,
                    cost,
                    model,
                    input_tokens,
                    output_tokens,
                    0,
                    0,
                    0,
                )
            )
        produced += size
        yield chunk


def _cumulative(weights: list[float]) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


# Rows lie on disk as the service writes them: the hourly rollups in the order hours
# arrive (ingest), the folded levels in key order (rollup_folds inserts them sorted).
ROLLUPS_SQL = (
    """
INSERT INTO spend_rollups_hourly
SELECT tenant_id, date_trunc('hour', occurred_at, 'UTC'), provider, model,
       coalesce(agent, ''), coalesce(customer_id, ''),
       sum(coalesce(cost_nanos, 0)), count(*) FILTER (WHERE cost_nanos IS NULL), count(*),
       count(*) FILTER (WHERE status = 'error'), sum(input_tokens), sum(output_tokens),
       sum(cache_read_tokens), sum(cache_write_tokens), sum(reasoning_tokens)
FROM spend_events GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 2;
INSERT INTO spend_rollups_blocks
SELECT tenant_id, date_bin('4 hours', hour, TIMESTAMPTZ '2000-01-01 00:00:00+00'), provider,
       model, agent, customer_id,
       sum(cost_nanos), sum(unpriced_calls), sum(calls), sum(error_calls), sum(input_tokens),
       sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
       sum(reasoning_tokens)
FROM spend_rollups_hourly GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6;
INSERT INTO spend_rollups_daily
SELECT tenant_id, date_trunc('day', hour, 'UTC'), provider, model, agent, customer_id,
       sum(cost_nanos), sum(unpriced_calls), sum(calls), sum(error_calls), sum(input_tokens),
       sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
       sum(reasoning_tokens)
FROM spend_rollups_hourly GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6;
"""
    + "".join(
        f"""
INSERT INTO spend_rollups_{table}
SELECT tenant_id, date_trunc('{grain}', day, 'UTC'), provider, model, agent, customer_id,
       sum(cost_nanos), sum(unpriced_calls), sum(calls), sum(error_calls), sum(input_tokens),
       sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
       sum(reasoning_tokens)
FROM spend_rollups_daily GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6;
"""
        for table, grain in (("weekly", "week"), ("monthly", "month"))
    )
    + "".join(
        f"""
INSERT INTO spend_model_rollups_{table}
SELECT tenant_id, {grain}, provider, model, 0,
       sum(cost_nanos), sum(unpriced_calls), sum(calls), sum(error_calls), sum(input_tokens),
       sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
       sum(reasoning_tokens)
FROM spend_rollups_{table} GROUP BY 1, 2, 3, 4 ORDER BY 2;
"""
        for table, grain in (("hourly", "hour"), ("daily", "day"))
    )
    # The coarse rollups above hold every hour: the fold's watermark is already past them.
    + """
INSERT INTO rollup_folds (tenant_id, folded_until)
SELECT DISTINCT tenant_id, date_trunc('hour', now(), 'UTC') - interval '2 hours'
FROM spend_rollups_hourly;
"""
)

RAW_SQL = """
SELECT provider, model, coalesce(customer_id, '') AS customer_id,
       sum(coalesce(cost_nanos, 0)) AS cost_nanos, count(*) AS calls,
       count(*) FILTER (WHERE cost_nanos IS NULL) AS unpriced_calls,
       count(*) FILTER (WHERE status = 'error') AS error_calls,
       sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
       sum(cache_write_tokens), sum(reasoning_tokens)
FROM spend_events
WHERE tenant_id = $1 AND occurred_at >= $2 AND occurred_at < $3
GROUP BY 1, 2, 3
ORDER BY cost_nanos DESC, calls DESC, provider COLLATE "C", model COLLATE "C",
         coalesce(customer_id, '') COLLATE "C"
LIMIT $4
"""


async def load(owner_dsn: str, events: int, models_per_customer: int) -> None:
    connection = await asyncpg.connect(owner_dsn)
    try:
        await connection.execute("SET synchronous_commit = off")
        started = time.perf_counter()
        loaded = 0
        for chunk in event_records(events, seed=7, models_per_customer=models_per_customer):
            await connection.copy_records_to_table(
                "spend_events", records=chunk, columns=COPY_COLUMNS
            )
            await connection.copy_records_to_table(
                "spend_event_ids",
                records=[(row[0], row[2]) for row in chunk],
                columns=("tenant_id", "event_id"),
            )
            loaded += len(chunk)
            rate = loaded / (time.perf_counter() - started)
            print(f"\r  loaded {loaded:>11,} events ({rate:,.0f}/s)", end="", flush=True)
        print()
        began = time.perf_counter()
        await connection.execute("SET work_mem = '256MB'")
        await connection.execute(ROLLUPS_SQL)
        await connection.execute("ANALYZE")
        print(f"  rollups and ANALYZE in {time.perf_counter() - began:.1f} s")
        for table in (
            "spend_events",
            "spend_rollups_hourly",
            "spend_rollups_blocks",
            "spend_rollups_daily",
            "spend_rollups_weekly",
            "spend_rollups_monthly",
            "spend_model_rollups_hourly",
            "spend_model_rollups_daily",
        ):
            rows = await connection.fetchval(f"SELECT count(*) FROM {table}")
            print(f"  {table:<26} {rows:>12,} rows")
    finally:
        await connection.close()


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(app_url: str, app_dsn: str, runs: int, raw_runs: int, limit: int) -> None:
    spend_filter = SpendFilter(END - timedelta(days=DAYS), END)
    dimensions = (Dimension.PROVIDER, Dimension.MODEL, Dimension.CUSTOMER)
    engine = make_engine(app_url)
    rollup_ms: list[float] = []
    try:
        for run in range(runs + 3):  # three warm-up runs (plan caching, buffers)
            session = SqlSession(engine, TENANT)
            try:
                began = time.perf_counter()
                rows = await SqlSpendReports(session).breakdown_by(
                    TENANT, spend_filter, dimensions, limit
                )
                elapsed = (time.perf_counter() - began) * 1000
            finally:
                await session.rollback()
                await session.close()
            if run >= 3:
                rollup_ms.append(elapsed)
        top_rollups = [(keys, totals.cost.nanos, totals.calls) for keys, totals in rows]
    finally:
        await engine.dispose()

    connection = await asyncpg.connect(app_dsn, server_settings={"jit": "off"})
    raw_ms: list[float] = []
    try:
        for _ in range(raw_runs):
            async with connection.transaction():
                await connection.execute(
                    "SELECT set_config('app.current_tenant', $1, true)", TENANT
                )
                began = time.perf_counter()
                raw = await connection.fetch(
                    RAW_SQL, TENANT, spend_filter.start, spend_filter.end, limit
                )
                raw_ms.append((time.perf_counter() - began) * 1000)
    finally:
        await connection.close()
    top_raw = [
        ((r["provider"], r["model"], r["customer_id"] or None), int(r["cost_nanos"]), r["calls"])
        for r in raw
    ]
    assert top_rollups == top_raw, "rollups and raw events disagree"

    rollup_p95, raw_p95 = percentile(rollup_ms, 0.95), percentile(raw_ms, 0.95)
    print(
        f"  rollups: p50 {statistics.median(rollup_ms):8.1f} ms   p95 {rollup_p95:8.1f} ms"
        f"   ({runs} runs)"
    )
    print(
        f"  raw:     p50 {statistics.median(raw_ms):8.1f} ms   p95 {raw_p95:8.1f} ms"
        f"   ({raw_runs} runs)"
    )
    print(
        f"  raw / rollups (p95): {raw_p95 / rollup_p95:.1f}x   (targets: rollups <= 100 ms, >= 20x)"
    )
    print(f"  top rows identical on both paths ({len(top_raw)} rows compared)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--raw-runs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--models-per-customer", type=int, default=3)
    parser.add_argument("--database-url", default=test_database_url())
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", metavar="DATABASE", help="measure a kept database again")
    args = parser.parse_args()

    admin_url = args.database_url
    if args.reuse:
        owner_url = with_database(admin_url, args.reuse)
        await measure(
            with_user(owner_url, APP_ROLE),
            _dsn(with_user(owner_url, APP_ROLE)),
            args.runs,
            args.raw_runs,
            args.limit,
        )
        return
    name = scratch_database_name("bench_reports")
    owner_url = await create_database(admin_url, name)
    print(f"scratch database {name}: {args.events:,} events, one tenant, {DAYS} days")
    try:
        await asyncio.to_thread(migrate, owner_url)
        owner = make_engine(owner_url)
        try:
            await ensure_partitions(owner, END - timedelta(days=DAYS + 1), months_ahead=2)
        finally:
            await owner.dispose()
        await load(_dsn(owner_url), args.events, args.models_per_customer)
        app_url = with_user(owner_url, APP_ROLE)
        await measure(app_url, _dsn(app_url), args.runs, args.raw_runs, args.limit)
    finally:
        if args.keep:
            print(f"kept {owner_url} (measure again with --reuse {name})")
        else:
            await drop_database(admin_url, name)


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


if __name__ == "__main__":
    asyncio.run(main())
