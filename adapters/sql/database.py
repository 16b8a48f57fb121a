"""The SQL adapter's public face: URLs, engines, units of work, migrations, partitions.

Settings name two URLs (see docs/database.md): LLMOBSERVE_DATABASE_URL, which the
service connects with (on PostgreSQL the `llmobserve_app` role, subject to row-level
security), and LLMOBSERVE_MIGRATION_DATABASE_URL, the schema owner that `migrate` uses;
it defaults to the first.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import make_engine
from adapters.sql.event_batches import event_batch_writer
from adapters.sql.migrate import APP_ROLE, migrate
from adapters.sql.partitions import ensure_partitions
from adapters.sql.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from adapters.sql.urls import is_postgres, normalise_url

__all__ = [
    "APP_ROLE",
    "SqlUnitOfWork",
    "SqlUnitOfWorkFactory",
    "ensure_partitions",
    "event_batch_writer",
    "is_postgres",
    "make_engine",
    "migrate",
    "normalise_url",
    "row_level_security_enforced",
]


async def row_level_security_enforced(engine: AsyncEngine) -> bool:
    """Whether the engine's role is held to row-level security: not a superuser, no
    BYPASSRLS. The service should warn at start-up when it is not (SQLite: False)."""
    if engine.dialect.name != "postgresql":
        return False
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            )
        ).one()
    return not (row.rolsuper or row.rolbypassrls)
