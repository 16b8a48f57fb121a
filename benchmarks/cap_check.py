"""Cap-check latency at an open-loop 2,000 checks/s.

Open loop: check i is due at start + i / rate, and is sent then whatever the earlier
checks are doing; its latency runs from that scheduled instant to its answer, so a
stall is charged to every check it delays (no coordinated omission). The time between
the scheduled instant and the actual send (the generator's own timer lag) is printed
too, as is the service time from the send.

Targets, on the machine at hand: p50 <= 2 ms, p99 <= 10 ms.

  direct           CheckAndReserve in process: the cap list from the in-memory store, the
                   hold through RedisCounters (one round trip, one Lua script; concurrent
                   checks share round trips) on the local Redis. The counters' own path.
  direct-postgres  The same, wired as the collector wires it: the cap list read from a
                   scratch PostgreSQL database (row-level-security role) per check.
  http             POST /v1/caps/check on a `llmobserve-server serve` process on
                   loopback, over that database and the local Redis (64 keep-alive
                   connections, a minimal HTTP/1.1 client so the client's own cost stays
                   small).

    .venv/bin/python benchmarks/cap_check.py [--target direct|direct-postgres|http|all]
                                             [--rate 2000] [--seconds 10] [--warmup 1]

An unverified answer (the counters did not answer in time, fail-open) counts as an error.
Loopback only; bounded by --seconds (and a hard cap of 120 s of sending per target).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from adapters.pricing.catalog_file import load_builtin_catalog
from adapters.redis.connection import close_redis, make_redis
from adapters.redis.counters import RedisCounters
from adapters.redis.keys import KeySpace
from adapters.system import RandomIds, SystemClock
from application.cap_counters import CapCounters
from application.manage_caps import CapDraft
from application.reservations import CheckAndReserve, CheckRequest
from domain.access import Principal
from domain.attribution import Attribution
from domain.caps import Cap, CapScope, Enforcement
from domain.money import Money
from domain.periods import Period
from domain.tenants import KeyKind
from tests.support.services import require_redis

MAX_SEND_SECONDS = 120
# After the last send, answers are awaited this long; later ones count as errors.
DRAIN_SECONDS = 30
TARGET_P50_MS = 2.0
TARGET_P99_MS = 10.0
# Enough room that no check is refused: the benchmark measures the allowed path.
LIMIT = Money.usd(1_000_000)
ESTIMATE = "0.000001"
BENCH_CAP = CapDraft("bench", CapScope.GLOBAL, Period.DAILY, LIMIT, Enforcement.BLOCK)
CHECK = CheckRequest(Attribution("openai", "gpt-4o"), estimated_cost=Money.parse(ESTIMATE))
HTTP_CONNECTIONS = 64

Check = Callable[[], Awaitable[bool]]


@dataclass
class Run:
    scheduled: list[float]  # answer - scheduled instant, seconds
    service: list[float]  # answer - actual send
    lag: list[float]  # actual send - scheduled instant
    allowed: int
    errors: int
    elapsed: float


async def open_loop(check: Check, rate: float, count: int) -> Run:
    loop = asyncio.get_running_loop()
    interval = 1.0 / rate
    scheduled_lat = [0.0] * count
    service_lat = [0.0] * count
    lag = [0.0] * count
    outcome = {"allowed": 0, "errors": 0}

    async def one(index: int, due: float) -> None:
        sent = loop.time()
        lag[index] = sent - due
        try:
            if await check():
                outcome["allowed"] += 1
        except asyncio.CancelledError:  # unanswered by the drain deadline: charged up to it
            outcome["errors"] += 1
            done = loop.time()
            scheduled_lat[index], service_lat[index] = done - due, done - sent
            raise
        except Exception:
            outcome["errors"] += 1
        done = loop.time()
        scheduled_lat[index], service_lat[index] = done - due, done - sent

    tasks: list[asyncio.Task[None]] = []
    start = loop.time() + 0.05
    for index in range(count):
        due = start + index * interval
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
    _, unanswered = await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
    for task in unanswered:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return Run(
        scheduled_lat, service_lat, lag, outcome["allowed"], outcome["errors"], loop.time() - start
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, rate: float, run: Run) -> bool:
    ms = 1000.0

    def row(label: str, values: list[float]) -> str:
        return (
            f"  {label:<22} p50 {percentile(values, 0.50) * ms:7.3f} ms   "
            f"p90 {percentile(values, 0.90) * ms:7.3f} ms   "
            f"p99 {percentile(values, 0.99) * ms:7.3f} ms   "
            f"max {max(values) * ms:8.3f} ms"
        )

    count = len(run.scheduled)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    p50, p99 = percentile(run.scheduled, 0.5) * ms, percentile(run.scheduled, 0.99) * ms
    met = p50 <= TARGET_P50_MS and p99 <= TARGET_P99_MS and run.errors == 0
    print(
        f"\n{name}: {count} checks at {rate:.0f}/s offered, "
        f"{count / run.elapsed:.0f}/s achieved, {run.allowed} allowed, {run.errors} errors "
        f"(an unverified check counts as an error); load average after: {load}"
    )
    print(row("from scheduled time", run.scheduled))
    print(row("service (from send)", run.service))
    print(row("generator lag", run.lag))
    print(
        f"  mean {statistics.fmean(run.scheduled) * ms:.3f} ms; target p50 <= {TARGET_P50_MS} ms, "
        f"p99 <= {TARGET_P99_MS} ms: {'MET' if met else 'NOT MET'}"
    )
    return met


@asynccontextmanager
async def direct_target() -> AsyncIterator[Check]:
    """CheckAndReserve over the in-memory cap list and RedisCounters on the local Redis."""
    redis = make_redis(require_redis())
    space = KeySpace(f"llmo-bench-{uuid.uuid4().hex[:8]}")
    clock, ids = SystemClock(), RandomIds()
    store = MemoryUnitOfWorkFactory()
    tenant = "bench"
    async with store(tenant) as uow:
        await uow.caps.add(
            Cap(
                id="cap_bench",
                tenant_id=tenant,
                name="bench",
                scope=CapScope.GLOBAL,
                period=Period.DAILY,
                limit=LIMIT,
                enforcement=Enforcement.BLOCK,
            )
        )
        await uow.commit()
    counters = CapCounters(RedisCounters(redis, clock, space), store)
    check_and_reserve = CheckAndReserve(store, load_builtin_catalog(), counters, ids, clock)
    principal = Principal.for_key(tenant, "key_bench", KeyKind.INGEST)

    async def check() -> bool:
        result = await check_and_reserve(principal, CHECK)
        if not result.verified:
            raise RuntimeError("unverified: the counter store did not answer in time")
        return result.allowed

    try:
        yield check
    finally:
        stale = [key async for key in redis.scan_iter(match=f"{space.prefix}:*", count=1000)]
        for start in range(0, len(stale), 1000):
            await redis.delete(*stale[start : start + 1000])
        await close_redis(redis)


class HttpPool:
    """Keep-alive HTTP/1.1 connections to one loopback server; requests wait for a free one."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self._host, self._port, self._size = host, port, size
        self._free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self._all: list[asyncio.StreamWriter] = []

    async def open(self) -> None:
        for _ in range(self._size):
            reader, writer = await asyncio.open_connection(self._host, self._port)
            self._all.append(writer)
            self._free.put_nowait((reader, writer))

    async def post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        reader, writer = await self._free.get()
        try:
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            writer.write(
                f"POST {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n{head}"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            status_and_headers = await reader.readuntil(b"\r\n\r\n")
            lines = status_and_headers.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length = next(
                int(line.split(":", 1)[1])
                for line in lines[1:]
                if line.lower().startswith("content-length:")
            )
            return status, await reader.readexactly(length)
        finally:
            self._free.put_nowait((reader, writer))

    async def close(self) -> None:
        for writer in self._all:
            writer.close()


@dataclass
class Scratch:
    """A migrated scratch PostgreSQL database, a tenant with a management key, the local
    Redis (database 12, so that its keys stay apart), and the collector's environment."""

    env: dict[str, str]
    database_url: str
    redis_url: str
    tenant: str
    key: str


@asynccontextmanager
async def scratch_postgres() -> AsyncIterator[Scratch]:
    from adapters.sql.urls import with_user
    from tests.concurrency.collectors import base_env, run_cli
    from tests.support.services import (
        create_database,
        drop_database,
        require_postgres,
        scratch_database_name,
        with_database,
    )

    admin_url = require_postgres()
    redis_url = with_database(require_redis(), "12")
    name = scratch_database_name("bench")
    owner_url = await create_database(admin_url, name)
    app_url = with_user(owner_url, "llmobserve_app")
    env = base_env(
        LLMOBSERVE_DATABASE_URL=app_url,
        LLMOBSERVE_MIGRATION_DATABASE_URL=owner_url,
        LLMOBSERVE_REDIS_URL=redis_url,
        # The per-key rate limit would turn the offered load into 429s: latency is measured.
        LLMOBSERVE_API_KEY_RATE_PER_SECOND="0",
    )
    tenant = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        await asyncio.to_thread(run_cli, env, "migrate")
        out = await asyncio.to_thread(run_cli, env, "create-api-key", "--tenant", tenant)
        yield Scratch(env, app_url, redis_url, tenant, out.strip().splitlines()[-1])
    finally:
        await drop_database(admin_url, name)
        redis = make_redis(redis_url)
        space = KeySpace()
        stale = [k async for k in redis.scan_iter(match=f"{space.tag(tenant)}*", count=1000)]
        for start in range(0, len(stale), 1000):
            await redis.delete(*stale[start : start + 1000])
        await redis.srem(space.reserving_tenants, tenant)
        await close_redis(redis)


@asynccontextmanager
async def direct_postgres_target() -> AsyncIterator[Check]:
    """CheckAndReserve as the collector wires it: the cap list read from PostgreSQL (as the
    row-level-security role) in a unit of work per check, the hold through RedisCounters."""
    from entrypoints.container import build_container, close_infrastructure, open_infrastructure
    from entrypoints.settings import Settings

    async with scratch_postgres() as scratch:
        container = build_container(
            Settings(database_url=scratch.database_url, redis_url=scratch.redis_url)
        )
        await open_infrastructure(container)
        try:
            principal = await container.api_keys().authenticate(scratch.key)
            assert principal is not None
            await container.manage_caps().create(principal, BENCH_CAP)
            check_and_reserve = container.check_and_reserve()

            async def check() -> bool:
                result = await check_and_reserve(principal, CHECK)
                if not result.verified:
                    raise RuntimeError("unverified: the counter store did not answer in time")
                return result.allowed

            yield check
        finally:
            await close_infrastructure(container)


@asynccontextmanager
async def http_target() -> AsyncIterator[Check]:
    """A real collector process (`llmobserve-server serve`) on loopback, over a scratch
    PostgreSQL database and the local Redis."""
    import httpx

    from tests.concurrency.collectors import start_collector

    async with scratch_postgres() as scratch:
        collector = await asyncio.to_thread(
            start_collector, scratch.env, Path(tempfile.mkdtemp(prefix="llmo-bench-"))
        )
        pool = None
        try:
            auth = {"Authorization": f"Bearer {scratch.key}"}
            async with httpx.AsyncClient(base_url=collector.base_url, headers=auth) as client:
                created = await client.post(
                    "/v1/caps",
                    json={
                        "name": "bench",
                        "scope": "global",
                        "period": "daily",
                        "limit": LIMIT.format(2),
                        "enforcement": "block",
                    },
                )
                created.raise_for_status()
            port = int(collector.base_url.rsplit(":", 1)[1])
            pool = HttpPool("127.0.0.1", port, HTTP_CONNECTIONS)
            await pool.open()
            headers = {**auth, "Content-Type": "application/json"}
            body = json.dumps(
                {"provider": "openai", "model": "gpt-4o", "estimated_cost": ESTIMATE}
            ).encode()

            async def check() -> bool:
                status, answer = await pool.post("/v1/caps/check", headers, body)
                if status != 200:
                    raise RuntimeError(f"{status}: {answer[:200]!r}")
                if b'"verified":true' not in answer:
                    raise RuntimeError("unverified: the counter store did not answer in time")
                return b'"allowed":true' in answer

            yield check
        finally:
            if pool is not None:
                await pool.close()
            collector.stop()


TARGETS = {
    "direct": direct_target,
    "direct-postgres": direct_postgres_target,
    "http": http_target,
}


async def redis_cpu_seconds() -> float:
    redis = make_redis(require_redis())
    try:
        info = await redis.info("cpu")
    finally:
        await close_redis(redis)
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def bench(name: str, rate: float, seconds: float, warmup: float) -> bool:
    async with TARGETS[name]() as check:
        await open_loop(check, rate, max(1, int(rate * warmup)))
        gc.collect()
        gc.freeze()  # the setup's objects need no more collecting during the run
        redis_before, process_before = await redis_cpu_seconds(), time.process_time()
        run = await open_loop(check, rate, int(rate * min(seconds, MAX_SEND_SECONDS)))
        process_cpu = time.process_time() - process_before
        redis_cpu = await redis_cpu_seconds() - redis_before
        gc.unfreeze()
    met = report(name, rate, run)
    print(
        f"  CPU per check: {process_cpu / len(run.scheduled) * 1e6:.0f} us in this process "
        f"({process_cpu / run.elapsed:.0%} of a core, load generator included), "
        f"{redis_cpu / len(run.scheduled) * 1e6:.0f} us in Redis"
    )
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=[*TARGETS, "all"], default="all")
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args()
    names = list(TARGETS) if args.target == "all" else [args.target]
    print(
        f"{os.cpu_count()} CPUs; load average before: "
        + ", ".join(f"{value:.2f}" for value in os.getloadavg())
    )
    results = [asyncio.run(bench(name, args.rate, args.seconds, args.warmup)) for name in names]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
