"""Engines for both backends, configured for how LLMObserve uses them.

SQLite: one writer at a time is SQLite's own rule. Every transaction starts with
BEGIN IMMEDIATE, so a unit of work that reads and then writes can never fail on
upgrading its lock (SQLITE_BUSY_SNAPSHOT); one pooled connection per engine makes
coroutines of this process queue for it fairly instead of spinning in SQLite's busy
handler; busy_timeout covers other processes (the CLI beside a running server).

PostgreSQL: a bounded pool, sessions in UTC, JIT off (it costs more than it saves on
the short report queries). No pre-ping (BEGIN, a query and ROLLBACK on every checkout):
a restarted server costs no request all the same. A pooled connection whose socket the
driver has seen close is replaced at checkout, at no round trip; one whose end shows only
on use fails its first statement, the tenant binding, and `SqlSession` then starts the
transaction again on a fresh connection.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry

from adapters.sql.urls import normalise_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_POOL_TIMEOUT_S = 60.0


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
        connect_args={
            "server_settings": {
                "timezone": "UTC",
                "jit": "off",
                "application_name": "llmobserve",
            }
        },
    )
    event.listen(engine.sync_engine, "checkout", _replace_if_closed)
    return engine


def _replace_if_closed(_: DBAPIConnection, record: ConnectionPoolEntry, __: Any) -> None:
    driver_connection = record.driver_connection  # asyncpg's own connection
    if driver_connection is not None and driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def _sqlite_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(
        url,
        # One connection, also for ":memory:", where the default StaticPool would let
        # concurrent coroutines share (and roll back) each other's transaction.
        poolclass=AsyncAdaptedQueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=SQLITE_POOL_TIMEOUT_S,
    )
    event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def _configure_sqlite_connection(dbapi_connection: DBAPIConnection, _: ConnectionPoolEntry) -> None:
    # The driver must not emit its own BEGIN: we emit BEGIN IMMEDIATE in `_begin_immediate`.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "PRAGMA foreign_keys=ON",
        "PRAGMA synchronous=NORMAL",
    ):
        cursor.execute(pragma)
    cursor.close()
    # Python's str.lower, so that provider and model match caps exactly as the domain does
    # (SQLite's own lower() folds ASCII only).
    dbapi_connection.create_function("py_lower", 1, _lower, deterministic=True)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
