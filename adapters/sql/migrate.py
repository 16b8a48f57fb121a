"""Bring a database's schema to the newest migration: `alembic upgrade head`, programmatically.

Safe to run twice, and from two processes at once: on PostgreSQL the migration holds a
transaction-level advisory lock (see migrations/env.py), on SQLite BEGIN IMMEDIATE.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from adapters.sql.engine import make_engine
from adapters.sql.partitions import ensure_partitions_on, month_start

MIGRATIONS = Path(__file__).with_name("migrations")
APP_ROLE = "llmobserve_app"
PARTITION_MONTHS_AHEAD = 3


def alembic_config(app_role: str = APP_ROLE) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["app_role"] = app_role
    return config


def migrate(url: str, app_role: str = APP_ROLE) -> None:
    """Upgrade the database at `url` (connect as the schema owner) to head.

    Also makes sure this month's and the next three months' spend partitions exist on
    PostgreSQL. Callable from synchronous code and from inside a running event loop.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_migrate(url, app_role))
        return
    # Inside an event loop (an async test, an async CLI): run on a loop of our own.
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(_migrate(url, app_role))
        except BaseException as exc:  # handed to the caller's thread below
            failure.append(exc)

    worker = threading.Thread(target=run, name="llmobserve-migrate")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]


async def _migrate(url: str, app_role: str) -> None:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    config = alembic_config(app_role)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, config)
            if connection.dialect.name == "postgresql":
                await ensure_partitions_on(
                    connection, month_start(datetime.now(UTC)), PARTITION_MONTHS_AHEAD
                )
    finally:
        await engine.dispose()


def _upgrade(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
