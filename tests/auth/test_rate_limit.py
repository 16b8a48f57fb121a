from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from adapters.auth.rate_limit import InProcessRateLimiter, RedisRateLimiter
from application.auth_ports import RateLimit
from tests.support.services import require_redis

LIMIT = RateLimit(burst=3, per_second=2.0)


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    ticker = Ticker()
    limiter = InProcessRateLimiter(ticker)
    decisions = [await limiter.acquire("key_a", LIMIT) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after_seconds == pytest.approx(0.5)
    assert (await limiter.acquire("key_b", LIMIT)).allowed  # buckets are per key
    ticker.now += 0.5
    assert (await limiter.acquire("key_a", LIMIT)).allowed
    assert not (await limiter.acquire("key_a", LIMIT)).allowed
    ticker.now += 100
    assert [(await limiter.acquire("key_a", LIMIT)).allowed for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(require_redis())
    try:
        yield client
    finally:
        stale = [k async for k in client.scan_iter(match="llmo-test-rl-*")]
        if stale:
            await client.delete(*stale)
        await client.aclose()


@pytest.mark.redis
async def test_processes_share_one_bucket_through_redis(redis: Redis) -> None:
    prefix = f"llmo-test-rl-{uuid.uuid4().hex[:8]}"
    first, second = RedisRateLimiter(redis, prefix), RedisRateLimiter(redis, prefix)
    allowed = [(await limiter.acquire("key_a", LIMIT)).allowed for limiter in (first, second) * 2]
    assert allowed == [True, True, True, False]
    refused = await second.acquire("key_a", LIMIT)
    assert not refused.allowed and 0 < refused.retry_after_seconds <= 0.5
    await asyncio.sleep(0.6)
    assert (await first.acquire("key_a", LIMIT)).allowed
    keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
    assert keys == [f"{prefix}:{{key_a}}".encode()]
    assert 0 < await redis.pttl(keys[0]) <= 2500


@pytest.mark.redis
async def test_a_concurrent_burst_never_overshoots(redis: Redis) -> None:
    prefix = f"llmo-test-rl-{uuid.uuid4().hex[:8]}"
    limiter = RedisRateLimiter(redis, prefix)
    limit = RateLimit(burst=10, per_second=0.001)
    decisions = await asyncio.gather(*(limiter.acquire("k", limit) for _ in range(40)))
    assert sum(d.allowed for d in decisions) == 10


async def test_an_unreachable_redis_falls_back_to_the_process_bucket() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.5)
    limiter = RedisRateLimiter(client)
    decisions = [await limiter.acquire("key_a", LIMIT) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    await client.aclose()
