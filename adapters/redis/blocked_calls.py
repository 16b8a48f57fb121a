"""Refused-call counts in Redis, shared by every collector process."""

from __future__ import annotations

from redis.asyncio import Redis

from adapters.redis.counters import reachable
from adapters.redis.keys import KeySpace
from application.ports import BlockedCallCounter
from domain.reservations import CounterKey


class RedisBlockedCalls(BlockedCallCounter):
    def __init__(self, redis: Redis, keys: KeySpace | None = None) -> None:
        self._redis = redis
        self._keys = keys or KeySpace()

    async def increment(self, key: CounterKey, ttl_seconds: int) -> int:
        name = self._keys.blocked(key)
        async with reachable(), self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, ttl_seconds)
            count, _ = await pipe.execute()
        return int(count)

    async def count(self, key: CounterKey) -> int:
        async with reachable():
            value = await self._redis.get(self._keys.blocked(key))
        return 0 if value is None else int(value)
