"""Key revocations over real Redis pub/sub: one process revokes, the others forget."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import suppress
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from adapters.redis.key_revocations import RedisKeyRevocations
from adapters.system import RandomIds
from application.api_keys import ApiKeys
from domain.access import Principal
from domain.tenants import KeyKind
from tests.support.clock import MutableClock


async def eventually_refused(keys: ApiKeys, secret: str, seconds: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await keys.authenticate(secret) is None:
            return True
        await asyncio.sleep(0.02)
    return False


async def test_a_key_revoked_in_one_process_is_refused_by_another_at_once(redis: Redis) -> None:
    channel = f"llmo-test-revocations-{uuid.uuid4().hex[:8]}"
    clock = MutableClock(datetime(2026, 11, 27, 12, tzinfo=UTC))  # frozen: no copy ages
    store = MemoryUnitOfWorkFactory()  # the shared database
    here = ApiKeys(
        store, RandomIds(), clock, timedelta(hours=1), RedisKeyRevocations(redis, channel)
    )
    there = ApiKeys(
        store, RandomIds(), clock, timedelta(hours=1), RedisKeyRevocations(redis, channel)
    )
    listening = asyncio.create_task(RedisKeyRevocations(redis, channel).listen(there.forget))
    try:
        issued = await here.issue("default", "ingest", KeyKind.INGEST)
        await asyncio.sleep(0.2)  # subscribed (its first forget(None) has run)
        assert await here.authenticate(issued.secret) is not None
        assert await there.authenticate(issued.secret) is not None

        await here.revoke(Principal.for_key("default", "k", KeyKind.MANAGEMENT), issued.key.id)

        assert await here.authenticate(issued.secret) is None
        assert await eventually_refused(there, issued.secret)
    finally:
        listening.cancel()
        with suppress(asyncio.CancelledError):
            await listening


async def test_an_unheard_revocation_is_kept_only_until_the_copy_ages(redis: Redis) -> None:
    # Without a listener nothing is heard: the copy's age alone bounds the key's life.
    channel = f"llmo-test-revocations-{uuid.uuid4().hex[:8]}"
    clock = MutableClock(datetime(2026, 11, 27, 12, tzinfo=UTC))
    store = MemoryUnitOfWorkFactory()
    here = ApiKeys(
        store, RandomIds(), clock, timedelta(seconds=10), RedisKeyRevocations(redis, channel)
    )
    there = ApiKeys(store, RandomIds(), clock, timedelta(seconds=10))
    issued = await here.issue("default", "ingest", KeyKind.INGEST)
    assert await there.authenticate(issued.secret) is not None

    await here.revoke(Principal.for_key("default", "k", KeyKind.MANAGEMENT), issued.key.id)

    assert await there.authenticate(issued.secret) is not None
    clock.advance(seconds=10)
    assert await there.authenticate(issued.secret) is None
