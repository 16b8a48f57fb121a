"""Real Redis for the adapter tests: a key prefix of each test's own on the shared server,
and a URL where nothing listens, for the store being down."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from adapters.redis.connection import close_redis, make_redis
from adapters.redis.keys import KeySpace
from tests.support.services import require_redis


def closed_port_url() -> str:
    """A loopback port that was free a moment ago: connecting to it is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


async def delete_keyspace(redis: Redis, space: KeySpace) -> None:
    """Delete this test's keys only; other engineers' tests share the server (no FLUSHDB)."""
    stale = [key async for key in redis.scan_iter(match=f"{space.prefix}:*", count=500)]
    if stale:
        await redis.delete(*stale)


@pytest.fixture
def space() -> KeySpace:
    return KeySpace(f"llmo-test-{uuid.uuid4().hex[:10]}")


@pytest.fixture
async def redis(space: KeySpace) -> AsyncIterator[Redis]:
    client = make_redis(require_redis())
    try:
        yield client
    finally:
        await delete_keyspace(client, space)
        await close_redis(client)


@pytest.fixture
async def dead_redis() -> AsyncIterator[Redis]:
    client = make_redis(closed_port_url())
    yield client
    await close_redis(client)
