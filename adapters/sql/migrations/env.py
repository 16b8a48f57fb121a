"""Alembic environment for LLMObserve: one set of migrations for SQLite and PostgreSQL.

`adapters.sql.database.migrate(url)` is the way in: it hands over a connection inside a
transaction it commits. On PostgreSQL a transaction-level advisory lock makes concurrent
migrators queue; the later ones then find the schema at head and do nothing.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from adapters.sql.tables import metadata

MIGRATION_LOCK_KEY = 0x11A0_0B5E  # any constant shared by every migrator of this schema


def _is_partition(name: str | None) -> bool:
    return bool(name) and str(name).startswith("spend_events_")


def _include_name(name: str | None, type_: str, _: object) -> bool:
    # Monthly partitions are made by the partition job, not described in the metadata.
    return not (type_ == "table" and _is_partition(name))


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=_include_name,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    from adapters.sql.engine import make_engine

    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    # The plain `alembic` command line: the URL comes from alembic.ini or the environment.
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get(
        "LLMOBSERVE_MIGRATION_DATABASE_URL", os.environ.get("LLMOBSERVE_DATABASE_URL", "")
    )
    if not url:
        raise RuntimeError("no database URL: set LLMOBSERVE_MIGRATION_DATABASE_URL")
    asyncio.run(_run_from_url(url))


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
main()
