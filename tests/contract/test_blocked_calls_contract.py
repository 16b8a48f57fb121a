"""Refused-call counts: one contract for the in-process counter and Redis, shared by
every process in production."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from adapters.memory.blocked_calls import InProcessBlockedCalls
from adapters.redis.blocked_calls import RedisBlockedCalls
from adapters.redis.connection import close_redis, make_redis
from adapters.redis.keys import KeySpace
from application.ports import BlockedCallCounter
from domain.reservations import CounterKey
from tests.support.clock import MutableClock
from tests.support.services import require_redis

WINDOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def counter(request: pytest.FixtureRequest) -> AsyncIterator[BlockedCallCounter]:
    if request.param == "memory":
        yield InProcessBlockedCalls(MutableClock())
        return
    redis = make_redis(require_redis())
    space = KeySpace(f"llmo-test-{uuid.uuid4().hex[:10]}")
    try:
        yield RedisBlockedCalls(redis, space)
    finally:
        stale = [key async for key in redis.scan_iter(match=f"{space.prefix}:*")]
        if stale:
            await redis.delete(*stale)
        await close_redis(redis)


async def test_refusals_count_per_cap_window_and_tenant(counter: BlockedCallCounter) -> None:
    key = CounterKey("acme", "cap_1", WINDOW)
    assert await counter.count(key) == 0
    assert [await counter.increment(key, 600) for _ in range(3)] == [1, 2, 3]
    assert await counter.count(key) == 3
    assert await counter.count(CounterKey("acme", "cap_2", WINDOW)) == 0
    assert await counter.count(CounterKey("other", "cap_1", WINDOW)) == 0


async def test_two_processes_share_one_count() -> None:
    url = require_redis()
    space = KeySpace(f"llmo-test-{uuid.uuid4().hex[:10]}")
    first, second = make_redis(url), make_redis(url)
    key = CounterKey("acme", "cap_1", WINDOW)
    try:
        await RedisBlockedCalls(first, space).increment(key, 600)
        await RedisBlockedCalls(second, space).increment(key, 600)
        assert await RedisBlockedCalls(first, space).count(key) == 2
        assert 0 < await first.ttl(space.blocked(key)) <= 600
    finally:
        await first.delete(space.blocked(key))
        await close_redis(first)
        await close_redis(second)
