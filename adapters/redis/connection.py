"""One Redis client per process, shared by the live counters and the arq queue."""

from __future__ import annotations

from arq.connections import ArqRedis
from redis.asyncio import BlockingConnectionPool, Redis

# No socket timeout on reads: the counters bound each operation with one deadline of
# their own (adapters.redis.counters.OPERATION_TIMEOUT); a timer on every socket read
# would cost a cap check more than its Lua script does. Connecting is bounded, generously:
# under a burst the event loop itself may be slow to run the connect, and a refused
# connection (Redis down) fails at once whatever this says.
CONNECT_TIMEOUT_SECONDS = 5.0
# Bounded so that a burst of checks queues for a connection instead of opening
# thousands of sockets. No wait limit of its own: a busy pool is local load, not Redis
# being down; the caller's deadline bounds the wait.
MAX_CONNECTIONS = 64


def make_redis(url: str, max_connections: int = MAX_CONNECTIONS) -> Redis:
    """A client for `url` (redis://, rediss://, unix://). Nothing connects until first use.

    It is an `ArqRedis` (a `redis.asyncio.Redis` that can also enqueue jobs), with
    raw bytes replies as arq expects, so the worker and the API share it.
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=None,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        health_check_interval=30,
    )
    client = ArqRedis(pool_or_conn=pool)
    # The pool is ours alone: closing the client closes it.
    client.auto_close_connection_pool = True
    return client


async def close_redis(client: Redis) -> None:
    await client.aclose(close_connection_pool=True)
