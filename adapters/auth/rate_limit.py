"""Token buckets per key: in the process, or shared by every process through Redis.

The Redis bucket reads Redis's own clock, so processes with drifting clocks agree.
When Redis cannot be reached the limiter falls back to its in-process bucket: a
request is never refused because the limiter's store is down.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from application.auth_ports import RateDecision, RateLimit, RateLimiter

log = logging.getLogger(__name__)

MAX_LOCAL_BUCKETS = 100_000


class InProcessRateLimiter(RateLimiter):
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def acquire(self, bucket: str, limit: RateLimit) -> RateDecision:
        return self.take(bucket, limit)

    def take(self, bucket: str, limit: RateLimit) -> RateDecision:
        now = self._now()
        tokens, at = self._buckets.pop(bucket, (float(limit.burst), now))
        tokens = min(float(limit.burst), tokens + max(0.0, now - at) * limit.per_second)
        if tokens >= 1.0:
            decision = RateDecision(True)
            tokens -= 1.0
        else:
            decision = RateDecision(False, (1.0 - tokens) / limit.per_second)
        self._buckets[bucket] = (tokens, now)
        while len(self._buckets) > MAX_LOCAL_BUCKETS:
            self._buckets.popitem(last=False)
        return decision


BUCKET_SCRIPT = """
local key = KEYS[1]
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', key, 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(wait)}
"""


class RedisRateLimiter(RateLimiter):
    """`redis` is a `redis.asyncio.Redis`; keys are hash-tagged by bucket for Cluster."""

    def __init__(self, redis: Any, prefix: str = "llmo:rl") -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(BUCKET_SCRIPT)
        self._fallback = InProcessRateLimiter()

    async def acquire(self, bucket: str, limit: RateLimit) -> RateDecision:
        key = f"{self._prefix}:{{{bucket}}}"
        try:
            allowed, wait = await self._script(keys=[key], args=[limit.burst, limit.per_second])
        except Exception as error:  # any store failure: keep serving, limited per process
            log.warning(
                "rate limiter store unavailable (%s): limiting in process", type(error).__name__
            )
            return self._fallback.take(bucket, limit)
        wait_seconds = float(wait)
        return RateDecision(bool(int(allowed)), 0.0 if math.isnan(wait_seconds) else wait_seconds)
