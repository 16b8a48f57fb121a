"""Where the real PostgreSQL and Redis for tests live, and scratch databases on them.

Tests never pass by skipping: an unreachable server fails the tests that need it,
with the command that starts it.
"""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlsplit

DEFAULT_TEST_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/0"

START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no'
)


def test_database_url() -> str:
    return os.environ.get("LLMOBSERVE_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


def test_redis_url() -> str:
    return os.environ.get("LLMOBSERVE_TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def unreachable_message(kind: str, url: str, start: str, variable: str) -> str:
    return (
        f"{kind} is not reachable at {url}. These tests need a real server: start it "
        f"(e.g. `{start}`) or point {variable} at one. Nothing was skipped silently."
    )


def require_postgres() -> str:
    url = test_database_url()
    if not reachable(url, 5432):
        raise RuntimeError(
            unreachable_message("PostgreSQL", url, START_POSTGRES, "LLMOBSERVE_TEST_DATABASE_URL")
        )
    return url


def require_redis() -> str:
    url = test_redis_url()
    if not reachable(url, 6379):
        raise RuntimeError(
            unreachable_message("Redis", url, START_REDIS, "LLMOBSERVE_TEST_REDIS_URL")
        )
    return url


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=f"/{database}").geturl()


def scratch_database_name(purpose: str) -> str:
    return f"llmo_{purpose}_{uuid.uuid4().hex[:10]}"


async def create_database(admin_url: str, name: str) -> str:
    """CREATE DATABASE `name` on the server of `admin_url`; returns its URL (same driver)."""
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return with_database(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
