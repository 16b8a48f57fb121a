"""API-key revocations announced to every collector process over Redis pub/sub.

Each process keeps a short-lived copy of the keys it has authenticated
(`application.api_keys`); a revocation is published on one channel and every
subscribed process drops its copy of that key at once. A subscription that breaks may
have missed announcements, so on every (re)subscription the whole copy is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.ports import KeyRevocations

log = logging.getLogger(__name__)

CHANNEL = "llmobserve:revoked-api-keys"
RETRY_SECONDS = 1.0


class RedisKeyRevocations(KeyRevocations):
    def __init__(self, redis: Redis, channel: str = CHANNEL) -> None:
        self._redis = redis
        self._channel = channel

    async def announce(self, secret_hash: str) -> None:
        await self._redis.publish(self._channel, secret_hash)

    async def listen(self, forget: Callable[[str | None], None]) -> None:
        """Until cancelled: `forget(hash)` for each announced key, `forget(None)` (every
        key) whenever the subscription (re)starts."""
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                forget(None)
                async for message in pubsub.listen():
                    data = message.get("data")
                    if isinstance(data, bytes | str):
                        forget(data.decode() if isinstance(data, bytes) else data)
            except (RedisError, OSError) as exc:
                log.warning("key revocation channel lost (%s); resubscribing", exc)
                await asyncio.sleep(RETRY_SECONDS)
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
